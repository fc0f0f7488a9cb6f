"""Sentence splitting: speed on hostile and on real text, and agreement with pysbd (a script, not a test).

    .venv/bin/python bench/segment_speed.py                 # everything (pysbd baseline on 10 KB)
    .venv/bin/python bench/segment_speed.py --show 20       # also print 20 disagreements

The splitter of :mod:`contradict.corpus.sentences` against the pysbd segmentation it replaced (run
here as before: paragraph by paragraph, offsets found again when pysbd's drift). Speed: 100 KB of
each punctuation-dense pattern (pysbd only on a 10 KB prefix: on 100 KB it takes minutes) and a
1M-character article of real news. Agreement, on real news (every FNC-1 training body in
../shared/data/nli/fnc1_train plus ../shared/examples/afghan-tajik-border.txt): the statements
(sentences kept by the default filter) both give with the same offsets, as precision / recall of
the new splitter's statements against pysbd's, and the share of articles segmented identically.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pysbd  # noqa: E402

from contradict.corpus.reader import Article  # noqa: E402
from contradict.corpus.segment import Segmenter, SegmentOptions  # noqa: E402

SHARED = REPO.parent / "shared"
FNC1_BODIES = SHARED / "data" / "nli" / "fnc1_train" / "train_bodies.csv"
EXAMPLE = SHARED / "examples" / "afghan-tajik-border.txt"
HOSTILE = ["a. ", "1. 2. 3. ", "e.g. i.e. U.S. ", "Mr. A. B. ", '"A." (b.) ', "(a) (b) (c) ", '"x. ', "?!"]
HOSTILE_CHARS = 100_000
PYSBD_CHARS = 10_000
ARTICLE_CHARS = 1_000_000
QUOTES = "\"'“”‘’«»()[] "


class PysbdSegmenter(Segmenter):
    """The segmentation this project shipped before: pysbd per paragraph, offsets re-found on drift."""

    def __init__(self, options: SegmentOptions | None = None):
        super().__init__(options)
        self._pysbd = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def sentence_spans(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        paragraph = text[start:end].replace("\r", " ").replace("\n", " ")
        cursor = 0
        for span in self._pysbd.segment(paragraph):
            sentence = span.sent.strip()
            if not sentence:
                continue
            local = span.start + (len(span.sent) - len(span.sent.lstrip()))
            if paragraph[local : local + len(sentence)] != sentence:
                local = paragraph.find(sentence, cursor)
                if local < 0:
                    continue
            cursor = local + len(sentence)
            yield start + local, start + local + len(sentence)


def news() -> list[Article]:
    articles = [Article("afghan-tajik-border", EXAMPLE.read_text(encoding="utf-8"))]
    with FNC1_BODIES.open(newline="", encoding="utf-8") as handle:
        articles += [Article(row["Body ID"], row["articleBody"]) for row in csv.DictReader(handle)]
    return articles


def timed(segmenter: Segmenter, article: Article) -> tuple[float, int]:
    start = time.perf_counter()
    statements = segmenter.segment(0, article)
    return time.perf_counter() - start, len(statements)


def speed(new: Segmenter, old: Segmenter, articles: list[Article]) -> None:
    print(f"| input | chars | new s | pysbd s ({PYSBD_CHARS:,} chars) |")
    print("|---|---:|---:|---:|")
    for pattern in HOSTILE:
        text = (pattern * (HOSTILE_CHARS // len(pattern) + 1))[:HOSTILE_CHARS]
        seconds, _ = timed(new, Article("x", text))
        baseline, _ = timed(old, Article("x", text[:PYSBD_CHARS]))
        print(f"| {pattern!r} repeated | {len(text):,} | {seconds:.3f} | {baseline:.2f} |")
    body = "\n\n".join(article.text for article in articles)
    text = (body * (ARTICLE_CHARS // len(body) + 1))[:ARTICLE_CHARS]
    seconds, count = timed(new, Article("x", text))
    baseline, _ = timed(old, Article("x", text))
    print(f"| real news, one article | {len(text):,} | {seconds:.3f} | {baseline:.2f} (whole) |")
    flat = text.replace("\n", " ")  # the same news with no paragraph breaks: one 1M-character paragraph
    seconds, _ = timed(new, Article("x", flat))
    print(f"| real news, one paragraph | {len(flat):,} | {seconds:.3f} | not run |")


def _unquoted(text: str, start: int, end: int) -> str:
    return text[start:end].strip(QUOTES)


def agreement(new: Segmenter, old: Segmenter, articles: list[Article], show: int) -> None:
    same = common = only_new = only_old = loose = 0
    examples = []
    for article in articles:
        a = {(s.start, s.end) for s in new.segment(0, article)}
        b = {(s.start, s.end) for s in old.segment(0, article)}
        same += a == b
        common += len(a & b)
        only_new += len(a - b)
        only_old += len(b - a)
        unquoted = {_unquoted(article.text, *span) for span in b - a}
        loose += sum(_unquoted(article.text, *span) in unquoted for span in a - b)
        if a != b and len(examples) < show:
            examples.append((article, sorted(a - b), sorted(b - a)))
    precision = common / (common + only_new)
    recall = common / (common + only_old)
    print(
        f"\nagreement on {len(articles)} news articles: {common} statements in common, {only_new} only "
        f"new, {only_old} only pysbd; precision {precision:.4f}, recall {recall:.4f}; articles identical "
        f"{same}/{len(articles)} ({same / len(articles):.1%})"
    )
    print(
        f"statements that differ only by quotes or brackets at their ends (pysbd drops a closing quote "
        f"after the full stop, this splitter keeps it): {loose}; agreement counting those as equal: "
        f"precision {(common + loose) / (common + only_new):.4f}, "
        f"recall {(common + loose) / (common + only_old):.4f}"
    )
    for article, extra, missing in examples:
        print(f"\n--- {article.id}")
        for start, end in missing:
            print(f"  pysbd: {article.text[start:end]!r}")
        for start, end in extra:
            print(f"  new:   {article.text[start:end]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--show", type=int, default=0, help="print this many differing articles")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    articles = news()
    new, old = Segmenter(), PysbdSegmenter()
    if not args.no_speed:
        speed(new, old, articles)
    agreement(new, old, articles, args.show)


if __name__ == "__main__":
    main()
