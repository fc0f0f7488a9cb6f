"""Write ranked rows as JSONL, CSV and a self-contained, interactive HTML report.

The HTML is one file with inline CSS and an inline script, no external asset and no build step, so
it can be mailed or archived and opened offline. Every piece of corpus text is escaped because
articles are untrusted input; the script reads the pairs from escaped ``data-`` attributes, so no
corpus text is ever inside the script. The page shows the pairs that pass the threshold, and below
them, collapsed, the near misses: the next best candidates under the threshold (a planted
"rose sharply" vs "fell sharply" at 0.21 should not vanish because another pair passed). Both lists
can be sorted (score, similarity, article pair), filtered (article, minimum score) and searched.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from contradict.corpus.rows import FLAT_COLUMNS, flat_row
from contradict.corpus.workdir import atomic_write_text
from contradict.pairs_io import CSV_BOOLEANS, CSV_LINE_END

CONTEXT_CHARS = 300  # paragraph context shown on each side of a highlighted sentence
NEAR_MISSES = 20  # best candidates below the threshold, in their own collapsed section
TITLE_CHARS = 120  # titles longer than this are cut at a word, with "…"; the full title on hover

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d8dce6}
table{border-collapse:collapse;margin:.5em 2em .5em 0;display:inline-table;vertical-align:top}
td,th{padding:.2em .8em;border-bottom:1px solid #eceef3;text-align:left}td.n{text-align:right}
.muted{color:#667085;font-size:.9em}
.controls{position:sticky;top:0;background:#fff;border-bottom:1px solid #d8dce6;padding:.6em 0;z-index:1;
display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center}
.controls label{font-size:.9em;color:#475467}.controls input,.controls select{font:inherit;padding:.15em .3em}
.controls input[type=search]{min-width:16em}
.pair{border:1px solid #d8dce6;border-radius:6px;margin:1em 0;padding:.6em 1em;background:#fafbfd}
.pair h3{margin:.1em 0 .3em;font-size:1.02em}.scores{font-size:.9em;margin-bottom:.3em}
.score{font-weight:700;padding:0 .3em;border-radius:3px}
.score.passes{color:#fff;background:#b42318}.score.below{color:#344054;background:#e4e7ec}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.side blockquote{margin:.3em 0;padding:.4em .7em;background:#fff;border-left:3px solid #98a2b3}
mark{background:#fde68a;padding:0 .1em}a{color:#175cd3}
details.near{margin-top:1.6em}details.near>summary{cursor:pointer;font-size:1.2em;font-weight:600}
"""

# Sorting, filtering and search over the cards' data- attributes. Plain DOM, no library, no network.
SCRIPT = """
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var lists = Array.prototype.slice.call(document.querySelectorAll(".pairs"));
  var orders = {
    score: function (a, b) { return b.dataset.score - a.dataset.score || a.dataset.rank - b.dataset.rank; },
    similarity: function (a, b) {
      return b.dataset.similarity - a.dataset.similarity || a.dataset.rank - b.dataset.rank;
    },
    pair: function (a, b) {
      return a.dataset.pair < b.dataset.pair ? -1 : a.dataset.pair > b.dataset.pair ? 1
        : a.dataset.rank - b.dataset.rank;
    }
  };
  function update() {
    var order = orders[$("sort").value], article = $("article").value;
    var minimum = parseFloat($("min-score").value) || 0;
    var words = $("search").value.toLowerCase().split(/\\s+/).filter(Boolean);
    lists.forEach(function (list) {
      var cards = Array.prototype.slice.call(list.querySelectorAll(".pair"));
      cards.sort(order).forEach(function (card) { list.appendChild(card); });
      var shown = 0;
      cards.forEach(function (card) {
        var visible = parseFloat(card.dataset.score) >= minimum
          && (!article || card.dataset.a === article || card.dataset.b === article)
          && words.every(function (word) { return card.dataset.search.indexOf(word) >= 0; });
        card.hidden = !visible;
        shown += visible ? 1 : 0;
      });
      var counter = document.querySelector("[data-count-for='" + list.id + "']");
      if (counter) { counter.textContent = shown; }
    });
  }
  ["sort", "article", "min-score", "search"].forEach(function (id) {
    $(id).addEventListener("input", update);
    $(id).addEventListener("change", update);
  });
  update();
})();
"""


