"""The template fast path (plain ``{{ a.b }}`` placeholders, no jinja) renders exactly what the
jinja sandbox renders, for generated templates and contexts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.rendering import sandbox

NAMES = st.sampled_from(["version", "variables", "resource", "tag", "N", "config", "items", "keys", "x"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.text("ab:-/ ", max_size=4), st.none(),
                    st.floats(allow_nan=False, allow_infinity=False, width=16))
CONTEXT = st.dictionaries(NAMES, st.one_of(SCALARS, st.dictionaries(NAMES, st.one_of(
    SCALARS, st.dictionaries(NAMES, SCALARS, max_size=3)), max_size=3)), max_size=5)
PATHS = st.lists(NAMES, min_size=1, max_size=3).map(".".join)
PIECES = st.lists(st.one_of(st.text("ab:-/ {}%", max_size=3), PATHS.map(lambda p: "{{ " + p + " }}")),
                  min_size=1, max_size=4).map("".join)


def jinja(source, context):
    match = sandbox._SINGLE.match(source)
    if match:
        return sandbox._expression(match.group("expr"))(**context)
    return sandbox._template(source).render(**context)


@settings(max_examples=400, deadline=None)
@given(PIECES, CONTEXT)
def test_fast_path_agrees_with_jinja(source, context):
    fast = sandbox._fast(source, context)
    if fast is sandbox._MISS:
        return
    assert fast == jinja(source, context)
    assert type(fast) is type(jinja(source, context))


def test_fast_path_leaves_filters_attributes_and_undefined_to_jinja():
    context = {"variables": {"S": "x", "items": 1}, "version": {"tag": "v1"}}
    for source in ("{{ variables.S | upper }}", "{{ variables.items }}", "{{ missing.x }}", "{% if 1 %}a{% endif %}"):
        assert sandbox._fast(source, context) is sandbox._MISS
    assert sandbox._fast("img:{{ version.tag }}", context) == "img:v1"
