"""Project-level guards: layer contracts, generated schemas in sync, module size limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reconciler.models.schemas import all_schemas, dumps

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_are_one_way():
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_json_schemas_match_the_models():
    for name, schema in all_schemas().items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"schemas/{name} is missing: run 'reconciler schema --out schemas'"
        assert path.read_text() == dumps(schema), f"schemas/{name} drifted: run 'reconciler schema --out schemas'"


def test_examples_point_editors_at_the_schemas():
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        if ".reconciler" in path.parts or "templates" in path.parts or ".github" in path.parts:
            continue
        if "rendered" in path.parts or "policy-tests" in path.parts:
            continue
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), f"{path} lacks the schema modeline"
        target = first.split("=", 1)[1]
        assert (path.parent / target).resolve().exists(), f"{path}: {target} does not exist"


def test_no_module_exceeds_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in (ROOT / "reconciler").rglob("*.py")
           if (n := len(p.read_text().splitlines())) > 500}
    assert big == {}, f"split these modules by responsibility: {big}"


def test_schemas_are_valid_json_schema():
    from jsonschema import Draft202012Validator

    for path in (ROOT / "schemas").glob("*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_workflows_are_valid_github_actions():
    checker = Path(sys.executable).parent / "check-jsonschema"
    files = sorted(str(p) for p in (ROOT / "examples" / "github").glob("*.yml"))
    files += sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(files) >= 3
    proc = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *files],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_workflows_use_commands_that_exist(cli):
    import re

    from reconciler.cli.main import COMMANDS

    for path in (ROOT / "examples" / "github").glob("*.yml"):
        for command in re.findall(r"reconciler ([a-z-]+)", path.read_text()):
            if command not in ("plan", "apply") or command in COMMANDS:
                assert command in COMMANDS, f"{path.name} uses 'reconciler {command}', which does not exist"
        for line in re.findall(r"reconciler [a-z-]+[^\n]*", path.read_text()):
            args = line.split()[1:]
            if "--help" in args or "$" in line or "${{" in line:
                continue
            result = cli(*args, "--help")
            assert result.code == 0, f"{path.name}: {line}: {result.err}"
            for flag in [a.split("=")[0] for a in args if a.startswith("--")]:
                assert flag in result.out, f"{path.name}: {line}: unknown flag {flag}"


def test_the_apply_path_imports_no_http_client():
    """Start-up counts in every apply: the verification providers import httpx only when they run."""
    probe = ("import sys, reconciler.cli.commands.apply, reconciler.engine.apply, reconciler.engine.sharded, "
             "reconciler.executors.builtin.command, reconciler.executors.verification; print('httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
