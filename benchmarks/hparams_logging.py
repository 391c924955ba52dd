"""What HParams logging costs per trial, and what the dashboard shows for a 50-trial search.

    KERAS_BACKEND=jax python benchmarks/hparams_logging.py --trials 50

1. Overhead: after a few warm-up trials, the same search (Keras Tuner's RandomSearch,
   a tiny model, 1 epoch) runs twice, without and with `HParamsLogger` +
   `TrialLogger`; the time spent
   inside the loggers' hooks is also measured directly (the wall-clock difference
   of two searches is mostly training noise).
2. Dashboard: a real `tensorboard` serves the logs of the logged search; the HParams
   plugin's API is asked for the experiment and the session groups.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(cls):
    """A subclass of a logger that adds up the seconds spent in its Keras hooks."""

    class Timed(cls):
        spent = [0.0]

        def _wrap(name):
            def hook(self, *args, **kwargs):
                t = time.perf_counter()
                try:
                    return getattr(cls, name)(self, *args, **kwargs)
                finally:
                    Timed.spent[0] += time.perf_counter() - t

            return hook

        on_train_begin = _wrap("on_train_begin")
        on_epoch_end = _wrap("on_epoch_end")
        on_train_end = _wrap("on_train_end")

    Timed.__name__ = cls.__name__
    return Timed


def run(trials: int, epochs: int, log: bool, root: str):
    import keras
    import keras_tuner as kt
    import numpy as np

    from keras_hpx.callbacks.hparams_logger import HParamsLogger
    from keras_hpx.callbacks.trial_logger import TrialLogger

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(
                    hp.Int("units", 4, 64, step=4),
                    activation=hp.Choice("act", ["relu", "tanh", "gelu"]),
                ),
                keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = kt.RandomSearch(
        build,
        objective="val_accuracy",
        max_trials=trials,
        directory=os.path.join(root, "project"),
        project_name="log" if log else "nolog",
        overwrite=True,
        seed=7,
    )
    callbacks, timed = [], []
    if log:
        H, T = _timed(HParamsLogger), _timed(TrialLogger)
        callbacks = [H(os.path.join(root, "logs")), T(os.path.join(root, "logs"), verbose=0)]
        timed = [H, T]
    start = time.perf_counter()
    tuner.search(
        x, y, validation_split=0.25, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks
    )
    wall = time.perf_counter() - start
    hooks = {t.__name__: t.spent[0] for t in timed}
    return wall, hooks, len(tuner.oracle.trials)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5, help="unmeasured trials run first")
    p.add_argument("--reverse", action="store_true", help="run the logged search first")
    p.add_argument("--keep", help="keep the logs in this directory")
    args = p.parse_args()

    import keras

    from keras_hpx.testing.tensorboard_server import TensorBoardServer

    root = args.keep or tempfile.mkdtemp(prefix="hpx-hparams-bench-")
    run(args.warmup, args.epochs, False, os.path.join(root, "warmup"))  # compile caches
    if args.reverse:
        wall_on, hooks, n = run(args.trials, args.epochs, True, root)
        wall_off, _, n = run(args.trials, args.epochs, False, root)
    else:
        wall_off, _, n = run(args.trials, args.epochs, False, root)
        wall_on, hooks, n = run(args.trials, args.epochs, True, root)
    logs = os.path.join(root, "logs")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(logs) for f in fs)
    out = {
        "backend": keras.backend.backend(),
        "trials": n,
        "epochs": args.epochs,
        "order": "with, without" if args.reverse else "without, with",
        "search_s_without": round(wall_off, 2),
        "search_s_with": round(wall_on, 2),
        "wall_diff_ms_per_trial": round(1000 * (wall_on - wall_off) / n, 1),
        "hook_ms_per_trial": {k: round(1000 * v / n, 2) for k, v in hooks.items()},
        "log_bytes": size,
    }
    t = time.perf_counter()
    with TensorBoardServer(logs) as server:
        server.wait_for_experiment(timeout=120)
        groups = server.wait_for_groups(n, timeout=180)
        out["tensorboard_ready_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        groups = server.session_groups()
        out["session_groups_query_ms"] = round(1000 * (time.perf_counter() - t), 1)
        exp = server.experiment()
    statuses = {}
    for g in groups:
        for s in g["sessions"]:
            statuses[s.get("status")] = statuses.get(s.get("status"), 0) + 1
    out["session_groups"] = len(groups)
    out["session_statuses"] = statuses
    out["hparam_columns"] = {
        h["name"]: ("discrete", len(h["domainDiscrete"]))
        if "domainDiscrete" in h
        else ("interval",)
        for h in exp["hparamInfos"]
    }
    out["metric_columns"] = [m["name"]["tag"] for m in exp["metricInfos"]]
    out["groups_with_score"] = sum(
        any(m["name"]["tag"] == "score" for m in g.get("metricValues", [])) for g in groups
    )
    print(json.dumps(out, indent=1))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
