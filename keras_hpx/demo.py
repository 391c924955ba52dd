"""The demo: tune a small Keras network on scikit-learn's bundled digits (no download)."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from keras_hpx.checks import invalid

__all__ = ["add_demo_parser", "build_model", "load_digits_split", "run_demo"]

ORACLES = ("grid", "random", "bayes")


def load_digits_split(seed: int = 0) -> tuple:
    """Digits 8x8 images scaled to [0, 1], split 80/20 (train, validation)."""
    import numpy as np
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype("int32")
    cut = int(0.8 * len(x))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def build_model(hp: Any) -> Any:
    """A small MLP whose width, depth, dropout, activation and learning rate are tuned."""
    import keras

    model = keras.Sequential([keras.Input((64,))])
    activation = hp.Choice("activation", ["relu", "tanh"])
    layers = hp.Int("layers", 1, 2)
    model.add(keras.layers.Dense(hp.Int("units_0", 32, 128, step=32), activation=activation))
    if layers == 2:
        with hp.conditional_scope("layers", [2]):
            units = hp.Int("units_1", 32, 128, step=32)
        model.add(keras.layers.Dense(units, activation=activation))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.2)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def make_oracle(name: str, max_trials: int, seed: int) -> Any:
    import keras_tuner as kt

    from keras_hpx import GridOracle, RandomOracle

    objective = kt.Objective("val_accuracy", "max")
    common = dict(objective=objective, max_trials=max_trials, seed=seed, progress=True)
    if name == "grid":
        return GridOracle(float_points={"learning_rate": 3}, shuffle=True, **common)
    if name == "random":
        return RandomOracle(sampler="sobol", **common)
    if name == "bayes":
        from keras_hpx import BayesianOracle

        # A short demo budget: let the model take over after 6 quasi-random trials.
        return BayesianOracle(num_initial_points=6, **common)
    raise invalid("oracle", name, f"one of {list(ORACLES)}")


def run_demo(args: argparse.Namespace) -> int:
    """Runs the demo search and prints the best hyperparameters."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import keras_tuner as kt

    from keras_hpx import HParamsLogger, WeakTrialStopping

    keras.utils.set_random_seed(args.seed)
    (x, y), (xv, yv) = load_digits_split(args.seed)
    oracle = make_oracle(args.oracle, args.max_trials, args.seed)
    project = f"digits_{args.oracle}"
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=build_model,
        directory=args.out,
        project_name=project,
        overwrite=not args.resume,
    )
    print(
        f"keras-hpx demo: {args.oracle} search on digits ({len(x)} train, {len(xv)} validation), "
        f"{args.max_trials} trials of {args.epochs} epochs, backend {keras.backend.backend()}"
    )
    csv_path = os.path.join(args.out, project, "trials.csv")
    log_dir = os.path.join(args.out, "hparams", project)
    print(f"Trials are written to {csv_path} as they end.")
    callbacks = [HParamsLogger(log_dir)]
    if not args.no_stopping:
        callbacks.append(WeakTrialStopping(monitor="val_accuracy", rule="median", verbose=1))
    start = time.time()
    tuner.search(
        x,
        y,
        validation_data=(xv, yv),
        epochs=args.epochs,
        batch_size=64,
        verbose=0,
        callbacks=callbacks,
    )
    best = tuner.get_best_hyperparameters(1)[0].values
    best_trial = oracle.get_best_trials(1)[0]
    print(f"Done in {time.time() - start:.0f}s: {len(oracle.trials)} trials.")
    print(f"Best val_accuracy {best_trial.score:.4f} (trial {best_trial.trial_id}) with:")
    for k, v in best.items():
        print(f"  {k} = {v}")
    print(f"View every trial in TensorBoard's HParams tab:\n  tensorboard --logdir {log_dir}")
    return 0


def add_demo_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="tune a small network on scikit-learn's digits")
    p.add_argument(
        "--oracle", choices=ORACLES, default="bayes", help="search algorithm (default bayes)"
    )
    p.add_argument("--max-trials", type=int, default=12, help="number of trials (default 12)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    p.add_argument("--out", default="demo_runs", help="output directory (default demo_runs)")
    p.add_argument("--resume", action="store_true", help="resume an interrupted search")
    p.add_argument(
        "--no-stopping", action="store_true", help="train every trial for all its epochs"
    )
    p.set_defaults(func=run_demo)
