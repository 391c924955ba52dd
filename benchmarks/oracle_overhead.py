"""Per-trial overhead of the oracles (no training): ours next to Keras Tuner's, in one run.

Drives each oracle through `create_trial` / `update_trial` / `end_trial` with a project
directory (so state saving is counted, as in a real search) and reports seconds per trial.

    python benchmarks/oracle_overhead.py --grid-trials 10000 --random-trials 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_hpx import GridOracle, RandomOracle  # noqa: E402


def grid_space() -> kt.HyperParameters:
    """4 hyperparameters x 10 values = 10,000 combinations."""
    hp = kt.HyperParameters()
    hp.Int("a", 1, 10)
    hp.Choice("b", [f"v{i}" for i in range(10)])
    hp.Float("c", 0.0, 0.9, step=0.1)
    hp.Int("d", 2, 1024, step=2, sampling="log")  # 2, 4, ..., 1024
    return hp


def random_space() -> kt.HyperParameters:
    """6 continuous or integer dimensions, log and linear."""
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-5, 1e-1, sampling="log")
    hp.Float("dropout", 0.0, 0.5)
    hp.Float("l2", 1e-6, 1e-2, sampling="log")
    hp.Int("units", 16, 512, sampling="log")
    hp.Float("momentum", 0.0, 0.99)
    hp.Int("layers", 1, 8)
    return hp


def drive(oracle: kt.Oracle, n: int, directory: str) -> tuple[float, int, int]:
    """Runs up to `n` trials; returns (seconds per trial, trials run, distinct configs)."""
    oracle._set_project_dir(directory, "bench")
    rng = np.random.default_rng(0)
    seen = set()
    start = time.perf_counter()
    done = 0
    for _ in range(n):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        seen.add(tuple(sorted(trial.hyperparameters.values.items())))
        oracle.update_trial(trial.trial_id, {"score": float(rng.random())})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        done += 1
    elapsed = time.perf_counter() - start
    return elapsed / max(done, 1), done, len(seen)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid-trials", type=int, default=10_000)
    p.add_argument("--random-trials", type=int, default=1_000)
    args = p.parse_args(argv)
    objective = kt.Objective("score", "min")
    cases = [
        (
            "grid 10,000 points",
            "keras_hpx.GridOracle",
            args.grid_trials,
            lambda: GridOracle(objective=objective, hyperparameters=grid_space()),
        ),
        (
            "grid 10,000 points",
            "keras_tuner GridSearchOracle",
            args.grid_trials,
            lambda: kt.oracles.GridSearchOracle(
                objective=objective, hyperparameters=grid_space(), max_trials=args.grid_trials
            ),
        ),
        (
            "random 6-d",
            "keras_hpx.RandomOracle (uniform)",
            args.random_trials,
            lambda: RandomOracle(
                objective=objective,
                hyperparameters=random_space(),
                max_trials=args.random_trials,
                seed=0,
            ),
        ),
        (
            "random 6-d",
            "keras_hpx.RandomOracle (sobol)",
            args.random_trials,
            lambda: RandomOracle(
                objective=objective,
                hyperparameters=random_space(),
                max_trials=args.random_trials,
                seed=0,
                sampler="sobol",
            ),
        ),
        (
            "random 6-d",
            "keras_tuner RandomSearchOracle",
            args.random_trials,
            lambda: kt.oracles.RandomSearchOracle(
                objective=objective,
                hyperparameters=random_space(),
                max_trials=args.random_trials,
                seed=0,
            ),
        ),
    ]
    print("| problem | oracle | trials run | distinct | ms per trial |")
    print("|---|---|---:|---:|---:|")
    for problem, name, n, make in cases:
        with tempfile.TemporaryDirectory() as d:
            oracle = make()
            oracle.verbose = 0
            per, done, distinct = drive(oracle, n, d)
        print(f"| {problem} | {name} | {done} | {distinct} | {per * 1000:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
