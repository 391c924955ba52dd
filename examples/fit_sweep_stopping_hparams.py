"""A plain `model.fit` sweep (no tuner) with weak-run stopping and TensorBoard HParams.

What it shows:

* `WeakTrialStopping` outside Keras Tuner: one instance shared by a loop of
  `model.fit` calls keeps every run's learning curve in memory, so each later
  run is judged against the earlier ones at the same epoch (`rule="median"`:
  stop a run whose `val_loss` is worse than the median of the others);
* `HParamsLogger` in a plain `model.fit`: give it the run's hyperparameters
  (`hparams=`), their domains (`space=`, a `keras_tuner.HyperParameters`), the
  metric behind the `score` column (`objective=`) and a row name (`run_name=`);
* `TrialLogger` in a plain `model.fit`: one CSV row per run, with the reason a
  stopped run was stopped.

It sweeps five learning rates over a tiny network on scikit-learn's bundled
digits (no download), good ones first: the later, much too small learning rates
learn slowly and are stopped after the warm-up epochs. It prints which runs were
stopped and the `tensorboard --logdir` command that opens the HParams tab.

Run it with:

    python examples/fit_sweep_stopping_hparams.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/fit_sweep_stopping_hparams/` (default:
`./example_runs/fit_sweep_stopping_hparams/`).
"""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import HParamsLogger, TrialLogger, WeakTrialStopping  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "fit_sweep_stopping_hparams"
)
LOG_DIR = os.path.join(OUT_DIR, "hparams")
LEARNING_RATES = [1e-2, 3e-3, 3e-2, 1e-4, 3e-5]
EPOCHS = 5

shutil.rmtree(LOG_DIR, ignore_errors=True)  # a fresh sweep each time the example runs

"""
## Data: 8x8 digit images, 1408 for training and 384 for validation
"""

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
order = np.random.default_rng(0).permutation(len(x))
x, y = x[order], y[order].astype("int32")
x_train, y_train = x[:1408], y[:1408]
x_val, y_val = x[1408:1792], y[1408:1792]


def make_model(learning_rate):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## One stopper for the whole sweep; one logger pair per run

`min_steps=2`: every run trains at least 2 epochs; `min_runs=2`: a run is only
judged at an epoch that at least 2 earlier runs reached.
"""

stopper = WeakTrialStopping(monitor="val_loss", rule="median", min_steps=2, min_runs=2)
domains = kt.HyperParameters()
domains.Choice("learning_rate", LEARNING_RATES)

summary = []
for i, learning_rate in enumerate(LEARNING_RATES):
    keras.utils.set_random_seed(i)
    run_name = f"run{i}_lr{learning_rate:g}"
    hparams = {"learning_rate": learning_rate}
    history = make_model(learning_rate).fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=EPOCHS,
        batch_size=64,
        verbose=0,
        callbacks=[
            stopper,
            HParamsLogger(
                LOG_DIR, hparams=hparams, space=domains, objective="val_loss", run_name=run_name
            ),
            TrialLogger(LOG_DIR, hparams=hparams, objective="val_loss", run_name=run_name),
        ],
    )
    epochs_run = len(history.history["val_loss"])
    reason = stopper.decision.reason if stopper.stopped_epoch is not None else ""
    summary.append((run_name, epochs_run, min(history.history["val_loss"]), reason))

"""
## Which runs were stopped
"""

print(f"\nSweep of {len(LEARNING_RATES)} learning rates, up to {EPOCHS} epochs each:")
for run_name, epochs_run, best_loss, reason in summary:
    state = f"STOPPED after {epochs_run} epochs ({reason})" if reason else "ran all epochs"
    print(f"  {run_name:<16} best val_loss {best_loss:.4f}  {state}")
stopped = [s[0] for s in summary if s[3]]
print(f"Stopped runs: {', '.join(stopped) if stopped else 'none'}")
print(f"Runs CSV: {os.path.join(LOG_DIR, 'trials.csv')}")
print(f"View the sweep in TensorBoard's HParams tab:\n  tensorboard --logdir {LOG_DIR}")
