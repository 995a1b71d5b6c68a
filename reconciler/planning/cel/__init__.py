"""CEL (Common Expression Language) for selectors and conditions, compiled to Python.

``compile(text)`` parses a CEL expression with our own LALR grammar (``cel.lark``), generates
Python source for it and returns a cached ``Program`` whose ``evaluate``/``matches`` run in well
under 2 µs for typical selectors. Variables are Ctrlplane's: ``resource``, ``deployment``,
``environment``, ``version`` (plus ``result``, ``from``/``to`` where callers allow them).
``shorthand_to_cel`` turns the structured YAML shorthand into CEL text. The runtime depends only
on ``lark`` and ``semver``; cel-python is used solely as a test oracle. Pure: no I/O, no clock.

Modules: parser (text → tree) · literals (literal text, shorthand) · codegen/calls (tree → Python) · runtime/access/
functions/timefns (helpers the generated code calls) · values (errors, types) · semver_range ·
program (Program, compile, cache).
"""

from reconciler.planning.cel.program import DEFAULT_ALLOWED, Program, compile
from reconciler.planning.cel.literals import shorthand_to_cel
from reconciler.planning.cel.values import CelEvalError, CelSyntaxError, CelType, Uint

__all__ = ["DEFAULT_ALLOWED", "CelEvalError", "CelSyntaxError", "CelType", "Program", "Uint", "compile",
           "shorthand_to_cel"]
