"""Write ``constraints.txt``: the service's dependency set (the project's runtime requirements and
everything they pull in), pinned at the versions installed in the current environment.

Why from the environment: those are the versions the test suite ran against, so the lock records a
known-good set instead of whatever an index offers on the day. pip's own resolver (a dry run with
the installed versions as constraints) decides which packages belong to the set, so extras such as
``uvicorn[standard]`` and platform markers are followed exactly as an install would. Training,
development and optional engines (``datasets``, ``pytest``, ``ray``...) are not in the set.

Run ``make lock`` (or ``python tools/lock_constraints.py``) after changing the dependencies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "constraints.txt"
HEADER = """\
# The service's dependency set, pinned: the runtime requirements of pyproject.toml and all they pull
# in, at the versions the tests ran against. Used by `make setup` and the Dockerfile (pip -c).
# Regenerate with `make lock` after changing dependencies (tools/lock_constraints.py).
# torch is pinned without its local label (2.13.0 matches the CPU build 2.13.0+cpu).
"""


def installed_versions() -> str:
    """``pip freeze`` of this environment, local version labels dropped (``+cpu``)."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(line.split("+")[0] for line in frozen.splitlines() if "==" in line) + "\n"


def resolved_set(constraints: Path) -> list[tuple[str, str]]:
    """(name, version) of every package an install of the project would bring, under ``constraints``."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"),
                *("--report", str(report), "-c", str(constraints), str(REPO)),
            ],
            check=True,
        )
        items = json.loads(report.read_text())["install"]
    pinned = {
        (item["metadata"]["name"].lower().replace("_", "-"), item["metadata"]["version"].split("+")[0])
        for item in items
        if item["metadata"]["name"] != "contradict"
    }
    return sorted(pinned)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "installed.txt"
        constraints.write_text(installed_versions())
        pins = resolved_set(constraints)
    OUTPUT.write_text(HEADER + "".join(f"{name}=={version}\n" for name, version in pins))
    print(f"{OUTPUT.name}: {len(pins)} packages")


if __name__ == "__main__":
    main()
