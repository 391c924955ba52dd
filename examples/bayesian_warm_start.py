"""A configured `BayesianOracle`, warm-started with configurations known to be good.

What it shows:

* `BayesianOracle`'s main settings: the Gaussian process's `kernel`
  (`"matern52"`, `"matern32"` or `"rbf"`), the `acquisition` function
  (`"logei"`, `"ei"`, `"pi"` or `"ucb"`), how many quasi-random trials come
  before the model takes over (`num_initial_points`), and a `seed` (same seed,
  same trials);
* warm start: `oracle.enqueue_trial({...})` runs a given configuration before
  any proposed one (e.g. last week's best, or a library default). Missing
  hyperparameters take their defaults; a value outside the space is refused at
  once. The enqueued trials count towards `max_trials` and towards the initial
  design, and the model learns from them like from any other trial.

It tunes a tiny network on scikit-learn's bundled digits (no download) for 6
trials of 2 epochs: 2 enqueued, 1 quasi-random, 3 proposed by the model. It
prints every trial, marking where it came from, and the best hyperparameters.

Run it with:

    python examples/bayesian_warm_start.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/bayesian_warm_start/` (default:
`./example_runs/bayesian_warm_start/`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx import BayesianOracle  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "bayesian_warm_start"
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
            keras.layers.Dense(hp.Int("units", 8, 64, step=8), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## The oracle and its warm start

Declaring the space up front (`hyperparameters=`) lets `enqueue_trial` check
the values at once.
"""

space = kt.HyperParameters()
build_model(space)

oracle = BayesianOracle(
    objective=kt.Objective("val_accuracy", "max"),
    max_trials=6,
    hyperparameters=space,
    kernel="matern32",
    acquisition="ei",
    num_initial_points=3,
    seed=7,
)
warm_start = [
    {"units": 32, "dropout": 0.1, "learning_rate": 1e-2},
    {"units": 64, "learning_rate": 3e-3},  # dropout: its default (0.0)
]
for values in warm_start:
    oracle.enqueue_trial(values)

try:  # a value outside the space is refused when it is enqueued, not mid-search
    oracle.enqueue_trial({"units": 1000})
except ValueError as e:
    print(f"Refused at once: {e}")

"""
## Search
"""

keras.utils.set_random_seed(0)
tuner = kt.Tuner(
    oracle=oracle,
    hypermodel=build_model,
    directory=OUT_DIR,
    project_name="bayes",
    overwrite=True,
)
tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=64, verbose=0)

"""
## Results
"""

trials = sorted(oracle.trials.values(), key=lambda t: int(t.trial_id))
print(f"\n{len(trials)} trials (kernel=matern32, acquisition=ei, num_initial_points=3, seed=7):")
for i, t in enumerate(trials):
    if i < len(warm_start):
        origin = "enqueued"
    elif i < 3:
        origin = "initial design"
    else:
        origin = "Gaussian process"
    v = t.hyperparameters.values
    print(
        f"  trial {t.trial_id} [{origin:<16}] units={v['units']:<3} dropout={v['dropout']:.2f} "
        f"learning_rate={v['learning_rate']:.2e}  val_accuracy={t.score:.4f}"
    )
for i, values in enumerate(warm_start):
    ran = trials[i].hyperparameters.values
    assert all(ran[k] == v for k, v in values.items()), (values, ran)
best = tuner.get_best_hyperparameters(1)[0].values
print(f"Best val_accuracy {oracle.get_best_trials(1)[0].score:.4f} with {best}")
