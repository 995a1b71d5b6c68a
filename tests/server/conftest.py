"""Fixtures for the API: a quickstart whose JobAgent is a pull agent, a real server on 127.0.0.1
(in a thread, or as a separate process), API keys of every scope, and a small HTTP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import git

PULL_AGENT = """\
# yaml-language-server: $schema=../../schemas/document.schema.json
# A pull agent: jobs wait in the queue of `reconciler serve` until `reconciler agent run` claims them.
type: JobAgent
name: local
config:
  type: pull
  execute:
    type: command
    command: [./deploy.sh]
    timeout: 1m
"""


@pytest.fixture
def pull_quickstart(quickstart: Path) -> Path:
    """examples/quickstart with its JobAgent switched to ``type: pull``."""
    (quickstart / "agents.yaml").write_text(PULL_AGENT)
    git(quickstart, "commit", "-qam", "pull agent")
    return quickstart


@pytest.fixture(params=["sqlite", "postgres"])
def sql_state(request, tmp_path) -> str:
    """A fresh state URL on each SQL backend (the API needs SQL; git+branch has no claims)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("pg_db")


def make_key(root: Path, state: str | None, name: str, scope: str) -> str:
    from reconciler.engine.history import open_history_writable
    from reconciler.server import keys

    store = open_history_writable(str(root), state).store
    try:
        key = keys.new_key()
        store.create_api_key(name, keys.digest(key), keys.display_prefix(key), scope, datetime.now(UTC))
    finally:
        store.close()
    return key


@dataclass
class Api:
    """A running server and a key per scope."""

    url: str
    root: Path
    state: str | None
    keys: dict[str, str]
    ctx: object = None

    def client(self, scope: str | None = "admin", **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers={**auth, **headers}, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def all_keys(root: Path, state: str | None) -> dict[str, str]:
    return {scope: make_key(root, state, f"{scope}-key", scope) for scope in ("read", "agent", "approve", "admin")}


@pytest.fixture
def serve_thread():
    """``serve_thread(root, state=None, **settings)`` → Api: uvicorn in a thread on 127.0.0.1."""
    import uvicorn

    from reconciler.server.app import create_app
    from reconciler.server.context import ServerContext, Settings

    running = []

    def start(root: Path, state: str | None = None, **settings) -> Api:
        settings.setdefault("cache_seconds", 0.0)
        settings.setdefault("reload_seconds", 0.0)
        ctx = ServerContext(Settings(root, state, **settings))
        server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=free_port(),
                                               log_level="error", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        running.append((server, thread, ctx))
        return Api(f"http://127.0.0.1:{server.config.port}", root, state, all_keys(root, state), ctx)

    yield start
    for server, thread, ctx in running:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.close()


@pytest.fixture
def serve_process():
    """``serve_process(root, *args)`` → base URL of ``reconciler serve`` running as a separate process."""
    procs = []

    def start(root: Path, *args: str, env: dict | None = None) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "serve", "-C", str(root), "--port", str(port),
                                 "--cache", "0s", *args], env={**os.environ, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"reconciler serve did not start: {out}")
            time.sleep(0.1)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
