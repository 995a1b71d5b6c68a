"""Shared fixtures: real Git repositories in tmp dirs, the CLI run in-process, a fresh PostgreSQL
database per session, and golden-file comparison with ``--update-goldens``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDENS = Path(__file__).resolve().parent / "goldens"


def _hypothesis_profile() -> None:
    """In CI every property test runs the same examples each time (``derandomize``): a rare input
    found by chance must not turn a run red that nothing in the change caused. Locally they explore."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profile()


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="Rewrite golden files with current output.")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Every test gets its own parse cache and no ambient reconciler settings."""
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for name in ("RECONCILER_STATE", "RECONCILER_ACTOR", "GITHUB_ACTOR", "RECONCILER_ACTOR_KIND",
                 "GITHUB_EVENT_NAME"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run the reconciler CLI in-process: ``cli("plan", "-C", d)`` → Result(code, out, err)."""
    from reconciler.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_process(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60) -> Result:
    """Run the reconciler CLI as a real subprocess."""
    proc = subprocess.run([sys.executable, "-m", "reconciler", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    return Result(proc.returncode, proc.stdout, proc.stderr)


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "2026-11-20T12:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T12:00:00Z"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def make_repo(tmp_path):
    """``make_repo({"reconciler.yaml": "...", ...})`` → a committed Git repository path."""

    def make(files: dict[str, str], commit: bool = True, name: str = "repo") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        write_files(root, files)
        git(root, "init", "-q", "-b", "main")
        if commit:
            git(root, "add", "-A")
            git(root, "commit", "-qm", "initial")
        return root

    return make


@pytest.fixture
def quickstart(tmp_path) -> Path:
    """A private copy of examples/quickstart in its own Git repository."""
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".reconciler"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "quickstart")
    return root


@pytest.fixture
def golden(request):
    """``golden("name.txt", text)`` compares with tests/goldens/name.txt (``--update-goldens`` rewrites)."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, text: str) -> None:
        path = GOLDENS / name
        if update or not path.exists():
            if not update and os.environ.get("CI"):
                pytest.fail(f"golden file {name} is missing; run pytest --update-goldens and commit it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert text == path.read_text(), f"output differs from golden {name}; rerun with --update-goldens if intended"

    return check


# -- PostgreSQL ---------------------------------------------------------------------------------

PG_ADMIN = os.environ.get("RECONCILER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True):
            return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session (skips, or fails in CI, when unavailable)."""
    problem = _pg_available()
    if problem:
        if os.environ.get("RECONCILER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (RECONCILER_REQUIRE_POSTGRES=1) but unavailable: {problem}")
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    import psycopg

    name = f"reconciler_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_db(pg_url):
    """A fresh PostgreSQL database for one test."""
    import psycopg

    name = f"reconciler_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres", "gitbranch"])
def state_url(request, tmp_path):
    """A state URL on each backend: a fresh SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    if request.param == "gitbranch":  # tmp_path becomes a clone of a fresh bare repository
        return __import__("tests.state.test_gitbranch", fromlist=["_"]).git_state_url(tmp_path)
    return request.getfixturevalue("pg_db")
