"""Write ranked rows as JSONL, CSV and a self-contained HTML report.

The HTML has inline CSS and no scripts or external assets, so it can be mailed or archived as one
file; every piece of corpus text is escaped because articles are untrusted input.
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
from contradict.pairs_io import CSV_BOOLEANS

CONTEXT_CHARS = 300  # paragraph context shown on each side of a highlighted sentence
CLOSEST_CALLS = 10  # shown when nothing reaches the threshold

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d8dce6}
table{border-collapse:collapse;margin:.5em 2em .5em 0;display:inline-table;vertical-align:top}
td,th{padding:.2em .8em;border-bottom:1px solid #eceef3;text-align:left}td.n{text-align:right}
.group{border:1px solid #d8dce6;border-radius:6px;margin:1.2em 0;padding:.6em 1em;background:#fafbfd}
.group h3{margin:.2em 0;font-size:1.05em}.muted{color:#667085;font-size:.9em}
.pair{border-top:1px solid #e4e7ee;padding:.6em 0}.scores{font-size:.9em;margin-bottom:.3em}
.scores b{color:#b42318}.sides{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.side blockquote{margin:.3em 0;padding:.4em .7em;background:#fff;border-left:3px solid #98a2b3}
mark{background:#fde68a;padding:0 .1em}a{color:#175cd3}
"""


def write_jsonl(rows: Sequence[dict], path: Path) -> None:
    text = "".join(json.dumps(flat_row(row), ensure_ascii=False) + "\n" for row in rows)
    atomic_write_text(Path(path), text)


def write_csv(rows: Sequence[dict], path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FLAT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = flat_row(row)
        writer.writerow({**flat, "is_contradiction": CSV_BOOLEANS[flat["is_contradiction"]]})
    atomic_write_text(Path(path), buffer.getvalue())


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
    title = side["title"] or side["article"]
    meta = " · ".join(escape(value) for value in (side["source"], side["published"]) if value)
    return (
        f'<div class="side"><div><b>{escape(title)}</b> <span class="muted">{escape(side["article"])}'
        f"{' · ' + meta if meta else ''}{_link(side)} · sentence {side['sentence']}, "
        f"chars {side['start']}–{side['end']}</span></div>"
        f"<blockquote>{_context(side, texts[side['article']])}</blockquote></div>"
    )


def _pair(row: dict, texts: Mapping[str, str]) -> str:
    return (
        f'<div class="pair"><div class="scores">#{row["rank"]} · contradiction '
        f"<b>{row['contradiction']:.3f}</b> · entailment {row['entailment']:.3f} · neutral "
        f"{row['neutral']:.3f} · similarity {row['similarity']:.3f}</div>"
        f'<div class="sides">{_side(row["a"], texts)}{_side(row["b"], texts)}</div></div>'
    )


def _groups(rows: Sequence[dict], texts: Mapping[str, str]) -> str:
    """Rows grouped by article pair, groups in order of their best-ranked row."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["a"]["article"], row["b"]["article"]), []).append(row)
    parts = []
    for members in groups.values():
        a, b = members[0]["a"], members[0]["b"]
        count = f"{len(members)} pair{'s' if len(members) > 1 else ''}"
        parts.append(
            f'<section class="group"><h3>{escape(a["title"] or a["article"])} ↔ '
            f'{escape(b["title"] or b["article"])}</h3><div class="muted">{count}</div>'
            + "".join(_pair(row, texts) for row in members)
            + "</section>"
        )
    return "".join(parts)


def _summary(summary: dict) -> str:
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
    timing = "".join(
        f'<tr><td>{escape(stage)}</td><td class="n">{seconds:.2f}</td></tr>'
        for stage, seconds in summary["seconds"].items()
    )
    resumed = summary.get("resumed") or []
    note = f'<p class="muted">resumed from checkpoints: {escape(", ".join(resumed))}</p>' if resumed else ""
    return f"<table>{rows}</table><table><tr><th>stage</th><th>seconds</th></tr>{timing}</table>{note}"


def render_html(rows: Sequence[dict], summary: dict, texts: Mapping[str, str], max_pairs: int = 200) -> str:
    found = [row for row in rows if row["is_contradiction"]]
    if found:
        shown = found[:max_pairs]
        heading = f"Top contradictions ({len(shown)} of {len(found)}), grouped by article pair"
        body = _groups(shown, texts)
    else:
        shown = list(rows[:CLOSEST_CALLS])
        heading = "No pair reached the threshold"
        body = '<p class="muted">No candidate pairs were found.</p>'
        if shown:
            intro = f'<p class="muted">The {len(shown)} highest-scoring candidates, for reference:</p>'
            body = intro + _groups(shown, texts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Contradictions in {summary['articles']} articles</title><style>{STYLE}</style></head><body>"
        f"<h1>Where the articles disagree</h1>{_summary(summary)}"
        f"<h2>{escape(heading)}</h2>{body}</body></html>\n"
    )


def write_html(
    rows: Sequence[dict], summary: dict, path: Path, texts: Mapping[str, str], max_pairs: int = 200
) -> None:
    atomic_write_text(Path(path), render_html(rows, summary, texts, max_pairs))
