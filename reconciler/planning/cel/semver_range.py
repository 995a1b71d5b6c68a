"""npm-style semantic-version ranges: ``>=1.2.0 <2.0.0``, ``^1.2``, ``~1.4.0``, ``1.x``, ``*``,
hyphen ranges ``1.2 - 2.3`` and ``||`` alternatives, desugared as npm's ``semver`` package does.

Versions are parsed with the ``semver`` package (missing minor/patch allowed, a leading ``v`` or
``=`` ignored). As in npm, a pre-release version satisfies a range only if some comparator in the
matching alternative names a pre-release of the same ``major.minor.patch``. Used by the CEL
functions ``semverSatisfies``/``semverCompare`` and by the loader to validate ranges. Pure.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import semver

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}
_PART = r"(?:0|[1-9][0-9]*|[xX*])"
_TOKEN = re.compile(
    rf"(<=|>=|<|>|=|\^|~>?)?=?[vV]?({_PART})(?:\.({_PART})(?:\.({_PART})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?\Z")
_HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)\Z")
_GLUE = re.compile(r"(<=|>=|<|>|=|\^|~>?)\s+")


@dataclass(frozen=True)
class Comparator:
    op: str  # one of < <= > >= =
    version: semver.Version

    def test(self, version: semver.Version) -> bool:
        return _OPS[self.op](version.compare(self.version), 0)

    def __str__(self) -> str:
        return f"{'' if self.op == '=' else self.op}{self.version}"


@dataclass(frozen=True)
class Range:
    """A parsed range: any alternative whose comparators all hold."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def contains(self, version: str | semver.Version) -> bool:
        """Whether ``version`` satisfies the range; false for text that is not a version."""
        parsed = parse_version(version) if isinstance(version, str) else version
        if parsed is None:
            return False
        return any(_satisfies(alternative, parsed) for alternative in self.alternatives)

    def __str__(self) -> str:
        return " || ".join(" ".join(map(str, alt)) for alt in self.alternatives)


def _satisfies(alternative: tuple[Comparator, ...], version: semver.Version) -> bool:
    if not all(c.test(version) for c in alternative):
        return False
    if not version.prerelease:
        return True
    core = (version.major, version.minor, version.patch)
    return any(c.version.prerelease and (c.version.major, c.version.minor, c.version.patch) == core
               for c in alternative)


def parse_version(text: str) -> semver.Version | None:
    """``"v1.2"`` → Version(1, 2, 0); None when ``text`` is not a semantic version."""
    cleaned = text.strip().lstrip("=").strip()
    if cleaned[:1] in ("v", "V"):
        cleaned = cleaned[1:]
    try:
        return semver.Version.parse(cleaned, optional_minor_and_patch=True)
    except (ValueError, TypeError):
        return None


def parse_range(text: str) -> Range:
    """Parse an npm-style range; raises ValueError naming the offending part (TypeError if
    ``text`` is not a string)."""
    if not isinstance(text, str):
        raise TypeError(f"a semver range must be a string, not {type(text).__name__}")
    alternatives = tuple(_alternative(part.strip(), text) for part in text.split("||"))
    return Range(text, alternatives)


def _alternative(part: str, whole: str) -> tuple[Comparator, ...]:
    if not part:
        return (_ANY,)
    hyphen = _HYPHEN.match(part)
    if hyphen:
        low, high = _partial(hyphen.group(1), whole), _partial(hyphen.group(2), whole)
        return _hyphen(low, high)
    out: list[Comparator] = []
    for token in _GLUE.sub(r"\1", part).split():
        out.extend(_desugar(*_partial(token, whole)))
    return tuple(out)


_Partial = tuple[str, list[int], str, str]  # (operator, numbers given, prerelease, build)


def _partial(token: str, whole: str) -> _Partial:
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"invalid semver range {whole!r}: cannot parse {token!r}")
    op, *parts, pre, build = match.groups()
    numbers: list[int] = []
    for part in parts:
        if part is None or part in "xX*":
            break
        numbers.append(int(part))
    return op or "", numbers, pre or "", build or ""


def _version(numbers: list[int], pre: str = "") -> semver.Version:
    major, minor, patch = (numbers + [0, 0, 0])[:3]
    return semver.Version(major, minor, patch, pre or None)


def _bump(numbers: list[int], pre: str = "0") -> semver.Version:
    """The first version past the partial ``numbers``: ``1.2`` → 1.3.0-0 (the lowest 1.3.0
    pre-release, so that ``<1.3.0-0`` excludes 1.3.0 pre-releases too)."""
    return _version(numbers[:-1] + [numbers[-1] + 1], pre)


_ANY = Comparator(">=", semver.Version(0, 0, 0))
_NONE = Comparator("<", semver.Version(0, 0, 0, "0"))


def _desugar(op: str, numbers: list[int], pre: str, _build: str) -> list[Comparator]:
    full = len(numbers) == 3
    if not numbers:  # *, x, >=*, <=* match everything; <* and >* match nothing
        return [_NONE] if op in ("<", ">") else [_ANY]
    low = _version(numbers, pre)
    if op in ("", "="):
        return [Comparator("=", low)] if full else [Comparator(">=", low), Comparator("<", _bump(numbers))]
    if op in (">", ">="):
        return [Comparator(op, low)] if full or op == ">=" else [Comparator(">=", _bump(numbers, ""))]
    if op in ("<", "<="):
        if full:
            return [Comparator(op, low)]
        return [Comparator("<", _version(numbers, "0") if op == "<" else _bump(numbers))]
    if op.startswith("~"):
        return [Comparator(">=", low), Comparator("<", _bump(numbers[:2] if len(numbers) > 1 else numbers))]
    return [Comparator(">=", low), Comparator("<", _bump(_caret_prefix(numbers)))]


def _caret_prefix(numbers: list[int]) -> list[int]:
    """The part of the version ``^`` keeps fixed: up to and including the first non-zero number."""
    for i, number in enumerate(numbers):
        if number != 0:
            return numbers[:i + 1]
    return numbers  # all zeros: ^0.0.0 → <0.0.1-0, ^0.0 → <0.1.0-0, ^0 → <1.0.0-0


def _hyphen(low: _Partial, high: _Partial) -> tuple[Comparator, ...]:
    out: list[Comparator] = []
    if low[1]:
        out.append(Comparator(">=", _version(low[1], low[2])))
    if len(high[1]) == 3:
        out.append(Comparator("<=", _version(high[1], high[2])))
    elif high[1]:
        out.append(Comparator("<", _bump(high[1])))
    return tuple(out) or (_ANY,)
