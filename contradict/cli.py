"""The ``contradict`` command line: serve the HTTP API, score pair files, scan corpora, show the model.

Bad input (a malformed row, a missing model folder, an unmappable model) ends with a one-line
message and exit status 2, never a traceback: these are user errors, not bugs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from enum import Enum
from typing import Annotated

import typer

from contradict.claim_command import claim
from contradict.cli_kit import (
    BatchSizeOption,
    DeviceOption,
    Engine,
    EngineOption,
    ModelOption,
    QuietOption,
    RayAddressOption,
    SkipInvalidOption,
    ThresholdOption,
    fail,
    fail_input,
    load_scorer,
    load_settings,
    plural,
    progress_bars,
    refuse_overwriting_input,
    report_skipped,
    require_ray_extra,
    widen_help_without_tty,
)
from contradict.corpus.command import corpus
from contradict.pairs_io import (
    DEFAULT_CHUNK_SIZE,
    OUTPUT_FORMATS,
    OutputError,
    ReadStats,
    ResultWriter,
    output_format,
    read_pairs,
    score_records,
)
from contradict.records import READERS, STDIO, RecordError, format_of, sniff_stdin_format, source_name
from contradict.settings import SERVICE_DEFAULTS

app = typer.Typer(
    name="contradict",
    help="Detect contradictions between statements with an NLI cross-encoder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
widen_help_without_tty(sys.stdout)

# Choices for --input-format and --format: every format the record readers / the writer know.
InputFormat = Enum("InputFormat", {name: name for name in READERS}, type=str)
OutputFormat = Enum("OutputFormat", {name: name for name in OUTPUT_FORMATS}, type=str)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help=f"Bind address. Default: $CONTRADICT_HOST or {SERVICE_DEFAULTS.host}."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help=f"Port. Default: $CONTRADICT_PORT or {SERVICE_DEFAULTS.port}.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes, each with its own model copy.")
    ] = None,
    model: ModelOption = None,
) -> None:
    """Run the HTTP API (uvicorn); every other setting comes from CONTRADICT_* variables."""
    settings = load_settings(host=host, port=port, workers=workers, model=model)
    from service.server import run  # the web stack is imported only when serving

    run(settings)  # checks the model folder before binding; each worker loads its own model


def _count_valid(path: str, fmt: str, skip_invalid: bool) -> int:
    """A cheap first pass over a file: fails on a bad row before any model time is spent, and
    gives the progress bar its total."""
    return sum(1 for _ in read_pairs(path, fmt, skip_invalid=skip_invalid))


@app.command()
def score(
    input: Annotated[
        str, typer.Argument(help="Pairs file (.jsonl or .csv), or - for stdin.", show_default=False)
    ],
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Output file. Default: stdout.", show_default=False)
    ] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option("--format", "-f", help="Output format. Default: from the output suffix, else jsonl."),
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(help="Input format. Default: from the input suffix; on stdin, from the content."),
    ] = None,
    batch_size: BatchSizeOption = None,
    symmetric: Annotated[
        bool, typer.Option("--symmetric", help="Score both directions and keep the more contradicting one.")
    ] = False,
    threshold: ThresholdOption = None,
    model: ModelOption = None,
    device: DeviceOption = None,
    skip_invalid: SkipInvalidOption = False,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Pairs read and scored at a time.")
    ] = DEFAULT_CHUNK_SIZE,
    quiet: QuietOption = False,
    engine: EngineOption = Engine.local,
    ray_address: RayAddressOption = None,
) -> None:
    """Score statement pairs (fields premise/hypothesis or sentence1/sentence2, optional id).

    Writes one row per valid pair, in input order, with the columns
    id (when given), premise, hypothesis, contradiction, entailment, neutral, label, is_contradiction,
    truncated (the pair had more tokens than the model reads and was scored on the part that fits).
    """
    try:
        explicit = input_format and input_format.value
        in_fmt = sniff_stdin_format() if input == STDIO and not explicit else format_of(input, explicit)
        out_fmt = output_format(output, fmt and fmt.value)
    except (RecordError, OutputError) as error:
        fail(str(error))
    if input != STDIO and not os.path.exists(input):
        fail(f"input file {input} not found")
    if input != STDIO and os.path.isdir(input):
        fail(f"input {input} is a folder; score reads one pairs file (corpus reads folders)")
    refuse_overwriting_input(input, [output])
    if engine is Engine.ray:
        require_ray_extra()

    started = time.perf_counter()
    stats = ReadStats()
    contradictions = truncated = 0
    try:
        # A pipe (stdin, <(...), a FIFO) can be read once: no counting pass, no progress total.
        total = _count_valid(input, in_fmt, skip_invalid) if os.path.isfile(input) else None
        settings = load_settings(model=model, batch_size=batch_size, device=device, ray_address=ray_address)
        scorer = load_scorer(settings)
        records = read_pairs(input, in_fmt, skip_invalid=skip_invalid, stats=stats)
        directions = 2 if symmetric else 1
        with (
            progress_bars(quiet, unit="pairs") as progress,
            ResultWriter(output, out_fmt) as writer,
        ):
            task = progress.add_task("scoring", total=total)
            if engine is Engine.ray:
                from contradict.ray_score import ray_score_records

                scored = ray_score_records(
                    settings, records, symmetric=symmetric, threshold=threshold, quiet=quiet
                )
            else:
                scored = score_records(
                    scorer,
                    records,
                    symmetric=symmetric,
                    threshold=threshold,
                    chunk_size=chunk_size,
                    progress=lambda done: progress.advance(task, done / directions),
                )
            for rows in scored:
                writer.write(rows)
                if engine is Engine.ray:
                    progress.advance(task, len(rows))
                contradictions += sum(row["is_contradiction"] for row in rows)
                truncated += sum(row["truncated"] for row in rows)
    except RecordError as error:
        fail_input(error, skip_invalid)
    except OutputError as error:
        fail(str(error))
    except BrokenPipeError:
        # The reader of stdout went away (`| head`); stop quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except OSError as error:  # the output cannot be written: a folder, a full disk, no permission
        fail(f"{error.filename or output or 'stdout'}: {error.strerror or error}", code=1)

    if stats.skipped:
        report_skipped(stats.errors, stats.skipped)
    if truncated:
        typer.echo(
            f"warning: {plural(truncated, 'pair')} longer than the model reads ({scorer.max_length} "
            "tokens), scored on the part that fits (column truncated); split long texts, e.g. with "
            "`contradict corpus`",
            err=True,
        )
    if not quiet:
        seconds = time.perf_counter() - started
        destination = "stdout" if output in (None, STDIO) else output
        typer.echo(
            f"scored {plural(stats.read, 'pair')} from {source_name(input)} to {destination}: skipped "
            f"{stats.skipped} invalid, {plural(contradictions, 'contradiction')}, {seconds:.1f} s",
            err=True,
        )


@app.command("model-info")
def model_info(model: ModelOption = None) -> None:
    """Print the model's name, version, labels, calibration and test metrics as JSON."""
    scorer = load_scorer(load_settings(model=model))
    typer.echo(json.dumps(scorer.info(), indent=2, ensure_ascii=False))


# Corpus scan: pairs up statements across many articles (contradict/corpus).
app.command("corpus")(corpus)
# One claim against every article of a corpus (contradict/claims.py).
app.command("claim")(claim)


if __name__ == "__main__":
    app()
