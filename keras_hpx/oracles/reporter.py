"""What a user reads as a search runs: one `trials.csv` row and one progress line per trial.

`TrialReporter` turns a finished Keras Tuner trial into a `report.TrialsCSV`
row (`<directory>/<project_name>/trials.csv`) and, with `progress=True`, a
printed line. A failed write warns and never ends the search.

With an epoch budget (`max_epochs`), the CSV gets a column `epochs_trained`
(the trial's epochs, all executions) and the progress line the search's
epochs, `epochs 120/500`; its time-left estimate is then the earlier of the
trials' and the epochs' estimates.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from keras_hpx import report
from keras_hpx.records import EarlyStop, Status

__all__ = ["EPOCHS_COLUMN", "SearchSnapshot", "TrialReporter", "progress_line"]


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
        epochs: Epochs trained over all trials (`HpxOracle.epochs_trained`), or
            `None`.
        max_epochs: The epoch budget, or `None` when there is none.
    """

    done: int
    total: int | None
    best: float | None
    elapsed: float
    objective: str
    front: tuple[str, ...] | None = None
    epochs: int | None = None
    max_epochs: int | None = None

    def time_left(self) -> float | None:
        """Seconds left by the trials (`done` of `total`) or by the epochs (`epochs`
        of `max_epochs`), whichever ends the search first; `None` when neither tells."""
        estimates = []
        if self.total and self.done:
            estimates.append(self.elapsed / self.done * max(self.total - self.done, 0))
        if self.max_epochs and self.epochs:
            estimates.append(self.elapsed / self.epochs * max(self.max_epochs - self.epochs, 0))
        return min(estimates) if estimates else None


EPOCHS_COLUMN = "epochs_trained"
"""`trials.csv` column (with `max_epochs`): the epochs a trial trained, all executions."""


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
        epochs: int | None = None,
    ) -> None:
        """Reports one finished trial.

        Args:
            trial: The Keras Tuner trial (status, score, metrics, message).
            values: Its active hyperparameter values.
            seconds: Its wall time, or `None`.
            stop: Its early stop, if it was stopped early.
            project_dir: `<directory>/<project_name>`, or `None`.
            snapshot: The search, for the progress line.
            epochs: The epochs the trial trained, for the `epochs_trained`
                column; `None` adds no column. Defaults to `None`.
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
                if epochs is not None:
                    csv.set_column(EPOCHS_COLUMN, {trial.trial_id: epochs})
            except Exception as e:  # the file is a courtesy: the search goes on
                warnings.warn(
                    f"keras-hpx: could not write trial {trial.trial_id}'s row to {csv.path}: {e!r}",
                    stacklevel=2,
                )
        if self.progress:
            print(progress_line(trial, values, stop, snapshot), flush=True)


def progress_line(
    trial: Any, values: dict, stop: EarlyStop | None, snapshot: SearchSnapshot
) -> str:
    """`report.progress_line` for a finished trial; with an epoch budget, `epochs 120/500`
    after the times (elapsed, left), and the time left by trials or epochs."""
    common: dict[str, Any] = dict(
        done=snapshot.done,
        total=snapshot.total,
        trial_id=trial.trial_id,
        status=trial.status + (" (stopped early)" if stop is not None else ""),
        score=trial.score,
        best=snapshot.best,
        elapsed=snapshot.elapsed,
        objective=snapshot.objective,
        front=None if snapshot.front is None else len(snapshot.front),
    )
    if snapshot.max_epochs is None:
        return report.progress_line(values=values, **common)
    common["time_left"] = snapshot.time_left()
    plain = report.progress_line(**common)
    full = report.progress_line(values=values, **common)
    budget = f" | epochs {snapshot.epochs or 0}/{snapshot.max_epochs}"
    # The values come last: the search's epochs go before them, beside the time.
    return plain + budget + full[len(plain) :] if full.startswith(plain) else full + budget


def last_metrics(trial: Any) -> dict[str, float]:
    """`{name: last value}` of a Keras Tuner trial's metrics (empty if unreadable)."""
    out: dict[str, float] = {}
    try:
        for name in trial.metrics.metrics:
            out[name] = trial.metrics.get_last_value(name)
    except Exception:  # metrics are a courtesy in the CSV
        return {}
    return out
