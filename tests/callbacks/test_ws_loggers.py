"""`stopped_early` has one meaning in HParamsLogger and TrialLogger (trained fewer epochs than
planned, any cause); `stopped_reason` is the `EarlyStop` record's `describe()` when
WeakTrialStopping stopped the run. Also: the light imports of the callbacks package."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
import textwrap

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import HParamsLogger, RandomOracle, TrialLogger, WeakTrialStopping
from keras_hpx.records import STOPPED_AT_EPOCH, EarlyStop
from keras_hpx.stopping import ThresholdRule
from keras_hpx.tensorboard import hparams as tb

GOOD, BAD = 0.03, 1e-7
EPOCHS = 4


def data(n: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    return x, y


def build(hp: kt.HyperParameters) -> keras.Model:
    keras.utils.set_random_seed(1)
    m = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(keras.optimizers.Adam(hp.Choice("lr", [GOOD, 0.01, BAD])), "binary_crossentropy")
    return m


def _rows(path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["trial_id"]: r for r in csv.DictReader(f)}


@pytest.mark.parametrize("which", ["keras_hpx", "keras_tuner"])
def test_weak_trial_stops_are_recorded_with_their_reason(tmp_path, which):
    objective = kt.Objective("val_loss", "min")
    if which == "keras_hpx":
        oracle = RandomOracle(objective=objective, max_trials=5, seed=2)
    else:
        oracle = kt.oracles.RandomSearchOracle(objective=objective, max_trials=5, seed=2)
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="p")
    log_dir = tmp_path / "logs"
    callbacks = [
        WeakTrialStopping(min_steps=2, min_runs=1),
        HParamsLogger(log_dir),
        TrialLogger(log_dir, verbose=0),
    ]
    x, y = data()
    tuner.search(
        x, y, validation_split=0.25, epochs=EPOCHS, batch_size=32, verbose=0, callbacks=callbacks
    )
    rows = _rows(log_dir / "trials.csv")
    assert set(rows) == set(oracle.trials)
    stopped = 0
    for trial_id, trial in oracle.trials.items():
        scalars = tb.read_run(log_dir / trial_id)["scalars"]
        epochs = len(trial.metrics.get_history("val_loss"))
        assert scalars["epochs"][0][1] == epochs
        if not trial.metrics.exists(STOPPED_AT_EPOCH):
            assert epochs == EPOCHS and rows[trial_id]["stopped_reason"] == ""
            assert scalars["stopped_early"][0][1] == 0.0
            continue
        stopped += 1
        step = int(trial.metrics.get_last_value(STOPPED_AT_EPOCH))
        assert epochs == step + 1 < EPOCHS
        assert scalars["stopped_early"][0][1] == 1.0
        if which == "keras_hpx":  # the full record, from the oracle in this process
            record = oracle.early_stop(trial_id)
            expected = record.describe()
            assert expected.startswith(f"at epoch {step + 1} by median: val_loss: best value")
        else:  # Keras Tuner's oracle keeps the wire form only: the step, no reason
            expected = EarlyStop(step).describe()
        assert rows[trial_id]["stopped_reason"] == expected
    assert stopped >= 1


def _loggers(log_dir, name):
    return [HParamsLogger(log_dir, run_name=name), TrialLogger(log_dir, run_name=name, verbose=0)]


def _fit(callbacks, epochs=3):
    x, y = data()
    m = build(kt.HyperParameters())
    m.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=callbacks)


def test_stopped_early_means_fewer_epochs_than_planned_whatever_stopped_it(tmp_path):
    # Keras' EarlyStopping after 2 of 3 epochs: stopped early, by stop_training
    loggers = _loggers(tmp_path, "early")
    stopping = keras.callbacks.EarlyStopping("loss", patience=0, min_delta=1e9)
    _fit([*loggers, stopping])
    # the same request at the last epoch: all planned epochs ran, so not stopped early
    loggers = _loggers(tmp_path, "last")
    _fit([*loggers, _StopAt(2)])
    # WeakTrialStopping in a plain fit: stopped early too
    weak = WeakTrialStopping(monitor="loss", rule=ThresholdRule(bound=-1.0))  # any loss is above
    loggers = _loggers(tmp_path, "weak")
    _fit([weak, *loggers])

    rows = _rows(tmp_path / "trials.csv")
    assert rows["early"]["stopped_reason"] == "stop_training"
    assert rows["last"]["stopped_reason"] == ""
    expected = {"early": 1.0, "last": 0.0, "weak": 1.0}
    for name, value in expected.items():
        assert tb.read_run(tmp_path / name)["scalars"]["stopped_early"][0][1] == value, name
    assert weak.early_stop is not None and weak.early_stop.step == 0
    assert weak.early_stop.describe().startswith("at epoch 1 by threshold: loss: value")
    # a plain fit has no oracle to read the record from: the reason says what stopped it
    assert rows["weak"]["stopped_reason"] == "stop_training"


class _StopAt(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


# ----- light imports -------------------------------------------------------------------------


def _run(code: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the JAX backend")
def test_trial_logger_imports_neither_tensorboard_nor_protobuf():
    # On JAX, Keras itself imports neither (TensorFlow, the default backend, imports both).
    code = """
        import sys
        import keras_hpx.callbacks.trial_logger
        from keras_hpx import TrialLogger
        print(sorted(m for m in ("tensorboard", "google.protobuf") if m in sys.modules))
    """
    assert _run(code, KERAS_BACKEND="jax") == "[]"


def test_callbacks_package_exports_its_names_lazily():
    code = """
        import sys
        import keras_hpx.callbacks as callbacks
        before = sorted(m for m in ("keras", "tensorboard") if m in sys.modules)
        from keras_hpx.callbacks import *
        from keras_hpx.callbacks.weak_trial_stopping import trial_curves as tc
        assert trial_curves is tc and WeakTrialStopping.__module__.endswith("weak_trial_stopping")
        assert HParamsLogger.__name__ == "HParamsLogger" and TrialLogger.__name__ == "TrialLogger"
        print(before, callbacks.__all__)
    """
    before, names = _run(code).split(" ", 1)
    assert before == "[]"  # the package itself imports nothing heavy
    assert names == (
        "['HParamsLogger', 'ModelCost', 'TrialHeartbeat', 'TrialLogger', 'WeakTrialStopping', "
        "'trial_curves']"
    )
