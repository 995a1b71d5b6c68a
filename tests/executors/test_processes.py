"""Local agent processes: the parent-death wrapper is used only for programs that exist, also when
a program found before has gone since (then Popen reports it, as without the wrapper); a
finished task's scratch folder is removed."""

from __future__ import annotations

import os

import pytest

from reconciler.engine.execute import _drop_scratch
from reconciler.executors import processes


def test_a_program_found_before_and_removed_since_is_reported_as_missing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "deploy-it"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    proc = processes.spawn(["deploy-it"], cwd=tmp_path, env=env, scratch=None)
    proc.communicate()
    assert proc.returncode == 0
    assert processes._on_path("deploy-it", env["PATH"])
    program.unlink()
    with pytest.raises(FileNotFoundError):  # not "setpriv: failed to execute" with exit code 127
        processes.spawn(["deploy-it"], cwd=tmp_path, env=env, scratch=None)


def test_a_finished_tasks_scratch_folder_goes_whether_empty_or_not(tmp_path):
    empty, full = tmp_path / "a", tmp_path / "b"
    empty.mkdir()
    (full / "sub").mkdir(parents=True)
    (full / "sub" / "left-by-agent.txt").write_text("x")
    for folder in (empty, full, tmp_path / "never-made"):
        _drop_scratch(folder)
        assert not folder.exists()
