"""`TrialLogger`: a CSV of finished trials and one progress line per trial, no TensorBoard needed.

Rows and lines are formatted by `keras_hpx.report` (the same CSV the keras-hpx
oracles write), so a search with any Keras Tuner oracle gets them too. Importing
this module imports neither TensorBoard nor protobuf.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from keras_hpx import report
from keras_hpx.callbacks._names import safe_name
from keras_hpx.callbacks._sessions import Record, TrialCallback, check_log_dir, worker_id
from keras_hpx.checks import check_int, invalid

__all__ = ["TrialLogger"]


class TrialLogger(TrialCallback):
    """Appends each finished trial to `log_dir/trials.csv` and prints its progress line.

    A row holds `trial_id, status, score, seconds, stopped_reason`, the active
    hyperparameters and `metric:<name>` columns (each metric at the trial's best
    epoch, averaged over executions, as Keras Tuner reports them).
    `stopped_reason` is set when a run trained fewer epochs than planned, whatever
    stopped it: `WeakTrialStopping`'s record (`"at epoch 3 by median: ..."`), else
    `"stop_training"` (Keras' `EarlyStopping` or any `model.stop_training`). Statuses:
    `COMPLETED`; `FAILED` or `INVALID` (the oracle's word) for a trial whose `fit`
    raised or whose model failed to build, written when the next trial starts in
    this process or at exit (or by `close()`). A retried trial's row is replaced.
    Distributed workers each write `trials-<worker id>.csv`.

    Args:
        log_dir: Directory of the CSV (created on first write).
        filename: CSV file name. Defaults to `"trials.csv"`.
        verbose: `1` (or more) prints one line per finished trial: `[k/N] trial id
            status score | best | elapsed | ~time left`; `0` prints nothing.
            Defaults to `1`.
        total: Number of trials planned, for "k of N" and the time left.
            Defaults to `None` (the oracle's `max_trials`, or its expected count).
        hparams: Hyperparameter values of a plain `model.fit`. Defaults to `None`.
        objective: The score of a plain `model.fit` (a metric name or
            `(name, direction)`); inside a search the oracle's. Defaults to `None`.
        run_name: Row name of a plain `model.fit`. Defaults to `None` (a time stamp).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        filename: str = "trials.csv",
        verbose: int = 1,
        total: int | None = None,
        hparams: Any = None,
        objective: Any = None,
        run_name: str | None = None,
    ):
        check_log_dir(log_dir)
        plain = "a plain file name (no directory)"
        if not isinstance(filename, str):
            raise invalid("filename", filename, plain, TypeError)
        if not filename or os.sep in filename or (os.altsep and os.altsep in filename):
            raise invalid("filename", filename, plain)
        verbose = check_int("verbose", verbose, 0)
        total = check_int("total", total, 1, allow_none=True)
        super().__init__(hparams=hparams, objective=objective, run_name=run_name)
        self.log_dir = os.fspath(log_dir)
        self.filename = filename
        self.verbose = verbose
        self.total = total

    @property
    def path(self) -> str:
        """The CSV file (per worker in distributed mode)."""
        worker = worker_id()
        name = self.filename
        if worker:
            stem, ext = os.path.splitext(name)
            name = f"{stem}-{safe_name(worker)}{ext}"
        return os.path.join(self.log_dir, name)

    def _csv(self) -> report.TrialsCSV:
        state = self._shared.state
        csv = state.get("csv")
        if csv is None or csv.path != self.path:
            csv = state["csv"] = report.TrialsCSV(self.path)
        return csv

    def _has_record(self, trial_id: str) -> bool:
        return any(r.get("trial_id") == trial_id for r in self._csv().rows())

    # ----- hooks --------------------------------------------------------------------------

    def _open(self, record: Record) -> None:
        state = self._shared.state
        with self._shared.lock:
            state.setdefault("t0", record.start)
            state.setdefault("starts", {}).setdefault(record.trial_id, record.start)
        self._flush_partial(keep=record.trial_id)

    def _epoch(self, record: Record, epoch: int, logs: dict) -> None:
        pass

    def _close(self, record: Record, status: str) -> None:
        state = self._shared.state
        with self._shared.lock:
            if status != "SUCCESS":
                kt_status = getattr(record.trial, "status", None)
                row_status = kt_status if kt_status in ("FAILED", "INVALID") else "FAILED"
                error = record.error
                if error is None:
                    error = report.error_line(getattr(record.trial, "message", None), limit=500)
                state.get("execs", {}).pop(record.trial_id, None)
                self._write(record, row_status, None, {}, "", error)
                return
            _, score, logs = record.best()
            execs = state.setdefault("execs", {}).setdefault(record.trial_id, [])
            execs.append((record, score, logs))
            if len(execs) < record.n_executions:
                return  # the trial's other executions are still to come
        self._write_completed(record.trial_id)

    def _write_completed(self, trial_id: str) -> None:
        """One row for a trial's executions: score and metrics averaged, as Keras Tuner does."""
        with self._shared.lock:
            execs = self._shared.state.get("execs", {}).pop(trial_id, None)
        if not execs:
            return
        scores = [s for _, s, _ in execs if s is not None]
        score = sum(scores) / len(scores) if scores else None
        metrics: dict[str, float] = {}
        for name in dict.fromkeys(k for _, _, logs in execs for k in logs):
            values = [logs[name] for _, _, logs in execs if name in logs]
            metrics[name] = sum(values) / len(values)
        reasons = "; ".join(
            dict.fromkeys(r.stopped_reason for r, _, _ in execs if r.stopped_reason)
        )
        self._write(execs[-1][0], "COMPLETED", score, metrics, reasons)

    def _flush_partial(self, keep: str | None = None) -> None:
        """Writes trials that ran fewer fits than `executions_per_trial` (a custom `run_trial`)."""
        with self._shared.lock:
            pending = [t for t in self._shared.state.get("execs", {}) if t != keep]
        for trial_id in pending:
            self._write_completed(trial_id)

    def close(self) -> None:
        super().close()
        self._flush_partial()

    def _write(
        self,
        record: Record,
        status: str,
        score: float | None,
        metrics: dict,
        reason: str,
        error: str | None = None,
    ) -> None:
        state = self._shared.state
        start = state.get("starts", {}).pop(record.trial_id, record.start)
        end = record.end or time.time()
        try:
            self._csv().append(
                record.trial_id,
                status,
                score,
                end - start,
                record.hparams,
                metrics,
                reason or None,
                error,
            )
        except Exception as e:  # the log is a courtesy: the trial it describes stands
            print(f"TrialLogger: could not write {self.path}: {e!r}", flush=True)
        done = state["done"] = state.get("done", 0) + 1
        if score is not None and math.isfinite(score):
            state.setdefault("scores", []).append(score)
        if self.verbose:
            objective = record.objective
            direction = objective.direction if objective else "min"
            print(
                report.progress_line(
                    done=done,
                    total=self._total(record),
                    trial_id=record.trial_id,
                    status=status,
                    score=score,
                    best=report.best_of(state.get("scores", []), direction),
                    elapsed=end - state.get("t0", start),
                    values=record.hparams,
                    objective=objective.name if objective else "score",
                ),
                flush=True,
            )

    def _total(self, record: Record) -> int | None:
        if self.total is not None:
            return self.total
        oracle = record.oracle
        if oracle is None:
            return None
        total = getattr(oracle, "max_trials", None)
        expected = getattr(oracle, "expected_trials", None)
        if callable(expected):
            try:
                n = expected()
            except Exception:
                n = None
            if n is not None:
                total = n if total is None else min(total, n)
        return total
