"""Segmentation: every statement's offsets point at exactly its text in the source article; sentences
split as pysbd would on news text, in linear time on any text (the floors of issue 10)."""

from __future__ import annotations

import time

import pytest

from contradict.corpus.reader import Article
from contradict.corpus.segment import SegmentOptions, paragraphs, segment_articles
from contradict.corpus.sentences import sentence_spans
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


# -- the splitter: pysbd's rules on news text, linear time on any text ----------------------------

SPLITS = [
    ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
    (
        "The U.S. Army came. It was in the U.S. The end.",
        ["The U.S. Army came.", "It was in the U.S.", "The end."],
    ),
    ("J. R. R. Tolkien wrote it. See No. 5 here.", ["J. R. R. Tolkien wrote it.", "See No. 5 here."]),
    (
        "It was 5 p.m. The end came at 6 p.m. on Monday.",
        ["It was 5 p.m.", "The end came at 6 p.m. on Monday."],
    ),
    ('"Stop!" he said. She did.', ['"Stop!" he said.', "She did."]),
    (
        "She said: “It’s over. I am done.” Then she left.",
        ["She said: “It’s over. I am done.”", "Then she left."],
    ),
    (
        "Rep. Hunter (R-Calif.) said so. He (the boss.) left.",
        ["Rep. Hunter (R-Calif.) said so.", "He (the boss.) left."],
    ),
    (
        "He said... and then left. Wait... What? Yes!",
        ["He said... and then left.", "Wait...", "What?", "Yes!"],
    ),
    ("1. First item here. 2. Second item here.", ["1. First item here.", "2. Second item here."]),
    ("Prices rose 3.5% in 2025. Apple Inc. said so.", ["Prices rose 3.5% in 2025.", "Apple Inc. said so."]),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS, ids=[case[0][:24] for case in SPLITS])
def test_sentences_follow_pysbd_rules_on_news_text(text, expected):
    assert [text[a:b] for a, b in sentence_spans(text)] == expected


HOSTILE = [
    "a. ",
    "1. 2. 3. ",
    "e.g. i.e. U.S. ",
    "Mr. A. B. ",
    '"A." (b.) ',
    "(a) (b) (c) ",
    '"x. ',
    "?!",
    "...",
]


@pytest.mark.parametrize("pattern", HOSTILE)
def test_a_100kb_punctuation_dense_document_is_segmented_within_a_second(pattern):
    text = (pattern * (100_000 // len(pattern) + 1))[:100_000]
    started = time.perf_counter()
    statements = segment_articles([Article("x", text)], SegmentOptions(min_chars=1, min_words=1))
    assert time.perf_counter() - started <= 1.0  # pysbd: 1.6-7 s on a tenth of this (bench/segment_speed.py)
    assert all(text[s.start : s.end] == s.text for s in statements)


def test_a_million_character_article_is_segmented_within_ten_seconds():
    news = "\n\n".join(article["text"] for article in ARTICLES) + "\n\n" + TRICKY[0]
    one_paragraph = (news.replace("\n", " ") * (1_000_000 // len(news) + 1))[:1_000_000]
    paragraphs_ = (news * (1_000_000 // len(news) + 1))[:1_000_000]
    for text in (one_paragraph, paragraphs_):
        started = time.perf_counter()
        statements = segment_articles([Article("x", text)])
        assert time.perf_counter() - started <= 10.0
        assert len(statements) > 1000
