"""What a user reads as a search runs: one `trials.csv` row and one progress line per trial.

`TrialReporter` turns a finished Keras Tuner trial into a `report.TrialsCSV`
row (`<directory>/<project_name>/trials.csv`) and, with `progress=True`, a
printed line. A failed write warns and never ends the search.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from keras_hpx import report
from keras_hpx.records import EarlyStop, Status

__all__ = ["SearchSnapshot", "TrialReporter"]


@dataclass(frozen=True)
class SearchSnapshot:
    """The search as a progress line shows it.

    Attributes:
        done: Trials ended so far.
        total: Trials planned, or `None` when unknown.
        best: Best score so far, or `None`.
        elapsed: Seconds of search (summed over resumes).
        objective: The objective's name.
        front: Ids of the Pareto front's trials (several objectives), else `None`.
    """

    done: int
    total: int | None
    best: float | None
    elapsed: float
    objective: str
    front: tuple[str, ...] | None = None


class TrialReporter:
    """Writes `trials.csv` rows and progress lines.

    Args:
        progress: Print one line per finished trial. Defaults to `False`.
    """

    def __init__(self, progress: bool = False):
        self.progress = bool(progress)
        self._csv: report.TrialsCSV | None = None

    def csv_for(self, project_dir: str | None) -> report.TrialsCSV | None:
        """The CSV of the project, or `None` before the tuner has set a directory."""
        if project_dir is None:
            return None
        path = os.path.join(project_dir, "trials.csv")
        if self._csv is None or self._csv.path != path:
            self._csv = report.TrialsCSV(path)
        return self._csv

    def trial_ended(
        self,
        trial: Any,
        values: dict,
        seconds: float | None,
        stop: EarlyStop | None,
        project_dir: str | None,
        snapshot: SearchSnapshot,
    ) -> None:
        """Reports one finished trial.

        Args:
            trial: The Keras Tuner trial (status, score, metrics, message).
            values: Its active hyperparameter values.
            seconds: Its wall time, or `None`.
            stop: Its early stop, if it was stopped early.
            project_dir: `<directory>/<project_name>`, or `None`.
            snapshot: The search, for the progress line.
        """
        metrics = last_metrics(trial)
        error = report.error_line(trial.message) if trial.status == Status.FAILED else None
        csv = self.csv_for(project_dir)
        if csv is not None:
            try:
                csv.append(
                    trial.trial_id,
                    trial.status,
                    trial.score,
                    seconds,
                    values,
                    metrics,
                    stop.describe() if stop is not None else None,
                    error=error,
                )
                if snapshot.front is not None:  # several objectives: the front may change
                    csv.set_column("pareto", dict.fromkeys(snapshot.front, 1), default=0)
            except OSError as e:
                warnings.warn(f"Could not write {csv.path}: {e}", stacklevel=2)
        if self.progress:
            print(
                report.progress_line(
                    done=snapshot.done,
                    total=snapshot.total,
                    trial_id=trial.trial_id,
                    status=trial.status + (" (stopped early)" if stop is not None else ""),
                    score=trial.score,
                    best=snapshot.best,
                    elapsed=snapshot.elapsed,
                    values=values,
                    objective=snapshot.objective,
                    front=None if snapshot.front is None else len(snapshot.front),
                ),
                flush=True,
            )


def last_metrics(trial: Any) -> dict[str, float]:
    """`{name: last value}` of a Keras Tuner trial's metrics (empty if unreadable)."""
    out: dict[str, float] = {}
    try:
        for name in trial.metrics.metrics:
            out[name] = trial.metrics.get_last_value(name)
    except Exception:  # metrics are a courtesy in the CSV
        return {}
    return out
