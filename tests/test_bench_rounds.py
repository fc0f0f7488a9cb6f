"""Repeated benchmark rounds: medians, ranges, and ratios taken within a round before the median."""

import pytest

from bench.rounds import Spread, combine, spread_of
from bench.throughput import floor_verdict


def round_of(core_rate: float, baseline_rate: float, labels: list[str]) -> dict:
    return {
        "cores": {"openvino": {"rates": {32: core_rate}, "labels": labels, "rss_mb": 300.0}},
        "baseline": {"rates": {32: baseline_rate}, "labels": labels, "rss_mb": 900.0},
        "http": {},
        "http_rss": None,
    }


def test_numbers_become_medians_and_the_rest_comes_from_the_first_round():
    rounds = [round_of(100.0, 50.0, ["contradiction"]), round_of(300.0, 60.0, ["contradiction"])]
    rounds.append(round_of(200.0, 200.0, ["contradiction"]))
    median = combine(rounds)
    assert median["cores"]["openvino"]["rates"][32] == 200.0
    assert median["baseline"]["rates"][32] == 60.0
    assert median["cores"]["openvino"]["labels"] == ["contradiction"]
    assert median["http"] == {} and median["http_rss"] is None


def test_a_ratio_is_taken_within_each_round_before_the_median():
    # Round 2 ran on a slow spell: both parties slower, the same 2x ratio.
    rounds = [round_of(100.0, 50.0, []), round_of(40.0, 20.0, []), round_of(90.0, 30.0, [])]
    ratio = spread_of(rounds, lambda r: r["cores"]["openvino"]["rates"][32] / r["baseline"]["rates"][32])
    assert ratio == Spread(2.0, 2.0, 3.0)
    # The ratio of the medians would mix rounds: 90 / 30 = 3.0.
    median = combine(rounds)
    assert median["cores"]["openvino"]["rates"][32] / median["baseline"]["rates"][32] == 3.0


def test_rounds_without_the_figure_are_left_out():
    assert spread_of([{"x": 1.0}, {"x": None}, {"x": 3.0}], lambda r: r["x"]) == Spread(2.0, 1.0, 3.0)
    assert spread_of([{"x": None}], lambda r: r["x"]) is None
    with pytest.raises(ValueError):
        Spread.of([])


def test_the_range_is_shown_only_when_the_rounds_differ():
    assert Spread.of([96.14]).format() == "96.1"
    assert Spread.of([1.2, 0.9, 1.0]).format(2, "x") == "1.00x (0.90-1.20x)"
    assert Spread.of([1234.5, 1000.0]).format() == "1,117.2 (1,000.0-1,234.5)"


def test_the_verdict_goes_by_the_median_and_names_rounds_across_the_floor():
    assert floor_verdict(Spread(0.85, 0.82, 0.9), 0.8) == "floor 0.8x: met"
    across = "some rounds on the other side"
    assert floor_verdict(Spread(0.75, 0.65, 0.82), 0.8) == f"floor 0.8x: NOT met, {across}"
    assert floor_verdict(Spread(0.81, 0.75, 0.9), 0.8) == f"floor 0.8x: met, {across}"
    assert floor_verdict(Spread(1.2, 1.1, 1.3), 3.0) == "floor 3.0x: NOT met"
