"""Multi-fidelity search on real training (digits): Keras Tuner's Hyperband against keras-hpx.

    python benchmarks/multi_fidelity_real.py --seeds 3 --methods kt_hyperband
    python benchmarks/multi_fidelity_real.py --seeds 3 --methods hpx_bo_asha hpx_random_asha
    python benchmarks/multi_fidelity_real.py --report

The confirmation, on real `model.fit` runs, of the recorded-curve benchmark
(`multi_fidelity_benchmark.py`): the same space of 1,008 MLPs and the same digits split
(`benchmarks/curves/record.py`), up to 27 epochs a trial, minimising `val_loss`.

- `kt_hyperband`: `keras_tuner.Hyperband(max_epochs=27, factor=3, hyperband_iterations=1)`,
  which sets its own epoch budget (one Hyperband iteration).
- `hpx_bo_hyperband`: `BayesianOracle` + `WeakTrialStopping(rule="hyperband")` (the
  multi-fidelity method), `hpx_bo_asha`: the same with `rule="asha"`,
  `hpx_random_asha`: `RandomOracle` + `rule="asha"`, `hpx_bo`: `BayesianOracle` without
  stopping. Each gets `max_epochs` = the epochs Hyperband
  trained with the same seed (`--budget` overrides), so the costs are equal.

Every epoch trained is counted by a callback (Hyperband's resumed trials count only the
epochs they train), with its `val_loss` and the wall clock since the search started.
Reported per method (median over seeds): the best `val_loss` at any epoch within the
budget, the epochs and wall seconds to reach Hyperband's final best of the same seed
("-" when not reached), the epochs and wall seconds of the whole search, and trials.
Everything runs in one process on one core (as the recording); results are appended to
`--out` (JSON lines) as each search ends, and a search already there is skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One core, set before NumPy, JAX or Keras is imported (`record` sets the threads).
from benchmarks.curves import record  # noqa: E402, I001

import numpy as np  # noqa: E402

MAX_EPOCHS = record.EPOCHS
METHODS = ("kt_hyperband", "hpx_bo_hyperband", "hpx_bo_asha", "hpx_random_asha", "hpx_bo")
# The stopping rule of each keras-hpx method (`None`: no stopping).
RULES = {
    "hpx_bo_hyperband": "hyperband",
    "hpx_bo_asha": "asha",
    "hpx_random_asha": "asha",
    "hpx_bo": None,
}


def hyperparameters() -> Any:
    """The recorded space as Keras Tuner hyperparameters."""
    import keras_tuner as kt

    hp = kt.HyperParameters()
    for name, values in record.SPACE.items():
        hp.Choice(name, values, ordered=not isinstance(values[0], str))
    return hp


def hypermodel(n_features: int, n_classes: int) -> Any:
    """A `HyperModel` building `record.build_model` and fitting with the trial's batch size."""
    import keras_tuner as kt

    class MLP(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            return record.build_model(dict(hp.values), n_features, n_classes)

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            return model.fit(*args, batch_size=hp.get("batch_size"), **kwargs)

    return MLP()


def epoch_log(start: float, log: list[tuple[float, float]]) -> Any:
    """A callback appending `(val_loss, seconds since start)` at every epoch trained."""
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            value = (logs or {}).get("val_loss", math.nan)
            log.append((float(value), time.perf_counter() - start))

    return EpochLog()


def run(
    method: str, seed: int, budget: int | None, workdir: Path, max_epochs: int = MAX_EPOCHS
) -> dict[str, Any]:
    """One search; returns its per-epoch log and summary."""
    import keras_tuner as kt

    from keras_hpx import BayesianOracle, RandomOracle, WeakTrialStopping

    x_train, y_train, x_val, y_val = record.load_dataset("digits")
    model = hypermodel(x_train.shape[1], int(y_train.max()) + 1)
    directory = workdir / f"{method}_{seed}"
    shutil.rmtree(directory, ignore_errors=True)
    common = {"directory": str(directory), "project_name": "p", "overwrite": True}
    callbacks: list[Any] = []
    if method == "kt_hyperband":
        tuner = kt.Hyperband(
            model,
            objective="val_loss",
            max_epochs=max_epochs,
            factor=3,
            hyperband_iterations=1,
            seed=seed,
            hyperparameters=hyperparameters(),
            **common,
        )
    else:
        if budget is None:
            raise ValueError(f"{method} needs --budget or a kt_hyperband result for seed {seed}.")
        oracle_class = RandomOracle if method == "hpx_random_asha" else BayesianOracle
        oracle = oracle_class(
            objective="val_loss",
            max_trials=None,
            max_epochs=budget,
            hyperparameters=hyperparameters(),
            seed=seed,
        )
        tuner = kt.Tuner(oracle=oracle, hypermodel=model, **common)
        rule = RULES[method]
        if rule is not None:
            callbacks.append(WeakTrialStopping(monitor="val_loss", rule=rule))
    log: list[tuple[float, float]] = []
    start = time.perf_counter()
    tuner.search(
        x_train,
        y_train,
        epochs=max_epochs,
        validation_data=(x_val, y_val),
        validation_batch_size=len(x_val),
        callbacks=[*callbacks, epoch_log(start, log)],
        verbose=0,
    )
    wall = time.perf_counter() - start
    shutil.rmtree(directory, ignore_errors=True)
    values = [v for v, _ in log]
    if budget is not None:
        values = values[:budget]  # the last trial may finish its epoch past the budget
    best = float(np.nanmin(values)) if values else math.nan
    return {
        "method": method,
        "seed": seed,
        "budget": budget,
        "epochs": len(log),
        "trials": len(tuner.oracle.trials),
        "wall_s": wall,
        "best_val_loss": best,
        "log": log,
    }


def reach(result: dict[str, Any], target: float) -> tuple[float, float]:
    """Epochs and seconds until the running best is at or below `target` (inf: never)."""
    best = math.inf
    for i, (value, seconds) in enumerate(result["log"]):
        best = min(best, value) if math.isfinite(value) else best
        if best <= target:
            return float(i + 1), seconds
    return math.inf, math.inf


def load(path: Path) -> list[dict[str, Any]]:
    """Every recorded search of `path` (JSON lines)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def report(results: list[dict[str, Any]]) -> str:
    """The Markdown table of medians over seeds (seeds with a Hyperband result only)."""
    hyperband = {r["seed"]: r for r in results if r["method"] == "kt_hyperband"}
    lines = [
        "| method | best val_loss | epochs to Hyperband's best | wall s to Hyperband's best "
        "| epochs | wall s | trials | seeds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def med(values: list[float]) -> str:
        if not values:
            return "-"
        m = float(np.percentile(values, 50, method="lower"))
        return "-" if not math.isfinite(m) else f"{m:.4g}"

    for method in METHODS:
        rows = [r for r in results if r["method"] == method and r["seed"] in hyperband]
        if not rows:
            continue
        to_reach = [reach(r, hyperband[r["seed"]]["best_val_loss"]) for r in rows]
        lines.append(
            f"| {method} | {med([r['best_val_loss'] for r in rows])} "
            f"| {med([e for e, _ in to_reach])} | {med([s for _, s in to_reach])} "
            f"| {med([r['epochs'] for r in rows])} | {med([r['wall_s'] for r in rows])} "
            f"| {med([r['trials'] for r in rows])} | {len(rows)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--budget", type=int, default=None, help="epochs (default: Hyperband's)")
    parser.add_argument("--out", default="bench_out/multi_fidelity_real.jsonl")
    parser.add_argument("--workdir", default="bench_out/multi_fidelity_real_runs")
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS, help="epochs a trial")
    parser.add_argument("--report", action="store_true", help="only print the table")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for method in args.methods:
                done = load(out)
                if any(r["method"] == method and r["seed"] == seed for r in done):
                    continue
                budget = args.budget
                if budget is None and method != "kt_hyperband":
                    hb = [r for r in done if r["method"] == "kt_hyperband" and r["seed"] == seed]
                    budget = hb[0]["epochs"] if hb else None
                result = run(method, seed, budget, Path(args.workdir), args.max_epochs)
                with out.open("a") as f:
                    f.write(json.dumps(result) + "\n")
                print(
                    f"{method} seed {seed}: best val_loss {result['best_val_loss']:.4f}, "
                    f"{result['epochs']} epochs, {result['trials']} trials, "
                    f"{result['wall_s']:.0f} s",
                    flush=True,
                )
    print(report(load(out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
