"""``serve`` (the HTTP API and dashboard), ``api-key create|list|revoke``, ``agent run`` (the
reference pull agent) and ``report --html`` (the dashboard as one static file)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler.cli import options
from reconciler.errors import UsageError


def _seconds(_ctx, param, value):  # click callback: a duration option as seconds
    from reconciler.models.common import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


@click.command()
@options.directory
@options.state
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--lease", default="60s", show_default=True, callback=_seconds,
              help="How long a pull agent's claim lasts without a heartbeat.")
@click.option("--max-expiries", default=3, show_default=True, type=click.IntRange(1, 100),
              help="Leases that may expire before a job fails instead of going back to the queue.")
@click.option("--cache", "cache_seconds", default="2s", show_default=True, callback=_seconds,
              help="How long a computed plan and status may be reused.")
@click.option("--drift/--no-drift", default=False, help="Read version stickers to show drifted targets.")
@click.option("--openapi-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the OpenAPI document to FILE and exit (schemas/openapi.json).")
def serve(directory, state_url, host, port, lease, max_expiries, cache_seconds, drift, openapi_out) -> int:
    """Serve the HTTP API (/api/v1) and the dashboard (/) on the recorded state."""
    if openapi_out is not None:
        from reconciler.server.app import openapi_text

        openapi_out.write_text(openapi_text())
        click.echo(f"wrote {openapi_out}")
        return 0
    import uvicorn

    from reconciler.server.app import create_app
    from reconciler.server.context import ServerContext, Settings

    settings = Settings(Path(directory), state_url, lease=lease, max_expiries=max_expiries,
                        cache_seconds=cache_seconds, drift=drift)
    ctx = ServerContext(settings)
    try:
        click.echo(f"reconciler serve: workspace {ctx.session().catalog.config.workspace} on http://{host}:{port}/ "
                   f"(API under /api/v1, state {ctx.store.describe()})")
        uvicorn.run(create_app(ctx), host=host, port=port, log_level="warning", access_log=False)
    finally:
        ctx.close()
    return 0


@click.group("api-key")
def api_key() -> None:
    """Create, list and revoke API keys (stored hashed in the state)."""


def _store(directory: str, state_url: str | None):
    from reconciler.engine.history import open_history_writable

    store = open_history_writable(directory, state_url).store
    if not hasattr(store, "create_api_key"):
        store.close()
        raise UsageError("API keys need a SQLite or PostgreSQL state backend")
    return store


@api_key.command("create")
@options.directory
@options.state
@click.option("--name", required=True, help="The key's owner (recorded as the actor of its approvals).")
@click.option("--scope", required=True, type=click.Choice(["read", "agent", "approve", "admin"]),
              help="read < agent (claim and report jobs); approve (approve releases); admin (everything).")
def create(directory, state_url, name, scope) -> int:
    """Create a key and print it once; only its hash is stored."""
    from reconciler.server import keys

    try:
        keys.check_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    store = _store(directory, state_url)
    try:
        key = keys.new_key()
        store.create_api_key(name, keys.digest(key), keys.display_prefix(key), scope, datetime.now(UTC))
    finally:
        store.close()
    click.echo(key)
    click.echo(f"created API key {name!r} with scope {scope}; it is shown only this once", err=True)
    return 0


@api_key.command("list")
@options.directory
@options.state
def list_keys(directory, state_url) -> int:
    """Every key: name, scope, prefix, created, revoked (never the key)."""
    store = _store(directory, state_url)
    try:
        found = store.api_keys()
    finally:
        store.close()
    if not found:
        click.echo("No API keys.")
    for k in found:
        revoked = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}Z" if k.revoked_at else "active"
        click.echo(f"{k.name:24} {k.scope:8} {k.prefix}…  created {k.created_at:%Y-%m-%d %H:%M}Z  {revoked}")
    return 0


@api_key.command("revoke")
@click.argument("name")
@options.directory
@options.state
def revoke(name, directory, state_url) -> int:
    """Revoke the key NAME at once."""
    store = _store(directory, state_url)
    try:
        done = store.revoke_api_key(name, datetime.now(UTC))
    finally:
        store.close()
    if not done:
        raise UsageError(f"no active API key named {name!r} (see 'reconciler api-key list')")
    click.echo(f"revoked API key {name!r}")
    return 0


@click.group()
def agent() -> None:
    """A pull-based job agent for hosts that can reach only the API."""


@agent.command("run")
@click.option("--url", required=True, help="The server, e.g. http://127.0.0.1:8080.")
@click.option("--agent", "agent_name", required=True, help="The JobAgent (type: pull) whose queue to serve.")
@click.option("--key", default=None, help="API key with the agent scope (prefer --key-env).")
@click.option("--key-env", default="RECONCILER_API_KEY", show_default=True, help="Variable holding the API key.")
@click.option("--once", is_flag=True, help="Run the jobs queued now, then exit (1 if any failed).")
@click.option("--poll", default="2s", show_default=True, callback=_seconds, help="Wait between two empty polls.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Where jobs run (relative commands resolve here).")
@click.option("--timeout", default="1h", show_default=True, callback=_seconds, help="Default limit per job.")
def run(url, agent_name, key, key_env, once, poll, workdir, timeout) -> int:
    """Poll queue/next, run each job with the local agent its config names, and report."""
    from reconciler.server.agent import Options
    from reconciler.server.agent import run as run_agent

    key = key or os.environ.get(key_env)
    if not key:
        raise UsageError(f"give an API key with --key or in ${key_env}")
    return run_agent(Options(url, agent_name, key, workdir.resolve(), once, poll, timeout),
                     lambda line: click.echo(line, err=True))


@click.command()
@options.directory
@options.state
@click.option("--html", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the static dashboard.")
@click.option("--drift/--no-drift", default=False, help="Read version stickers to show drifted targets.")
def report(directory, state_url, out, drift) -> int:
    """Write the dashboard (matrix, approvals, timelines, releases, jobs, history) as one HTML file."""
    from reconciler.server.context import ServerContext, Settings
    from reconciler.server.dashboard.render import report as render_report

    ctx = ServerContext(Settings(Path(directory), state_url, drift=drift, cache_seconds=3600))
    try:
        html = render_report(ctx)
    finally:
        ctx.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html)
    click.echo(f"wrote {out} ({len(html.encode())} bytes)")
    return 0
