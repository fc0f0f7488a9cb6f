"""Output files of `score` and `corpus`: written through a temporary file and a rename, without the
rename's side effects (contradict/output_files.py, ResultWriter, atomic_write)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from contradict.corpus.workdir import atomic_write_text
from contradict.output_files import output_target
from contradict.pairs_io import ResultWriter

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


def test_a_folder_is_refused_and_a_device_is_written_in_place(tmp_path):
    with pytest.raises(IsADirectoryError):
        output_target(tmp_path)
    assert output_target(tmp_path / "new.jsonl") == (tmp_path / "new.jsonl", True)
    assert output_target(os.devnull)[1] is False
    write_rows(os.devnull)  # a device cannot be renamed over; it is written like a redirection
    write_report(os.devnull)
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


def test_dev_stdout_gets_the_rows(tmp_path):
    """`-o /dev/stdout` writes to the process's stdout (renaming over it failed, or replaced
    /dev/stdout with a file when run as root)."""
    code = (
        "from contradict.pairs_io import ResultWriter\n"
        "with ResultWriter('/dev/stdout', 'jsonl') as w: w.write([{'premise': 'a', 'hypothesis': 'b'}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"premise": "a", "hypothesis": "b"}\n'
    assert os.path.islink("/dev/stdout") or not os.path.isfile("/dev/stdout")


def test_a_failed_run_leaves_no_file_at_all(tmp_path):
    path = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), ResultWriter(str(path), "jsonl") as writer:
        writer.write([ROW])
        raise RuntimeError("the run failed half way")
    assert list(tmp_path.iterdir()) == []
