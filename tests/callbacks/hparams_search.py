"""A tiny real Keras Tuner search for the HParams and trial-logger tests.

Run as a script (`python hparams_search.py LOG_DIR PROJECT_DIR [EXECUTIONS]`) in a
subprocess to use another Keras backend; it prints one JSON line describing the trials.
"""

from __future__ import annotations

import json
import sys

import keras
import keras_tuner
import numpy as np

from keras_hpx.callbacks._context import find_tuner_context
from keras_hpx.callbacks.hparams_logger import HParamsLogger
from keras_hpx.callbacks.trial_logger import TrialLogger

FAIL_TRIAL = "1"  # its fit raises at the end of epoch 0
STOP_TRIAL = "2"  # stops itself after epoch 0
BUILD_FAIL_TRIAL = "3"  # its model fails to build (the last trial: recorded at exit)


class Sabotage(keras.callbacks.Callback):
    """Makes one trial fail and another stop early, chosen by trial id."""

    def on_epoch_end(self, epoch, logs=None):
        ctx = find_tuner_context()
        if ctx is not None and ctx.trial_id == FAIL_TRIAL:
            raise RuntimeError("sabotaged trial")
        if ctx is not None and ctx.trial_id == STOP_TRIAL:
            self.model.stop_training = True


def build(hp):
    ctx = find_tuner_context()
    if ctx is not None and ctx.trial_id == BUILD_FAIL_TRIAL:
        raise ValueError("sabotaged build")
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                hp.Int("units", 2, 8, step=2), activation=hp.Choice("act", ["relu", "tanh"])
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    use_bias = hp.Boolean("bias")
    if not use_bias:
        model.layers[-1].use_bias = False
    lr = hp.Float("lr", 1e-3, 1e-1, sampling="log")
    model.compile(
        optimizer=keras.optimizers.SGD(lr), loss="binary_crossentropy", metrics=["accuracy"]
    )
    return model


def run_search(log_dir, project_dir, executions=1, trials=4, epochs=2):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    tuner = keras_tuner.RandomSearch(
        build,
        objective="val_loss",
        max_trials=trials,
        executions_per_trial=executions,
        directory=project_dir,
        project_name="search",
        overwrite=True,
        seed=3,
    )
    loggers = [HParamsLogger(log_dir), TrialLogger(log_dir)]
    tuner.search(
        x,
        y,
        validation_split=0.25,
        epochs=epochs,
        batch_size=16,
        verbose=0,
        callbacks=[*loggers, Sabotage()],
    )
    # The last trial failed in `build`: the loggers record it at interpreter exit
    # (after this function returns; the test reads the files once the process ended).
    trials_out = {}
    for trial_id, trial in tuner.oracle.trials.items():
        trials_out[trial_id] = {
            "status": trial.status,
            "score": trial.score,
            "values": trial.hyperparameters.values,
        }
    return {
        "trials": trials_out,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "backend": keras.backend.backend(),
    }


if __name__ == "__main__":
    executions = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    out = run_search(sys.argv[1], sys.argv[2], executions=executions)
    print("RESULT " + json.dumps(out))
