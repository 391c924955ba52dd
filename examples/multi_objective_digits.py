"""Accuracy against size: a multi-objective search on digits, and a picture of its front.

What it shows:

* `objective=[...]` with two `keras_tuner.Objective`s makes every keras-hpx oracle a
  Pareto search: here `BayesianOracle`, one Gaussian process per objective, proposing
  where the expected hypervolume improvement is largest, so its trials spread along the
  trade-off instead of one point of a sum;
* `keras_hpx.ModelCost` puts the model's parameter count in the logs as `params`, so
  size can be an objective with one line;
* `oracle.pareto_front()` lists the trials no other trial beats on both;
  `trials.csv` has a `pareto` column; `keras-hpx plot PROJECT --pareto out.png` draws
  the front (written here through `keras_hpx.plot.plot_pareto`).

Scikit-learn's bundled digits (no download), 8 trials of 3 epochs.

Run it with:

    python examples/multi_objective_digits.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/multi_objective_digits/` (default:
`./example_runs/multi_objective_digits/`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import BayesianOracle, ModelCost  # noqa: E402
from keras_hpx.plot import plot_pareto  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "multi_objective_digits"
)

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
order = np.random.default_rng(0).permutation(len(x))
x, y = x[order], y[order].astype("int32")
x_train, y_train, x_val, y_val = x[:1408], y[:1408], x[1408:], y[1408:]


def build_model(hp):
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(
            keras.layers.Dense(hp.Int(f"units_{i}", 4, 256, sampling="log"), activation="relu")
        )
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


oracle = BayesianOracle(
    objective=[kt.Objective("val_accuracy", "max"), kt.Objective("params", "min")],
    max_trials=8,
    num_initial_points=4,
    seed=1,
)
tuner = kt.Tuner(
    oracle=oracle, hypermodel=build_model, directory=OUT_DIR, project_name="search", overwrite=True
)
tuner.search(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=3,
    batch_size=64,
    verbose=0,
    callbacks=[ModelCost(latency=False)],
)

front = oracle.pareto_front()
print(f"Pareto front: {len(front)} of {len(oracle.trials)} trials")
for trial in sorted(front, key=lambda t: oracle.objective_values(t)[1]):
    accuracy, params = oracle.objective_values(trial)
    print(
        f"  trial {trial.trial_id}: val_accuracy={accuracy:.3f} params={int(params)} {trial.hyperparameters.values}"
    )
picture = plot_pareto(os.path.join(OUT_DIR, "search"), os.path.join(OUT_DIR, "pareto.png"))
print(f"Front picture: {picture}")
