"""Reading corpora: every format, and every bad input located by file and line."""

from __future__ import annotations

import io
import json
import os

import pytest

from contradict.corpus.errors import CorpusError
from contradict.corpus.pipeline import CorpusOptions, segmentable
from contradict.corpus.reader import Limits, read_corpus, require_articles
from contradict.corpus.segment import segment_articles
from tests.support.corpus import ARTICLES, write_jsonl


def test_jsonl_reads_all_fields(tmp_path):
    result = read_corpus(write_jsonl(tmp_path / "c.jsonl"))
    assert [a.id for a in result.articles] == ["herald-1", "courier-7", "gazette-3"]
    first = result.articles[0]
    assert (first.title, first.source, first.url, first.published) == (
        "Bridge collapse: twelve dead",
        "The Herald",
        "https://herald.example/bridge",
        "2026-11-02",
    )
    assert first.text == ARTICLES[0]["text"]
    assert result.articles[2].source == "" and result.skipped == []


def test_csv_with_quoted_multiline_text(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('id,text,source\n1,"First line.\n\nSecond, quoted ""para"".",A\n2,Other text here.,B\n')
    articles = read_corpus(path).articles
    assert articles[0].text == 'First line.\n\nSecond, quoted "para".'
    assert [(a.id, a.source) for a in articles] == [("1", "A"), ("2", "B")]


def test_csv_rows_may_omit_trailing_optional_columns(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,text,title\n1,hello\n2,world,T\n")
    assert [(a.id, a.title) for a in read_corpus(path).articles] == [("1", ""), ("2", "T")]


def test_folder_ids_are_relative_paths_and_titles_first_lines(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("\n# Heading of B\n\nBody of B.")
    (tmp_path / "a.txt").write_text("Title A\nBody of A.")
    (tmp_path / ".hidden.txt").write_text("not read")
    (tmp_path / "notes.pdf").write_text("not read")
    articles = read_corpus(tmp_path).articles
    assert [(a.id, a.title) for a in articles] == [("a.txt", "Title A"), ("sub/b.md", "Heading of B")]


def test_stdin_is_jsonl():
    stream = io.StringIO("".join(json.dumps(r) + "\n" for r in ARTICLES[:2]))
    assert len(read_corpus("-", stdin=stream).articles) == 2


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ('{"id": "a", "text": "fine"}\n{"id": "b", "text": oops}\n', 2, "invalid JSON"),
        ('{"id": "a", "text": "fine"}\n\n{"id": "b"}\n', 3, "missing field 'text'"),
        ('{"text": "no id"}\n', 1, "missing field 'id'"),
        ('{"id": "a", "text": "   "}\n', 1, "'text' is empty"),
        ('{"id": "a", "text": 5}\n', 1, "'text' must be a string"),
        ('["id", "text"]\n', 1, "expected a JSON object"),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', 2, "duplicate id 'a'"),
        ('{"id": "a", "text": "x", "title": {"nested": 1}}\n', 1, "'title' must be a string"),
    ],
)
def test_bad_jsonl_rows_name_file_and_line(tmp_path, content, line, fragment):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CorpusError) as caught:
        read_corpus(path)
    assert caught.value.line == line
    assert caught.value.file == str(path)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{path}, line {line}: ")


