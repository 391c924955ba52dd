"""WeakTrialStopping in a real search with two executions per trial and a keras-hpx oracle."""

from __future__ import annotations

import csv
import math
import re
import warnings

import keras
import keras_tuner as kt
import numpy as np

import keras_hpx
from keras_hpx.callbacks.weak_trial_stopping import STOPPED_AT_EPOCH

TRIALS, EXECUTIONS, EPOCHS = 4, 2, 4
RUN_ID = re.compile(r"^trial-(?P<trial>.+)-exec(?P<execution>\d+)-[0-9a-f]{8}$")


def build(hp: kt.HyperParameters) -> keras.Model:
    """A tiny classifier; a learning rate of 1e-7 does not learn (a weak trial)."""
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    lr = hp.Choice("lr", [0.03, 0.01, 1e-7])
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    return model


def test_two_executions_per_trial_each_get_their_own_run(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    oracle = keras_hpx.RandomOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=TRIALS, seed=3
    )
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=build,
        executions_per_trial=EXECUTIONS,
        directory=str(tmp_path),
        project_name="execs",
    )
    stopping = keras_hpx.WeakTrialStopping(rule="median", min_steps=1, min_runs=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(
            x,
            y,
            validation_split=0.25,
            epochs=EPOCHS,
            batch_size=32,
            verbose=0,
            callbacks=[stopping],
        )

    # the search completed and every trial has a score
    trials = oracle.trials
    assert len(trials) == TRIALS
    for trial in trials.values():
        assert trial.status == "COMPLETED", (trial.trial_id, trial.status)
        assert trial.score is not None and math.isfinite(trial.score), trial.trial_id

    # one run per (trial, execution) in the callback's store, each with its own curve
    runs = stopping.store.curves()
    parsed = {}
    for run_id, curve in runs.items():
        match = RUN_ID.match(run_id)
        assert match, run_id
        key = (match["trial"], int(match["execution"]))
        assert key not in parsed, f"two runs for {key}"
        parsed[key] = curve
    expected = {(t, k) for t in trials for k in range(EXECUTIONS)}
    assert set(parsed) == expected
    for (trial_id, _), curve in parsed.items():
        steps = sorted(curve.values)
        assert steps == list(range(len(steps))) and 1 <= len(steps) <= EPOCHS, (trial_id, steps)
        assert curve.finished

    # the oracle saw both executions at each step: its value is their mean
    for trial_id, trial in trials.items():
        history = {int(o.step): o.mean() for o in trial.metrics.get_history("val_loss")}
        for step, value in history.items():
            values = [parsed[(trial_id, k)].values.get(step) for k in range(EXECUTIONS)]
            values = [v for v in values if v is not None]
            assert value == np.float32(np.mean(values)) or math.isclose(
                value, float(np.mean(values)), rel_tol=1e-5
            ), (trial_id, step, values, value)
        # a stopped trial keeps the best value it reached
        if trial.metrics.exists(STOPPED_AT_EPOCH):
            assert math.isclose(trial.score, min(history.values()), rel_tol=1e-6)

    # the rule did stop something (so the checks of the stops below are not vacuous)
    assert any(t.metrics.exists(STOPPED_AT_EPOCH) for t in trials.values())

    # the oracle's CSV: one row per trial, its score, and the reason of each stop
    with open(tmp_path / "execs" / "trials.csv", newline="") as f:
        rows = {r["trial_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(trials)
    for trial_id, trial in trials.items():
        row = rows[trial_id]
        assert row["status"] == "COMPLETED"
        assert math.isclose(float(row["score"]), trial.score, rel_tol=1e-5)
        stopped = trial.metrics.exists(STOPPED_AT_EPOCH)
        assert bool(row["stopped_reason"]) == stopped, (trial_id, row)
        if stopped:
            assert "median" in row["stopped_reason"], row

    # the callback never had to fall back (reporting, reading or recording a stop)
    problems = [str(w.message) for w in caught if "WeakTrialStopping" in str(w.message)]
    problems += [str(w.message) for w in caught if "record_early_stop" in str(w.message)]
    assert not problems, problems
