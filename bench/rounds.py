"""Repeated rounds of one benchmark: each figure as its median and its range over the rounds.

Why: on a shared 2-core VM the same HTTP setting has measured 275-367 pairs/s from one run to the
next (2026-11-29), so a single run can put a ratio on either side of a floor. Rounds interleave
every party (core, baseline, service), so a slow spell of the machine hits all of them in that round;
a ratio is therefore taken within each round first and only then summarised.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spread:
    """The median of a figure over the rounds, with its smallest and largest value."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(statistics.median(values), min(values), max(values))

    def format(self, digits: int = 1, suffix: str = "") -> str:
        """``12.3`` for one round or no spread; ``12.3 (11.0-14.1)`` otherwise."""
        text = f"{self.median:,.{digits}f}{suffix}"
        if self.high > self.low:
            text += f" ({self.low:,.{digits}f}-{self.high:,.{digits}f}{suffix})"
        return text


def combine(rounds: Sequence[Any]) -> Any:
    """The rounds' common structure (dicts of dicts) with every number replaced by its median.

    Anything else (label lists, names, ``None``) is taken from the first round: only timings may
    differ between rounds (the labels come from the same model on the same pairs every time).
    """
    first = rounds[0]
    if isinstance(first, dict):
        return {key: combine([round_[key] for round_ in rounds]) for key in first}
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        values = [value for value in rounds if value is not None]
        return statistics.median(values)
    return first


def spread_of(rounds: Sequence[Any], figure: Callable[[Any], float | None]) -> Spread | None:
    """The spread of ``figure(round)`` over the rounds where it exists (``None`` when none)."""
    values = [value for value in (figure(round_) for round_ in rounds) if value is not None]
    return Spread.of(values) if values else None
