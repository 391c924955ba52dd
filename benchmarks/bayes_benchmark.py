"""Bayesian optimisation side by side: keras-hpx, Keras Tuner and Optuna, in one run.

Methods: keras-hpx `BayesianOracle` (defaults), Keras Tuner's
`BayesianOptimizationOracle` and `RandomSearchOracle`, Optuna's `TPESampler` and
`GPSampler` (needs torch). Problems (all minimised, known optimum):

* `branin`: Branin-Hoo on [-5, 10] x [0, 15], f* = 0.397887.
* `hartmann6`: Hartmann 6-d on [0, 1]^6, f* = -3.32237.
* `mixed`: an ML-shaped space: log-scaled learning rate and weight decay, an int
  with step (units 16..256 step 16), a 4-way categorical (activation), a boolean
  (batch norm) and a dropout float; a smooth synthetic "validation loss" with a
  curved valley coupling learning rate and dropout; f* = 0.

Keras Tuner oracles are driven through `create_trial` / `update_trial` /
`end_trial` (no training), with a project directory as in a real search; Optuna
through `study.ask` / `study.tell`. "Seconds per proposal" is the time of
`create_trial` (resp. `ask`, where Optuna's samplers do their work). Simple
regret = best value so far - f*, floored at 1e-10 before the log. BLAS/torch are
limited to one thread for every method (a fair, quiet comparison on a shared
machine).

    python benchmarks/bayes_benchmark.py --seeds 20 --trials 40 --out bench_out
    python benchmarks/bayes_benchmark.py --report --out bench_out --plot p.png  # table, plot
    python benchmarks/bayes_benchmark.py --cost  # seconds per proposal at 100, 500 points
    python benchmarks/bayes_benchmark.py --cost --sizes 1000,2000

Results are appended to `<out>/results.jsonl` as each run ends (a run already
there is skipped), so an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from keras_hpx.testing.functions import (  # noqa: E402
    BRANIN_MIN,
    HARTMANN6_MIN,
    branin,
    hartmann6,
)

# ----- problems ---------------------------------------------------------------------------

_ACT = {"relu": 0.06, "tanh": 0.2, "gelu": 0.0, "swish": 0.03}


def mixed(v: dict) -> float:
    lr = math.log10(float(v["lr"])) + 2.7  # best lr 2e-3
    wd = math.log10(float(v["weight_decay"])) + 4.0  # best 1e-4
    drop = float(v["dropout"]) - 0.2
    units = (int(v["units"]) - 144) / 128.0
    loss = 0.15 * lr**2 + 0.6 * (lr - 2.0 * drop) ** 2  # a curved valley: lr and dropout trade off
    loss += 0.05 * wd**2 + 0.4 * units**2 + _ACT[v["activation"]]
    loss += 0.0 if bool(v["batchnorm"]) else 0.08 * (1.0 + abs(lr))
    return loss


def _kt_space(problem: str) -> Any:
    import keras_tuner as kt

    hp = kt.HyperParameters()
    if problem == "branin":
        hp.Float("x1", -5.0, 10.0)
        hp.Float("x2", 0.0, 15.0)
    elif problem == "hartmann6":
        for i in range(6):
            hp.Float(f"x{i}", 0.0, 1.0)
    else:
        hp.Float("lr", 1e-5, 1e-1, sampling="log")
        hp.Float("weight_decay", 1e-6, 1e-2, sampling="log")
        hp.Int("units", 16, 256, step=16)
        hp.Choice("activation", ["relu", "tanh", "gelu", "swish"])
        hp.Boolean("batchnorm")
        hp.Float("dropout", 0.0, 0.5)
    return hp


def _optuna_params(problem: str, trial: Any) -> dict:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if problem == "branin":
        dists = {"x1": FloatDistribution(-5.0, 10.0), "x2": FloatDistribution(0.0, 15.0)}
    elif problem == "hartmann6":
        dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}
    else:
        dists = {
            "lr": FloatDistribution(1e-5, 1e-1, log=True),
            "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
            "units": IntDistribution(16, 256, step=16),
            "activation": CategoricalDistribution(["relu", "tanh", "gelu", "swish"]),
            "batchnorm": CategoricalDistribution([False, True]),
            "dropout": FloatDistribution(0.0, 0.5),
        }
    return dists


PROBLEMS: dict[str, tuple[Callable[[dict], float], float]] = {
    "branin": (branin, BRANIN_MIN),
    "hartmann6": (hartmann6, HARTMANN6_MIN),
    "mixed": (mixed, 0.0),
}

# ----- methods ----------------------------------------------------------------------------


def _run_kt_oracle(oracle: Any, f: Callable, trials: int) -> tuple[list[float], list[float]]:
    import keras_tuner  # noqa: F401

    directory = tempfile.mkdtemp(prefix="bayes_bench_")
    try:
        oracle._set_project_dir(directory, "bench")
        values, seconds = [], []
        for _ in range(trials):
            t = time.perf_counter()
            trial = oracle.create_trial("tuner0")
            seconds.append(time.perf_counter() - t)
            if trial.status != "RUNNING":
                break
            y = f(trial.hyperparameters.values)
            oracle.update_trial(trial.trial_id, {"score": y})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            values.append(y)
        return values, seconds
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run_method(method: str, problem: str, seed: int, trials: int) -> dict:
    f, _ = PROBLEMS[problem]
    if method in ("keras-hpx BO", "KT Bayesian", "KT Random"):
        import keras_tuner as kt

        objective = kt.Objective("score", "min")
        hp = _kt_space(problem)
        if method == "keras-hpx BO":
            from keras_hpx import BayesianOracle

            oracle = BayesianOracle(
                objective=objective, max_trials=trials, hyperparameters=hp, seed=seed
            )
        elif method == "KT Bayesian":
            oracle = kt.oracles.BayesianOptimizationOracle(
                objective=objective, max_trials=trials, hyperparameters=hp, seed=seed
            )
        else:
            oracle = kt.oracles.RandomSearchOracle(
                objective=objective, max_trials=trials, hyperparameters=hp, seed=seed
            )
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # and Keras Tuner's per-trial printout
            values, seconds = _run_kt_oracle(oracle, f, trials)
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if method == "Optuna TPE":
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:
            try:
                import torch

                torch.set_num_threads(1)
            except ImportError:
                return {"error": "torch is not installed (pip install torch)"}
            sampler = optuna.samplers.GPSampler(seed=seed)
        study = optuna.create_study(sampler=sampler, direction="minimize")
        dists = _optuna_params(problem, None)
        values, seconds = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(trials):
                t = time.perf_counter()
                trial = study.ask(dists)
                seconds.append(time.perf_counter() - t)
                y = f(trial.params)
                study.tell(trial, y)
                values.append(y)
    return {"values": values, "seconds": seconds}


METHODS = ["keras-hpx BO", "KT Bayesian", "KT Random", "Optuna TPE", "Optuna GP"]

# ----- reporting ---------------------------------------------------------------------------


def _load(out: str) -> list[dict]:
    path = os.path.join(out, "results.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _log_regret(values: list[float], f_star: float, trials: int) -> np.ndarray:
    best = np.minimum.accumulate(np.asarray(values, dtype=float))
    if len(best) < trials:  # a search that ended early keeps its best
        best = np.concatenate([best, np.full(trials - len(best), best[-1])])
    return np.log10(np.maximum(best[:trials] - f_star, 1e-10))


def report(out: str, trials: int, plot: str | None) -> str:
    rows = [r for r in _load(out) if r.get("values") and r.get("trials") == trials]
    problems = [p for p in PROBLEMS if any(r["problem"] == p for r in rows)]
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    lines = [
        "| method | "
        + " | ".join(f"{p}: log10 regret (median [q25, q75]) | {p}: s/proposal" for p in problems)
        + " |",
        "|---|" + "---|---|" * len(problems),
    ]
    curves: dict[tuple[str, str], np.ndarray] = {}
    for m in methods:
        cells = []
        for p in problems:
            runs = [r for r in rows if r["method"] == m and r["problem"] == p]
            if not runs:
                cells += ["", ""]
                continue
            f_star = PROBLEMS[p][1]
            reg = np.array([_log_regret(r["values"], f_star, trials) for r in runs])
            curves[(m, p)] = reg
            final = reg[:, -1]
            sec = np.median([np.mean(r["seconds"]) for r in runs])
            q25, q50, q75 = np.percentile(final, [25, 50, 75])
            cells += [f"{q50:.2f} [{q25:.2f}, {q75:.2f}] (n={len(runs)})", f"{sec:.3f}"]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(problems), figsize=(5 * len(problems), 4), squeeze=False)
        for ax, p in zip(axes[0], problems):
            for m in methods:
                if (m, p) not in curves:
                    continue
                reg = curves[(m, p)]
                x = np.arange(1, reg.shape[1] + 1)
                med = np.median(reg, axis=0)
                ax.plot(x, med, label=m)
                ax.fill_between(
                    x, np.percentile(reg, 25, axis=0), np.percentile(reg, 75, axis=0), alpha=0.15
                )
            ax.set_title(p)
            ax.set_xlabel("trial")
            ax.set_ylabel("log10 simple regret (median, IQR)")
            ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=8)
        fig.tight_layout()
        os.makedirs(os.path.dirname(os.path.abspath(plot)), exist_ok=True)
        fig.savefig(plot, dpi=110)
    return table


def proposal_cost(sizes: tuple[int, ...] = (100, 500), repeats: int = 5) -> str:
    """Seconds per `BayesianOptimizer.suggest` on Hartmann6 with n random observations."""
    from keras_hpx.bayes import BayesianOptimizer
    from keras_hpx.space import Param, Space

    space = Space([Param(f"x{i}", "float", 0.0, 1.0) for i in range(6)])
    lines = ["| observations | first call (cold fit) | later calls (warm start), median | max |"]
    lines.append("|---|---|---|---|")
    for n in sizes:
        rng = np.random.default_rng(n)
        obs = []
        for _ in range(n):
            v = space.from_unit(rng.random(6))
            obs.append((v, hartmann6(v)))
        excluded = {space.key(v) for v, _ in obs}
        opt = BayesianOptimizer()
        times = []
        for _ in range(repeats + 1):
            t = time.perf_counter()
            opt.suggest(space, obs, rng, excluded=excluded)
            times.append(time.perf_counter() - t)
        warm = times[1:]
        lines.append(f"| {n} | {times[0]:.3f} s | {np.median(warm):.3f} s | {max(warm):.3f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    parser.add_argument("--first-seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--trials", type=int, default=40, help="trials per run (default 40)")
    parser.add_argument(
        "--problems", default=",".join(PROBLEMS), help="comma-separated, default all"
    )
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument("--out", default="bench_out/bayes", help="results directory")
    parser.add_argument("--plot", default=None, help="PNG path for the convergence plot")
    parser.add_argument("--report", action="store_true", help="only print the table")
    parser.add_argument(
        "--cost", action="store_true", help="only time proposals at --sizes observations"
    )
    parser.add_argument(
        "--sizes",
        default="100,500",
        help="observation counts for --cost, comma-separated (default 100,500)",
    )
    args = parser.parse_args(argv)
    if args.cost:
        print(proposal_cost(tuple(int(n) for n in args.sizes.split(",") if n)))
        return
    problems = [p for p in args.problems.split(",") if p]
    methods = [m for m in args.methods.split(",") if m]
    for name, valid in (("problems", PROBLEMS), ("methods", METHODS)):
        bad = [x for x in (problems if name == "problems" else methods) if x not in valid]
        if bad:
            parser.error(f"unknown {name} {bad}; expected some of {list(valid)}")
    os.makedirs(args.out, exist_ok=True)
    if not args.report:
        done = {(r["method"], r["problem"], r["seed"], r["trials"]) for r in _load(args.out)}
        path = os.path.join(args.out, "results.jsonl")
        # Seeds start at 1: Keras Tuner's Oracle reads `seed or random.randint(...)`,
        # so seed 0 would give unrepeatable runs.
        for seed in range(max(1, args.first_seed), max(1, args.first_seed) + args.seeds):
            for problem in problems:
                for method in methods:
                    if (method, problem, seed, args.trials) in done:
                        continue
                    t = time.perf_counter()
                    result = run_method(method, problem, seed, args.trials)
                    result.update(method=method, problem=problem, seed=seed, trials=args.trials)
                    with open(path, "a") as fh:
                        fh.write(json.dumps(result) + "\n")
                    if "values" in result:
                        f_star = PROBLEMS[problem][1]
                        reg = math.log10(max(min(result["values"]) - f_star, 1e-10))
                        print(
                            f"seed {seed} {problem:9s} {method:13s} log10 regret {reg:6.2f}  "
                            f"{np.mean(result['seconds']):.3f} s/proposal  "
                            f"({time.perf_counter() - t:.0f} s)",
                            flush=True,
                        )
                    else:
                        print(f"seed {seed} {problem} {method}: {result['error']}", flush=True)
    print(report(args.out, args.trials, args.plot))


if __name__ == "__main__":
    main()
