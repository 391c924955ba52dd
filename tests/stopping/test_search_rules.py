"""Search-level stopping rules: one branch, one test."""

import math

import pytest

from keras_hpx.stopping.search import (
    MaxTime,
    Patience,
    SearchProgress,
    Target,
    first_stop,
    search_rules,
)


def _progress(scores, direction="min", elapsed=0.0):
    return SearchProgress(elapsed=elapsed, scores=scores, direction=direction)


def test_max_time_stops_at_the_budget_and_not_before():
    rule = MaxTime(10)
    assert not rule.decide(_progress([], elapsed=9.99)).stop
    decision = rule.decide(_progress([], elapsed=10.0))
    assert decision.stop and "max_time=10s" in decision.reason


@pytest.mark.parametrize(
    "direction, scores, stops",
    [
        ("min", [], False),
        ("min", [0.5, 0.3], False),
        ("min", [0.5, 0.2], True),
        ("min", [0.1], True),
        ("max", [0.1, 0.19], False),
        ("max", [0.1, 0.2], True),
        ("min", [math.nan, math.inf], False),
    ],
)
def test_target(direction, scores, stops):
    decision = Target(0.2).decide(_progress(scores, direction))
    assert decision.stop is stops
    if stops:
        assert "target=0.2 reached" in decision.reason


def test_patience_counts_trials_since_the_best_and_ignores_non_finite_ones():
    rule = Patience(2)
    assert not rule.decide(_progress([])).stop
    assert not rule.decide(_progress([1.0, 2.0])).stop
    assert rule.decide(_progress([1.0, 2.0, 3.0])).stop
    assert rule.decide(_progress([1.0, math.nan, 1.0])).stop  # a tie is no improvement
    assert not rule.decide(_progress([3.0, 2.0, 1.0])).stop
    assert not rule.decide(_progress([1.0, 2.0, 3.0], "max")).stop


def test_search_rules_from_oracle_arguments_and_the_first_that_stops():
    assert search_rules() == []
    rules = search_rules(max_time=5, target=0.0, patience=3)
    assert [r.name for r in rules] == ["max_time", "target", "patience"]
    decision = first_stop(rules, _progress([1.0, 1.0, 1.0, 1.0], elapsed=1.0))
    assert decision is not None and "patience=3" in decision.reason
    assert first_stop(rules, _progress([1.0], elapsed=1.0)) is None


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: MaxTime(0), ValueError, r"`max_time`.*positive.*Received: max_time=0"),
        (lambda: MaxTime("1"), TypeError, r"Received: max_time='1'"),
        (lambda: Target(math.inf), ValueError, r"Received: target=inf"),
        (lambda: Patience(0), ValueError, r">= 1\. Received: patience=0"),
        (lambda: Patience(True), TypeError, r"Received: patience=True"),
    ],
)
def test_bad_settings(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()
