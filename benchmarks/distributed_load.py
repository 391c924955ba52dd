"""Many workers, near-instant trials: throughput, duplicates, lost trials, chief CPU.

    python benchmarks/distributed_load.py --workers 8 --trials 300 --oracles grid random bayes

Runs `tests/scripts/load_search.py` as a chief and N worker processes on 127.0.0.1 per
oracle, one oracle at a time, and prints a Markdown table (the one in
docs/benchmarks.md). Near-instant trials make the oracle and gRPC the bottleneck; the
last trial sleeps 4 s so the chief's CPU can be read while every other worker is IDLE.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_hpx.testing.load import run_load  # noqa: E402

SCRIPT = str(ROOT / "tests" / "scripts" / "load_search.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--bayes-trials", type=int, default=None, help="default: --trials")
    parser.add_argument("--oracles", nargs="+", default=["grid", "random", "bayes"])
    args = parser.parse_args()
    rows = []
    for name in args.oracles:
        n = args.bayes_trials if name == "bayes" and args.bayes_trials else args.trials
        with tempfile.TemporaryDirectory() as out:
            result, report = run_load(SCRIPT, name, args.workers, n, out, timeout=1200)
        if report is None:
            print(result.report(), file=sys.stderr)
            raise SystemExit(f"{name}: a process failed")
        rows.append(report)
        print(report, file=sys.stderr)
    print(
        "| oracle | workers | trials | duplicates | lost | told STOPPED early | "
        "trials/s | slowest create_trial (s) | chief CPU while idle | wall (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.oracle} | {r.workers} | {r.completed} | {r.duplicates} | {r.lost} | "
            f"{r.stopped_early} | {r.trials_per_second:.1f} | {r.slowest_create:.2f} | "
            f"{r.idle_chief_cpu:.0%} | {r.seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
