"""Every artifact type rendered against goldens, deterministic output, paths, and shape checks."""

from __future__ import annotations

import hashlib

import pytest

from reconciler.errors import TemplateError
from reconciler.rendering import compose
from tests.rendering.conftest import CONTEXT, render

TYPES = [
    ("compose-file", "compose.yml.j2", "compose.yml"),
    ("compose-lock", "compose.yml.j2", "compose.lock.yml"),
    ("env-file", "app.env.j2", "app.env"),
    ("systemd-unit", "app.service.j2", "shop-web.service"),
    ("nginx-config", "nginx.conf.j2", "nginx.conf"),
    ("manifest", "deployment.yaml.j2", "deployment.yaml"),
    ("file", "motd.txt.j2", "motd.txt"),
]


@pytest.mark.parametrize(("kind", "template", "path"), TYPES, ids=[t[0] for t in TYPES])
def test_each_type_matches_its_golden(golden, kind, template, path):
    art = render({"type": kind, "template": template, "path": path})[path]
    assert (art.path, art.type) == (path, kind)
    assert art.sha256 == hashlib.sha256(art.content.encode()).hexdigest()
    golden(f"rendering/{kind}.{path}", art.content)


def test_env_file_from_values_matches_its_golden(golden):
    values = {"LOG_LEVEL": "{{ variables.LOG_LEVEL }}", "REPLICAS": "{{ variables.REPLICAS }}", "PORT": 8080,
              "DEBUG": False, "GREETING": "{{ variables.GREETING }}", "DB_PASSWORD": "{{ variables.DB_PASSWORD }}",
              "EMPTY": "", "DOMAIN": "{{ resource.config.domain }}"}
    art = render({"type": "env-file", "path": ".env", "values": values})[".env"]
    golden("rendering/env-file.values.env", art.content)
    assert "DB_PASSWORD='<redacted>'\n" in art.content  # plan-time renders never hold a secret


def test_env_file_template_and_values_combine():
    out = render({"type": "env-file", "path": ".env", "template": "app.env.j2", "values": {"EXTRA": "x y"}})
    assert out[".env"].content.endswith("REPLICAS=3\nEXTRA='x y'\n")


def test_rendering_twice_gives_identical_bytes():
    specs = [{"type": t, "template": tpl, "path": p} for t, tpl, p in TYPES]
    first, second = render(*specs), render(*specs)
    assert list(first) == sorted(p for _, _, p in TYPES)
    assert {p: a.content.encode() for p, a in first.items()} == {p: a.content.encode() for p, a in second.items()}


def test_the_artifact_path_is_a_template():
    path = "{{ resource.identifier }}/motd-{{ version.tag }}"
    out = render({"type": "file", "template": "motd.txt.j2", "path": path})
    assert list(out) == ["host-1/motd-v1.4.0"]


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "a/../../b", "a//b", "{{ '' }}"])
def test_paths_must_stay_relative(path):
    with pytest.raises(TemplateError, match="must be a relative path"):
        render({"type": "file", "template": "motd.txt.j2", "path": path})


def test_two_artifacts_cannot_share_a_path():
    with pytest.raises(TemplateError, match="same path motd"):
        render({"type": "file", "template": "motd.txt.j2", "path": "motd"},
               {"type": "file", "template": "motd.txt.j2", "path": "{{ 'motd' }}"})


def test_a_missing_template_is_named():
    with pytest.raises(TemplateError, match="template templates/nope.j2 does not exist"):
        render({"type": "file", "template": "nope.j2", "path": "x"})


def test_a_type_that_needs_a_template_says_so():
    with pytest.raises(TemplateError, match=r"artifact unit \(systemd-unit\) needs 'template:'"):
        render({"type": "systemd-unit", "path": "unit"})


@pytest.mark.parametrize(("kind", "template", "message"), [
    ("manifest", "bad-manifest.yaml.j2", r"bad \(rendered line 6\): document 2 lacks metadata.name"),
    ("nginx-config", "bad-nginx.conf.j2", r"bad \(rendered line 1\): '\{' is never closed"),
    ("systemd-unit", "bad-unit.service.j2", r"bad \(rendered line 1\): a Key=Value line comes before any"),
    ("manifest", "list.yaml.j2", "document 1 is not a mapping"),
    ("compose-file", "deployment.yaml.j2", "exactly one YAML mapping"),
    ("compose-file", "broken.yaml.j2", r"bad \(rendered line 3\): not valid YAML"),
])
def test_shape_checks_name_the_artifact_and_line(kind, template, message):
    with pytest.raises(TemplateError, match=message):
        render({"type": kind, "template": template, "path": "bad"})


def test_a_lock_records_release_revision_target_and_version():
    art = render({"type": "compose-lock", "template": "compose.yml.j2", "path": "lock.yml"}, revision="abc")["lock.yml"]
    header = compose.read_header(art.content)
    assert {k: header[k] for k in ("releaseId", "revision", "target", "version")} == {
        "releaseId": "rel-1", "revision": "abc", "target": CONTEXT["target"], "version": "v1.4.0"}
