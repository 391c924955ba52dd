"""Successive halving by non-dominated rank: one test per branch."""

import pytest

from keras_hpx.stopping.pareto_rule import ParetoSuccessiveHalving
from keras_hpx.stopping.rules import SuccessiveHalvingRule

DIRECTIONS = {"val_accuracy": "max", "params": "min"}


def run(accuracy, params, steps=1):
    """Curves of a run: constant accuracy and size for `steps` epochs."""
    return {
        "val_accuracy": {s: accuracy for s in range(steps)},
        "params": {s: params for s in range(steps)},
    }


# Eight reference runs on two fronts at step 0 (the first rung).
FRONT = [run(0.9, 1000), run(0.8, 500), run(0.6, 100)]
BEHIND = [run(0.85, 1200), run(0.7, 600), run(0.5, 300), run(0.4, 2000), run(0.3, 5000)]


def test_a_dominated_run_outside_the_best_fraction_is_stopped():
    rule = ParetoSuccessiveHalving(reduction_factor=4)
    decision = rule.decide(run(0.2, 4000), FRONT + BEHIND, 0, DIRECTIONS)
    assert decision.stop and decision.n_runs == 8
    assert "dominated at rung 0 (step 0) among 9 runs" in decision.reason


def test_a_run_on_the_rungs_front_continues_however_weak_on_one_objective():
    rule = ParetoSuccessiveHalving(reduction_factor=4)
    tiny = rule.decide(run(0.11, 10), FRONT + BEHIND, 0, DIRECTIONS)  # worst accuracy, smallest
    assert not tiny.stop and "on the Pareto front" in tiny.reason


def test_a_dominated_run_in_the_best_fraction_continues():
    rule = ParetoSuccessiveHalving(reduction_factor=2)  # the best 5 of 9 continue
    decision = rule.decide(run(0.79, 510), FRONT + BEHIND, 0, DIRECTIONS)
    assert not decision.stop and "front 2" in decision.reason and "best 5" in decision.reason


def test_not_at_a_rung_warm_up_missing_values_and_too_few_runs_never_stop():
    rule = ParetoSuccessiveHalving(min_steps=1, reduction_factor=4, min_runs=2)
    weak = run(0.1, 9000, steps=3)
    assert "not at a rung" in rule.decide(weak, FRONT + BEHIND, 1, DIRECTIONS).reason
    late = ParetoSuccessiveHalving(min_steps=4)
    assert "warm-up" in late.decide(weak, FRONT + BEHIND, 0, DIRECTIONS).reason
    half = {"val_accuracy": {0: 0.1}, "params": {}}
    assert "not every objective" in rule.decide(half, FRONT, 0, DIRECTIONS).reason
    decision = rule.decide(weak, FRONT[:1], 0, DIRECTIONS)
    assert not decision.stop and "min_runs=2" in decision.reason


def test_runs_are_compared_at_the_same_rung_only():
    rule = ParetoSuccessiveHalving(reduction_factor=4)
    # At step 3 (the second rung) only runs that reached step 3 count.
    long_runs = [run(0.95, 50, steps=4), run(0.94, 40, steps=4), run(0.93, 30, steps=4)]
    decision = rule.decide(run(0.5, 100, steps=4), FRONT + BEHIND + long_runs, 3, DIRECTIONS)
    assert decision.n_runs == 3 and decision.stop


def test_nan_counts_as_the_worst():
    rule = ParetoSuccessiveHalving(reduction_factor=4)
    assert rule.decide(run(float("nan"), 4000), FRONT + BEHIND, 0, DIRECTIONS).stop


def test_settings_from_a_successive_halving_rule_and_bad_input():
    rule = ParetoSuccessiveHalving.like(SuccessiveHalvingRule(2, 3, 1))
    assert (rule.min_steps, rule.reduction_factor, rule.min_runs) == (2, 3, 1)
    assert "reduction_factor=3" in repr(rule)
    with pytest.raises(ValueError, match="reduction_factor=1"):
        ParetoSuccessiveHalving(reduction_factor=1)
    with pytest.raises(ValueError, match="mode='best'"):
        ParetoSuccessiveHalving().decide(run(0.5, 1), FRONT, 0, {"val_accuracy": "best"})
