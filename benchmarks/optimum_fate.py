"""What a search did with the table's best configurations: tried? trained to the end? stopped?

    python benchmarks/optimum_fate.py --dataset generated --method hpx_bo_hyperband --seeds 20

A multi-fidelity method can lose in two ways: it never proposes the best configurations, or
it proposes them and its stopping rule cuts them before they show their worth (a slow
starter judged at an early rung). The anytime regret of `multi_fidelity_benchmark.py`
cannot tell the two apart; this script can. For each seed it replays the method on the
recorded curves (`benchmarks/curves/replay.py`) and reports, for each of the table's `--top`
configurations (ranked by their best epoch, the benchmark's score), the trial that tried it,
the epochs it trained and whether it was stopped early. The summary line counts, over
seeds, how often the best configuration was tried, trained to the end, and stopped.

Also printed: where the top configurations rank at the first rungs (epochs 1, 3 and 9)
among all configurations of the table, a property of the problem (how slowly its best
configurations start).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Importing this module sets no environment variable (the tests import it); `main` chooses
# the backend before any method imports Keras.
from benchmarks.curves.methods import get_method  # noqa: E402
from benchmarks.curves.replay import DIRECTIONS, CurveTable, Trace  # noqa: E402


@dataclass(frozen=True)
class Visit:
    """One trial of a top configuration: its rank in the table (0 = the best), the trial's
    position in the search, the epochs it trained and whether it was stopped early."""

    rank: int
    trial: int
    epochs: int
    stopped: bool


def top_configurations(table: CurveTable, objective: str, k: int) -> list[int]:
    """Indices of the table's `k` best configurations by their best epoch, best first."""
    values = table.arrays[objective]
    if DIRECTIONS[objective] == "min":
        best = np.nanmin(values, axis=1)
    else:
        best = -np.nanmax(values, axis=1)
    return [int(i) for i in np.argsort(best, kind="stable")[:k]]


def visits(trace: Trace, top: list[int]) -> list[Visit]:
    """The trials of `trace` that tried one of `top`, in search order."""
    rank = {index: r for r, index in enumerate(top)}
    return [
        Visit(rank[index], n, int(trained), bool(stopped))
        for n, (index, _, trained, stopped) in enumerate(trace.trials)
        if index in rank
    ]


def early_ranks(table: CurveTable, objective: str, top: list[int], epochs: list[int]) -> list:
    """For each of `top`: its best-so-far's percentile among all configurations after each
    of `epochs` (0 = best of all)."""
    values = table.arrays[objective]
    sign = 1.0 if DIRECTIONS[objective] == "min" else -1.0
    out = []
    for index in top:
        row = []
        for e in epochs:
            best_so_far = sign * np.nanmin(sign * values[:, :e], axis=1)
            row.append(float(np.mean(sign * best_so_far < sign * best_so_far[index])))
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="generated")
    parser.add_argument("--method", default="hpx_bo_hyperband")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=50.0, help="in full-training equivalents")
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--objective", choices=["val_loss", "val_accuracy"], default="val_loss")
    args = parser.parse_args(argv)

    table = CurveTable.load(args.dataset)
    top = top_configurations(table, args.objective, args.top)
    rungs = [1, 3, 9]
    print(f"{args.dataset}: the top {args.top} configurations' percentile among all after")
    for r, row in enumerate(early_ranks(table, args.objective, top, rungs)):
        cells = ", ".join(f"{e} epochs {p:.0%}" for e, p in zip(rungs, row))
        print(f"  top {r}: {cells}")
    method = get_method(args.method)
    budget = int(round(args.budget * table.full_training_epochs()))
    tried = full = stopped = 0
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        trace = method(table, budget, seed, args.objective)
        seen = visits(trace, top)
        best = [v for v in seen if v.rank == 0]
        tried += bool(best)
        full += any(not v.stopped for v in best)
        stopped += bool(best) and all(v.stopped for v in best)
        cells = " ".join(
            f"top{v.rank}@trial{v.trial}:{v.epochs}ep{' stopped' if v.stopped else ''}"
            for v in seen
        )
        print(f"seed {seed}: {len(trace.trials)} trials; {cells or 'none tried'}", flush=True)
    print(
        f"{args.method} on {args.dataset}, {args.budget:g} FTE, {len(seeds)} seeds: the best "
        f"configuration tried in {tried}, trained to the end in {full}, only stopped in {stopped}"
    )


if __name__ == "__main__":
    main()
