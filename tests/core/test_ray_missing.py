"""``--engine ray`` without the ``ray`` extra: one line naming the extra to install, exit 2, no
traceback. Ray is hidden from the import system, so this runs with or without the extra installed."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from contradict.cli import app


@pytest.mark.parametrize("command", ["corpus", "score"])
def test_engine_ray_without_the_extra_names_it(command, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    source = tmp_path / "input.jsonl"
    source.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, [command, str(source), "-o", str(tmp_path / "out.jsonl"), "--engine", "ray"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        """error: --engine ray needs the optional extra 'ray': pip install -e ".[ray]" (Ray Data)"""
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
