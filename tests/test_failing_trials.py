"""Failing trials with real Keras training: the search goes on, the failure is recorded."""

import csv

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import GridOracle, RandomOracle


def build(hp):
    mode = hp.Choice("mode", ["ok", "raise_in_build", "nan_loss", "ok_too"])
    if mode == "raise_in_build":
        raise ValueError("this architecture is impossible")
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    if mode == "nan_loss":
        x = keras.layers.Lambda(lambda t: t * float("nan"))(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    return x, y


@pytest.mark.parametrize("make", [GridOracle, RandomOracle])
def test_raising_and_nan_trials_fail_with_reason_and_search_goes_on(tmp_path, data, make):
    x, y = data
    kwargs = {"max_trials": 10, "seed": 0} if make is RandomOracle else {}
    oracle = make(objective=kt.Objective("val_mae", "min"), **kwargs)
    tuner = kt.Tuner(
        oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="f", overwrite=True
    )
    tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0)
    by_mode = {
        oracle.trials[t].hyperparameters.values["mode"]: oracle.trials[t] for t in oracle.trials
    }
    assert sorted(by_mode) == ["nan_loss", "ok", "ok_too", "raise_in_build"]
    assert len(oracle.trials) == 4  # each configuration once, never proposed again
    assert by_mode["ok"].status == by_mode["ok_too"].status == "COMPLETED"
    assert by_mode["raise_in_build"].status == "FAILED"
    assert by_mode["nan_loss"].status == "FAILED"
    assert "non-finite result" in by_mode["nan_loss"].message
    rows = {r["mode"]: r for r in csv.DictReader(open(tmp_path / "f" / "trials.csv"))}
    assert rows["raise_in_build"]["status"] == "FAILED"
    assert "this architecture is impossible" in rows["raise_in_build"]["error"]
    assert "loss=nan" in rows["nan_loss"]["error"]
    assert rows["ok"]["error"] == ""
    best = tuner.get_best_hyperparameters(1)[0].values["mode"]
    assert best in ("ok", "ok_too")


def test_infinite_objective_is_a_failure_not_the_best(tmp_path):
    from keras_hpx.testing.conformance import ScoringTuner

    class InfTuner(ScoringTuner):
        def run_trial(self, trial, *args, **kwargs):
            v = trial.hyperparameters.values["v"]
            return {"score": float("-inf") if v == 2 else float(v)}

    hp = kt.HyperParameters()
    hp.Int("v", 1, 4)
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp)
    InfTuner(
        oracle=oracle, hypermodel=lambda hp: None, directory=str(tmp_path), project_name="inf"
    ).search(verbose=0)
    statuses = {t.hyperparameters.values["v"]: t.status for t in oracle.trials.values()}
    assert statuses == {1: "COMPLETED", 2: "FAILED", 3: "COMPLETED", 4: "COMPLETED"}
    assert oracle.get_best_trials(1)[0].hyperparameters.values["v"] == 1
