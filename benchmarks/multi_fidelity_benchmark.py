"""Multi-fidelity search on recorded learning curves: anytime regret, side by side.

    python benchmarks/multi_fidelity_benchmark.py --seeds 20
    python benchmarks/multi_fidelity_benchmark.py --seeds 3 --methods hpx_random_asha kt_hyperband
    python benchmarks/multi_fidelity_benchmark.py --merge a.json b.json --out all.json

Every method searches the tables of `benchmarks/curves/data/` (real Keras runs recorded by
`benchmarks/curves/record.py`: 1,008 configurations x 27 epochs on scikit-learn's digits
and on a generated classification problem) through `benchmarks/curves/replay.py`, which
charges one epoch of budget per epoch read, as if training. The budget is counted in
full-training equivalents (FTE): one FTE is the epochs of one full run (27).

The score: the best validation value (`--objective`, `val_loss` by default) seen at any
epoch of any trial within the budget (a run keeps its best epoch, as Keras Tuner's
checkpoint does); regret is its distance to the best value in the whole table. Reported:
the median regret over seeds at each budget of `--budgets`; the epochs (in FTE) each
method needs to reach Keras Tuner Hyperband's median final quality (the lower median over
seeds of the first budget at which a seed's best is at least as good; "-" when fewer than
half of the seeds reach it); the median seconds spent inside each method per search. Writes every
trace to `--out` (JSON) and, with `--plot`, a picture of the median anytime regret.

Methods are the registry `benchmarks/curves/methods.py` (`--methods`, `--list`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.curves.methods import DEFAULT_METHODS, METHODS, get_method  # noqa: E402
from benchmarks.curves.replay import DATA_DIR, DIRECTIONS, CurveTable, Trace  # noqa: E402
from benchmarks.versions import package_versions  # noqa: E402

REFERENCE = "kt_hyperband"


def regret(table: CurveTable, objective: str, value: float) -> float:
    """How far `value` is from the table's best (>= 0; NaN when there is no value)."""
    best = table.optimum(objective)
    return value - best if DIRECTIONS[objective] == "min" else best - value


def regrets_at(
    table: CurveTable, traces: list[Trace], objective: str, budgets_epochs: list[int]
) -> np.ndarray:
    """`[seeds, budgets]` regrets of each trace's best within each budget."""
    return np.array(
        [[regret(table, objective, t.best_at(b)) for b in budgets_epochs] for t in traces]
    )


def epochs_to_reach(trace: Trace, target: float, direction: str) -> float:
    """The first cumulative epoch at which `trace`'s best is at least `target` (inf if never)."""
    best = np.asarray(trace.best, dtype=float)
    with np.errstate(invalid="ignore"):
        hit = best <= target if direction == "min" else best >= target
    where = np.flatnonzero(hit)
    return float(trace.epochs[where[0]]) if len(where) else math.inf


def median_or_none(values: list[float]) -> float | None:
    """The lower median (of an even count, the smaller middle value), or `None` when it is
    infinite: fewer than half of the values are finite (reached)."""
    if len(values) == 0:
        return None
    med = float(np.percentile(np.asarray(values, dtype=float), 50, method="lower"))
    return None if not math.isfinite(med) else med


def compact(trace: Trace) -> dict[str, Any]:
    """The trace with only the epochs where the best changed (and the last)."""
    epochs, best = np.asarray(trace.epochs), np.asarray(trace.best, dtype=float)
    keep = np.ones(len(best), bool)
    if len(best) > 1:
        same = (best[1:] == best[:-1]) | (np.isnan(best[1:]) & np.isnan(best[:-1]))
        keep[1:] = ~same
        keep[-1] = True
    return {
        "epochs": epochs[keep].tolist(),
        "best": [None if not math.isfinite(v) else float(v) for v in best[keep]],
        "total_epochs": trace.total_epochs,
        "trials": len(trace.trials),
        "stopped_early": int(sum(t[3] for t in trace.trials)),
        "method_seconds": trace.method_seconds,
    }


