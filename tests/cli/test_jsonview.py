"""The CLI's JSON layout parses to exactly the document it prints, with rows on lines of their own."""

import json

from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli.views import jsonview

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=30)


@given(documents)
def test_the_layout_parses_back_to_the_same_document(doc):
    assert json.loads(jsonview.dumps(doc)) == doc


def test_rows_of_a_list_of_objects_take_one_line_each():
    text = jsonview.dumps({"summary": {"install": 2}, "changes": [{"target": "a", "diff": {}}, {"target": "b"}],
                           "notes": []})
    assert text.splitlines() == ['{', '  "summary": {', '    "install": 2', '  },', '  "changes": [',
                                 '    {"target": "a", "diff": {}},', '    {"target": "b"}', '  ],', '  "notes": []',
                                 '}']


def test_rows_in_parts_are_written_as_if_joined():
    import io

    from reconciler.jsontext import Rows, RowsChain

    rows = [{"target": "a"}, {"target": "b", "n": 1}, {"target": "c"}]
    parts = RowsChain([Rows.of(rows[:2]), Rows.of(rows[2:])])
    doc = {"summary": {"install": 3}, "changes": parts, "blocked": RowsChain(), "notes": []}
    stream = io.StringIO()
    jsonview.write(doc, stream)
    plain = {**doc, "changes": rows, "blocked": []}
    assert stream.getvalue() == jsonview.dumps(doc) == jsonview.dumps(plain)
    assert json.loads(stream.getvalue()) == plain
