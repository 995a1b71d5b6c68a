"""``reconciler test``: run policy test files and report each case with a diff."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-C", "directory", default=".", metavar="DIR", help="Desired-state directory (default test folder: "
              "DIR/policy-tests).")
@click.option("--at", "at", default=None, metavar="ISO8601",
              help="Evaluation time of cases that give no 'at:' (default: each case must give one).")
def test(paths: tuple[Path, ...], directory: str, at: str | None) -> int:
    """Run policy tests (YAML files or folders of them). Exit 1 when a case fails."""
    from reconciler.cli import clock
    from reconciler.engine.policytest import run_file

    when = clock.parse_at(at) if at else None
    files = _discover(paths or (Path(directory) / "policy-tests",))
    if not files:
        click.echo("no policy test files found (looked for *.yaml under the given paths or DIR/policy-tests)",
                   err=True)
        return 2
    failed = total = 0
    for path in files:
        for case in run_file(path, when):
            total += 1
            if case.passed:
                click.echo(f"PASS {path}: {case.name}")
                continue
            failed += 1
            click.echo(f"FAIL {path}: {case.name}")
            if case.error:
                click.echo(f"     error: {case.error}")
            for target, expected, actual in case.mismatches:
                click.echo(f"     {target}\n       - expected: {expected}\n       + actual:   {actual}")
    click.echo(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def _discover(paths) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            # Folders holding a reconciler.yaml are workspaces the tests use, not tests.
            out.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")
                              and not any((d / "reconciler.yaml").exists() for d in p.parents
                                          if d == path or path in d.parents)))
        elif path.exists():
            out.append(path)
    return out
