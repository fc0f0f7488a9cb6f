"""`contradict claim`: what does each article of a corpus say about one claim?

A plain function with typer ``Annotated`` parameters, registered in ``contradict/cli.py`` like
``corpus``. Reads articles as ``contradict corpus`` does, checks the claim against each through
:mod:`contradict.claims` and writes one JSON line per article, in input order.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from contradict.claims import DEFAULT_WINDOW, MAX_WINDOW, claim_pairs, document_windows, stances
from contradict.cli_kit import (
    BatchSizeOption,
    DeviceOption,
    ModelOption,
    QuietOption,
    SkipInvalidOption,
    fail,
    fail_input,
    load_scorer,
    load_settings,
    plural,
    progress_bars,
    refuse_overwriting_input,
    report_skipped,
)
from contradict.corpus.command import PathArg
from contradict.corpus.errors import CorpusError
from contradict.corpus.pipeline import CorpusOptions
from contradict.corpus.reader import read_corpus, require_articles
from contradict.corpus.segment import Segmenter
from contradict.corpus.workdir import atomic_write_text

ARTICLE_KEYS = ("id", "title", "source", "url", "published")


def claim(
    text: Annotated[str, typer.Argument(metavar="CLAIM", help="The claim to check, as one statement.")],
    path: PathArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="JSONL file. Default: stdout.")
    ] = None,
    window: Annotated[
        int, typer.Option(min=1, max=MAX_WINDOW, help="Consecutive statements the model reads at a time.")
    ] = DEFAULT_WINDOW,
    skip_invalid: SkipInvalidOption = False,
    quiet: QuietOption = False,
    model: ModelOption = None,
    batch_size: BatchSizeOption = None,
    device: DeviceOption = None,
) -> None:
    """Check CLAIM against every article: how much of it bears on the claim, and which way.

    One JSON line per article, in input order: id, title, source, url, published, windows,
    contradiction_share (of the windows' evidence that bears on the claim, the share that
    contradicts it: a ranking score, not a calibrated probability), bearing (how much of the article
    speaks to the claim at all), and the most contradicting and the most entailing passage with
    character offsets into the article. An article with no statement has null scores.
    """
    if not text.strip():
        fail("CLAIM is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes of another encoding on the command line (surrogate-escaped)
        fail("CLAIM is not UTF-8 text")
    refuse_overwriting_input(path, [output])
    started = time.perf_counter()
    settings = load_settings(model=model, batch_size=batch_size, device=device)
    options = CorpusOptions.from_settings(settings, skip_invalid=skip_invalid)
    try:
        read = read_corpus(path, skip_invalid=skip_invalid, limits=options.limits)
        require_articles(read.articles, 1, str(path))
    except CorpusError as error:
        fail_input(error, skip_invalid)
    scorer = load_scorer(settings)
    segmenter = Segmenter(options.segment)
    checks = [(text, document_windows(article, window, segmenter)) for article in read.articles]
    pairs = claim_pairs(checks)
    with progress_bars(quiet, unit="windows") as progress:
        task = progress.add_task("checking", total=len(pairs))
        probabilities = scorer.probabilities(pairs, progress=lambda done: progress.advance(task, done))
    pooled = stances(checks, probabilities)
    empty = {"contradiction_share": None, "bearing": None, "most_contradicting": None, "most_entailing": None}
    lines = [
        json.dumps(
            {key: getattr(article, key) for key in ARTICLE_KEYS}
            | (stance.as_dict() if stance else empty | {"windows": 0}),
            ensure_ascii=False,
        )
        + "\n"
        for article, stance in zip(read.articles, pooled, strict=True)
    ]
    if output is None:
        sys.stdout.write("".join(lines))
    else:
        try:
            atomic_write_text(output, "".join(lines))
        except OSError as error:
            fail(f"{output}: {error.strerror or error}", code=1)
    if read.skipped:
        report_skipped([str(error) for error in read.skipped], len(read.skipped))
    if not quiet:
        typer.echo(
            f"checked the claim against {plural(len(read.articles), 'article')} "
            f"({plural(len(pairs), 'window')}) in {time.perf_counter() - started:.1f} s",
            err=True,
        )
