"""Split a paragraph into sentence spans in time linear in its length, whatever the text.

pysbd (used before) is quadratic or worse on punctuation-dense text: 100 KB of ``"1. 2. 3. "`` or
``"e.g. i.e. U.S. "`` took 10-60 s, so one small HTTP request could hold a CPU for minutes. This
splitter follows pysbd's English rules where news text meets them (its abbreviation lists, initials,
multi-period abbreviations such as U.S. and a.m., ellipses, "!" before a lower-case word, no split
inside parentheses or double quotes) but decides each boundary by looking at one token on either
side, so every character is looked at a bounded number of times. ``bench/segment_speed.py``
measures its speed and its agreement with pysbd on real news text.

A boundary can only fall at the end of a whitespace-separated token that ends in ``.``, ``!``,
``?`` or ``…`` (closing quotes and brackets after them stay with the sentence); spans are exact
slices of the input with no surrounding whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pysbd.lang.english import English

_TOKEN = re.compile(r"\S+")
_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«(["
_TERMINATORS = ".!?…"
# Quotes and brackets without nesting, as pysbd's "between punctuation" rules (single quotes only
# after a space, apostrophes inside them allowed); bounded, so an unmatched quote cannot glue a whole
# article into one sentence.
_N = 600
_ENCLOSED = re.compile(
    "|".join(
        (
            rf'"[^"“”\n]{{1,{_N}}}"',
            rf"“[^“”\n]{{1,{_N}}}”",
            rf"(?<=\s)'(?:[^'\n]|'[a-zA-Z]){{1,{_N}}}'",
            rf"(?<=\s)‘(?:[^’\n]|’[a-zA-Z]){{1,{_N}}}’",
            rf"\([^()\n]{{1,{_N}}}\)",
            rf"\[[^\[\]\n]{{1,{_N}}}\]",
        )
    )
)
_MULTI_PERIOD = re.compile(r"[a-z](?:\.[a-z])+", re.IGNORECASE)

_ABBREVIATIONS = frozenset(English.Abbreviation.ABBREVIATIONS)
_PREPOSITIVE = frozenset(English.Abbreviation.PREPOSITIVE_ABBREVIATIONS)
_BEFORE_NUMBERS = frozenset(English.Abbreviation.NUMBER_ABBREVIATIONS)
# Abbreviations that end a sentence when one of pysbd's sentence starters follows ("in the U.S. The").
_ENDS_BEFORE_STARTER = frozenset({"u.s", "u.k", "e.u", "u.s.a", "i"})
_STARTERS = frozenset(English.AbbreviationReplacer.SENTENCE_STARTERS)
_CLOCK = frozenset({"a.m", "p.m"})


def _enclosed(text: str) -> list[tuple[int, int]]:
    """Spans of quoted or bracketed text, inside which no sentence ends."""
    return [match.span() for match in _ENCLOSED.finditer(text)]  # in order, never overlapping


def _ends_sentence(token: str, following: str | None, first_token: bool) -> bool:
    """Whether a sentence ends after ``token``, given the token that follows (None: end of text) and
    whether ``token`` opens its sentence."""
    core = token.rstrip(_CLOSERS)
    word = core.rstrip(_TERMINATORS)
    terminator = core[len(word) :]
    if not terminator:
        return False
    if following is None:
        return True
    if ")" in token[len(core) :] or "]" in token[len(core) :]:  # "(R-Calif.) said", "(... war.) It"
        return following.lstrip(_OPENERS)[:1].isupper()
    if first_token and terminator == "." and word.isdigit() and len(word) <= 3:
        return False  # a list item: "1. The committee said ..."
    next_word = following.lstrip(_OPENERS)
    first = next_word[:1]
    if "?" in terminator:
        return True
    if "!" in terminator:
        return not first.islower()
    if "…" in terminator or len(terminator) > 1:  # an ellipsis goes on unless a capital follows
        return first.isupper()
    word = word.lstrip(_OPENERS).rstrip(_CLOSERS)
    lower = word.lower()
    if lower in _PREPOSITIVE:
        return False
    if lower in _BEFORE_NUMBERS and (first.isdigit() or first == "("):
        return False
    if lower in _ENDS_BEFORE_STARTER and next_word.rstrip(",;:") in _STARTERS:
        return True
    if lower in _CLOCK:
        return first.isupper()
    if _MULTI_PERIOD.fullmatch(word):
        return False
    if lower in _ABBREVIATIONS:
        return first.isupper()
    return not (len(word) == 1 and word.isupper())  # an initial: "J. R. R. Tolkien" goes on


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, in order; ``text[start:end]`` is stripped."""
    enclosed = _enclosed(text)
    inside = 0  # index of the first enclosed span that does not end before the current token
    start = None
    tokens = _TOKEN.finditer(text)
    current = next(tokens, None)
    while current is not None:
        following = next(tokens, None)
        if start is None:
            start = current.start()
        end = current.end()
        while inside < len(enclosed) and enclosed[inside][1] <= end:
            inside += 1
        within = inside < len(enclosed) and enclosed[inside][0] < end
        first_token = start == current.start()
        if not within and _ends_sentence(current.group(), following and following.group(), first_token):
            yield start, end
            start = None
        current = following
    if start is not None:
        yield start, end
