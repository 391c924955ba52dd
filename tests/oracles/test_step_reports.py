"""Per-epoch reports (`update_trial(..., step=epoch)`): what the fast path must keep.

After a trial's first report, `HpxOracle.update_trial` adds the values to the
metric histories directly (Keras Tuner's `MetricsTracker.update` recomputes the
best value over every step twice per call) and updates only the reported step
of the kept curves. The histories, the curves, the score and the errors must be
the same as Keras Tuner's path gives.
"""

import time

import keras_tuner as kt
import pytest
from keras_tuner.src.engine.metrics_tracking import MetricsTracker

from keras_hpx import RandomOracle
from keras_hpx.callbacks.weak_trial_stopping import trial_curves


def _oracle(tmp_path, objective="val_loss", direction="min"):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = RandomOracle(
        objective=kt.Objective(objective, direction), max_trials=10, seed=0, hyperparameters=hp
    )
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    return oracle


def _reference(reports, direction="min"):
    """Keras Tuner's own bookkeeping of the same reports."""
    tracker = MetricsTracker()
    for step, metrics in reports:
        for name, value in metrics.items():
            if not tracker.exists(name):
                tracker.register(name, direction=direction if name == "val_loss" else "min")
            tracker.update(name, value, step=step)
    return tracker


def test_histories_curves_and_score_match_keras_tuner(tmp_path):
    oracle = _oracle(tmp_path)
    oracle.curves("val_loss")  # the index is kept from here on, report by report
    trial = oracle.create_trial("w")
    reports = [(s, {"val_loss": 1.0 / (s + 1), "loss": 2.0 - s}) for s in range(5)]
    # A second execution reports the same steps again (means per step), a late metric
    # appears at step 3, and one step is reported twice (the STOPPED answer's report).
    reports += [(s, {"val_loss": 0.5 + s, "loss": 1.0}) for s in range(4)]
    reports += [(3, {"val_loss": 0.25, "acc": 0.5}), (3, {"val_loss": 0.25})]
    for step, metrics in reports:
        oracle.update_trial(trial.trial_id, metrics, step=step)
    stored = oracle.trials[trial.trial_id]
    expected = _reference(reports)
    for name in ("val_loss", "loss", "acc"):
        got = [(o.step, o.value) for o in stored.metrics.get_history(name)]
        assert got == [(o.step, o.value) for o in expected.get_history(name)]
        assert stored.metrics.get_best_value(name) == expected.get_best_value(name)
    assert stored.metrics.metrics["val_loss"].direction == "min"
    assert oracle.curves("val_loss") == trial_curves(oracle.trials.values(), "val_loss")
    assert oracle.curves("acc") == {trial.trial_id: {3: 0.5}}
    stored.status = "COMPLETED"
    oracle.end_trial(stored)
    assert stored.score == pytest.approx(expected.get_best_value("val_loss"))
    assert stored.best_step == expected.get_best_step("val_loss")


def test_a_report_without_the_objective_still_raises_keras_tuners_error(tmp_path):
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("w")
    oracle.update_trial(trial.trial_id, {"val_loss": 1.0, "loss": 1.0}, step=0)
    with pytest.raises(ValueError, match="Objective value missing"):
        oracle.update_trial(trial.trial_id, {"loss": 0.5}, step=1)
    oracle.update_trial(trial.trial_id, {"val_loss": 0.5}, step=1)  # the lock was released


def test_a_report_costs_the_same_at_every_epoch(tmp_path):
    oracle = _oracle(tmp_path)
    oracle.curves("val_loss")
    trial = oracle.create_trial("w")
    metrics = {"val_loss": 0.5, "loss": 0.4, "accuracy": 0.8, "val_accuracy": 0.7}
    oracle.update_trial(trial.trial_id, metrics, step=0)
    seconds = []
    for step in range(1, 400):
        start = time.perf_counter()
        oracle.update_trial(trial.trial_id, metrics, step=step)
        seconds.append(time.perf_counter() - start)
    early, late = sorted(seconds[:50])[25], sorted(seconds[-50:])[25]
    # Keras Tuner's path: about 60x slower at step 400 than at step 10.
    assert late < 10 * early + 1e-4


def test_later_trials_get_the_directions_keras_tuner_infers(tmp_path):
    oracle = _oracle(tmp_path, objective="val_accuracy", direction="max")
    metrics = {"val_accuracy": 0.5, "accuracy": 0.5, "loss": 1.0, "mystery": 2.0}
    directions = []
    for _ in range(2):
        trial = oracle.create_trial("w")
        oracle.update_trial(trial.trial_id, metrics, step=0)
        stored = oracle.trials[trial.trial_id]
        directions.append({n: stored.metrics.metrics[n].direction for n in metrics})
        stored.status = "COMPLETED"
        oracle.end_trial(stored)
    expected = {"val_accuracy": "max", "accuracy": "max", "loss": "min", "mystery": "min"}
    assert directions == [expected, expected]
