"""Our callbacks keep a trial's lease alive through a slow epoch; a plain fit does not."""

import threading
import time

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import HParamsLogger, RandomOracle, TrialLogger, WeakTrialStopping
from keras_hpx.callbacks import heartbeat


class SlowFirstEpoch(keras.callbacks.Callback):
    """Makes the first epoch of the first trial last `seconds`, and marks the fit running."""

    def __init__(self, seconds, running):
        super().__init__()
        self.seconds, self.running = seconds, running

    def on_train_begin(self, logs=None):
        self.running.set()

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0 and not getattr(SlowFirstEpoch, "done", False):
            SlowFirstEpoch.done = True
            time.sleep(self.seconds)

    def on_train_end(self, logs=None):
        self.running.clear()

    def __deepcopy__(self, memo):
        return SlowFirstEpoch(self.seconds, self.running)  # shares the event


def _build(hp):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8), activation="relu")]
        + [keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def _watch(oracle, running, stop):
    """A second worker with instant trials: asking for work is what notices lost leases."""
    while not stop.is_set():
        if running.is_set():
            trial = oracle.create_trial("watcher")
            if trial.status == "RUNNING":
                oracle.update_trial(trial.trial_id, {"val_loss": 1.0})
                trial.status = "COMPLETED"
                oracle.end_trial(trial)
        time.sleep(0.1)


@pytest.mark.parametrize("ours", [True, False], ids=["with_our_callbacks", "plain_fit"])
def test_a_slow_epoch_is_not_taken_for_a_dead_worker(tmp_path, monkeypatch, ours):
    monkeypatch.setattr(heartbeat, "DEFAULT_INTERVAL", 0.15)
    monkeypatch.setattr(SlowFirstEpoch, "done", False, raising=False)
    oracle = RandomOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=30, seed=0, trial_timeout=0.8
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=_build, directory=str(tmp_path), project_name="p")
    running, stop = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch, args=(oracle, running, stop), daemon=True)
    watcher.start()
    callbacks = [SlowFirstEpoch(2.5, running)]
    if ours:
        callbacks += [
            WeakTrialStopping(),
            HParamsLogger(tmp_path / "hp"),
            TrialLogger(tmp_path / "hp"),
        ]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    try:
        tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=callbacks)
    finally:
        stop.set()
        watcher.join(5)
    if ours:
        assert oracle.lost_leases == [], oracle.lost_leases
    else:  # without heartbeats the slow trial's worker is taken for dead: the test can fail
        assert [lost.trial_id for lost in oracle.lost_leases] == ["00"]
