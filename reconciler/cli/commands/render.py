"""``reconciler render``, ``verify-lock`` and ``drift``: generated artifacts on disk and on hosts.

``render`` writes every target's desired artifacts under the render directory (``--check`` only
compares), ``verify-lock`` re-checks a compose lock's digest and pins, and ``drift`` compares the
version stickers agents left on hosts with recorded state. Parsing and printing only; the work is
in ``engine.artifacts``, ``engine.drift`` and ``rendering``.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import clock, options
from reconciler.cli.views import jsonview


@click.command()
@options.directory
@options.ref
@options.state
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Only render these release targets.")
@click.option("--out", "out", default=None, metavar="DIR",
              help="Render directory (default: renderDir of reconciler.yaml, 'rendered', in the desired-state dir).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing stale, missing and extra files.")
@click.option("--clean", is_flag=True, help="Also delete files under the render directory that are no longer rendered.")
@click.option("--newest", is_flag=True, help="Render each target's newest ready version, whatever the policies and "
              "recorded state say: a function of Git alone, for a CI check that rendered files are committed.")
@options.at
def render(directory, ref, state_url, targets, out, check, clean, newest, at) -> int:
    """Render artifacts (compose locks, manifests, env files, ...) of every target's desired release."""
    from reconciler.engine import artifacts
    from reconciler.engine.session import open_session
    from reconciler.planning.targets import compute_targets
    from reconciler.rendering import outdir

    session = open_session(directory, ref, state_url, readonly=True)
    try:
        known = [str(k) for k in compute_targets(session.catalog)]
        _known_targets(targets, known)
        renders = artifacts.render_targets(session, clock.clock_for(clock.parse_at(at))(), only=targets or None,
                                           newest=newest)
        folder = Path(out) if out else session.root / session.catalog.config.renderDir
    finally:
        session.close()
    expected = outdir.layout({t: {p: a.content for p, a in files.items()} for t, files in renders.items()})
    report = outdir.compare(expected, artifacts.read_tree(folder), known, targets or None)
    if check:
        return _report_check(report, folder)
    for line in artifacts.write_tree(folder, expected, report, clean=clean):
        click.echo(line)
    if report.extra and not clean:
        click.echo(f"{len(report.extra)} file(s) under {folder} are no longer rendered (delete them, or pass "
                   "--clean):", err=True)
        for rel in report.extra:
            click.echo(f"  {rel}", err=True)
    click.echo(f"{len(expected)} file(s) for {len(renders)} target(s) in {folder}")
    return 0


def _known_targets(targets: tuple[str, ...], known: list[str]) -> None:
    from reconciler.errors import UsageError

    unknown = [t for t in targets if t not in known]
    if unknown:
        raise UsageError(f"unknown release target {unknown[0]}; 'reconciler targets' lists them")


def _report_check(report, folder: Path) -> int:
    if report.clean:
        click.echo(f"{folder} is up to date")
        return 0
    click.echo(f"{folder} is out of date; run 'reconciler render' and commit the result:")
    for label, paths in (("stale", report.stale), ("missing", report.missing), ("extra", report.extra)):
        for rel in paths:
            click.echo(f"  {label:<8}{rel}")
    return 1


@click.command("verify-lock")
@click.argument("file", type=click.Path(dir_okay=False))
def verify_lock(file) -> int:
    """Check that a compose lock's digest matches its content and every image is pinned."""
    from reconciler.errors import UsageError
    from reconciler.rendering import compose

    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from None
    problems = compose.verify_lock(text, path.name)
    for problem in problems:
        click.echo(f"reconciler: {problem}", err=True)
    if not problems:
        header = compose.read_header(text) or {}
        click.echo(f"{path.name}: ok (digest {header.get('digest')}, release {header.get('releaseId')})")
    return 1 if problems else 0


@click.command()
@options.directory
@options.state
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Only check these release targets.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Record drifted targets in state (plans then re-apply them) and clear marks of targets back in sync.")
@options.output_format("text", "json")
def drift(directory, state_url, targets, record, fmt) -> int:
    """Compare the version stickers agents wrote on targets with recorded state."""
    from reconciler.engine import drift as engine_drift
    from reconciler.engine.session import open_session

    session = open_session(directory, None, state_url, readonly=not record)
    try:
        rows = engine_drift.check_drift(session.store, session.root, only=targets or None,
                                        timeout=session.catalog.config.taskTimeout)
        if record:
            engine_drift.record(session.store, rows)
    finally:
        session.close()
    if fmt == "json":
        click.echo(jsonview.dumps([r.to_json() for r in rows]))
    elif not rows:
        click.echo("No deployed targets recorded.")
    else:
        width = max(len(r.target) for r in rows)
        for r in rows:
            click.echo(f"{r.target:<{width}}  {r.status:<11}  {r.message}")
    return 1 if engine_drift.drifted(rows) else 0
