"""A many-worker load run of an oracle, and its figures (used by a test and a benchmark).

`run_load(name, n_workers, n_trials, out)` runs `tests/scripts/load_search.py`-style
script through `run_distributed` and returns a `LoadReport`: trials per second,
duplicates, lost trials, workers told STOPPED while work remained, the slowest
`create_trial`, and the chief's CPU use while every worker but one was idle.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from keras_hpx.testing.distributed import DistributedResult, run_distributed

__all__ = ["LoadReport", "load_report", "run_load"]


@dataclass(frozen=True)
class LoadReport:
    """Figures of one load run.

    Attributes:
        oracle: The oracle's name.
        workers: Worker processes.
        trials: Trials the chief recorded.
        completed: Of those, completed.
        duplicates: Configurations that ran more than once.
        lost: Trials some worker ran that the chief does not have as completed.
        stopped_early: Workers whose search returned before the last trial started.
        trials_per_second: Completed trials over the wall time from the first trial's
            start to the last one's end.
        slowest_create: The slowest `create_trial` call a worker saw (seconds).
        idle_chief_cpu: The chief's CPU use (fraction of one core) while all workers
            but one were idle.
        seconds: Wall time of the whole run.
    """

    oracle: str
    workers: int
    trials: int
    completed: int
    duplicates: int
    lost: int
    stopped_early: int
    trials_per_second: float
    slowest_create: float
    idle_chief_cpu: float
    seconds: float


def load_report(name: str, out: str, result: DistributedResult) -> LoadReport:
    """Reads the files a load run wrote under `out`."""
    chief = json.load(open(os.path.join(out, "chief.json")))
    workers = [
        json.load(open(os.path.join(out, f"tuner{i}.json"))) for i in range(len(result.workers))
    ]
    trials = chief["trials"]
    completed = {t["trial_id"] for t in trials if t["status"] == "COMPLETED"}
    configs = [tuple(sorted(t["values"].items())) for t in trials]
    ran = [r for w in workers for r in w["ran"]]
    last_start = max(r["start"] for r in ran)
    first_start = min(r["start"] for r in ran)
    last_end = max(r["end"] for r in ran)
    long_trial = max(ran, key=lambda r: r["end"] - r["start"])
    samples = json.load(open(os.path.join(out, "chief_cpu.json")))
    window = [
        (t, c) for t, c in samples if long_trial["start"] + 1.0 <= t <= long_trial["end"] - 0.5
    ]
    cpu = 0.0
    if len(window) >= 2:
        cpu = (window[-1][1] - window[0][1]) / max(window[-1][0] - window[0][0], 1e-9)
    return LoadReport(
        oracle=name,
        workers=len(workers),
        trials=len(trials),
        completed=len(completed),
        duplicates=len(configs) - len(set(configs)),
        lost=len({r["trial_id"] for r in ran} - completed),
        stopped_early=sum(1 for w in workers if w["returned"] < last_start),
        trials_per_second=len(completed) / max(last_end - first_start, 1e-9),
        slowest_create=max(s for w in workers for s in w["create_seconds"]),
        idle_chief_cpu=cpu,
        seconds=result.seconds,
    )


def run_load(
    script: str, name: str, n_workers: int, n_trials: int, out: str, timeout: float = 600
) -> tuple[DistributedResult, LoadReport | None]:
    """Runs the load script; the report is `None` when a process failed."""
    result = run_distributed(
        script,
        n_workers=n_workers,
        args=[name, str(n_trials), out],
        timeout=timeout,
        env={"KERAS_BACKEND": "jax", "OMP_NUM_THREADS": "1"},
    )
    if not result.ok:
        return result, None
    return result, load_report(name, out, result)
