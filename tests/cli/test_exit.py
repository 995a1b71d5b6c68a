"""The command ends without tearing its heap down (``cli.main.leave``), yet everything an ordinary
exit does that matters still happens: other threads finish, exit handlers run (temporary
directories are removed), every byte written to a pipe arrives, and the exit code is kept."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import run_process

SCRIPT = textwrap.dedent("""
    import atexit, sys, tempfile, threading, time
    from pathlib import Path
    from reconciler.cli.main import leave

    kept = tempfile.TemporaryDirectory()  # removed by its finalizer, an exit handler
    print(kept.name, flush=True)
    atexit.register(lambda: print("exit handler ran"))
    threading.Thread(target=lambda: (time.sleep(0.3), print("writer finished"))).start()
    sys.stdout.write("x" * 2_000_000 + "\\n")  # buffered: flushed on the way out
    leave(3)
""")


def test_leave_keeps_what_an_ordinary_exit_does():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    tmp = lines[0]
    assert lines[1] == "x" * 2_000_000
    assert lines[2:] == ["writer finished", "exit handler ran"]  # threads first, then handlers, as Python does
    assert not __import__("os").path.exists(tmp)


def test_the_command_keeps_its_exit_code_and_output(quickstart):
    assert run_process("plan", "-C", quickstart, "--detailed-exitcode").code == 2  # changes pending
    result = run_process("plan", "-C", quickstart, "--format", "json")
    assert result.code == 0 and result.out.rstrip().endswith("}")
    assert run_process("plan", "-C", quickstart, "--target", "nope").code == 2
