"""Split articles into statements (sentences) with exact character offsets into the source text.

Offsets are the contract with the user: ``article.text[start:end] == statement.text`` always, so a
report can point at the exact sentence in the original file. Sentences come from
:mod:`contradict.corpus.sentences` (linear time on any text, pysbd's rules where news meets them);
segmenting paragraph by paragraph yields the paragraph span that the report shows as context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from contradict.corpus.reader import Article
from contradict.corpus.sentences import sentence_spans
from contradict.settings import CORPUS_DEFAULTS

_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAKS = re.compile(r"\n\s*")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Statement:
    article: int  # index into the article list
    sentence: int  # position among all sentences of its article, dropped fragments included
    start: int
    end: int
    text: str
    para_start: int
    para_end: int


@dataclass(frozen=True)
class SegmentOptions:
    """Which sentences are statements; defaults are the settings' (``corpus_min_statement_chars``, ...)."""

    min_chars: int = CORPUS_DEFAULTS.min_statement_chars
    min_words: int = CORPUS_DEFAULTS.min_statement_words
    max_chars: int = CORPUS_DEFAULTS.max_statement_chars

    def keeps(self, text: str) -> bool:
        """Short fragments ("Scroll down for video.") carry no claim; very long ones are not sentences."""
        return self.min_chars <= len(text) <= self.max_chars and len(_WORD.findall(text)) >= self.min_words


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Paragraph spans: blank-line separated when the text has blank lines, else one per line.

    News exports either separate paragraphs with blank lines (and may hard-wrap lines inside them)
    or put one paragraph per line; the presence of a blank line tells which.
    """
    separator = _BLANK_LINES if _BLANK_LINES.search(text) else _LINE_BREAKS
    start = 0
    for match in separator.finditer(text):
        yield from _stripped(text, start, match.start())
        start = match.end()
    yield from _stripped(text, start, len(text))


def _stripped(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    chunk = text[start:end]
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk.rstrip())
    if right > left:
        yield start + left, start + right


class Segmenter:
    """Statements of articles: paragraphs, then sentences, then the options' filter."""

    def __init__(self, options: SegmentOptions | None = None):
        self.options = options or SegmentOptions()

    def sentence_spans(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Whitespace-stripped sentence spans inside ``text[start:end]``, in absolute offsets."""
        # Line breaks inside a paragraph are hard wraps, not sentence ends; replacing them with
        # spaces keeps every offset valid (same length).
        paragraph = text[start:end].replace("\r", " ").replace("\n", " ")
        for local_start, local_end in sentence_spans(paragraph):
            yield start + local_start, start + local_end

    def segment(self, article_index: int, article: Article) -> list[Statement]:
        text = article.text
        statements: list[Statement] = []
        index = 0
        for para_start, para_end in paragraphs(text):
            for start, end in self.sentence_spans(text, para_start, para_end):
                sentence = text[start:end]
                if self.options.keeps(sentence):
                    statement = Statement(article_index, index, start, end, sentence, para_start, para_end)
                    statements.append(statement)
                index += 1
        return statements


def segment_articles(
    articles: Sequence[Article],
    options: SegmentOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Statement]:
    """All statements of all articles, in article order then sentence order."""
    segmenter = Segmenter(options)
    statements: list[Statement] = []
    for index, article in enumerate(articles):
        statements.extend(segmenter.segment(index, article))
        if progress is not None:
            progress(1)
    return statements
