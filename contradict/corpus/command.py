"""`contradict corpus`: scan a corpus of articles for contradicting statements.

A plain function with typer ``Annotated`` parameters; ``contradict/cli.py`` registers it with
``app.command("corpus")(corpus)``. Progress bars and messages go to stderr so stdout stays free.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

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
)
from contradict.corpus.candidates import Embedder
from contradict.corpus.errors import CorpusError
from contradict.corpus.pipeline import Advance, CorpusOptions, CorpusRun, ScorerInfo


class RichProgress:
    """One bar per stage on stderr; starting a stage completes the previous bar."""

    def __init__(self, bars: Progress):
        self.bars = bars
        self.current: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self._complete()
        self.bars.stop()

    def _complete(self) -> None:
        if self.current is not None:
            task = self.bars.tasks[self.current]
            self.bars.update(self.current, total=task.total if task.total is not None else task.completed)
            self.current = None

    def stage(self, name: str, total: float | None) -> Advance:
        self._complete()
        self.current = task = self.bars.add_task(name, total=total)
        return lambda amount: self.bars.advance(task, amount)


PathArg = Annotated[
    str,
    typer.Argument(
        help="Folder of .txt/.md files, a .jsonl or .csv file, or - (stdin, JSONL or CSV by its content)."
    ),
]


def corpus(
    path: PathArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Ranked pairs as JSONL. --engine ray: a folder of parts, Parquet if OUT ends in .parquet.",
        ),
    ],
    csv: Annotated[
        Path | None, typer.Option("--csv", help="The same rows as CSV (--engine ray: a folder of parts).")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", dir_okay=False, help="HTML report.")] = None,
    top_k: Annotated[int | None, typer.Option(min=1, help="Neighbours per statement.")] = None,
    min_similarity: Annotated[float | None, typer.Option(min=-1.0, max=1.0, help="Cosine floor.")] = None,
    threshold: ThresholdOption = None,
    within_article: Annotated[
        bool, typer.Option("--within-article", help="Also pair statements of the same article.")
    ] = False,
    skip_invalid: SkipInvalidOption = False,
    quiet: QuietOption = False,
    model: ModelOption = None,
    batch_size: BatchSizeOption = None,
    device: DeviceOption = None,
    headlines: Annotated[
        bool,
        typer.Option(
            "--headlines-as-statements",
            help="Score headlines (titles) as statements too. Default: a headline is context only.",
        ),
    ] = False,
    work_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Checkpoint folder. Default: OUT.jsonl.work")
    ] = None,
    keep_checkpoints: Annotated[
        bool, typer.Option("--keep-checkpoints", help="Keep the checkpoint folder after a finished run.")
    ] = False,
    engine: EngineOption = Engine.local,
    ray_address: RayAddressOption = None,
) -> None:
    """Find statements that contradict each other across the articles of a corpus.

    Checkpoints go to OUT.jsonl.work/ (--work-dir): kept when a run fails or is interrupted, so the
    same command resumes from them, and removed once the run has finished (--keep-checkpoints keeps
    them, e.g. to re-run with another --threshold without scoring again).
    """
    refuse_overwriting_input(path, [output, csv, report])
    if engine is Engine.ray:
        require_ray_extra()
    else:
        refuse_folders([output, csv])
        if work_dir is None and os.path.exists(output) and not os.path.isfile(output):
            # /dev/stdout, a pipe: written in place, but OUT.work cannot be made beside it.
            fail(f"{output} is a device or a pipe, so its checkpoints cannot go beside it; name a --work-dir")
    settings = load_settings(model=model, batch_size=batch_size, device=device, ray_address=ray_address)
    options = CorpusOptions.from_settings(
        settings,
        top_k=top_k,
        min_similarity=min_similarity,
        threshold=threshold,
        within_article=within_article,
        skip_invalid=skip_invalid,
        headline_statements=headlines,
    )
    scorer = load_scorer(settings)
    bars = RichProgress(progress_bars(quiet or engine is Engine.ray))  # Ray Data shows its own bars
    files = {
        "options": options,
        "csv_path": csv,
        "report_path": report,
        "work_dir": work_dir,
        "progress": bars,
    }
    if engine is Engine.ray:
        from contradict.corpus.ray_engine import RayCorpusRun

        scorer_info = ScorerInfo.of(scorer)
        run = RayCorpusRun(path, output, settings=settings, scorer_info=scorer_info, quiet=quiet, **files)
    else:
        run = CorpusRun(path, output, scorer=scorer, embedder=Embedder.from_settings(settings), **files)
    try:
        with bars:
            result = run.run()
    except CorpusError as exc:
        _note_kept(run)
        fail_input(exc, skip_invalid)
    except OSError as exc:
        _note_kept(run)
        fail(f"{exc.filename or ''}: {exc.strerror or exc}", code=1)
    except KeyboardInterrupt:
        _note_kept(run)
        raise typer.Exit(130) from None
    removed = None if keep_checkpoints else run.remove_checkpoints()
    if not quiet:
        _print_summary(run, result.summary, output, removed)


def refuse_folders(paths: list[Path | None]) -> None:
    """The local engine writes one file per output; a folder there is a mistake (or meant for Ray)."""
    for path in paths:
        if path is not None and path.is_dir():
            fail(f"{path} is a folder; the local engine writes a file there (folders of parts: --engine ray)")


def _note_kept(run: CorpusRun) -> None:
    """Say where the finished work of a failed run is, and that the same command resumes from it."""
    if run.work.root.is_dir():
        typer.echo(f"checkpoints kept in {run.work.root}/: run the same command again to resume", err=True)


def _print_summary(run: CorpusRun, summary: dict, output: Path, removed: Path | None) -> None:
    report_skipped([str(error) for error in run.skipped], len(run.skipped))
    seconds = ", ".join(f"{stage} {value:.1f}s" for stage, value in summary["seconds"].items())
    counts = ", ".join(
        plural(summary[key], noun)
        for key, noun in (
            ("articles", "article"),
            ("statements", "statement"),
            ("candidates", "candidate pair"),
            ("contradictions", "contradiction"),
        )
    )
    lines = [f"{counts} (threshold {summary['threshold']:.3f}) -> {output}", seconds]
    if removed is not None:
        lines.append(f"removed the checkpoints {removed}/ (--keep-checkpoints keeps them)")
    typer.echo("\n".join(lines), err=True)