def write_jsonl(rows: Sequence[dict], path: Path) -> None:
    text = "".join(json.dumps(flat_row(row), ensure_ascii=False) + "\n" for row in rows)
    atomic_write_text(Path(path), text)


def write_csv(rows: Sequence[dict], path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FLAT_COLUMNS, lineterminator=CSV_LINE_END)
    writer.writeheader()
    for row in rows:
        flat = flat_row(row)
        writer.writerow({**flat, "is_contradiction": CSV_BOOLEANS[flat["is_contradiction"]]})
    atomic_write_text(Path(path), buffer.getvalue())


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """``title`` cut at the last word boundary before ``limit`` characters, with "…" when cut."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back; else one very long word is cut
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def _title(side: dict) -> str:
    """The side's title (or article id), cut for display, with the whole title on hover."""
    full = side["title"] or side["article"]
    return f'<b title="{escape(full, quote=True)}">{escape(short_title(full))}</b>'


def _context(side: dict, text: str) -> str:
    """The sentence highlighted inside (a window of) its paragraph, all escaped."""
    start, end = side["start"], side["end"]
    left = max(side["paragraph_start"], start - CONTEXT_CHARS)
    right = min(side["paragraph_end"], end + CONTEXT_CHARS)
    before = ("… " if left > side["paragraph_start"] else "") + text[left:start]
    after = text[end:right] + (" …" if right < side["paragraph_end"] else "")
    return f"{escape(before)}<mark>{escape(text[start:end])}</mark>{escape(after)}"


def _link(side: dict) -> str:
    url = side["url"]
    if url.lower().startswith(("http://", "https://")):
        return f' · <a href="{escape(url, quote=True)}" rel="noopener noreferrer">link</a>'
    return f" · {escape(url)}" if url else ""


def _side(side: dict, texts: Mapping[str, str]) -> str:
    meta = " · ".join(escape(value) for value in (side["source"], side["published"]) if value)
    return (
        f'<div class="side"><div>{_title(side)} <span class="muted">{escape(side["article"])}'
        f"{' · ' + meta if meta else ''}{_link(side)} · sentence {side['sentence']}, "
        f"chars {side['start']}–{side['end']}</span></div>"
        f"<blockquote>{_context(side, texts[side['article']])}</blockquote></div>"
    )


def _card(row: dict, texts: Mapping[str, str]) -> str:
    """One pair, with what the script sorts, filters and searches on in escaped data- attributes."""
    a, b = row["a"], row["b"]
    searchable = " ".join(
        (a["text"], b["text"], a["title"], b["title"], a["article"], b["article"], a["source"], b["source"])
    ).lower()
    data = {
        "rank": row["rank"],
        "score": f"{row['contradiction']:.6f}",
        "similarity": f"{row['similarity']:.6f}",
        "a": a["article"],
        "b": b["article"],
        "pair": f"{a['article']}\u2194{b['article']}",
        "search": " ".join(searchable.split()),
    }
    attributes = " ".join(f'data-{key}="{escape(str(value), quote=True)}"' for key, value in data.items())
    verdict = "passes" if row["is_contradiction"] else "below"
    full_a, full_b = a["title"] or a["article"], b["title"] or b["article"]
    return (
        f'<article class="pair" {attributes}>'
        f'<h3 title="{escape(full_a, quote=True)} ↔ {escape(full_b, quote=True)}">'
        f"{escape(short_title(full_a))} ↔ "
        f"{escape(short_title(full_b))}</h3>"
        f'<div class="scores">#{row["rank"]} · contradiction '
        f'<span class="score {verdict}">{row["contradiction"]:.3f}</span> · entailment '
        f"{row['entailment']:.3f} · neutral {row['neutral']:.3f} · similarity {row['similarity']:.3f}</div>"
        f'<div class="sides">{_side(a, texts)}{_side(b, texts)}</div></article>'
    )


