"""Where a trial's wall time goes, with and without weak-trial stopping.

A real Keras Tuner search (`kt.Tuner` over the seeded `keras_hpx.RandomOracle`)
on scikit-learn's digits, in two model variants:

- `big`: epochs dominate. The training split repeated `--repeat` times (2) with
  a little Gaussian noise (a generated dataset), two dense layers of 512 units:
  about 0.5 to 1 s per epoch on 2 shared CPU cores.
- `small`: the demo's model and data (`keras_hpx.demo`): an epoch is tens of
  milliseconds, so building, compiling and tracing dominate.

Each variant runs once without a stopping callback (`full`) and once with
`WeakTrialStopping(rule="asha")` (`asha`); same oracle seed, same trials, same
per-trial weight seeds (TensorFlow op determinism), so a trial trains the same
way in both until it is stopped.

Every trial's time is split into phases, measured from the outside (no
monkey-patching of Keras, Keras Tuner or keras-hpx):

- `create_trial`, `update_trial`, `get_trial`, `curves`, `end_trial`: the
  oracle's calls, timed by a thin subclass of `RandomOracle` (this script only);
- `clear_session`: Keras Tuner's `_try_build` minus the hypermodel's build
  (`keras.backend.clear_session()` and `gc.collect()`);
- `build`, `compile`: inside this script's hypermodel;
- `fit_setup`: `hypermodel.fit` called until `on_train_begin` (data adapters);
- `epoch_1`: the first epoch, training and validation (tracing included);
  `epochs_later`: the other epochs; `tracing` (an estimate, not summed):
  `epoch_1` minus the median later epoch;
- `callback_ours`: `WeakTrialStopping.on_epoch_end` (between a timing
  callback placed just before it and one just after), its oracle calls included;
- `checkpoint_kt`: Keras Tuner's `SaveBestEpoch` (it saves the weights at every
  epoch that improves the objective; timed by marks placed around it);
- `fit_rest`: `on_train_end` until `fit` returns (Keras Tuner's `build_config.json`);
- `tuner_save`: `Tuner.on_trial_end` minus `oracle.end_trial` (the tuner's json);
- `other`: the trial's wall time (from `create_trial` to the end of
  `on_trial_end`) minus all of the above.

    KERAS_BACKEND=tensorflow python benchmarks/stopping_wall_time.py \\
        --variants big small --trials 10 --epochs 12 --repeats 2 --out /tmp/swt
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import zlib
from collections import defaultdict
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from keras_tuner.src import backend as kt_backend  # noqa: E402
from keras_tuner.src import utils as kt_utils  # noqa: E402
from keras_tuner.src.engine import tuner_utils  # noqa: E402

from keras_hpx import RandomOracle, WeakTrialStopping  # noqa: E402
from keras_hpx.demo import load_digits_split  # noqa: E402

PHASES = (
    "create_trial",
    "clear_session",
    "build",
    "compile",
    "fit_setup",
    "epoch_1",
    "epochs_later",
    "callback_ours",
    "checkpoint_kt",
    "fit_rest",
    "update_trial_final",
    "end_trial",
    "tuner_save",
    "other",
)


class Recorder:
    """Per-trial phase times (seconds), shared by every timed part of one search."""

    def __init__(self) -> None:
        self.trial: str | None = None
        self.phases: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.epochs: dict[str, list[float]] = defaultdict(list)
        self.calls: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.in_fit = False
        self.marks: dict[str, float] = {}

    def add(self, phase: str, seconds: float, trial: str | None = None) -> None:
        trial = trial or self.trial or "?"
        self.phases[trial][phase] += seconds
        self.calls[trial][phase] += 1


REC = Recorder()


class Mark(keras.callbacks.Callback):
    """A timing mark in the callback list (shared by Keras Tuner's deep copies)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __deepcopy__(self, memo: dict) -> Mark:
        return self

    def on_train_begin(self, logs: dict | None = None) -> None:
        REC.marks[f"{self.name}.train_begin"] = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        REC.marks[f"{self.name}.epoch_begin"] = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        REC.marks[f"{self.name}.epoch_end"] = now
        if self.name == "first":
            REC.epochs[REC.trial or "?"].append(now - REC.marks["first.epoch_begin"])
        elif self.name == "after_ours":
            REC.add("callback_ours", now - REC.marks["first.epoch_end"])
        elif self.name == "last":
            REC.add("checkpoint_kt", now - REC.marks["before_kt.epoch_end"])

    def on_train_end(self, logs: dict | None = None) -> None:
        REC.marks[f"{self.name}.train_end"] = time.perf_counter()


class TimedOracle(RandomOracle):
    """`RandomOracle` with its Keras Tuner entry points timed (this script only)."""

    def create_trial(self, tuner_id: str) -> Any:
        start = time.perf_counter()
        trial = super().create_trial(tuner_id)
        REC.trial = trial.trial_id
        REC.marks["trial_start"] = start
        REC.add("create_trial", time.perf_counter() - start, trial.trial_id)
        return trial

    def update_trial(self, trial_id: str, metrics: dict, step: int = 0) -> Any:
        start = time.perf_counter()
        try:
            return super().update_trial(trial_id, metrics, step=step)
        finally:
            phase = "update_trial_epoch" if REC.in_fit else "update_trial_final"
            REC.add(phase, time.perf_counter() - start, str(trial_id))

    def get_trial(self, trial_id: str) -> Any:
        start = time.perf_counter()
        try:
            return super().get_trial(trial_id)
        finally:
            REC.add("get_trial", time.perf_counter() - start, str(trial_id))

    def curves(self, metric: str, exclude: str | None = None) -> dict:
        start = time.perf_counter()
        try:
            return super().curves(metric, exclude=exclude)
        finally:
            REC.add("curves", time.perf_counter() - start)

    def end_trial(self, trial: Any) -> None:
        start = time.perf_counter()
        try:
            super().end_trial(trial)
        finally:
            REC.add("end_trial", time.perf_counter() - start, trial.trial_id)


class TimedTuner(kt.Tuner):
    """`kt.Tuner` with per-trial weight seeds and timed phases (this script only)."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        key = json.dumps(trial.hyperparameters.values, sort_keys=True, default=str)
        keras.utils.set_random_seed(zlib.crc32(key.encode()) % 2**31)
        return super().run_trial(trial, *args, **kwargs)

    def _try_build(self, hp: Any) -> Any:
        start = time.perf_counter()
        REC.marks["built"] = 0.0
        model = super()._try_build(hp)
        REC.add("clear_session", time.perf_counter() - start - REC.marks["built"])
        return model

    def _build_hypermodel(self, hp: Any) -> Any:
        start = time.perf_counter()
        model = super()._build_hypermodel(hp)
        REC.marks["built"] = time.perf_counter() - start
        return model

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs["callbacks"])
        # Keras Tuner appended its TunerCallback (a no-op in 1.4) and SaveBestEpoch last.
        kt_start = next(
            i
            for i, c in enumerate(callbacks)
            if type(c).__name__ in ("TunerCallback", "SaveBestEpoch")
        )
        callbacks.insert(kt_start, Mark("before_kt"))
        callbacks.append(Mark("last"))
        kwargs["callbacks"] = callbacks
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self._timed_fit(hp, model, args, kwargs)
        start = time.perf_counter()
        # Keras Tuner's own steps after fit (as in its `_build_and_fit_model`).
        if kt_backend.config.multi_backend():
            kt_utils.save_json(
                self._get_build_config_fname(trial.trial_id), model.get_build_config()
            )
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        REC.add("fit_rest", time.perf_counter() - start)
        return results

    def _timed_fit(self, hp: Any, model: Any, args: Any, kwargs: dict) -> Any:
        start = time.perf_counter()
        REC.in_fit = True
        try:
            results = self.hypermodel.fit(hp, model, *args, **kwargs)
        finally:
            REC.in_fit = False
        end = time.perf_counter()
        REC.add("fit_setup", REC.marks["first.train_begin"] - start)
        REC.add("fit_rest", end - REC.marks["first.train_end"])
        return results

    def on_trial_end(self, trial: Any) -> None:
        start = time.perf_counter()
        before = REC.phases[trial.trial_id]["end_trial"]
        super().on_trial_end(trial)
        end = time.perf_counter()
        ended = REC.phases[trial.trial_id]["end_trial"] - before
        REC.add("tuner_save", end - start - ended, trial.trial_id)
        REC.add("wall", end - REC.marks["trial_start"], trial.trial_id)


class LeanTuner(TimedTuner):
    """What a user can do about Keras Tuner's share: Keras Tuner's documented
    `run_trial` override (build, fit, return the history). It skips `SaveBestEpoch`
    (no checkpoint: `tuner.get_best_models()` cannot load weights; rebuild the best
    hyperparameters and train them instead) and `gc.collect()` (keeps
    `keras.backend.clear_session()`); one execution per trial."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        key = json.dumps(trial.hyperparameters.values, sort_keys=True, default=str)
        keras.utils.set_random_seed(zlib.crc32(key.encode()) % 2**31)
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), Mark("before_kt"), Mark("last")]
        start = time.perf_counter()
        keras.backend.clear_session()
        REC.add("clear_session", time.perf_counter() - start)
        model = self.hypermodel.build(trial.hyperparameters)
        return self._timed_fit(trial.hyperparameters, model, args, kwargs)


