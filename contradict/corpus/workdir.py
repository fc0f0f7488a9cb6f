"""Checkpoints for a resumable corpus run: atomic, checksummed files named by a fingerprint of what
made them.

A file is written to a temporary name and moved into place with ``os.replace``, so a run killed at
any moment leaves either the whole checkpoint or none of it. Each stage's files carry a key hashed
from the inputs and every setting that stage depends on, so a changed run never reads stale work,
while a run that only changes, say, the report threshold reuses everything.

Every checkpoint's SHA-256 goes into ``contradict-manifest.json`` (written atomically after the file), and a
checkpoint is only used when its bytes match the manifest and its content passes the caller's check:
a file that is empty, truncated, overwritten, altered or holds NaN is discarded with a logged warning
and its work is done again, so a damaged folder never needs deleting by hand.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from contradict.output_files import create_beside, output_target

T = TypeVar("T")
logger = logging.getLogger(__name__)

# The names this module's callers give checkpoints: a stage and the 16-hex fingerprint of what made
# it, with the local engine's suffix or none (the Ray engine's folders). Nothing else in a work
# folder is ever deleted: a --work-dir may be a folder that also holds the user's own files.
CHECKPOINT_NAME = re.compile(r"(?:statements|candidates|scores)-[0-9a-f]{16}(?:\.json|\.npz)?")
# The temporary names of a write cut short: atomic_write's and ray_support.save_dataset's.
TEMPORARY_NAME = re.compile(
    r"\.(?:(?:statements|candidates|scores)-[0-9a-f]{16}.*|(?:contradict-)?manifest\.json)"
    r"\.(?:\d+(?:\.[0-9a-f]{8})?\.tmp|partial)"  # output_files.create_beside's, before it: pid only
)


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
    """Write through ``write(handle)`` to a temporary file, fsync, then move it into place (with the
    replaced file's permissions, through a symlink; a device or pipe is written in place:
    :mod:`contradict.output_files`)."""
    target, renamable = output_target(path)
    if not renamable:
        with open(target, "wb") as handle:
            write(handle)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = create_beside(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


class BadCheckpoint(ValueError):
    """A checkpoint whose content is not what its stage wrote (raised by the parse functions)."""


def parse_json(data: bytes) -> object:
    return json.loads(data.decode("utf-8"), parse_constant=_no_constant)


def _no_constant(name: str) -> object:
    raise BadCheckpoint(f"holds {name}")  # NaN / Infinity: never a valid checkpoint value


def parse_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def parse_array(data: bytes) -> np.ndarray:
    array = np.load(io.BytesIO(data), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise BadCheckpoint("not a single array")
    return array


def require_finite(array: np.ndarray, what: str) -> np.ndarray:
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise BadCheckpoint(f"{what} holds values that are not finite numbers")
    return array


def is_checkpoint_manifest(path: Path) -> bool:
    """``path`` parses as a checkpoint manifest (checkpoint names to SHA-256 hex digests)."""
    try:
        loaded = parse_json(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(loaded, dict) and all(
        isinstance(name, str)
        and CHECKPOINT_NAME.fullmatch(name.split("/", 1)[0])
        and isinstance(digest, str)
        and re.fullmatch("[0-9a-f]{64}", digest)
        for name, digest in loaded.items()
    )


class WorkDir:
    """The checkpoint folder of one output (default ``OUT.jsonl.work/``) and its manifest."""

    MANIFEST = "contradict-manifest.json"  # a name no user file in a shared --work-dir is likely to have
    LEGACY_MANIFEST = "manifest.json"  # what versions before 2026-11-29 wrote; removed when it is ours

    def __init__(self, root: Path):
        self.root = Path(root)
        self._manifest: dict[str, str] | None = None

    def prune(self, keep: set[str]) -> None:
        """Delete checkpoints of earlier, different runs and temp files of killed writes.

        Only the exact names this module writes are touched (:data:`CHECKPOINT_NAME`,
        :data:`TEMPORARY_NAME`, :attr:`MANIFEST`, and a legacy ``manifest.json`` only when it is a
        checkpoint manifest), in case the folder is shared: a user's ``scores-2023.txt`` or
        ``manifest.json`` beside them is left alone.
        """
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            ours = CHECKPOINT_NAME.fullmatch(entry.name) or TEMPORARY_NAME.fullmatch(entry.name)
            if ours and entry.name not in keep:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        for name in keep:  # a kept checkpoint folder may hold a killed write's temporary file
            if (self.root / name).is_dir():
                for tmp in (self.root / name).rglob(".*.tmp"):
                    tmp.unlink()
        manifest = self.manifest
        stale = [name for name in manifest if name.split("/", 1)[0] not in keep]
        for name in stale:
            del manifest[name]
        if stale:
            self._save_manifest()
        if not keep:
            (self.root / self.MANIFEST).unlink(missing_ok=True)
        legacy = self.root / self.LEGACY_MANIFEST
        if is_checkpoint_manifest(legacy):
            legacy.unlink()

    # -- the manifest ----------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, str]:
        """Checkpoint name -> SHA-256 of its bytes; an unreadable manifest vouches for nothing."""
        if self._manifest is None:
            self._manifest = {}
            path = self.root / self.MANIFEST
            if path.is_file():
                try:
                    loaded = parse_json(path.read_bytes())
                    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
                        raise BadCheckpoint("not a mapping of names to checksums")
                    self._manifest = loaded
                except (ValueError, UnicodeDecodeError) as error:
                    logger.warning(
                        "checkpoint manifest %s is unreadable (%s); all work is redone", path, error
                    )
        return self._manifest

    def _save_manifest(self) -> None:
        text = json.dumps(self.manifest, sort_keys=True, separators=(",", ":"))
        atomic_write_text(self.root / self.MANIFEST, text)

    # -- reading and writing checkpoints -----------------------------------------------------------

    def load(self, name: str, parse: Callable[[bytes], T]) -> T | None:
        """The checkpoint ``name`` parsed by ``parse``, or None when it is missing or bad.

        A bad checkpoint (bytes not matching the manifest, or ``parse`` raising) is deleted with a
        warning; the caller then does the work again and saves it.
        """
        path = self.root / name
        if not path.is_file():
            return None
        try:
            data = path.read_bytes()
            expected = self.manifest.get(name)
            if expected is None:
                raise BadCheckpoint("not in the manifest (its write was cut short)")
            if hashlib.sha256(data).hexdigest() != expected:
                raise BadCheckpoint("its checksum does not match the manifest")
            return parse(data)
        except Exception as error:  # whatever is wrong with it, the work is redone
            reason = str(error) or type(error).__name__
            logger.warning("checkpoint %s is damaged (%s); discarded, recomputing", path, reason)
            path.unlink(missing_ok=True)
            if self.manifest.pop(name, None) is not None:
                self._save_manifest()
            return None

    def save(self, name: str, data: bytes) -> None:
        """Write the checkpoint atomically, then record its checksum in the manifest."""
        atomic_write(self.root / name, lambda handle: handle.write(data))
        self.manifest[name] = hashlib.sha256(data).hexdigest()
        self._save_manifest()

    def save_json(self, name: str, value: object) -> None:
        self.save(name, json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8"))

    def save_arrays(self, name: str, **arrays: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        self.save(name, buffer.getvalue())

    def save_array(self, name: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self.save(name, buffer.getvalue())
