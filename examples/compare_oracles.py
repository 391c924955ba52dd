"""Grid, random and Bayesian search side by side on one small problem.

What it shows:

* the three keras-hpx oracles are drop-in `keras_tuner.Oracle`s: the same
  `kt.Tuner`, model-building function and data work with each of them;
* `GridOracle` needs a number of points for a float without `step`
  (`float_points`), `RandomOracle` can draw scrambled Sobol points
  (`sampler="sobol"`), `BayesianOracle` starts with a few quasi-random trials
  (`num_initial_points`) before its Gaussian process takes over;
* every oracle writes `<directory>/<project_name>/trials.csv` as trials end.

Each oracle gets the same budget of 4 trials of 2 epochs on scikit-learn's
bundled digits (no download). At the end it prints one line per oracle: its
best validation accuracy, the hyperparameters that reached it and the time taken.

Run it with:

    python examples/compare_oracles.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/compare_oracles/` (default:
`./example_runs/compare_oracles/`).
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import BayesianOracle, GridOracle, RandomOracle  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "compare_oracles"
)
MAX_TRIALS = 4
EPOCHS = 2
BATCH_SIZE = 64
SEED = 0

"""
## Data: 8x8 digit images, flattened and scaled to [0, 1]
"""

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
order = np.random.default_rng(SEED).permutation(len(x))
x, y = x[order], y[order].astype("int32")
# 1408 training and 384 validation samples: whole batches of 64 (no partial last batch)
x_train, y_train = x[:1408], y[:1408]
x_val, y_val = x[1408:1792], y[1408:1792]

"""
## The model: one hidden layer, its width and the learning rate are tuned
"""


def build_model(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    learning_rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## The three oracles, with the same objective, budget and seed
"""

objective = kt.Objective("val_accuracy", "max")
oracles = {
    # 3 widths x 3 learning rates = 9 combinations, visited in a seeded random order
    "grid": GridOracle(
        objective=objective,
        max_trials=MAX_TRIALS,
        float_points={"learning_rate": 3},
        shuffle=True,
        seed=SEED,
    ),
    "random": RandomOracle(objective=objective, max_trials=MAX_TRIALS, sampler="sobol", seed=SEED),
    "bayesian": BayesianOracle(
        objective=objective, max_trials=MAX_TRIALS, num_initial_points=2, seed=SEED
    ),
}

"""
## Run each search and collect its best trial
"""

results = []
for name, oracle in oracles.items():
    keras.utils.set_random_seed(SEED)
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=build_model,
        directory=OUT_DIR,
        project_name=name,
        overwrite=True,
    )
    start = time.time()
    tuner.search(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    best = oracle.get_best_trials(1)[0]
    results.append(
        (name, best.score, best.hyperparameters.values, len(oracle.trials), time.time() - start)
    )
    print(f"{name}: {len(oracle.trials)} trials done")

print(f"\nBest val_accuracy per oracle ({MAX_TRIALS} trials x {EPOCHS} epochs each):")
for name, score, values, n_trials, seconds in results:
    hps = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )
    print(f"  {name:<9} {score:.4f}  ({hps})  {n_trials} trials in {seconds:.1f}s")
print(f"Trials of each search: {os.path.join(OUT_DIR, '<oracle>', 'trials.csv')}")
