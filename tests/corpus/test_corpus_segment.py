"""Segmentation: every statement's offsets point at exactly its text in the source article."""

from __future__ import annotations

from contradict.corpus.reader import Article
from contradict.corpus.segment import SegmentOptions, paragraphs, segment_articles
from tests.support.corpus import ARTICLES

TRICKY = [
    # Repeated sentences (pysbd's own spans drift on these), abbreviations, quotes, unicode.
    "The vote passed.  The vote passed. Mr. Smith said “no” twice, in Washington D.C. today. "
    "The vote passed.\r\n\r\n  Second paragraph is hard\r\nwrapped across lines, as exports do. "
    "Café owners in Zürich said prices rose 3.5% in 2025!  ",
    # One paragraph per line, no blank lines, leading and trailing whitespace everywhere.
    "   First line paragraph says the plant closed in May.\nSecond line paragraph says it is still open.\n\t",
    # No punctuation at all.
    "a long run of words without any sentence punctuation that still counts as one statement",
]


def _all_statements():
    articles = [Article(id=str(i), text=text) for i, text in enumerate(TRICKY)]
    articles += [Article(id=a["id"], text=a["text"]) for a in ARTICLES]
    return articles, segment_articles(articles, SegmentOptions(min_chars=1, min_words=1))


def test_offsets_map_back_to_exact_source_text():
    articles, statements = _all_statements()
    assert statements
    for s in statements:
        text = articles[s.article].text
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.para_start <= s.start < s.end <= s.para_end
        assert text[s.para_start : s.para_end].strip() == text[s.para_start : s.para_end]


def test_sentences_are_split_as_a_reader_would():
    articles, statements = _all_statements()
    first = [s.text for s in statements if s.article == 0]
    assert first[2] == "Mr. Smith said “no” twice, in Washington D.C. today."
    assert "Second paragraph is hard\r\nwrapped across lines, as exports do." in first
    second = [s.text for s in statements if s.article == 1]
    assert second == [
        "First line paragraph says the plant closed in May.",
        "Second line paragraph says it is still open.",
    ]
    # Offsets are in order and never overlap within an article.
    for index in range(len(articles)):
        spans = [(s.start, s.end) for s in statements if s.article == index]
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_short_fragments_are_dropped_but_keep_sentence_positions():
    text = "Watch the video. The council approved the new budget on Friday night. Yes."
    statements = segment_articles([Article("x", text)], SegmentOptions(min_chars=20, min_words=4))
    assert [(s.sentence, s.text) for s in statements] == [
        (1, "The council approved the new budget on Friday night.")
    ]


def test_paragraph_modes():
    blank = "Para one line one\nline two.\n\n\nPara two."
    assert [blank[a:b] for a, b in paragraphs(blank)] == ["Para one line one\nline two.", "Para two."]
    lines = "Line one.\nLine two.\n"
    assert [lines[a:b] for a, b in paragraphs(lines)] == ["Line one.", "Line two."]
