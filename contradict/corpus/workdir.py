"""Checkpoints for a resumable corpus run: atomic files named by a fingerprint of what made them.

A file is written to a temporary name and moved into place with ``os.replace``, so a run killed at
any moment leaves either the whole checkpoint or none of it. Each stage's files carry a key hashed
from the inputs and every setting that stage depends on, so a changed run never reads stale work,
while a run that only changes, say, the report threshold reuses everything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

STAGE_PREFIXES = ("statements-", "candidates-", "scores-")


def fingerprint(*parts: object) -> str:
    """Stable short hash of JSON-able parts (dicts are key-sorted)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(
            json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
        )
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write through ``write(handle)`` to a temporary file, fsync, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


class WorkDir:
    """The checkpoint folder of one output (default ``OUT.jsonl.work/``)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def prune(self, keep: set[str]) -> None:
        """Delete checkpoints of earlier, different runs and temp files of killed writes.

        Only names this module writes are touched, in case the folder is shared.
        """
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry.name.startswith(STAGE_PREFIXES) and entry.name not in keep:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink()

    def read_json(self, name: str) -> object | None:
        path = self.root / name
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def write_json(self, name: str, data: object) -> None:
        atomic_write_text(self.root / name, json.dumps(data, separators=(",", ":")))

    def read_arrays(self, name: str) -> dict[str, np.ndarray] | None:
        path = self.root / name
        if not path.is_file():
            return None
        with np.load(path) as data:
            return {key: data[key] for key in data.files}

    def write_arrays(self, name: str, **arrays: np.ndarray) -> None:
        atomic_write(self.root / name, lambda handle: np.savez(handle, **arrays))

    def read_array(self, name: str) -> np.ndarray | None:
        """The array, or ``None`` when missing or unreadable (then the work is simply redone)."""
        path = self.root / name
        try:
            return np.load(path) if path.is_file() else None
        except (OSError, ValueError):
            return None

    def write_array(self, name: str, array: np.ndarray) -> None:
        atomic_write(self.root / name, lambda handle: np.save(handle, array))
