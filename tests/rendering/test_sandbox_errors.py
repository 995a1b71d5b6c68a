"""Template errors name the template file and line: undefined variables and sandbox escapes."""

from __future__ import annotations

import pytest

from reconciler.errors import TemplateError
from tests.rendering.conftest import render


def fail(template: str, kind: str = "file") -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render({"type": kind, "template": template, "path": "out"})
    return caught.value


def test_an_undefined_variable_names_the_template_and_line():
    err = fail("undefined.j2", "compose-lock")
    assert (err.template, err.line) == ("templates/undefined.j2", 5)
    assert str(err) == "templates/undefined.j2 line 5: undefined: 'dict object' has no attribute 'LOG_LEVL'"


def test_reading_dunder_class_is_refused_by_the_sandbox():
    err = fail("escape-class.j2")
    assert (err.template, err.line) == ("templates/escape-class.j2", 2)
    assert "the sandbox refused: access to attribute '__class__' of 'str' object is unsafe" in str(err)


def test_reaching_globals_through_a_builtin_is_refused():
    err = fail("escape-globals.j2")
    assert str(err).startswith("templates/escape-globals.j2 line 3: the sandbox refused: access to attribute "
                               "'__init__'")


@pytest.mark.parametrize("source", [
    "{{ config.__class__.__init__.__globals__['os'] }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ lipsum.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ self._TemplateReference__context }}",
])
def test_other_escape_routes_are_refused(source):
    from reconciler.rendering.sandbox import render_text

    with pytest.raises(TemplateError, match="the sandbox refused|undefined"):
        render_text(source, {"config": {}}, "t.j2")


def test_a_syntax_error_names_its_line():
    from reconciler.rendering.sandbox import render_text

    with pytest.raises(TemplateError, match=r"^t.j2 line 2: template syntax error"):
        render_text("ok\n{% if %}\n", {}, "t.j2")


def test_an_error_in_an_env_value_names_the_artifact_and_key():
    with pytest.raises(TemplateError, match=r"^out: values.A: undefined"):
        render({"type": "env-file", "path": "out", "values": {"A": "{{ variables.NOPE }}"}})