def test_csv_missing_column_is_reported_on_the_header_line(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(CorpusError, match="lacks a 'text' column") as caught:
        read_corpus(path)
    assert caught.value.line == 1


def test_csv_bad_row_line_counts_multiline_records(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('id,text\n1,"two\nlines"\n2,\n')
    with pytest.raises(CorpusError, match="'text' is empty") as caught:
        read_corpus(path)
    assert caught.value.line == 4


def test_skip_invalid_counts_and_continues(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "text": "fine"}\nnot json\n{"id": "b"}\n{"id": "c", "text": "ok"}\n')
    result = read_corpus(path, skip_invalid=True)
    assert [a.id for a in result.articles] == ["a", "c"]
    assert [error.line for error in result.skipped] == [2, 3]


def test_limits(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl")
    with pytest.raises(CorpusError, match="corpus_max_document_chars") as caught:
        read_corpus(path, limits=Limits(max_document_chars=100))
    assert caught.value.line == 1
    with pytest.raises(CorpusError, match="more than 2 articles"):
        read_corpus(path, limits=Limits(max_documents=2))


def test_unknown_format_and_missing_path(tmp_path):
    (tmp_path / "c.xml").write_text("<a/>")
    with pytest.raises(CorpusError, match="unknown corpus format"):
        read_corpus(tmp_path / "c.xml")
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "missing.jsonl")


def test_not_utf8(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n')
    with pytest.raises(CorpusError, match="not UTF-8"):
        read_corpus(path)


def test_empty_corpus_and_single_article_are_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(CorpusError, match="no articles"):
        require_articles(read_corpus(empty).articles, 2, str(empty))
    single = write_jsonl(tmp_path / "one.jsonl", ARTICLES[:1])
    with pytest.raises(CorpusError, match="at least 2"):
        require_articles(read_corpus(single).articles, 2, str(single))
    require_articles(read_corpus(single).articles, 1, str(single))  # --within-article accepts one


# -- headlines: context, not statements ---------------------------------------------------------

HEADLINE = "Harbour Bridge marks its anniversary"
BODY = (
    "The Harbour Bridge opened to traffic in March 1932 after eight years of work.\n\n"
    "Thousands of people walked across it on the opening day, the city archive says."
)
# The shared example's second half: its first line is a long paragraph with the key claim.
PARAGRAPH_FIRST = (
    "Meanwhile, The New York Times reported on November 6 that the police commander in the district "
    "noted that the border in that area is porous there because it is almost entirely controlled by "
    "the Taliban, who let the militants pass through without any trouble at all.\n\n"
    "The governor said on Wednesday that a commander had arrived in the district a month ago."
)


def statement_texts(articles, headline_statements: bool = False) -> list[str]:
    options = CorpusOptions(headline_statements=headline_statements)
    return [s.text for s in segment_articles(segmentable(articles, options), options.segment)]


def test_a_text_files_headline_is_context_not_a_statement(tmp_path):
    (tmp_path / "bridge.txt").write_text(f"{HEADLINE}\n\n{BODY}")
    (tmp_path / "porous.txt").write_text(PARAGRAPH_FIRST)
    bridge, porous = read_corpus(tmp_path).articles

    assert bridge.title == HEADLINE and bridge.text[: bridge.headline_end] == HEADLINE
    texts = statement_texts([bridge])
    assert HEADLINE not in " ".join(texts) and len(texts) == 2
    assert texts[0] == "The Harbour Bridge opened to traffic in March 1932 after eight years of work."
    # Offsets still point into the original file's text.
    for statement in segment_articles(segmentable([bridge], CorpusOptions())):
        assert bridge.text[statement.start : statement.end] == statement.text
    # ... unless the flag asks for headlines as statements.
    assert statement_texts([bridge], headline_statements=True)[0] == HEADLINE

    # A first line that is a paragraph is body text: no title, and its sentence is a statement.
    assert porous.title == "" and porous.headline_end == 0
    assert statement_texts([porous])[0].startswith("Meanwhile, The New York Times reported")


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        (HEADLINE, HEADLINE),
        ("# A named title, even with a sentence end.", "A named title, even with a sentence end."),
        ("The bridge opened in 1932.", ""),  # short, but a sentence
        ('He said "it is over."', ""),  # a sentence end inside closing quotes
        ("Why the bridge still matters?", ""),
        (" ".join(["word"] * 25), ""),  # too many words for a headline
    ],
)
def test_a_first_line_is_a_headline_only_when_it_looks_like_one(tmp_path, first_line, title):
    (tmp_path / "a.md").write_text(f"\n{first_line}\n{BODY}")
    (article,) = read_corpus(tmp_path).articles
    assert article.title == title
    assert (article.headline_end > 0) == bool(title)


def test_a_one_line_file_is_body_text(tmp_path):
    (tmp_path / "a.txt").write_text(HEADLINE)
    (article,) = read_corpus(tmp_path).articles
    assert article.title == "" and article.headline_end == 0


def test_records_that_repeat_their_title_in_the_text(tmp_path):
    records = [
        {"id": "1", "title": HEADLINE, "text": f"{HEADLINE}\n{BODY}"},  # an export repeating the title
        {"id": "2", "title": HEADLINE, "text": BODY},  # title only in its field
    ]
    repeated, separate = read_corpus(write_jsonl(tmp_path / "c.jsonl", records)).articles
    assert repeated.headline_end == len(HEADLINE) and separate.headline_end == 0
    assert statement_texts([repeated]) == statement_texts([separate])


def test_a_hash_title_repeated_in_the_text_is_its_headline(tmp_path):
    """A title that starts with "#" ("#MeToo founder speaks out") is still the repeated first line."""
    title = "#MeToo founder speaks out"
    (article,) = read_corpus(
        write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "title": title, "text": f"{title}\n{BODY}"}])
    ).articles
    assert article.headline_end == len(title)


def test_text_files_keep_their_line_ends_so_offsets_index_the_file(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    raw = "The mayor said the bridge was safe.\r\nEngineers said it was not.\r\nIt closed on Monday.\r\n"
    (folder / "a.txt").write_bytes(raw.encode("utf-8"))
    (folder / "b.txt").write_bytes(b"Another article.\n")
    articles = read_corpus(folder).articles
    assert articles[0].text == raw
    for statement in segment_articles(articles, CorpusOptions().segment):
        if statement.article == 0:
            assert raw[statement.start : statement.end] == statement.text


def test_a_file_name_that_is_not_utf8_is_a_bad_row(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("A story about a cafe.\n")
    (folder / "b.txt").write_text("Another story.\n")
    with pytest.raises(CorpusError, match="file name is not UTF-8"):
        read_corpus(folder)
    result = read_corpus(folder, skip_invalid=True)
    assert [a.id for a in result.articles] == ["b.txt"] and len(result.skipped) == 1
