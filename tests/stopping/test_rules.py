import math

import pytest

from keras_hpx.stopping import (
    RULES,
    Decision,
    HyperbandRule,
    MedianRule,
    PercentileRule,
    StoppingRule,
    SuccessiveHalvingRule,
    ThresholdRule,
    best_up_to,
    get_rule,
    reached,
)

NAN = float("nan")


def curve(*values, start=0):
    return {start + i: v for i, v in enumerate(values)}


# ----- helpers -----------------------------------------------------------------------------


def test_best_up_to_respects_step_and_mode():
    c = curve(3.0, 1.0, 2.0, 0.5)
    assert best_up_to(c, 0) == 3.0
    assert best_up_to(c, 2) == 1.0
    assert best_up_to(c, 3) == 0.5
    assert best_up_to(c, 2, mode="max") == 3.0
    assert best_up_to({}, 5) is None
    assert best_up_to({4: 1.0}, 3) is None


def test_best_up_to_treats_nan_as_worst():
    assert best_up_to(curve(NAN, 2.0), 1) == 2.0
    assert best_up_to(curve(NAN, 2.0), 1, mode="max") == 2.0
    assert math.isinf(best_up_to(curve(NAN), 0))


def test_reached():
    assert reached(curve(1, 1, 1), 2)
    assert not reached(curve(1, 1, 1), 3)


# ----- median / percentile -----------------------------------------------------------------

REFS_MIN = [curve(1.0, 0.8, 0.6, 0.5), curve(1.1, 0.9, 0.7, 0.6), curve(1.2, 1.0, 0.8, 0.7)]


def test_median_stops_a_run_worse_than_the_median():
    d = MedianRule(min_steps=2, min_runs=3).decide(curve(1.3, 1.2), REFS_MIN, step=1)
    assert isinstance(d, Decision)
    assert d.stop and bool(d)
    assert d.reference == pytest.approx(0.9)  # median of 0.8, 0.9, 1.0
    assert d.value == pytest.approx(1.2)
    assert d.n_runs == 3
    assert "median" in d.reason and "worse" in d.reason


def test_median_keeps_a_run_at_or_better_than_the_median():
    rule = MedianRule(min_steps=2, min_runs=3)
    assert not rule.decide(curve(1.3, 0.9), REFS_MIN, step=1).stop  # tie continues
    d = rule.decide(curve(1.3, 0.7), REFS_MIN, step=1)
    assert not d.stop and "within" in d.reason


def test_median_uses_the_best_value_so_far_not_the_last():
    # last value 1.5 is bad, but the run reached 0.85 at step 0: better than the median
    refs = [curve(1.0, 0.9), curve(1.1, 1.0), curve(1.2, 1.1)]
    d = MedianRule(min_steps=1, min_runs=3).decide(curve(0.85, 1.5), refs, step=1)
    assert not d.stop


def test_warm_up_never_stops():
    rule = MedianRule(min_steps=3, min_runs=1)
    d = rule.decide(curve(9.0, 9.0), REFS_MIN, step=1)
    assert not d.stop and "warm-up" in d.reason
    assert rule.decide(curve(9.0, 9.0, 9.0), REFS_MIN, step=2).stop


def test_too_few_reference_runs_never_stops():
    rule = MedianRule(min_steps=1, min_runs=4)
    d = rule.decide(curve(9.0), REFS_MIN, step=0)
    assert not d.stop and "min_runs=4" in d.reason and d.n_runs == 3


def test_min_runs_zero_still_needs_one_reference():
    d = MedianRule(min_steps=1, min_runs=0).decide(curve(9.0), [], step=0)
    assert not d.stop


def test_no_value_yet_never_stops():
    d = MedianRule(min_steps=1, min_runs=0).decide({}, REFS_MIN, step=0)
    assert not d.stop and "no value" in d.reason


def test_compares_at_equal_steps_short_runs_do_not_count():
    # Two long good runs and three short runs that stopped at step 1 with low values
    # there. At step 3 only the long runs count, each with its best value up to step 3.
    long_runs = [curve(1.0, 0.9, 0.5, 0.4), curve(1.0, 0.9, 0.6, 0.3)]
    short_runs = [curve(0.2, 0.1), curve(0.2, 0.1), curve(0.2, 0.1)]
    rule = MedianRule(min_steps=1, min_runs=2)
    d = rule.decide(curve(1.0, 0.9, 0.8, 0.38), long_runs + short_runs, step=3)
    assert d.n_runs == 2
    assert d.reference == pytest.approx(0.35)
    assert d.stop
    # at step 1 the short runs count, with their values at step 1
    d1 = rule.decide(curve(1.0, 0.5), long_runs + short_runs, step=1)
    assert d1.n_runs == 5 and d1.reference == pytest.approx(0.1) and d1.stop


