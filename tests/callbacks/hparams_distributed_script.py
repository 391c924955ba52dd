"""One process of a distributed search logged by HParamsLogger and TrialLogger (run by the test)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_hpx.callbacks.hparams_logger import HParamsLogger  # noqa: E402
from keras_hpx.callbacks.trial_logger import TrialLogger  # noqa: E402


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Choice("units", [2, 4, 8]), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.SGD(hp.Float("lr", 0.01, 0.1)), "binary_crossentropy")
    return model


def main(log_dir, project_dir, trials):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=trials,
        directory=project_dir,
        project_name="d",
        seed=1,
    )
    loggers = [HParamsLogger(log_dir), TrialLogger(log_dir)]
    tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=loggers)
    print("TF_IMPORTED", "tensorflow" in sys.modules)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