def _pairs(list_id: str, rows: Sequence[dict], texts: Mapping[str, str]) -> str:
    return f'<div class="pairs" id="{list_id}">' + "".join(_card(row, texts) for row in rows) + "</div>"


def _summary(summary: dict) -> str:
    """What the scan found and with which settings. Not its timing or what was resumed: those differ
    from run to run, and a resumed run must write the same report as an uninterrupted one (the CLI
    prints them on stderr)."""
    facts = [
        ("articles", summary["articles"]),
        ("invalid rows skipped", summary["skipped_rows"]),
        ("statements", summary["statements"]),
        ("candidate pairs scored", summary["candidates"]),
        ("contradictions found", summary["contradictions"]),
        ("threshold", f"{summary['threshold']:.3f}"),
        ("model", f"{summary['model']['name']} ({summary['model']['version']})"),
        ("top-k", summary["settings"]["top_k"]),
        ("min similarity", summary["settings"]["min_similarity"]),
    ]
    rows = "".join(f'<tr><th>{escape(k)}</th><td class="n">{escape(str(v))}</td></tr>' for k, v in facts)
    return f"<table>{rows}</table>"


def _controls(rows: Sequence[dict]) -> str:
    """Sort, article filter, minimum score and search; the article list holds every article shown."""
    articles = sorted({row[side]["article"] for row in rows for side in ("a", "b")})
    titles = {row[side]["article"]: row[side]["title"] for row in rows for side in ("a", "b")}
    options = "".join(
        f'<option value="{escape(article, quote=True)}">'
        f"{escape(short_title(titles[article] or article, 60))} ({escape(article)})</option>"
        for article in articles
    )
    return (
        '<div class="controls" role="search">'
        '<label>sort by <select id="sort"><option value="score">contradiction score</option>'
        '<option value="similarity">similarity</option><option value="pair">article pair</option>'
        "</select></label>"
        '<label>article <select id="article"><option value="">all articles</option>'
        f"{options}</select></label>"
        '<label>min score <input id="min-score" type="number" min="0" max="1" step="0.01" value="0"></label>'
        '<label>search <input id="search" type="search" placeholder="words in the statements or titles">'
        "</label></div>"
    )


def render_html(rows: Sequence[dict], summary: dict, texts: Mapping[str, str], max_pairs: int = 200) -> str:
    """The page. ``rows`` may be only the top ones (the Ray engine passes the shown contradictions and
    the near misses): the total of contradictions is the summary's."""
    found = [row for row in rows if row["is_contradiction"]]
    shown = found[:max_pairs]
    near = [row for row in rows if not row["is_contradiction"]][:NEAR_MISSES]
    threshold = summary["threshold"]
    if shown:
        total = summary.get("contradictions", len(found))
        heading = (
            f'Contradictions: <span data-count-for="found">{len(shown)}</span> shown of {total} '
            f"at or above {threshold:.3f}"
        )
        body = _pairs("found", shown, texts)
    else:
        heading = "No pair reached the threshold"
        body = '<p class="muted">No candidate pairs were found.</p>' if not rows else ""
    near_section = ""
    if near:
        opened = "" if shown else " open"  # with nothing above the threshold these are the news
        near_section = (
            f'<details class="near" id="near-misses"{opened}><summary>Near misses: '
            f'<span data-count-for="near">{len(near)}</span> shown of the {len(near)} best candidates '
            f"below {threshold:.3f}</summary>"
            f'<p class="muted">Not contradictions by the model\'s rule, but the closest calls: worth a '
            f"look by a person.</p>{_pairs('near', near, texts)}</details>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Contradictions in {summary['articles']} articles</title><style>{STYLE}</style></head><body>"
        f"<h1>Where the articles disagree</h1>{_summary(summary)}"
        f"{_controls([*shown, *near])}<h2>{heading}</h2>{body}{near_section}"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_html(
    rows: Sequence[dict], summary: dict, path: Path, texts: Mapping[str, str], max_pairs: int = 200
) -> None:
    atomic_write_text(Path(path), render_html(rows, summary, texts, max_pairs))
