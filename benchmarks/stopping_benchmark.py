"""Weak-trial stopping on real Keras training: epochs saved and best accuracy kept.

For each seed, on scikit-learn's digits (the demo's split), runs:

1. `full`: the seeded `RandomOracle`, every trial trained for all epochs;
2. `stopping`: the same oracle and seed with `WeakTrialStopping` (same trials,
   same per-trial weight seeds, so a trial's curve is identical until it stops);
3. `hyperband`: Keras Tuner's `Hyperband` (same search space, `max_epochs` =
   epochs, `factor=3`), its iterations chosen to land near the stopping run's
   epoch budget.

Each row reports the epochs actually trained (counted by a callback), the wall
time and the best validation accuracy. Results go to stdout as a Markdown table
and to a JSON file (with every trial's curves) for later analysis.

    KERAS_BACKEND=tensorflow python benchmarks/stopping_benchmark.py \
        --space wide --seeds 3 4 5 --trials 16 --epochs 15 --out /tmp/stopping_bench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_hpx import RandomOracle, WeakTrialStopping  # noqa: E402
from keras_hpx.callbacks._context import find_tuner_context  # noqa: E402
from keras_hpx.demo import build_model as demo_model  # noqa: E402
from keras_hpx.demo import load_digits_split  # noqa: E402


def build_wide(hp: kt.HyperParameters) -> keras.Model:
    """A small MLP in a wide space: learning rates from slow (1e-4) to unstable (0.1),
    1 to 3 layers of 16 to 256 units."""
    model = keras.Sequential([keras.Input((64,))])
    activation = hp.Choice("activation", ["relu", "tanh"])
    for i in range(hp.Int("layers", 1, 3)):
        with hp.conditional_scope("layers", list(range(i + 1, 4))):
            model.add(keras.layers.Dense(hp.Int(f"units_{i}", 16, 256, sampling="log"), activation))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_demo(hp: kt.HyperParameters) -> keras.Model:
    """The demo's model and space (`keras_hpx.demo.build_model`)."""
    return demo_model(hp)


SPACES = {"wide": build_wide, "demo": build_demo}


