"""Per-trial results a user can read without TensorBoard: a CSV and a progress line.

Pure Python; shared by the oracles (which see every trial end, failed ones
included) and by the callbacks.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from keras_hpx.files import atomic_write_text

__all__ = [
    "BASE_COLUMNS",
    "HP_PREFIX",
    "METRIC_PREFIX",
    "TrialsCSV",
    "best_of",
    "error_line",
    "format_duration",
    "hp_column",
    "progress_line",
]

BASE_COLUMNS = ("trial_id", "status", "score", "seconds", "stopped_reason", "error")
RESERVED_COLUMNS = frozenset(BASE_COLUMNS) | {"pareto"}
"""Columns a hyperparameter's name may not take (`pareto`: several objectives only)."""
METRIC_PREFIX = "metric:"
HP_PREFIX = "hp:"


def hp_column(name: str) -> str:
    """The CSV column of hyperparameter `name`: the name itself, or `hp:<name>` when it
    would clash with a base column (`score`, `status`, ...) or look like a prefixed one."""
    if name in RESERVED_COLUMNS or name.startswith((METRIC_PREFIX, HP_PREFIX)):
        return HP_PREFIX + name
    return name


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(value) else str(float(value))
    return value


class TrialsCSV:
    """A CSV of trials, one row per finished trial, appended as trials end.

    The columns are `trial_id, status, score, seconds, stopped_reason, error`, then one
    column per hyperparameter (named as the hyperparameter, or `hp:<name>` when that
    name is a base column, see `hp_column`) and one per metric (prefixed `metric:`). When a
    new hyperparameter or metric appears, the file is rewritten once with the
    wider header (atomically); otherwise rows are appended.

    Args:
        path: The CSV file. Its directory is created on first write.
    """

    def __init__(self, path: str):
        self.path = str(path)
        self._columns: list[str] | None = None
        self._rows: list[dict] = []
        self._ids: set[str | None] = set()
        self._clean = True  # the file can be appended to
        self._lock = threading.Lock()

    def _load(self) -> None:
        """Reads the file back; damage costs only the rows it touched.

        A row with too many or too few cells (a cut last line, a line glued to it),
        or without a trial id, is dropped; a file that is not UTF-8 text or whose
        header has no `trial_id` column is unreadable as a whole. Either way a warning
        names the file, the original is kept as `<path>.damaged`, and the next write
        rewrites the file clean (appending would glue the next row to a cut line).
        """
        self._columns, self._rows = [], []
        self._ids = set()
        self._clean = True
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self._damaged(f"is not UTF-8 text (byte {e.start}); none of its rows could be read")
            return
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = list(reader.fieldnames or [])
        if columns and ("trial_id" not in columns or len(set(columns)) != len(columns)):
            self._damaged("has a damaged header; none of its rows could be read")
            return
        rows, dropped = [], 0
        try:
            for row in reader:
                if None in row or None in row.values() or not row.get("trial_id"):
                    dropped += 1
                    continue
                rows.append(row)
        except csv.Error as e:  # e.g. a NUL byte: the rest of the file is unreadable
            self._damaged(f"is damaged after row {len(rows) + dropped} ({e}); rows before kept")
            dropped = 0
        self._columns, self._rows = columns, rows
        self._ids = {r["trial_id"] for r in rows}
        if dropped:
            self._damaged(f"has {dropped} damaged row(s), dropped; the other rows are kept")
        elif text and not text.endswith(("\n", "\r")):
            self._clean = False  # a last line without its end: rewrite, never append

    def _damaged(self, what: str) -> None:
        kept, n = self.path + ".damaged", 1
        while os.path.exists(kept):  # an earlier damaged copy is kept too
            kept, n = f"{self.path}.damaged.{n}", n + 1
        try:
            shutil.copyfile(self.path, kept)
        except OSError:
            kept = "(could not be kept)"
        warnings.warn(
            f"keras-hpx: {self.path} {what}. The original is kept as {kept}.", stacklevel=4
        )
        self._clean = False

    def append(
        self,
        trial_id: str,
        status: str,
        score: float | None,
        seconds: float | None,
        hyperparameters: Mapping[str, Any],
        metrics: Mapping[str, Any] | None = None,
        stopped_reason: str | None = None,
        error: str | None = None,
    ) -> None:
        """Adds (or replaces, for a retried trial id) one trial's row.

        Args:
            trial_id: The trial's id.
            status: Its final status (`COMPLETED`, `FAILED`, ...).
            score: Its objective score, or `None`.
            seconds: Wall time of the trial, or `None`.
            hyperparameters: Active hyperparameter values.
            metrics: Final metric values by name. Defaults to `None`.
            stopped_reason: Why it was stopped early, if it was. Defaults to `None`.
            error: Why it failed (the exception's last line), if it did.
                Defaults to `None`.
        """
        row = {
            "trial_id": trial_id,
            "status": status,
            "score": _cell(score),
            "seconds": "" if seconds is None else f"{seconds:.3f}",
            "stopped_reason": stopped_reason or "",
            "error": error or "",
        }
        row.update({hp_column(k): _cell(v) for k, v in hyperparameters.items()})
        row.update({METRIC_PREFIX + k: _cell(v) for k, v in (metrics or {}).items()})
        with self._lock:
            if self._columns is None:
                self._load()
            if not self._columns:
                self._columns = list(BASE_COLUMNS)
            new = [k for k in row if k not in self._columns]
            self._columns += new
            replaced = trial_id in self._ids
            if replaced:
                self._rows = [r for r in self._rows if r.get("trial_id") != trial_id]
            self._rows.append(row)
            self._ids.add(trial_id)
            if new or replaced or not self._clean or not os.path.exists(self.path):
                self._rewrite()
            else:
                with open(self.path, "a", newline="", encoding="utf-8") as f:
                    csv.DictWriter(f, fieldnames=self._columns, restval="").writerow(row)

    def set_column(self, column: str, values: Mapping[str, Any], default: Any = None) -> None:
        """Sets `column` of the rows of the given trial ids (e.g. `pareto` as the front
        changes); rewrites the file only if a cell changed.

        Args:
            column: The column (added if new).
            values: `{trial_id: value}`.
            default: The value of every other row; `None` leaves them as they are.
                Defaults to `None`.
        """
        with self._lock:
            if self._columns is None:
                self._load()
            assert self._columns is not None
            changed = column not in self._columns
            if changed:
                self._columns.append(column)
            for row in self._rows:
                trial_id = row.get("trial_id")
                if trial_id is not None and trial_id in values:
                    cell = _cell(values[trial_id])
                elif default is not None:
                    cell = _cell(default)
                else:
                    continue
                if str(row.get(column, "")) != str(cell):
                    row[column] = cell
                    changed = True
            if changed and self._rows:
                self._rewrite()

    def _rewrite(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        assert self._columns is not None  # set by `append`, the only caller
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self._columns, restval="")
        writer.writeheader()
        writer.writerows(self._rows)
        atomic_write_text(self.path, buf.getvalue())
        self._clean = True

    def rows(self) -> list[dict]:
        """The rows, as read back from the file."""
        with self._lock:
            self._load()
            return list(self._rows)


