"""npm-style semver ranges (reconciler.planning.cel.semver_range)."""

from __future__ import annotations

import pytest
import semver

from reconciler.planning.cel.semver_range import parse_range, parse_version

CASES = [
    # (range, version, satisfied)
    (">=1.2.0 <2.0.0", "1.2.0", True),
    (">=1.2.0 <2.0.0", "1.9.9", True),
    (">=1.2.0 <2.0.0", "2.0.0", False),
    (">=1.2.0 <2.0.0", "1.1.9", False),
    (">= 1.2.0 < 2.0.0", "1.5.0", True),  # spaces after operators
    ("^1.2", "1.2.0", True),
    ("^1.2", "1.99.0", True),
    ("^1.2", "2.0.0", False),
    ("^1.2", "1.1.0", False),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("~1.4.0", "1.4.7", True),
    ("~1.4.0", "1.5.0", False),
    ("~1.4", "1.4.0", True),
    ("~1", "1.9.0", True),
    ("~1", "2.0.0", False),
    ("1.x", "1.0.0", True),
    ("1.x", "1.42.1", True),
    ("1.x", "2.0.0", False),
    ("1.2.*", "1.2.5", True),
    ("1.2.*", "1.3.0", False),
    ("*", "0.0.1", True),
    ("", "3.2.1", True),
    ("1.2.3", "1.2.3", True),
    ("=1.2.3", "1.2.4", False),
    ("v1.2.3", "1.2.3", True),
    (">1.2", "1.2.9", False),
    (">1.2", "1.3.0", True),
    ("<=1.2", "1.2.9", True),
    ("<=1.2", "1.3.0", False),
    ("<1.2", "1.1.9", True),
    ("<1.2", "1.2.0", False),
    ("1.2 - 2.3", "2.3.9", True),
    ("1.2 - 2.3", "2.4.0", False),
    ("1.2.3 - 2.3.4", "2.3.4", True),
    ("1.2.3 - 2.3.4", "1.2.2", False),
    ("<1.0.0 || >=3.0.0", "0.9.0", True),
    ("<1.0.0 || >=3.0.0", "2.0.0", False),
    ("<1.0.0 || >=3.0.0", "3.1.0", True),
    ("^1.2.3 || ^2", "2.5.0", True),
    # pre-releases only match when the range names a pre-release of the same major.minor.patch
    (">=1.2.0", "1.3.0-beta.1", False),
    (">=1.3.0-alpha", "1.3.0-beta.1", True),
    (">=1.3.0-alpha", "1.4.0-beta.1", False),
    ("^1.2.3-beta.2", "1.2.3-beta.4", True),
    ("^1.2.3-beta.2", "1.2.3-alpha", False),
    ("^1.2", "2.0.0-rc.1", False),
    ("*", "1.0.0-rc.1", False),
    # versions: leading v, missing minor/patch, build metadata
    (">=1.2.0", "v1.4", True),
    (">=1.2.0", "V2", True),
    ("1.2.3", "1.2.3+build.7", True),
    ("*", "not-a-version", False),
    ("*", "1.2.3.4", False),
    ("*", "", False),
]


@pytest.mark.parametrize(("text", "version", "expected"), CASES)
def test_range_contains(text: str, version: str, expected: bool) -> None:
    assert parse_range(text).contains(version) is expected


@pytest.mark.parametrize(("text", "normalized"), [
    (">=1.2.0 <2.0.0", ">=1.2.0 <2.0.0"), ("^1.2", ">=1.2.0 <2.0.0-0"), ("~1.4.0", ">=1.4.0 <1.5.0-0"),
    ("1.x", ">=1.0.0 <2.0.0-0"), ("*", ">=0.0.0"), ("1.2 - 2.3", ">=1.2.0 <2.4.0-0"), (">1.2", ">=1.3.0"),
    ("^0.0.3 || 2.0.0", ">=0.0.3 <0.0.4-0 || 2.0.0"), ("<*", "<0.0.0-0"),
])
def test_ranges_desugar_like_npm(text: str, normalized: str) -> None:
    parsed = parse_range(text)
    assert str(parsed) == normalized
    assert parsed.text == text


@pytest.mark.parametrize(("text", "message"), [
    (">=1.2 <two", "invalid semver range '>=1.2 <two': cannot parse '<two'"),
    ("~banana", "invalid semver range '~banana': cannot parse '~banana'"),
    ("1.2.3.4", "invalid semver range '1.2.3.4': cannot parse '1.2.3.4'"),
    ("01.2.3", "invalid semver range '01.2.3': cannot parse '01.2.3'"),
    (">>1", "invalid semver range '>>1': cannot parse '>>1'"),
    ("1.2-beta", "invalid semver range '1.2-beta': cannot parse '1.2-beta'"),  # pre-release needs x.y.z
    ("1.2 - ", "invalid semver range '1.2 - ': cannot parse '-'"),
])
def test_invalid_ranges_raise_value_error_naming_the_part(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_range(text)
    assert str(info.value) == message


def test_non_string_range_is_rejected() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        parse_range(1.2)  # type: ignore[arg-type]


def test_parse_version_and_version_objects() -> None:
    assert parse_version("v1.2") == semver.Version(1, 2, 0)
    assert parse_version("=1.2.3-rc.1") == semver.Version(1, 2, 3, "rc.1")
    assert parse_version("latest") is None
    assert parse_range("^1").contains(semver.Version(1, 5, 0)) is True
