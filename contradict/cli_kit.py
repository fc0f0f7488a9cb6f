"""What every ``contradict`` command shares: options, failing with a message, settings and model
loading, progress bars and the report of skipped rows.

Bad input (a malformed row, a missing model folder, an unmappable model) ends with a one-line
message on stderr and exit status 2, never a traceback: these are user errors, not bugs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from safetensors import SafetensorError
from transformers.utils import logging as hf_logging
from typer import rich_utils

from contradict.records import STDIO, RecordError
from contradict.scorer import NLIScorer
from contradict.settings import Settings

EXIT_BAD_INPUT = 2
# Skipped-row messages shown after a --skip-invalid run; the rest are only counted.
SHOWN_SKIPPED = 5

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model folder. Default: $CONTRADICT_MODEL, else the shipped contradict-minilm-l6-nli.",
        show_default=False,
    ),
]
BatchSizeOption = Annotated[int | None, typer.Option(min=1, help="Pairs per forward pass.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")]
# Options that `score` and `corpus` share are declared once here, so they read and behave alike.
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Contradiction probability from which a pair is a contradiction. Default: the model's.",
    ),
]
DeviceOption = Annotated[str | None, typer.Option(help="torch device of the NLI model, e.g. cpu or cuda.")]
SkipInvalidOption = Annotated[
    bool, typer.Option("--skip-invalid", help="Count and skip malformed rows instead of stopping.")
]


class Engine(str, Enum):
    """Where ``score`` and ``corpus`` run: this process, or a Ray Data pipeline (the ``ray`` extra)."""

    local = "local"
    ray = "ray"


EngineOption = Annotated[
    Engine,
    typer.Option(
        help="local: this process. ray: Ray Data actors on a local Ray or on --ray-address "
        '(pip install -e ".[ray]").'
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster for --engine ray (ray://HOST:10001, auto). "
        "Default: $CONTRADICT_RAY_ADDRESS, else a local Ray."
    ),
]


def require_ray_extra() -> None:
    """``--engine ray`` without Ray installed: one line naming the extra, exit 2."""
    from contradict.ray_support import RayMissing, require_ray

    try:
        require_ray()
    except RayMissing as error:
        fail(str(error))


# Help laid out without a terminal (CI logs, pipes): rich defaults to 80 columns there and cuts
# option names ("--min-similari…"); this is wide enough for every option of every command.
HELP_WIDTH_WITHOUT_TTY = 120


def widen_help_without_tty(stdout: IO[str] | None) -> None:
    """Lay help out :data:`HELP_WIDTH_WITHOUT_TTY` columns wide (or ``$COLUMNS`` if wider) when
    ``stdout`` is no terminal; ``$TERMINAL_WIDTH`` (typer's own setting) still wins."""
    if rich_utils.MAX_WIDTH is None and (stdout is None or not stdout.isatty()):  # None: stdout closed
        columns = os.environ.get("COLUMNS", "")
        rich_utils.MAX_WIDTH = max(HELP_WIDTH_WITHOUT_TTY, int(columns) if columns.isdigit() else 0)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def fail_input(error: RecordError, skip_invalid: bool) -> NoReturn:
    """Stop on a bad row (or input), saying where it is and whether ``--skip-invalid`` would help."""
    hint = " (--skip-invalid skips such rows)" if error.skippable and not skip_invalid else ""
    fail(f"{error}{hint}")


def refuse_overwriting_input(source: str | Path, outputs: Sequence[str | Path | None]) -> None:
    """Fail when an output would replace the input file (``-o corpus.jsonl`` on ``corpus.jsonl``):
    the results would silently overwrite the data they came from; or when two outputs are one file
    (``-o out.jsonl --csv out.jsonl``): the last one written would silently replace the others."""
    given = [Path(output) for output in outputs if output is not None and str(output) != STDIO]
    for index, output in enumerate(given):
        for other in given[:index]:
            if os.path.realpath(output) == os.path.realpath(other):
                fail(f"two outputs are the same file, {other} and {output}; give each its own")
    if str(source) == STDIO or not os.path.isfile(source):
        return
    for output in given:
        if os.path.exists(output) and os.path.samefile(source, output):
            fail(f"the output {output} is the input file {source}; write the results elsewhere")


def load_settings(**overrides) -> Settings:
    """Settings from the environment with the options given on the command line on top (by flat
    name: ``model``, ``batch_size``, ...; None = not given)."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except ValidationError as error:
        fail(f"invalid setting: {error}")


def load_scorer(settings: Settings) -> NLIScorer:
    hf_logging.disable_progress_bar()  # a "Loading weights" bar per run is noise on a CLI's stderr
    try:
        return NLIScorer.from_settings(settings)
    except FileNotFoundError as error:
        fail(
            f"cannot load the model {settings.scoring.model!r}: {error}; pass --model FOLDER or set "
            "CONTRADICT_MODEL (`make model` builds the shipped one)"
        )
    except (OSError, ValueError, RuntimeError, AssertionError, SafetensorError) as error:
        # Unreadable or cut weights (SafetensorError), labels that cannot be mapped (a ValueError), a
        # backend that cannot serve (BackendUnavailableError, a RuntimeError), a device torch lacks
        # ("cuda" on a CPU build asserts): one line, not a traceback.
        fail(f"cannot load the model {settings.scoring.model!r}: {error}")


def progress_bars(quiet: bool, unit: str = "") -> Progress:
    """Progress bars on stderr (stdout may carry output), shown on a terminal unless ``quiet``."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([TextColumn(unit)] if unit else []),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )


def plural(count: int, noun: str) -> str:
    """``1 pair``, ``2 pairs``, ``0 pairs``: summary lines read as sentences (regular nouns only)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_skipped(messages: Sequence[str], count: int) -> None:
    """The first skipped rows' messages, then how many more were skipped."""
    for message in messages[:SHOWN_SKIPPED]:
        typer.echo(f"skipped: {message}", err=True)
    if count > SHOWN_SKIPPED:
        typer.echo(f"skipped: ... and {plural(count - SHOWN_SKIPPED, 'more invalid row')}", err=True)
