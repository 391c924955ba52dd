"""Multi-fidelity observations: runs stopped early are modelled at the budgets they
reached, and the model aims at the full budget."""

import math

import numpy as np
import pytest

from keras_hpx.bayes import BayesianOptimizer
from keras_hpx.bayes.fidelity import TrainingRun, budget_points, full_epochs
from keras_hpx.space import Param, Space

E = 27


def test_full_epochs_is_the_longest_complete_run():
    runs = [
        TrainingRun({0: 1.0, 1: 0.9}, stopped=True),
        TrainingRun({e: 1.0 for e in range(20)}),
        None,
        TrainingRun({e: 1.0 for e in range(25)}, stopped=True),
    ]
    assert full_epochs(runs) == 20
    assert full_epochs([TrainingRun({0: 1.0, 4: 0.5}, stopped=True), None]) == 5
    assert full_epochs([None]) == 0


def test_budget_points_follow_the_ladder_with_the_best_score_so_far():
    curve = {0: 5.0, 1: 3.0, 2: 4.0, 3: 2.5, 4: 2.7}  # 5 epochs, stopped
    full = TrainingRun({e: 1.0 / (e + 1) for e in range(E)})
    rows, budgets, values = budget_points([2.5, 1.0 / E], [TrainingRun(curve, True), full])
    # Stopped run: epochs 1, 3 (ladder) and 5 (its last): best so far 5, 3, 2.5.
    assert rows.tolist() == [0, 0, 0, 1, 1, 1, 1]
    np.testing.assert_allclose(
        budgets[:3], [0.0, math.log(3) / math.log(E), math.log(5) / math.log(E)]
    )
    assert values[:3].tolist() == [5.0, 3.0, 2.5]
    # The complete run: epochs 1, 3, 9 and its last (27) at the full budget.
    np.testing.assert_allclose(budgets[3:], [0.0, 1 / 3, 2 / 3, 1.0])
    assert values[-1] == pytest.approx(1.0 / E)


def test_failed_runs_runs_without_curves_and_short_complete_runs_are_at_the_full_budget():
    full = TrainingRun({e: 1.0 for e in range(E)})
    short = TrainingRun({0: 3.0, 1: 2.0, 2: 1.5})  # ended on its own after 3 epochs
    rows, budgets, values = budget_points(
        [None, 0.7, 1.0, 1.5], [TrainingRun({0: 9.0}, True), None, full, short]
    )
    assert rows.tolist() == [0, 1, 2, 2, 2, 2, 3, 3]
    assert budgets[0] == 1.0 and values[0] is None  # failed: the caller counts it worst
    assert budgets[1] == 1.0 and values[1] == 0.7
    assert budgets[-1] == 1.0 and values[-1] == 1.5  # complete: the full budget
    assert budgets[-2] == 0.0 and values[-2] == 3.0


def test_budget_points_check_their_inputs():
    with pytest.raises(ValueError, match="2 scores but 1 runs"):
        budget_points([1.0, 2.0], [None])


# ----- the model aims at the full budget ------------------------------------------------------

LINE = Space([Param("x", "float", 0.0, 1.0)])


def _curve(x, epochs):
    """Final score (x - 0.8)^2; large x learns slowly: early scores are misleading."""
    return {e: (x - 0.8) ** 2 + 1.5 * x * (1.0 - (e + 1) / E) ** 2 for e in range(epochs)}


def _searches():
    """Two complete runs, and runs stopped after 1 or 3 epochs all over the line."""
    obs, runs = [], []
    for x in (0.15, 0.55):
        curve = _curve(x, E)
        obs.append(({"x": x}, min(curve.values())))
        runs.append(TrainingRun(curve))
    for i, x in enumerate(np.linspace(0.05, 0.95, 12)):
        curve = _curve(float(x), 1 if i % 2 else 3)
        obs.append(({"x": float(x)}, min(curve.values())))
        runs.append(TrainingRun(curve, stopped=True))
    return obs, runs


def test_stopped_runs_are_modelled_at_their_budget_and_the_model_aims_at_the_end():
    obs, runs = _searches()
    plain = BayesianOptimizer(n_candidates=256).suggest(LINE, obs, np.random.default_rng(0))
    opt = BayesianOptimizer(n_candidates=256)
    aware = opt.suggest(LINE, obs, np.random.default_rng(0), runs=runs)
    assert "score+budget" in opt.warm_starts and "score" not in opt.warm_starts
    # Taking early scores for final ones, the plain model stays with small x (fast
    # learners); the budget-aware model explores the slow learners, where the final
    # score is best (x = 0.8) but no run has trained long.
    assert plain["x"] < 0.3, plain
    assert aware["x"] > 0.6, aware


def test_without_a_stopped_run_nothing_changes():
    obs, runs = _searches()
    complete = [None if r is None else TrainingRun(r.curve, stopped=False) for r in runs]
    a = BayesianOptimizer(n_candidates=128).suggest(LINE, obs, np.random.default_rng(1))
    opt = BayesianOptimizer(n_candidates=128)
    b = opt.suggest(LINE, obs, np.random.default_rng(1), runs=complete)
    assert a == b and sorted(opt.warm_starts) == ["score"]


def test_pending_points_are_fantasised_at_the_full_budget():
    obs, runs = _searches()
    first = BayesianOptimizer(n_candidates=128).suggest(
        LINE, obs, np.random.default_rng(2), runs=runs
    )
    second = BayesianOptimizer(n_candidates=128).suggest(
        LINE, obs, np.random.default_rng(2), runs=runs, pending=[first]
    )
    assert LINE.is_valid(second) and abs(second["x"] - first["x"]) > 1e-3


def test_runs_must_match_the_observations():
    obs, runs = _searches()
    with pytest.raises(ValueError, match="runs"):
        BayesianOptimizer().suggest(LINE, obs, np.random.default_rng(0), runs=runs[:3])
