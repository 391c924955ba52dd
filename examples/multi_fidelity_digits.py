"""Multi-fidelity search: `BayesianOracle` plus `WeakTrialStopping(rule="hyperband")`, on a
budget.

What it shows:

* `WeakTrialStopping(rule="hyperband")` stops weak runs at successive-halving rungs
  (keeping the best third), in brackets that first judge a run after 1, 3 or 9 epochs
  or never (each trial's bracket follows from its trial id: as in Keras Tuner's
  Hyperband, the first 27 trials are in the most aggressive one, so a search this
  small is successive halving), and reports every epoch to the oracle;
* `BayesianOracle` sees that some trials were stopped and models each at the epochs it
  reached (a Gaussian process over configuration *and* training budget), so a run
  stopped after one epoch is not taken for a finished one; its proposals aim at the
  full budget (`multi_fidelity=True`, the default);
* `max_epochs` ends the search once the epochs trained over all trials reach the
  budget, and `oracle.epochs_trained` counts them (the progress line shows them too).

Scikit-learn's bundled digits (no download), up to 9 epochs a trial, a budget of 36
epochs (four full trainings).

Run it with:

    python examples/multi_fidelity_digits.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/multi_fidelity_digits/` (default:
`./example_runs/multi_fidelity_digits/`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import BayesianOracle, WeakTrialStopping  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "multi_fidelity_digits"
)
EPOCHS = 9

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
order = np.random.default_rng(0).permutation(len(x))
x, y = x[order], y[order].astype("int32")
x_train, y_train, x_val, y_val = x[:1408], y[:1408], x[1408:], y[1408:]


def build_model(hp):
    model = keras.Sequential([keras.Input((64,))])
    model.add(keras.layers.Dense(hp.Int("units", 8, 256, sampling="log"), activation="relu"))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.SGD(
            hp.Float("learning_rate", 1e-3, 0.3, sampling="log"), momentum=0.9
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


oracle = BayesianOracle(
    objective="val_accuracy",
    max_trials=40,
    max_epochs=36,
    num_initial_points=5,
    seed=3,
    progress=True,
)
tuner = kt.Tuner(
    oracle=oracle, hypermodel=build_model, directory=OUT_DIR, project_name="search", overwrite=True
)
tuner.search(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=EPOCHS,
    batch_size=64,
    verbose=0,
    callbacks=[WeakTrialStopping(monitor="val_accuracy", rule="hyperband")],
)

stopped = [t for t in oracle.trials.values() if oracle.early_stop(t.trial_id) is not None]
print(
    f"Epochs trained: {oracle.epochs_trained} (budget {oracle.max_epochs}) over "
    f"{len(oracle.trials)} trials, {len(stopped)} stopped early"
)
print(f"Search ended: {oracle.stop_reason}")
print(f"Budget-aware model used: {'score+budget' in oracle.optimizer.warm_starts}")
best = tuner.get_best_hyperparameters(1)[0]
print(f"Best val_accuracy {oracle.get_best_trials(1)[0].score:.4f} with {best.values}")
