"""CEL (Common Expression Language) for selectors and conditions, compiled to Python.

``compile(text)`` parses a CEL expression with our own LALR grammar (``cel.lark``), generates
Python source for it and returns a cached ``Program`` whose ``matches``/``evaluate`` take a few
tenths of a microsecond for typical selectors. Variables are Ctrlplane's: ``resource``,
``deployment``, ``environment``, ``version`` by default (callers may allow others, such as
``result`` or ``from``/``to``). ``shorthand_to_cel`` renders the structured YAML shorthand as CEL.
The runtime depends only on ``lark`` and ``semver``; cel-python is only the test oracle. Pure.

Semantics follow the CEL spec as cel-python 0.5 implements it, notably:

* strict typing: no implicit conversions; ``1 == 1.0``, ``1 == 1u`` and ``1 + 1.0`` are errors;
  comparing a number, list or map with a value of another type is an error, other mixed-type
  comparisons are false, and ``null`` equals only ``null``;
* ``&&``/``||`` (and ``all``/``exists``) absorb errors: ``false && <error>`` is false, in either
  order; ``?:`` evaluates only the chosen branch;
* ``has(e.f)`` is true iff ``e`` evaluates to a map with key ``f`` (never an error);
* ``x in map`` tests for a key (a key of another type is simply absent).

Not supported: protobuf messages (``Msg{f: v}``), ``now``, namespaced names (``a.b.c`` as one
identifier), the optional-value syntax (``a.?b``) and the cel-go string extensions other than
``lowerAscii``/``upperAscii``. Maps cannot hold both ``1`` and ``true`` as keys (Python dicts).

Modules: parser + literals (text → tree; literal text; shorthand) · codegen + calls + emit
(tree → Python source) · runtime, access, functions, timefns (helpers the generated code calls) ·
values (errors, types) · semver_range · program (Program, compile, cache).
"""

from reconciler.planning.cel.literals import shorthand_to_cel
from reconciler.planning.cel.program import DEFAULT_ALLOWED, Program, compile
from reconciler.planning.cel.semver_range import Range, parse_range
from reconciler.planning.cel.values import CelEvalError, CelSyntaxError, CelType, Uint

__all__ = ["DEFAULT_ALLOWED", "CelEvalError", "CelSyntaxError", "CelType", "Program", "Range", "Uint", "compile",
           "parse_range", "shorthand_to_cel"]
