"""Output files of `score` and `corpus`: written through a temporary file and a rename, without the
rename's side effects (contradict/output_files.py, ResultWriter, atomic_write)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from contradict.corpus.workdir import atomic_write_text
from contradict.output_files import output_target
from contradict.pairs_io import ResultWriter

REPO = Path(__file__).resolve().parents[2]  # the subprocess imports this checkout
ROW = {"premise": "a b", "hypothesis": "c d", "contradiction": 0.1, "label": "neutral"}


def write_rows(path, rows=(ROW,)) -> None:
    with ResultWriter(str(path), "jsonl") as writer:
        writer.write(list(rows))


def write_report(path) -> None:
    atomic_write_text(path, "report\n")


WRITERS = [write_rows, write_report]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("write", WRITERS)
def test_a_new_file_gets_the_umask_and_a_replaced_one_keeps_its_mode(write, tmp_path, umask_022):
    path = tmp_path / "out.jsonl"
    write(path)
    assert mode(path) == 0o644  # mkstemp alone gives 0600: nobody else could read the results
    os.chmod(path, 0o640)
    write(path)
    assert mode(path) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


@pytest.mark.parametrize("write", WRITERS)
def test_a_symlink_keeps_pointing_at_the_file_it_names_which_gets_the_new_content(write, tmp_path):
    target, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    target.write_text("old\n")
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() != "old\n" and target.read_text() == link.read_text()


def test_a_folder_is_refused_and_a_device_or_pipe_is_written_in_place(tmp_path):
    """Paths of our own stand in for /dev/null and a named pipe, so a writer that renames over them
    (as the old one did, replacing /dev/null with a file when run as root) breaks only these."""
    with pytest.raises(IsADirectoryError):
        output_target(tmp_path)
    assert output_target(tmp_path / "new.jsonl") == (tmp_path / "new.jsonl", True)
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    assert output_target(null) == (null, False)
    write_rows(null)  # a device cannot be renamed over; it is written like a redirection
    write_report(null)
    assert null.is_symlink()

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    write_rows(pipe)
    reader.join(30)
    assert received and '"premise": "a b"' in received[0]
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_a_link_to_stdout_gets_the_rows(tmp_path):
    """`-o /dev/stdout` writes to the process's stdout: renaming a finished file over it failed, or
    (as root) replaced /dev/stdout with a file. A link of our own to /proc/self/fd/1 stands in for
    /dev/stdout, so a broken writer replaces only the link, never the system's."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    code = (
        "import sys\n"
        "from contradict.pairs_io import ResultWriter\n"
        "with ResultWriter(sys.argv[1], 'jsonl') as w: w.write([{'premise': 'a', 'hypothesis': 'b'}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(link)], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"premise": "a", "hypothesis": "b"}\n'
    assert link.is_symlink()


def test_a_failed_run_leaves_no_file_at_all(tmp_path):
    path = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), ResultWriter(str(path), "jsonl") as writer:
        writer.write([ROW])
        raise RuntimeError("the run failed half way")
    assert list(tmp_path.iterdir()) == []