def from_compact(saved: dict[str, Any], objective: str) -> Trace:
    """A `Trace` back from `compact`'s dict: its anytime curve and cost (the trials'
    details are not saved; `trials` holds placeholders, one per trial, those stopped
    early first)."""
    best = [math.nan if v is None else float(v) for v in saved["best"]]
    stopped = int(saved.get("stopped_early", 0))
    placeholders = [(-1, -1, -1, True)] * stopped
    placeholders += [(-1, -1, -1, False)] * (int(saved["trials"]) - stopped)
    trace = Trace(objective, list(saved["epochs"]), best, [], placeholders)
    trace.method_seconds = float(saved["method_seconds"])
    return trace


def merge(paths: list[str], methods: list[str] | None = None) -> dict[str, Any]:
    """Joins result files of the same methods on other seeds (e.g. `--first-seed 20`
    added to a run of seeds 0-19), keeping only `methods` when given. Every method of a
    dataset must end with the same seeds, none twice. Replays are deterministic, so the
    result is the run of all seeds at once.
    """
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    objective = runs[0]["settings"]["objective"]
    budgets = runs[0]["settings"]["budgets_fte"]
    for path, saved in zip(paths, runs):
        if saved["settings"]["objective"] != objective:
            raise SystemExit(f"{path}: objective {saved['settings']['objective']}, not {objective}")
    datasets: dict[str, Any] = {}
    seeds_of: dict[tuple[str, str], list[int]] = {}
    for saved in runs:
        for name, entry in saved["datasets"].items():
            into = datasets.setdefault(
                name, {k: v for k, v in entry.items() if k != "methods"} | {"methods": {}}
            )
            for method, traces in entry["methods"].items():
                if methods is not None and method not in methods:
                    continue
                into["methods"].setdefault(method, []).extend(
                    from_compact(t, objective) for t in traces
                )
                seeds_of.setdefault((name, method), []).extend(saved["settings"]["seeds"])
    all_seeds: list[int] = []
    for (name, method), seeds in seeds_of.items():
        if len(set(seeds)) != len(seeds):
            raise SystemExit(f"{name} {method}: a seed appears twice in the merged files")
        if not all_seeds:
            all_seeds = seeds
        if sorted(seeds) != sorted(all_seeds):
            raise SystemExit(f"{name} {method}: seeds {sorted(seeds)}, not {sorted(all_seeds)}")
    return {
        "settings": {
            "objective": objective,
            "budgets_fte": budgets,
            "max_fte": max(budgets),
            "seeds": all_seeds,
            "methods": sorted({m for _, m in seeds_of}),
            "merged_from": paths,
        },
        "datasets": datasets,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Runs every method on every dataset for every seed; the JSON-ready results."""
    results: dict[str, Any] = {
        "settings": {
            "objective": args.objective,
            "budgets_fte": args.budgets,
            "max_fte": max(args.budgets),
            "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
            "methods": args.methods,
            "versions": package_versions(),
        },
        "datasets": {},
    }
    for dataset in args.datasets:
        table = CurveTable.load(dataset, args.data_dir)
        fte = table.full_training_epochs()
        budget = int(max(args.budgets) * fte)
        entry: dict[str, Any] = {
            "fte_epochs": fte,
            "optimum": table.optimum(args.objective),
            "methods": {},
        }
        results["datasets"][dataset] = entry
        for method in args.methods:
            traces = []
            for seed in results["settings"]["seeds"]:
                start = time.perf_counter()
                trace = get_method(method)(table, budget, seed, args.objective)
                traces.append(trace)
                final = regret(table, args.objective, trace.best_at(budget))
                print(
                    f"{dataset} {method} seed {seed}: regret {final:.4g}, "
                    f"{len(trace.trials)} trials, {trace.method_seconds:.1f} s in the method, "
                    f"{time.perf_counter() - start:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            entry["methods"][method] = traces
    return results


def summarise(results: dict[str, Any], data_dir: str | os.PathLike) -> str:
    """The markdown tables (one per dataset)."""
    settings = results["settings"]
    objective, budgets = settings["objective"], settings["budgets_fte"]
    direction = DIRECTIONS[objective]
    lines = []
    for dataset, entry in results["datasets"].items():
        table = CurveTable.load(dataset, data_dir)
        fte = entry["fte_epochs"]
        methods: dict[str, list[Trace]] = entry["methods"]
        target = None
        if REFERENCE in methods:
            finals = [t.best_at(max(budgets) * fte) for t in methods[REFERENCE]]
            target = float(np.nanmedian(finals))
        lines.append(
            f"\n### {dataset}: median regret of the best {objective} (optimum "
            f"{entry['optimum']:.4f}; {len(settings['seeds'])} seeds; budgets in "
            f"full trainings of {fte} epochs)\n"
        )
        reach = f"FTE to reach {REFERENCE}'s final median" if target is not None else None
        head = ["method", *[f"{b} FTE" for b in budgets]]
        head += [reach] if reach else []
        head += ["trials", "s in method"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|" + "---:|" * (len(head) - 1))
        for method, traces in methods.items():
            r = regrets_at(table, traces, objective, [int(b * fte) for b in budgets])
            cells = [f"{v:.4f}" for v in np.nanmedian(r, axis=0)]
            if target is not None:
                med = median_or_none([epochs_to_reach(t, target, direction) for t in traces])
                cells.append("-" if med is None else f"{med / fte:.1f}")
            cells.append(f"{np.median([len(t.trials) for t in traces]):.0f}")
            cells.append(f"{np.median([t.method_seconds for t in traces]):.1f}")
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, Any], data_dir: str | os.PathLike, path: str) -> None:
    """Median anytime regret (with the interquartile band) per method and dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = results["settings"]
    objective, max_fte = settings["objective"], settings["max_fte"]
    datasets = results["datasets"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.5), squeeze=False)
    for ax, (dataset, entry) in zip(axes[0], datasets.items()):
        table = CurveTable.load(dataset, data_dir)
        fte = entry["fte_epochs"]
        grid = np.unique(np.geomspace(fte / 3, max_fte * fte, 80).astype(int))
        for method, traces in entry["methods"].items():
            r = regrets_at(table, traces, objective, list(grid))
            q25, med, q75 = np.nanpercentile(r, [25, 50, 75], axis=0)
            floor = 1e-4
            ax.plot(grid / fte, np.maximum(med, floor), label=method)
            ax.fill_between(grid / fte, np.maximum(q25, floor), np.maximum(q75, floor), alpha=0.15)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("budget (full-training equivalents)")
        ax.set_ylabel(f"regret of the best {objective}")
        ax.set_title(dataset)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=["digits", "generated"])
    parser.add_argument("--methods", nargs="+", default=None, help="defaults to the default set")
    parser.add_argument("--objective", choices=["val_loss", "val_accuracy"], default="val_loss")
    parser.add_argument("--budgets", type=float, nargs="+", default=[5, 10, 20, 30, 50])
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--out", default="bench_out/multi_fidelity.json")
    parser.add_argument("--plot", default=None, help="a .png path for the anytime curves")
    parser.add_argument("--list", action="store_true", help="list the registered methods")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="instead of running: join result files of the same methods on other seeds",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in METHODS.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return
    if args.merge:
        results = merge(args.merge, args.methods)
    else:
        args.methods = args.methods or DEFAULT_METHODS
        for method in args.methods:
            get_method(method)  # fail before any work on a wrong name
        results = run(args)
    print(summarise(results, args.data_dir))
    out = {
        "settings": results["settings"],
        "datasets": {
            name: {
                **{k: v for k, v in entry.items() if k != "methods"},
                "methods": {m: [compact(t) for t in ts] for m, ts in entry["methods"].items()},
            }
            for name, entry in results["datasets"].items()
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f)
    if args.plot:
        plot(results, args.data_dir, args.plot)


if __name__ == "__main__":
    main()
