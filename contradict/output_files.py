"""Where an output file really goes, for the writers that write to a temporary file and rename it.

Writing to a temporary neighbour and renaming it over the target is what keeps a failed run from
leaving a half-written file that looks complete. Done naively, it also replaces a symlink with a
plain file (the file the link named keeps its old content), makes a file only its owner can read
(``mkstemp`` creates files with mode 0600), and cannot rename over ``/dev/stdout`` or a named pipe.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def output_target(path: Path) -> tuple[Path, bool]:
    """Where a write to ``path`` lands, and whether it can go through a temporary file and a rename.

    A symlink is followed (the file it names gets the new content, the link stays). A path that
    exists and is no regular file (a device such as /dev/stdout, a named pipe) is written in place,
    as a shell redirection would: it cannot be renamed over. A folder is refused.
    """
    try:
        mode = os.stat(path).st_mode  # follows links, /dev/stdout's to the pipe or terminal too
    except FileNotFoundError:
        return Path(os.path.realpath(path)), True
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(mode):
        return Path(path), False
    return Path(os.path.realpath(path)), True


def create_beside(target: Path) -> tuple[int, Path]:
    """A new, uniquely named temporary file next to ``target``, open for writing: with the replaced
    file's permissions when there is one, else those any new file gets (0666 less the umask, as
    ``open`` gives; ``mkstemp``'s 0600 would hide the results from everyone but their writer)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with contextlib.suppress(FileNotFoundError):  # nothing replaced: the umask's mode stands
        os.fchmod(handle, stat.S_IMODE(target.stat().st_mode))
    return handle, tmp