def format_duration(seconds: float | None) -> str:
    """`75.2 -> "1m15s"`; `None -> "?"`."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def progress_line(
    done: int,
    total: int | None,
    trial_id: str,
    status: str,
    score: float | None,
    best: float | None,
    elapsed: float,
    time_left: float | None = None,
    values: Mapping[str, Any] | None = None,
    objective: str = "score",
    front: int | None = None,
) -> str:
    """One human line per finished trial: `[k/N] trial 07 COMPLETED ... ~1m10s left`.

    Args:
        done: Trials finished so far.
        total: Trials planned, or `None` when unknown.
        trial_id: The trial that just ended.
        status: Its status.
        score: Its score, or `None`.
        best: Best score so far, or `None`.
        elapsed: Seconds since the search started.
        time_left: Estimated seconds left; estimated from the mean trial time
            when `None` and `total` is known. Defaults to `None`.
        values: Hyperparameters to show. Defaults to `None`.
        objective: Name of the objective. Defaults to `"score"`.
        front: Size of the Pareto front (several objectives), or `None`.
            Defaults to `None`.
    """
    if time_left is None and total and done:
        time_left = elapsed / done * max(total - done, 0)
    of = f"{done}/{total}" if total else f"{done}"
    score_s = "-" if score is None or not math.isfinite(score) else f"{score:.4g}"
    best_s = "-" if best is None else f"{best:.4g}"
    parts = [
        f"[{of}] trial {trial_id} {status}",
        f"{objective}={score_s}",
        f"best={best_s}" if front is None else f"front={front}",
        f"elapsed {format_duration(elapsed)}",
    ]
    if time_left is not None:
        parts.append(f"~{format_duration(time_left)} left")
    line = " | ".join(parts)
    if values:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in list(values.items())[:8])
        line += f" | {shown}"
    return line


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def best_of(scores: Sequence[float], direction: str) -> float | None:
    """Best finite score for `direction` (`"min"` or `"max"`), or `None`."""
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if not finite:
        return None
    return max(finite) if direction == "max" else min(finite)


def error_line(message: Any, limit: int | None = None) -> str | None:
    """The line of a failure message a user reads first: its last non-empty line
    (a traceback's exception), at most `limit` characters, or `None` for an empty or
    non-string message."""
    if not isinstance(message, str):
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return None
    return lines[-1] if limit is None else lines[-1][:limit]
