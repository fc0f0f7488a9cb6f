"""The HTML report in a real headless browser (Debian's Chromium driven by Selenium, see
tests/support/browser.py): sort, filter, search, near misses, titles, colours, and no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from contradict.corpus.report import render_html
from tests.support.browser import chromium_driver, fetched_resources

THRESHOLD = 0.5
LONG_TITLE = (
    "Ledger of the harbour authority: annual accounts, traffic counts and the maintenance budget of "
    "the bridge for the financial year that ended in June"
)
ARTICLES = {
    "harbour": (
        "Harbour Bridge marks its anniversary",
        "Exports rose sharply in May. The bridge opened in 1932.",
    ),
    "ledger": (LONG_TITLE, "The bridge opened in 1950. Tolls paid for its upkeep."),
    "courier": ("", "Exports fell sharply in May. Tolls never paid for its upkeep."),
    "gazette": ("City mourns", "The bridge never opened. Tolls were abolished."),
}
# (a, sentence of a, b, sentence of b, contradiction, similarity); ranks follow this order.
PAIRS = [
    ("harbour", "The bridge opened in 1932.", "ledger", "The bridge opened in 1950.", 0.91, 0.62),
    ("courier", "Tolls never paid for its upkeep.", "gazette", "Tolls were abolished.", 0.80, 0.58),
    ("harbour", "The bridge opened in 1932.", "gazette", "The bridge never opened.", 0.66, 0.71),
    ("ledger", "Tolls paid for its upkeep.", "courier", "Tolls never paid for its upkeep.", 0.55, 0.95),
    # Near misses: below the threshold.
    ("harbour", "Exports rose sharply in May.", "courier", "Exports fell sharply in May.", 0.21, 0.88),
    ("ledger", "The bridge opened in 1950.", "gazette", "The bridge never opened.", 0.12, 0.60),
]


def side(article: str, sentence: str) -> dict:
    title, text = ARTICLES[article]
    start = text.index(sentence)
    return {
        "article": article, "title": title, "source": "", "url": "", "published": "",
        "sentence": 0, "start": start, "end": start + len(sentence),
        "paragraph_start": 0, "paragraph_end": len(text), "text": sentence,
    }  # fmt: skip


def report_rows() -> list[dict]:
    rows = []
    for rank, (a, sa, b, sb, contradiction, similarity) in enumerate(PAIRS, start=1):
        rest = (1 - contradiction) / 2
        rows.append(
            {
                "rank": rank,
                "contradiction": contradiction,
                "entailment": rest,
                "neutral": rest,
                "is_contradiction": contradiction >= THRESHOLD,
                "similarity": similarity,
                "a": side(a, sa),
                "b": side(b, sb),
            }  # fmt: skip
        )
    return rows


SUMMARY = {
    "articles": 4, "skipped_rows": 0, "statements": 8, "candidates": len(PAIRS),
    "contradictions": 4, "threshold": THRESHOLD, "model": {"name": "tiny", "version": "0"},
    "settings": {"top_k": 3, "min_similarity": 0.5}, "seconds": {"read": 0.1}, "resumed": [],
}  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    driver = chromium_driver()
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, tmp_path):
    path = Path(tmp_path / "report.html")
    texts = {article: text for article, (_, text) in ARTICLES.items()}
    path.write_text(render_html(report_rows(), SUMMARY, texts), encoding="utf-8")
    browser.get(path.as_uri())
    return browser


def visible_ranks(driver, list_id: str) -> list[int]:
    cards = driver.find_elements(By.CSS_SELECTOR, f"#{list_id} .pair")
    return [int(card.get_attribute("data-rank")) for card in cards if card.is_displayed()]


def choose(driver, select_id: str, value: str) -> None:
    Select(driver.find_element(By.ID, select_id)).select_by_value(value)


def type_into(driver, input_id: str, text: str) -> None:
    field = driver.find_element(By.ID, input_id)
    field.clear()
    field.send_keys(text)


@pytest.mark.slow  # a real browser
def test_report_sorts_filters_and_searches(page):
    assert visible_ranks(page, "found") == [1, 2, 3, 4]  # by score first
    choose(page, "sort", "similarity")
    assert visible_ranks(page, "found") == [4, 3, 1, 2]
    choose(page, "sort", "pair")  # courier↔gazette, harbour↔gazette, harbour↔ledger, ledger↔courier
    assert visible_ranks(page, "found") == [2, 3, 1, 4]
    choose(page, "sort", "score")

    choose(page, "article", "harbour")
    assert visible_ranks(page, "found") == [1, 3]
    choose(page, "article", "")
    type_into(page, "min-score", "0.7")
    assert visible_ranks(page, "found") == [1, 2]
    assert page.find_element(By.CSS_SELECTOR, "[data-count-for='found']").text == "2"
    type_into(page, "min-score", "0")
    type_into(page, "search", "TOLLS never")  # every word, any case
    assert visible_ranks(page, "found") == [2, 4]


@pytest.mark.slow  # a real browser
def test_near_misses_are_collapsed_below_the_passing_pairs(page):
    near = page.find_element(By.ID, "near-misses")
    assert near.get_attribute("open") is None
    assert visible_ranks(page, "near") == []  # collapsed
    near.find_element(By.TAG_NAME, "summary").click()
    assert visible_ranks(page, "near") == [5, 6]
    assert "Exports fell sharply in May." in near.text
    type_into(page, "search", "sharply")  # the filters apply to the near misses too
    assert visible_ranks(page, "near") == [5] and visible_ranks(page, "found") == []


@pytest.mark.slow  # a real browser
def test_titles_are_cut_at_a_word_and_scores_coloured_by_the_threshold(page):
    long_titles = [
        element
        for element in page.find_elements(By.CSS_SELECTOR, ".side b")
        if element.get_attribute("title") == LONG_TITLE
    ]
    assert long_titles
    shown = long_titles[0].text
    assert shown.endswith("…") and len(shown) < len(LONG_TITLE)
    assert LONG_TITLE.startswith(shown[:-1]) and LONG_TITLE[len(shown) - 1] == " "  # cut at a word

    page.find_element(By.CSS_SELECTOR, "#near-misses summary").click()

    def colour(rank: int) -> str:
        card = page.find_element(By.CSS_SELECTOR, f".pair[data-rank='{rank}'] .score")
        return card.value_of_css_property("background-color")

    assert colour(1) == colour(4) == "rgba(180, 35, 24, 1)"  # the alarm colour: it passes
    assert colour(5) == colour(6) != colour(4)  # below the threshold


@pytest.mark.slow  # a real browser
def test_report_loads_nothing_from_anywhere(page):
    # One file: the browser fetched no resource beyond the page itself.
    assert fetched_resources(page) == []
    assert page.find_elements(By.CSS_SELECTOR, "script[src], link[href], img[src]") == []
