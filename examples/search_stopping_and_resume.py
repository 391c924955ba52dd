"""Search-level stopping (`patience`, `max_time`, `target`) and resuming with `overwrite=False`.

What it shows, in three sessions of the same project (as if the script had been
started three times):

1. a search with a budget of 8 trials and three search-level stopping rules:
   `patience=3` (stop after 3 completed trials in a row without improvement),
   `max_time=120` (seconds of search, summed over sessions) and `target=0.94`
   (stop once a trial reaches 94% validation accuracy). The session is interrupted (a simulated
   Ctrl-C) when the 4th trial starts training;
2. the same tuner rebuilt with `overwrite=False`: the 3 finished trials are
   kept, not rerun; the trial that was running is run again, and the search
   goes on until a stopping rule (or the budget) ends it, saying which;
3. the same tuner rebuilt once more: the finished trials are kept again and the
   search has already ended, so no new trial runs.

It uses `RandomOracle` on a tiny network and scikit-learn's bundled digits (no
download), and prints the trial counts before and after each session.

Run it with:

    python examples/search_stopping_and_resume.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/search_stopping_and_resume/` (default:
`./example_runs/search_stopping_and_resume/`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import RandomOracle  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "search_stopping_and_resume"
)

"""
## Data: 8x8 digit images, 1408 for training and 384 for validation
"""

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
order = np.random.default_rng(0).permutation(len(x))
x, y = x[order], y[order].astype("int32")
x_train, y_train = x[:1408], y[:1408]
x_val, y_val = x[1408:1792], y[1408:1792]


def build_model(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class SimulatedCtrlC(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` when the `at`-th training run of this process starts."""

    fits = 0  # a class attribute: Keras Tuner deep-copies callbacks for every trial

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_train_begin(self, logs=None):
        SimulatedCtrlC.fits += 1
        if SimulatedCtrlC.fits == self.at:
            raise KeyboardInterrupt


def finished(oracle):
    """`{trial_id: score}` of the trials that completed."""
    return {t.trial_id: t.score for t in oracle.trials.values() if t.status == "COMPLETED"}


def session(name, overwrite, callbacks=()):
    """Builds the tuner (as a new start of the script would) and searches."""
    oracle = RandomOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_trials=8,
        seed=3,
        patience=3,
        max_time=120,
        target=0.94,
    )
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=build_model,
        directory=OUT_DIR,
        project_name="search",
        overwrite=overwrite,
    )
    before = finished(oracle)  # what was reloaded from disk
    try:
        tuner.search(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=2,
            batch_size=64,
            verbose=0,
            callbacks=list(callbacks),
        )
        ending = getattr(oracle, "stop_reason", None) or "budget of 8 trials used up"
    except KeyboardInterrupt:
        running = [t.trial_id for t in oracle.trials.values() if t.status == "RUNNING"]
        ending = f"interrupted while trial {', '.join(running)} was running"
    after = finished(oracle)
    # the trials that had finished are the same trials, with the same scores
    assert all(after[trial_id] == score for trial_id, score in before.items()), (before, after)
    print(
        f"{name}: {len(before)} finished trials before, {len(after) - len(before)} new, "
        f"{len(after)} after; ended: {ending}"
    )
    return oracle, before, after


keras.utils.set_random_seed(0)
session("Session 1", overwrite=True, callbacks=[SimulatedCtrlC(at=4)])
session("Session 2", overwrite=False)
oracle, before, after = session("Session 3", overwrite=False)
assert before == after, "a search that has ended runs nothing more"

best = oracle.get_best_trials(1)[0]
print(
    f"Best of the {len(after)} trials: trial {best.trial_id}, val_accuracy {best.score:.4f}, "
    f"{best.hyperparameters.values}"
)
print(f"Trials CSV: {os.path.join(OUT_DIR, 'search', 'trials.csv')}")