class EpochCounter(keras.callbacks.Callback):
    """Counts epochs trained across all trials (shared by Keras Tuner's copies)."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def __deepcopy__(self, memo: dict) -> EpochCounter:
        return self

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs += 1


class CurveRecorder(keras.callbacks.Callback):
    """Records every epoch's logs per trial (shared by Keras Tuner's copies)."""

    def __init__(self) -> None:
        super().__init__()
        self.curves: dict[str, dict[str, list[float]]] = {}
        self._trial: str | None = None

    def __deepcopy__(self, memo: dict) -> CurveRecorder:
        return self

    def on_train_begin(self, logs: dict | None = None) -> None:
        ctx = find_tuner_context()
        self._trial = ctx.trial_id if ctx is not None else "?"

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        trial = self.curves.setdefault(self._trial, {})
        for key, value in (logs or {}).items():
            trial.setdefault(key, []).append(float(value))


class SeededTuner(kt.Tuner):
    """Seeds each trial's weights from its hyperparameters: the same trial trains the
    same way in every search."""

    def run_trial(self, trial, *args, **kwargs):
        key = json.dumps(trial.hyperparameters.values, sort_keys=True, default=str)
        keras.utils.set_random_seed(zlib.crc32(key.encode()) % 2**31)
        return super().run_trial(trial, *args, **kwargs)


class SeededHyperband(kt.Hyperband):
    def run_trial(self, trial, *args, **kwargs):
        values = {
            k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")
        }
        key = json.dumps(values, sort_keys=True, default=str)
        keras.utils.set_random_seed(zlib.crc32(key.encode()) % 2**31)
        return super().run_trial(trial, *args, **kwargs)


def run_random(args, seed: int, data, stopper: WeakTrialStopping | None, name: str) -> dict:
    (x, y), (xv, yv) = data
    oracle = RandomOracle(
        objective=kt.Objective("val_accuracy", "max"), max_trials=args.trials, seed=seed
    )
    tuner = SeededTuner(
        oracle=oracle,
        hypermodel=SPACES[args.space],
        directory=args.out,
        project_name=f"{name.replace(' (', '_').rstrip(')')}_seed{seed}",
        overwrite=True,
    )
    counter, recorder = EpochCounter(), CurveRecorder()
    callbacks = [counter, recorder] + ([stopper] if stopper is not None else [])
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
    seconds = time.time() - start
    best = oracle.get_best_trials(1)[0]
    stopped = [t.trial_id for t in oracle.trials.values() if t.metrics.exists("stopped_at_epoch")]
    return {
        "method": name,
        "seed": seed,
        "trials": len(oracle.trials),
        "epochs": counter.epochs,
        "seconds": seconds,
        "best_val_accuracy": float(best.score),
        "best_trial": best.trial_id,
        "stopped": stopped,
        "val_accuracy": {t: c["val_accuracy"] for t, c in recorder.curves.items()},
        "val_loss": {t: c["val_loss"] for t, c in recorder.curves.items()},
    }


def run_hyperband(args, seed: int, data, iterations: int) -> dict:
    (x, y), (xv, yv) = data
    tuner = SeededHyperband(
        SPACES[args.space],
        objective=kt.Objective("val_accuracy", "max"),
        max_epochs=args.epochs,
        factor=3,
        hyperband_iterations=iterations,
        seed=seed,
        directory=args.out,
        project_name=f"hyperband_seed{seed}",
        overwrite=True,
    )
    counter = EpochCounter()
    start = time.time()
    tuner.search(
        x,
        y,
        validation_data=(xv, yv),
        epochs=args.epochs,
        batch_size=64,
        verbose=0,
        callbacks=[counter],
    )
    seconds = time.time() - start
    best = tuner.oracle.get_best_trials(1)[0]
    return {
        "method": f"hyperband x{iterations}",
        "seed": seed,
        "trials": len(tuner.oracle.trials),
        "epochs": counter.epochs,
        "seconds": seconds,
        "best_val_accuracy": float(best.score),
        "best_trial": best.trial_id,
    }


def make_stopper(args, rule: str) -> WeakTrialStopping:
    kwargs = {}
    if args.min_steps is not None:
        kwargs["min_steps"] = args.min_steps
    if args.min_runs is not None:
        kwargs["min_runs"] = args.min_runs
    return WeakTrialStopping(monitor=args.monitor, rule=rule, **kwargs)


def table(rows: list[dict]) -> str:
    lines = [
        "| seed | method | trials | epochs trained | wall time (s) | best val_accuracy |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['method']} | {r['trials']} | {r['epochs']} | "
            f"{r['seconds']:.0f} | {r['best_val_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    out = []
    seeds = sorted({r["seed"] for r in rows})
    by = {(r["seed"], r["method"]): r for r in rows}
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != "full"]
    for method in methods:
        ratios, gaps = [], []
        for s in seeds:
            full, other = by.get((s, "full")), by.get((s, method))
            if full and other:
                ratios.append(full["epochs"] / other["epochs"])
                gaps.append(100 * (full["best_val_accuracy"] - other["best_val_accuracy"]))
        if ratios:
            out.append(
                f"{method} vs full: {np.mean(ratios):.2f}x fewer epochs (per seed: "
                + ", ".join(f"{v:.2f}" for v in ratios)
                + "); best val_accuracy lower by (points, per seed): "
                + ", ".join(f"{v:+.2f}" for v in gaps)
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--monitor", default="val_loss")
    p.add_argument("--rules", nargs="+", default=["median", "asha"])
    p.add_argument("--min-steps", type=int, default=None)
    p.add_argument("--min-runs", type=int, default=None)
    p.add_argument("--hyperband-iterations", type=int, default=1)
    p.add_argument("--skip", nargs="*", default=[], choices=["full", "stopping", "hyperband"])
    p.add_argument("--space", choices=sorted(SPACES), default="wide")
    p.add_argument("--out", default="/tmp/stopping_bench")
    args = p.parse_args(argv)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # Same trial, same curve, in every search: differences come from stopping alone.
        tf.config.experimental.enable_op_determinism()

    data = load_digits_split(0)
    rows = []
    print(
        f"digits: {len(data[0][0])} train, {len(data[1][0])} validation; "
        f"space {args.space}; {args.trials} trials x {args.epochs} epochs; backend {keras.backend.backend()}; "
        f"stoppers {[make_stopper(args, r) for r in args.rules]!r}",
        flush=True,
    )
    for seed in args.seeds:
        if "full" not in args.skip:
            rows.append(run_random(args, seed, data, None, "full"))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        if "stopping" not in args.skip:
            for rule in args.rules:
                stopper = make_stopper(args, rule)
                rows.append(run_random(args, seed, data, stopper, f"stopping ({rule})"))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
        if "hyperband" not in args.skip:
            rows.append(run_hyperband(args, seed, data, args.hyperband_iterations))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    print(summary(rows))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"argv": sys.argv, "rows": rows}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
