"""Assembles the Python module for one compiled expression from codegen's three code modes.

Entry points: ``evaluate(act)`` and ``matches(act)``. Both bind the referenced variables once, run
FAST code and, only if it raises, ABSORB code (when the expression can absorb errors) and finally
PRECISE code, which raises CelEvalError with a CEL message. An unbound variable sends evaluation
straight to PRECISE, which looks variables up lazily.

``&&``/``||`` chains, by far the most common selector shape, get a statement form instead, so
``resource.metadata.team == "a" || resource.kind == "K"`` on a resource without a ``team`` costs
one caught KeyError, not a retry. ``matches`` only asks "is the value exactly True?", which
distributes over the chains without any error bookkeeping: ``a && b`` is True iff both are True,
``a || b`` iff either is (``true || <error>`` is true). So ``matches`` evaluates nested chains as
flat ``if`` blocks around one flag and each leaf in its own ``try``. ``evaluate`` uses the
statement form for a top-level chain; nested chains there use the ABSORB helpers.
"""

from __future__ import annotations

from reconciler.planning.cel.calls import ABSORB, FAST, PRECISE
from reconciler.planning.cel.codegen import Codegen, flatten
from reconciler.planning.cel.parser import Node

_EMPTY: frozenset[str] = frozenset()

_COMMON = '''\
def _precise(act):
    return {precise}

def _report(act):
    try:
        return _precise(act)
    except CelEvalError:
        raise
    except Exception as exc:
        raise _finish(exc) from exc

def _slow_matches(act):
    try:
        return _precise(act) is True
    except Exception:
        return False

def _absorb(act):
{bind4}
    return {absorb}

def evaluate(act):
    try:
{bind8}
    except Exception:
        return _report(act)
{evaluate}
    return _report(act)

def matches(act):
    try:
{bind8}
    except Exception:
        return _slow_matches(act)
{matches}
'''


def absorbs(node: Node) -> bool:
    """Whether evaluating ``node`` can absorb an error (``&&``, ``||``, ``all``, ``exists``)."""
    if node.kind in ("and", "or") or (node.kind == "method" and node.args[1] in ("all", "exists")):
        return True
    return any(absorbs(child) for child in _children(node))


def _children(node: Node) -> list[Node]:
    out: list[Node] = []
    for arg in node.args:
        if isinstance(arg, Node):
            out.append(arg)
        elif isinstance(arg, tuple):
            for item in arg:
                out.extend(item if isinstance(item, tuple) else (item,))
    return [child for child in out if isinstance(child, Node)]


def module_source(cg: Codegen, tree: Node) -> str:
    """The Python source defining ``evaluate`` and ``matches`` for ``tree``."""
    precise = cg.gen(tree, PRECISE, _EMPTY)
    absorb = cg.gen(tree, ABSORB, _EMPTY)
    if tree.kind in ("and", "or"):
        operands: list[Node] = []
        flatten(tree, tree.kind, operands)
        codes = [cg.gen(op, ABSORB if absorbs(op) else FAST, _EMPTY) for op in operands]
        evaluate = _chain_evaluate(codes, tree.kind == "and")
        matches = _true_form(cg, tree) + ["return ok"]
    else:
        fast = cg.gen(tree, FAST, _EMPTY)
        evaluate, matches = _plain(fast, cg.absorbing, ""), _plain(fast, cg.absorbing, " is True") + ["return False"]
    bind = [f"v_{name} = act[{name!r}]" for name in sorted(cg.variables)] or ["pass"]
    return _COMMON.format(precise=precise, absorb=absorb, bind4=_indent(bind), bind8=_indent(bind, 8),
                          evaluate=_indent(evaluate), matches=_indent(matches))


def _indent(lines: list[str], width: int = 4) -> str:
    return "\n".join(" " * width + line for line in lines)


def _plain(fast: str, absorbing: bool, suffix: str) -> list[str]:
    lines = ["try:", f"    return {fast}{suffix}", "except Exception:", "    pass"]
    if absorbing:
        lines += ["try:", f"    return _absorb(act){suffix}", "except Exception:", "    pass"]
    return lines


def _true_form(cg: Codegen, node: Node) -> list[str]:
    """Statements setting ``ok`` to whether ``node`` evaluates to exactly True (never raising)."""
    if node.kind not in ("and", "or"):
        code = cg.gen(node, ABSORB if absorbs(node) else FAST, _EMPTY)
        return ["try:", f"    ok = {code} is True", "except Exception:", "    ok = False"]
    operands: list[Node] = []
    flatten(node, node.kind, operands)
    conjunction = node.kind == "and"
    if conjunction and not any(absorbs(op) for op in operands):  # one expression, one try
        test = " and ".join(f"{cg.gen(op, FAST, _EMPTY)} is True" for op in operands)
        return ["try:", f"    ok = {test}", "except Exception:", "    ok = False"]
    lines = _true_form(cg, operands[0])
    for op in operands[1:]:  # flat: each block runs only while the answer is still open
        lines.append("if ok:" if conjunction else "if not ok:")
        lines += ["    " + line for line in _true_form(cg, op)]
    return lines


def _chain_evaluate(codes: list[str], conjunction: bool) -> list[str]:
    """A decisive operand (false for ``&&``, true for ``||``) settles the value even if others
    fail; otherwise all must be the other bool, else fall through to PRECISE for the error."""
    decisive, other = ("False", "True") if conjunction else ("True", "False")
    lines = ["bad = False"]
    for code in codes:
        lines += ["try:", f"    x = {code}", f"    if x is {decisive}:", f"        return {decisive}",
                  f"    if x is not {other}:", "        bad = True", "except Exception:", "    bad = True"]
    return lines + ["if not bad:", f"    return {other}"]
