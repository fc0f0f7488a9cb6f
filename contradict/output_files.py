"""Where an output file really goes, for the writers that write to a temporary file and rename it.

Writing to a temporary neighbour and renaming it over the target is what keeps a failed run from
leaving a half-written file that looks complete. Done naively, it also replaces a symlink with a
plain file (the file the link named keeps its old content), makes a file only its owner can read
(``mkstemp`` creates files with mode 0600), and cannot rename over ``/dev/stdout`` or a named pipe.
"""

from __future__ import annotations

import os
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


def file_mode(target: Path) -> int:
    """Permissions for the new file: the replaced file's when there is one, else what ``open``
    would give a new file under the current umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
