"""Recording stand-ins for ``docker`` and ``kubectl``: real executables that append one JSON line
per call (argv, cwd, DOCKER_HOST, the task id and the contents of every ``-f`` file or directory)
and exit 0, or as a rule says when the argv contains all of the rule's tokens."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = '''#!{python}
import json, os, sys, time
from pathlib import Path

argv = sys.argv[1:]
files = {{}}
for flag, value in zip(argv, argv[1:]):
    if flag == "-f":
        path = Path(value) if Path(value).is_absolute() else Path.cwd() / value
        if path.is_dir():
            files.update({{str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}})
        elif path.is_file():
            files[value] = path.read_text()
record = {{"argv": argv, "cwd": os.getcwd(), "docker_host": os.environ.get("DOCKER_HOST"),
          "task": os.environ.get("RECONCILER_TASK_ID"), "files": files}}
with open({log!r}, "a") as handle:
    handle.write(json.dumps(record) + "\\n")
rules = json.loads(Path({rules!r}).read_text()) if Path({rules!r}).exists() else []
for rule in rules:
    if all(token in argv for token in rule["tokens"]):
        sys.stdout.write(rule["stdout"])
        sys.stderr.write(rule["stderr"])
        time.sleep(rule["sleep"])
        sys.exit(rule["exit"])
print("ok: " + " ".join(argv))
'''


@dataclass
class StandIn:
    """An executable at ``path`` recording to ``log``; ``on`` adds an exit rule."""

    path: Path
    log: Path
    rules: Path

    def on(self, *tokens: str, exit: int = 1, stderr: str = "", stdout: str = "", sleep: float = 0.0) -> None:
        rules = json.loads(self.rules.read_text()) if self.rules.exists() else []
        rules.append({"tokens": list(tokens), "exit": exit, "stderr": stderr, "stdout": stdout, "sleep": sleep})
        self.rules.write_text(json.dumps(rules))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls()]


def recording_binary(directory: Path, name: str) -> StandIn:
    directory.mkdir(parents=True, exist_ok=True)
    path, log, rules = directory / name, directory / f"{name}.calls.jsonl", directory / f"{name}.rules.json"
    path.write_text(SCRIPT.format(python=sys.executable, log=str(log), rules=str(rules)))
    path.chmod(0o755)
    return StandIn(path, log, rules)
