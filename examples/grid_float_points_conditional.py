"""An exhaustive grid over a float and a conditional hyperparameter, sized before it runs.

What it shows:

* `GridOracle(float_points={...})`: a `Float` without `step` gets a number of
  points, spaced on its sampling scale (log here: 1e-3, 1e-2, 1e-1);
* `hp.conditional_scope(parent, values)`: a hyperparameter that exists only on
  one branch multiplies only that branch. Here `layers` is 1 or 2 and `units_2`
  (two choices) exists only when `layers == 2`, so the grid has
  3 x (1 + 2) = 9 combinations, not 3 x 2 x 2 = 12;
* declaring the space up front (`hyperparameters=`) lets `oracle.summary()`
  print the grid and its size before any trial runs; `max_trials=None` (the
  default) then runs every combination exactly once.

It trains 9 tiny networks for 2 epochs on scikit-learn's bundled digits (no
download), then prints every trial (an inactive `units_2` is shown as `-`) and
the best one.

Run it with:

    python examples/grid_float_points_conditional.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/grid_float_points_conditional/` (default:
`./example_runs/grid_float_points_conditional/`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import GridOracle  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "grid_float_points_conditional"
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

"""
## The search space

The model-building function declares the hyperparameters; calling it once on
an empty `HyperParameters` gives the whole space (inactive branches included,
since `units_2` is declared inside its scope whatever `layers` is).
"""


def build_model(hp):
    learning_rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")  # no step
    layers = hp.Choice("layers", [1, 2])
    with hp.conditional_scope("layers", [2]):
        units_2 = hp.Choice("units_2", [8, 32])  # None when layers == 1
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu")])
    if layers == 2:
        model.add(keras.layers.Dense(units_2, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


space = kt.HyperParameters()
build_model(space)

oracle = GridOracle(
    objective=kt.Objective("val_accuracy", "max"),
    hyperparameters=space,
    float_points={"learning_rate": 3},
)
print(oracle.summary())  # known before the search: "Grid of 9 combinations: ..."

"""
## Run the whole grid
"""

keras.utils.set_random_seed(0)
tuner = kt.Tuner(
    oracle=oracle,
    hypermodel=build_model,
    directory=OUT_DIR,
    project_name="grid",
    overwrite=True,
)
tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=64, verbose=0)

"""
## Every trial, in the order the grid visited them
"""

trials = sorted(oracle.trials.values(), key=lambda t: int(t.trial_id))
print(f"\n{len(trials)} trials for a grid of {oracle.grid_size()} combinations:")
print(f"  {'trial':<6}{'learning_rate':>14}{'layers':>8}{'units_2':>9}{'val_accuracy':>14}")
for t in trials:
    values = t.hyperparameters.values
    units_2 = values.get("units_2") if values["layers"] == 2 else "-"
    print(
        f"  {t.trial_id:<6}{values['learning_rate']:>14.3g}{values['layers']:>8}"
        f"{units_2!s:>9}{t.score:>14.4f}"
    )
best = oracle.get_best_trials(1)[0]
print(f"Best: trial {best.trial_id}, val_accuracy {best.score:.4f}, {best.hyperparameters.values}")
print(f"Trials CSV: {os.path.join(OUT_DIR, 'grid', 'trials.csv')}")
