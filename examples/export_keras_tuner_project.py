"""Export a plain Keras Tuner project (its own `RandomSearch`) to TensorBoard HParams and a CSV.

What it shows:

* `keras_hpx.export.export_project(project_dir, log_dir)` reads the
  `oracle.json` and `trial_*/trial.json` files any Keras Tuner tuner writes
  (here Keras Tuner's own `kt.RandomSearch` and oracle, no keras-hpx class
  involved in the search) and writes, without TensorFlow:
  the HParams experiment with the true domains of the search space, one
  session per trial (hyperparameters, status, metrics, score) and
  `log_dir/trials.csv`, one row per trial;
* the same export from a shell: `keras-hpx export PROJECT_DIR LOG_DIR`
  (`--overwrite` to replace an earlier export).

It runs 4 trials of 2 epochs of a tiny network on scikit-learn's bundled
digits (no download), exports the project, and prints the export summary and
the CSV's rows.

Run it with:

    python examples/export_keras_tuner_project.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/export_keras_tuner_project/` (default:
`./example_runs/export_keras_tuner_project/`).
"""

import csv
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_hpx.export import export_project  # noqa: E402

OUT_DIR = os.path.join(
    os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "export_keras_tuner_project"
)
PROJECT_DIR = os.path.join(OUT_DIR, "kt_random")  # the tuner's directory/project_name
LOG_DIR = os.path.join(OUT_DIR, "hparams")

"""
## A plain Keras Tuner search
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
            keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-3, 1e-2, 3e-2])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


keras.utils.set_random_seed(0)
tuner = kt.RandomSearch(
    build_model,
    objective="val_accuracy",
    max_trials=4,
    seed=0,
    directory=OUT_DIR,
    project_name="kt_random",
    overwrite=True,
)
tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=64, verbose=0)

"""
## Export it (`keras-hpx export PROJECT_DIR LOG_DIR --overwrite` does the same)
"""

summary = export_project(PROJECT_DIR, LOG_DIR, overwrite=True)
print(summary)

"""
## The CSV
"""

with open(summary.csv_path, newline="") as f:
    rows = list(csv.DictReader(f))
columns = ["trial_id", "status", "score", "units", "learning_rate", "metric:val_loss"]


def cell(text):
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


print(f"\n{summary.csv_path}: {len(rows)} rows")
print("  " + "".join(f"{c:>16}" for c in columns))
for row in rows:
    print("  " + "".join(f"{cell(row.get(c, '')):>16}" for c in columns))