def timed_compile(model: Any, **kwargs: Any) -> None:
    start = time.perf_counter()
    model.compile(**kwargs)
    REC.add("compile", time.perf_counter() - start)


def build_small(hp: Any) -> Any:
    """The demo's model (`keras_hpx.demo.build_model`), its compile timed."""
    start = time.perf_counter()
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
    REC.add("build", time.perf_counter() - start)
    timed_compile(
        model,
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_big(hp: Any) -> Any:
    """Two dense layers of 512 units: epochs dominate on the repeated data."""
    start = time.perf_counter()
    model = keras.Sequential([keras.Input((64,))])
    activation = hp.Choice("activation", ["relu", "tanh"])
    for _ in range(2):
        model.add(keras.layers.Dense(512, activation=activation))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.2)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    REC.add("build", time.perf_counter() - start)
    timed_compile(
        model,
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 3e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def data_for(variant: str, repeat: int) -> tuple:
    (x, y), (xv, yv) = load_digits_split(0)
    if variant == "big":
        rng = np.random.default_rng(0)
        x = np.concatenate(
            [x + rng.normal(0, 0.05, x.shape).astype("float32") for _ in range(repeat)]
        )
        y = np.concatenate([y] * repeat)
    return (x, y), (xv, yv)


def run_search(args: argparse.Namespace, variant: str, method: str, rep: int) -> dict:
    global REC
    REC = Recorder()
    (x, y), (xv, yv) = data_for(variant, args.repeat)
    oracle = TimedOracle(
        objective=kt.Objective("val_accuracy", "max"), max_trials=args.trials, seed=args.seed
    )
    tuner = (LeanTuner if method == "asha_lean" else TimedTuner)(
        oracle=oracle,
        hypermodel=build_big if variant == "big" else build_small,
        directory=args.out,
        project_name=f"{variant}_{method}_{rep}",
        overwrite=True,
    )
    ours = [WeakTrialStopping(monitor="val_loss", rule="asha")] if "asha" in method else []
    callbacks = [Mark("first"), *ours, Mark("after_ours")]
    start = time.perf_counter()
    tuner.search(
        x, y, validation_data=(xv, yv), epochs=args.epochs, batch_size=64, verbose=0,
        callbacks=callbacks,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    trials = {}
    for trial_id in oracle.start_order:  # not the STOPPED answer's id, nor "?"
        phases = REC.phases[trial_id]
        epochs = REC.epochs.get(trial_id, [])
        later = epochs[1:]
        row = {p: float(phases.get(p, 0.0)) for p in PHASES if p != "other"}
        row["epoch_1"] = epochs[0] if epochs else 0.0
        row["epochs_later"] = float(sum(later))
        row["update_trial_epoch"] = float(phases.get("update_trial_epoch", 0.0))
        row["curves"] = float(phases.get("curves", 0.0))
        row["get_trial"] = float(phases.get("get_trial", 0.0))
        row["wall"] = float(phases.get("wall", 0.0))
        row["other"] = row["wall"] - sum(row[p] for p in PHASES if p != "other")
        row["epochs"] = len(epochs)
        row["tracing"] = epochs[0] - statistics.median(later) if later else 0.0
        trials[trial_id] = row
    best = oracle.get_best_trials(1)[0]
    return {
        "variant": variant,
        "method": method,
        "rep": rep,
        "trials": trials,
        "epochs": sum(t["epochs"] for t in trials.values()),
        "seconds": seconds,
        "best": float(best.score),
    }


def mean_row(result: dict) -> dict:
    trials = list(result["trials"].values())
    keys = [*PHASES, "update_trial_epoch", "curves", "get_trial", "tracing", "wall", "epochs"]
    return {k: sum(t[k] for t in trials) / len(trials) for k in keys}


def breakdown(results: list[dict]) -> str:
    cols = [*PHASES, "wall"]
    head = "| variant | method | rep | " + " | ".join(cols) + " |"
    lines = [head, "|" + "---|" * 3 + "---:|" * len(cols)]
    for r in results:
        m = mean_row(r)
        cells = " | ".join(f"{m[c]:.3f}" for c in cols)
        lines.append(f"| {r['variant']} | {r['method']} | {r['rep']} | {cells} |")
    return "\n".join(lines)


def detail(results: list[dict]) -> str:
    lines = [
        "| variant | method | rep | epochs/trial | epoch_1 | s/later epoch | tracing (est.) "
        "| ours ms/epoch | update_trial ms/epoch | curves ms/epoch | checkpoint ms/epoch |",
        "|---|---|---|" + "---:|" * 8,
    ]
    for r in results:
        trials = list(r["trials"].values())
        n = sum(t["epochs"] for t in trials)
        later = sum(t["epochs_later"] for t in trials) / max(1, n - len(trials))
        m = mean_row(r)
        lines.append(
            f"| {r['variant']} | {r['method']} | {r['rep']} | {n / len(trials):.1f} | "
            f"{m['epoch_1']:.3f} | {later:.3f} | {m['tracing']:.3f} | "
            f"{1e3 * sum(t['callback_ours'] for t in trials) / n:.2f} | "
            f"{1e3 * sum(t['update_trial_epoch'] for t in trials) / n:.2f} | "
            f"{1e3 * sum(t['curves'] for t in trials) / n:.2f} | "
            f"{1e3 * sum(t['checkpoint_kt'] for t in trials) / n:.2f} |"
        )
    return "\n".join(lines)


def savings(results: list[dict]) -> str:
    lines = [
        "| variant | method | rep | epochs full | epochs | epochs saved | wall full (s) "
        "| wall (s) | wall saved | saved ratio (wall/epochs) |",
        "|---|---|---|" + "---:|" * 7,
    ]
    by = {(r["variant"], r["method"], r["rep"]): r for r in results}
    for (variant, method, rep), asha in by.items():
        full = by.get((variant, "full", rep))
        if method == "full" or full is None:
            continue
        e_saved = 1 - asha["epochs"] / full["epochs"]
        w_saved = 1 - asha["seconds"] / full["seconds"]
        lines.append(
            f"| {variant} | {method} | {rep} | {full['epochs']} | {asha['epochs']} | {e_saved:.0%} | "
            f"{full['seconds']:.1f} | {asha['seconds']:.1f} | {w_saved:.0%} | "
            f"{w_saved / e_saved if e_saved else float('nan'):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", nargs="+", choices=["big", "small"], default=["big", "small"])
    p.add_argument(
        "--methods", nargs="+", choices=["full", "asha", "asha_lean"], default=["full", "asha"]
    )
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2, help="copies of the training data (big)")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--out", default="/tmp/stopping_wall_time")
    args = p.parse_args(argv)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    print(
        f"backend {keras.backend.backend()}; {args.trials} trials x {args.epochs} epochs; "
        f"seed {args.seed}; big: data x{args.repeat}",
        flush=True,
    )
    results = []
    for rep in range(args.repeats):
        for variant in args.variants:
            for method in args.methods:
                results.append(run_search(args, variant, method, rep))
                r = results[-1]
                print(
                    f"{variant} {method} rep {rep}: {r['epochs']} epochs, {r['seconds']:.1f} s, "
                    f"best {r['best']:.4f}",
                    flush=True,
                )
    print("\nSeconds per trial, by phase (mean over the search's trials):\n")
    print(breakdown(results))
    print("\nPer epoch:\n")
    print(detail(results))
    print("\nStopped against full search:\n")
    print(savings(results))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
