"""A search on the JAX backend, with TensorBoard HParams logs and no TensorFlow at all.

What it shows:

* choosing Keras' backend: set `KERAS_BACKEND` before Keras is first imported
  (here `os.environ["KERAS_BACKEND"] = "jax"` at the top of the script; from a
  shell, `KERAS_BACKEND=jax python ...`);
* keras-hpx's oracles and `HParamsLogger` (which writes TensorBoard's event
  files and HParams protos itself) run without importing TensorFlow: the
  script checks `"tensorflow" not in sys.modules` at the end. With JAX or
  torch, keras-hpx can be installed without its `tf` extra.

It tunes a tiny network on a generated two-class problem (numpy, no download)
for 3 trials of 2 epochs, then prints the best hyperparameters, the
`tensorboard --logdir` command for the HParams tab, and the TensorFlow check.

Run it with:

    python examples/jax_backend.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/jax_backend/` (default:
`./example_runs/jax_backend/`).
"""

import os
import random
import shutil
import sys

os.environ["KERAS_BACKEND"] = "jax"  # before the first `import keras`

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_hpx import HParamsLogger, RandomOracle, TrialLogger  # noqa: E402

OUT_DIR = os.path.join(os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "jax_backend")
LOG_DIR = os.path.join(OUT_DIR, "hparams")
shutil.rmtree(LOG_DIR, ignore_errors=True)  # fresh logs each time the example runs

"""
## Data: two noisy classes in 8 dimensions

512 training and 128 validation samples: whole batches of 64, so JAX compiles
each training step once (a smaller last batch would be compiled again).
"""

rng = np.random.default_rng(0)
x = rng.normal(size=(640, 8)).astype("float32")
y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] + 0.3 * rng.normal(size=640) > 0).astype("float32")
x_train, y_train, x_val, y_val = x[:512], y[:512], x[512:], y[512:]


def build_model(hp):
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(hp.Choice("units", [4, 16]), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## Search with HParams logging
"""

# Not `keras.utils.set_random_seed(0)`: it also seeds TensorFlow, importing it when it is
# installed. Keras draws its default seeds from Python's `random`.
random.seed(0)
np.random.seed(0)
oracle = RandomOracle(objective=kt.Objective("val_accuracy", "max"), max_trials=3, seed=0)
tuner = kt.Tuner(
    oracle=oracle,
    hypermodel=build_model,
    directory=OUT_DIR,
    project_name="search",
    overwrite=True,
)
tuner.search(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=2,
    batch_size=64,
    verbose=0,
    callbacks=[HParamsLogger(LOG_DIR), TrialLogger(LOG_DIR)],
)

"""
## Results
"""

best = oracle.get_best_trials(1)[0]
print(f"\nBackend: {keras.backend.backend()}")
print(f"Best val_accuracy {best.score:.4f} with {best.hyperparameters.values}")
print(f"View the trials in TensorBoard's HParams tab:\n  tensorboard --logdir {LOG_DIR}")
assert keras.backend.backend() == "jax"
assert "tensorflow" not in sys.modules, "TensorFlow was imported"
print("TensorFlow imported: no ('tensorflow' not in sys.modules)")