def test_a_longer_reference_is_cut_at_the_current_step():
    # the reference later reaches 0.1, but at step 1 its best is 0.9
    refs = [curve(1.0, 0.9, 0.1), curve(1.0, 0.9, 0.1)]
    d = MedianRule(min_steps=1, min_runs=2).decide(curve(1.0, 0.95), refs, step=1)
    assert d.reference == pytest.approx(0.9) and d.stop
    assert not MedianRule(min_steps=1, min_runs=2).decide(curve(1.0, 0.85), refs, step=1).stop


def test_max_mode_mirrors_min_mode():
    refs = [{k: -v for k, v in r.items()} for r in REFS_MIN]
    rule = MedianRule(min_steps=2, min_runs=3)
    d = rule.decide(curve(-1.3, -1.2), refs, step=1, mode="max")
    assert d.stop and d.reference == pytest.approx(-0.9) and d.value == pytest.approx(-1.2)
    assert not rule.decide(curve(-1.3, -0.7), refs, step=1, mode="max").stop


def test_percentile_is_stricter_than_median():
    refs = [curve(v) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    run = curve(2.5)
    assert not MedianRule(min_steps=1, min_runs=3).decide(run, refs, 0).stop
    d = PercentileRule(25.0, min_steps=1, min_runs=3).decide(run, refs, 0)
    assert d.stop and d.reference == pytest.approx(2.0)
    assert "25th percentile" in d.reason


def test_nan_references_count_as_worst_and_do_not_break_the_median():
    refs = [curve(NAN), curve(NAN), curve(1.0)]
    d = MedianRule(min_steps=1, min_runs=3).decide(curve(5.0), refs, 0)
    assert not d.stop and math.isfinite(d.reference)
    assert MedianRule(min_steps=1, min_runs=3).decide(curve(NAN), [curve(1.0)] * 3, 0).stop


# ----- successive halving ------------------------------------------------------------------


def test_rungs_are_geometric_from_the_grace_period():
    rule = SuccessiveHalvingRule(min_steps=2, reduction_factor=3)
    rungs = {s: rule.rung(s) for s in range(20) if rule.rung(s) is not None}
    assert rungs == {1: 0, 5: 1, 17: 2}  # 2, 6, 18 steps done


def test_asha_keeps_the_top_fraction_at_a_rung():
    rule = SuccessiveHalvingRule(min_steps=1, reduction_factor=2, min_runs=3)
    refs = [curve(1.0), curve(2.0), curve(3.0)]
    d = rule.decide(curve(2.5), refs, 0)
    assert d.stop and "rung 0" in d.reason and d.n_runs == 3
    assert not rule.decide(curve(1.5), refs, 0).stop


def test_asha_never_stops_between_rungs():
    rule = SuccessiveHalvingRule(min_steps=1, reduction_factor=3, min_runs=1)
    refs = [curve(0.1, 0.1, 0.1)]
    d = rule.decide(curve(9.0, 9.0), refs, 1)
    assert not d.stop and "not at a rung" in d.reason
    assert rule.decide(curve(9.0, 9.0, 9.0), refs, 2).stop


def test_asha_warm_up_and_min_runs():
    rule = SuccessiveHalvingRule(min_steps=3, reduction_factor=3, min_runs=2)
    assert "warm-up" in rule.decide(curve(9.0), [curve(0.1)] * 5, 0).reason
    d = rule.decide(curve(9.0, 9.0, 9.0), [curve(0.1, 0.1, 0.1)], 2)
    assert not d.stop and "min_runs=2" in d.reason


def test_asha_max_mode_and_equal_steps():
    rule = SuccessiveHalvingRule(min_steps=1, reduction_factor=2, min_runs=2)
    refs = [curve(0.5, 0.9, 0.95), curve(0.6, 0.8, 0.85), curve(0.99)]  # last is short
    d = rule.decide(curve(0.1, 0.7), refs, 1, mode="max")
    assert d.stop and d.n_runs == 2
    assert not rule.decide(curve(0.1, 0.95), refs, 1, mode="max").stop


# ----- asynchronous Hyperband ----------------------------------------------------------------


def test_hyperband_brackets_are_successive_halving_with_growing_grace_periods():
    rule = HyperbandRule(min_steps=2, reduction_factor=3, brackets=3, min_runs=1)
    assert [rule.in_bracket(b) for b in range(3)] == [
        SuccessiveHalvingRule(min_steps=2 * 3**b, reduction_factor=3, min_runs=1) for b in range(3)
    ]
    # One-bracket rules judge every run themselves, in bracket 0.
    asha = SuccessiveHalvingRule()
    assert asha.bracket("7") == 0 and asha.in_bracket(0) is asha


def test_hyperband_shares_match_synchronous_hyperband():
    # reduction_factor**s / (s + 1) for s = 2, 1, 0: 16/3, 2, 1.
    shares = HyperbandRule(reduction_factor=4, brackets=3).shares()
    assert shares == pytest.approx([16 / 3 / (25 / 3), 2 / (25 / 3), 1 / (25 / 3)])
    assert HyperbandRule(brackets=1).shares() == [1.0]


def test_hyperband_places_numbered_trials_in_synchronous_order_by_default():
    rule = HyperbandRule()
    # Keras Tuner's Hyperband(max_epochs=27, factor=3) iteration: 27, 12, 6, 4 trials.
    assert rule.cycle() == [27, 12, 6, 4] and rule.order == "synchronous"
    placed = [rule.bracket(str(n)) for n in range(2 * 49)]
    expected = [0] * 27 + [1] * 12 + [2] * 6 + [3] * 4
    assert placed == expected + expected
    # The same name, the same bracket (a resumed or remote run agrees); "7" == "007".
    assert rule.bracket("30") == rule.bracket("030") == 1
    # Names that are not numbers are hashed in proportion, as in the interleaved order.
    hashed = [rule.bracket(f"run-{n:x}") for n in range(3000)]
    assert all(abs(hashed.count(b) / 3000 - s) < 0.03 for b, s in enumerate(rule.shares()))
    assert HyperbandRule(reduction_factor=4, brackets=3).cycle() == [16, 6, 3]
    assert HyperbandRule(brackets=1).cycle() == [1]
    with pytest.raises(TypeError, match="order=3"):
        HyperbandRule(order=3)
    # Names that look like numbers to str.isdigit but are not trial numbers are hashed.
    for odd in ("²", "٣", "9" * 5000):
        for order in ("synchronous", "interleaved"):
            assert 0 <= HyperbandRule(order=order).bracket(odd) < 4


def test_hyperband_needs_one_other_run_at_a_rung_by_default():
    # As Optuna's successive halving: a run that meets one other run at a rung goes on
    # only if it is the better of the two.
    rule = HyperbandRule()
    assert rule.min_runs == 1
    judge = rule.in_bracket(0)
    assert judge.decide(curve(2.0), [curve(1.0)], 0).stop
    assert not judge.decide(curve(0.5), [curve(1.0)], 0).stop
    assert not judge.decide(curve(2.0), [], 0).stop  # alone: nothing to compare with


def test_hyperband_places_numbered_trials_in_proportion_and_stably():
    rule = HyperbandRule(reduction_factor=4, brackets=3, order="interleaved")
    placed = [rule.bracket(str(n).zfill(3)) for n in range(300)]
    counts = [placed.count(b) for b in range(3)]
    # A low-discrepancy sequence: within 2 runs of the exact share at 300 runs.
    assert all(abs(c - 300 * s) <= 2 for c, s in zip(counts, rule.shares()))
    # Already among the first 10 trials every bracket has one.
    assert set(placed[:10]) == {0, 1, 2}
    # The same name, the same bracket (a resumed or remote run agrees); "7" == "007".
    assert (
        rule.bracket("7") == rule.bracket("007") == HyperbandRule(order="interleaved").bracket("7")
    )
    hashed = [rule.bracket(f"run-{n:x}") for n in range(3000)]
    assert all(abs(hashed.count(b) / 3000 - s) < 0.03 for b, s in enumerate(rule.shares()))


def test_hyperband_judges_a_run_within_its_bracket():
    rule = HyperbandRule(min_steps=1, reduction_factor=2, brackets=2, min_runs=2)
    refs = [curve(1.0, 1.0), curve(2.0, 2.0), curve(3.0, 3.0)]
    # Bracket 0: rungs at 1, 2, 4 steps; bracket 1: first judged after 2 steps.
    assert rule.in_bracket(0).decide(curve(2.5), refs, 0).stop
    d = rule.in_bracket(1).decide(curve(2.5), refs, 0)
    assert not d.stop and "warm-up" in d.reason
    assert rule.in_bracket(1).decide(curve(2.5, 2.5), refs, 1).stop
    # A run is compared with its own bracket and the more patient ones, never with the
    # survivors of a more aggressive bracket; one-bracket rules compare with everyone.
    assert [rule.compares(0, other) for other in (0, 1)] == [True, True]
    assert [rule.compares(1, other) for other in (0, 1)] == [False, True]
    assert SuccessiveHalvingRule().compares(0, 0)
    # decide() without a bracket judges as bracket 0.
    assert rule.decide(curve(2.5), refs, 0) == rule.in_bracket(0).decide(curve(2.5), refs, 0)


# ----- threshold / divergence --------------------------------------------------------------


@pytest.mark.parametrize("bad", [NAN, math.inf, -math.inf])
def test_threshold_stops_non_finite_values(bad):
    d = ThresholdRule().decide(curve(1.0, bad), [], 1)
    assert d.stop and "not finite" in d.reason


def test_threshold_bound_in_both_modes():
    rule = ThresholdRule(bound=2.0)
    assert rule.decide(curve(1.0, 2.5), [], 1).stop
    assert not rule.decide(curve(3.0, 1.5), [], 1).stop  # the latest value counts
    d = rule.decide(curve(3.0, 1.5), [], 1, mode="max")
    assert d.stop and "below the bound 2" in d.reason
    assert not ThresholdRule().decide(curve(1e9), [], 0).stop


def test_threshold_warm_up_min_runs_and_no_value():
    assert not ThresholdRule(min_steps=3).decide(curve(NAN, NAN), [], 1).stop
    assert ThresholdRule(min_steps=3).decide(curve(NAN, NAN, NAN), [], 2).stop
    d = ThresholdRule(min_runs=1).decide(curve(NAN), [], 0)
    assert not d.stop and "min_runs=1" in d.reason
    assert ThresholdRule(min_runs=1).decide(curve(NAN), [curve(1.0)], 0).stop
    assert not ThresholdRule().decide({}, [], 0).stop


# ----- construction ------------------------------------------------------------------------


def test_get_rule_by_name_and_object():
    assert isinstance(get_rule("median"), MedianRule)
    assert isinstance(get_rule("ASHA"), SuccessiveHalvingRule)
    assert isinstance(get_rule("divergence"), ThresholdRule)
    assert get_rule("hyperband", min_steps=2) == HyperbandRule(min_steps=2)
    rule = get_rule("percentile", min_steps=4, min_runs=1)
    assert (rule.min_steps, rule.min_runs) == (4, 1)
    obj = MedianRule()
    assert get_rule(obj) is obj
    assert set(RULES) >= {"median", "percentile", "successive_halving", "threshold"}


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(ValueError, match="median.*percentile.*Received: rule='mean'$"):
        get_rule("mean")
    with pytest.raises(TypeError, match="rule=3"):
        get_rule(3)
    with pytest.raises(ValueError, match="min_steps=2"):
        get_rule(MedianRule(), min_steps=2)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MedianRule(min_steps=0), "min_steps=0"),
        (lambda: MedianRule(min_runs=-1), "min_runs=-1"),
        (lambda: MedianRule(min_steps=1.5), "min_steps=1.5"),
        (lambda: PercentileRule(percentile=0), "percentile=0"),
        (lambda: PercentileRule(percentile=101), "percentile=101"),
        (lambda: SuccessiveHalvingRule(reduction_factor=1), "reduction_factor=1"),
        (lambda: HyperbandRule(brackets=0), "brackets=0"),
        (lambda: HyperbandRule(reduction_factor=1), "reduction_factor=1"),
        (lambda: HyperbandRule(brackets=2).in_bracket(2), "bracket=2"),
        (lambda: HyperbandRule(order="random"), "order='random'"),
        (lambda: ThresholdRule(bound=NAN), "bound=nan"),
        (lambda: ThresholdRule(bound="1"), "bound='1'"),
    ],
)
def test_bad_arguments_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="mode='up'"):
        MedianRule().decide(curve(1.0), [], 0, mode="up")


def test_rules_are_values():
    assert MedianRule(2, 3) == MedianRule(2, 3)
    assert MedianRule(2, 3) != MedianRule(2, 4)
    assert "MedianRule(min_steps=2, min_runs=3)" == repr(MedianRule(2, 3))
    assert isinstance(MedianRule(), StoppingRule)
    with pytest.raises(NotImplementedError):
        StoppingRule().decide(curve(1.0), [], 0)
