"""Curve stores: where runs leave their learning curves for other runs to compare with.

- `MemoryStore`: one process, any number of threads and callback copies.
- `FileStore`: one JSON-lines file shared by every process on a machine (or on a
  shared file system with working `fcntl` locks). Each write appends one line
  under an exclusive `fcntl.flock`; readers take a shared lock and read only what
  was appended since their last read.

Records are plain dicts, one per line:
`{"run": id, "step": s, "value": v}` for a point and
`{"run": id, "end": true, "stopped": bool, "reason": str, "step": s}` when a run ends,
and `{"run": id, "bracket": b}` for a run placed in a bracket of a rule with several
(`HyperbandRule`; a run without one is in bracket 0).
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

from keras_hpx.checks import invalid

__all__ = ["RunCurve", "CurveStore", "MemoryStore", "FileStore", "get_store"]


@dataclass
class RunCurve:
    """One run's learning curve and how it ended.

    Attributes:
        run_id: The run's identifier.
        values: Mapping `step -> value` (the last value written for a step wins).
        finished: Whether the run has ended.
        stopped: Whether a rule stopped it.
        stop_step: The step it was stopped at, or `None`.
        reason: Why it was stopped (empty if it was not).
        bracket: The stopping rule's bracket the run is in (`0` unless placed).
    """

    run_id: str
    values: dict[int, float] = field(default_factory=dict)
    finished: bool = False
    stopped: bool = False
    stop_step: int | None = None
    reason: str = ""
    bracket: int = 0


class CurveStore:
    """Base class: a place where runs write their curves and read everyone's.

    Subclasses implement `_write(record)` and `_records()`; this class turns
    records into `RunCurve`s.
    """

    def append(self, run_id: str, step: int, value: float) -> None:
        """Records `value` at `step` for run `run_id`.

        Args:
            run_id: The run's identifier.
            step: The 0-based step.
            value: The monitored value (NaN and inf are kept as they are).
        """
        self._write({"run": str(run_id), "step": int(step), "value": _encode(value)})

    def place(self, run_id: str, bracket: int) -> None:
        """Records that run `run_id` is in `bracket` of a rule with several brackets.

        Args:
            run_id: The run's identifier.
            bracket: The bracket (`HyperbandRule.bracket`).
        """
        self._write({"run": str(run_id), "bracket": int(bracket)})

    def finish(
        self, run_id: str, stopped: bool = False, reason: str = "", step: int | None = None
    ) -> None:
        """Marks run `run_id` as ended.

        Args:
            run_id: The run's identifier.
            stopped: Whether a rule stopped it. Defaults to `False`.
            reason: Why it stopped. Defaults to `""`.
            step: The step it stopped at. Defaults to `None`.
        """
        self._write(
            {
                "run": str(run_id),
                "end": True,
                "stopped": bool(stopped),
                "reason": reason,
                "step": step,
            }
        )

    def curves(self) -> dict[str, RunCurve]:
        """Returns every run's curve, keyed by run id, in the order runs first wrote."""
        runs: dict[str, RunCurve] = {}
        for record in self._records():
            try:
                self._apply(runs, record)
            except (KeyError, TypeError, ValueError):
                continue  # a record of the wrong shape (a damaged file): that record only
        return runs

    @staticmethod
    def _apply(runs: dict[str, RunCurve], record: dict) -> None:
        run = runs.setdefault(record["run"], RunCurve(record["run"]))
        if record.get("end"):
            run.finished = True
            run.stopped = bool(record.get("stopped"))
            run.stop_step = record.get("step")
            run.reason = record.get("reason") or ""
        elif "bracket" in record:
            run.bracket = int(record["bracket"])
        else:
            run.values[int(record["step"])] = _decode(record["value"])

    def references(self, exclude: str | None = None) -> list[Mapping[int, float]]:
        """Returns the curves of every run except `exclude`.

        Args:
            exclude: A run id to leave out (the run being judged). Defaults to `None`.
        """
        return [c.values for rid, c in self.curves().items() if rid != exclude and c.values]

    def _write(self, record: dict) -> None:
        raise NotImplementedError

    def _records(self) -> list[dict]:
        raise NotImplementedError


def _encode(value: float) -> float | str:
    value = float(value)
    return value if math.isfinite(value) else repr(value)  # "nan", "inf", "-inf"


def _decode(value: float | str) -> float:
    return float(value)


class MemoryStore(CurveStore):
    """Keeps the curves in this process's memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[dict] = []

    def _write(self, record: dict) -> None:
        with self._lock:
            self._log.append(record)

    def _records(self) -> list[dict]:
        with self._lock:
            return list(self._log)

    def __repr__(self) -> str:
        return f"MemoryStore(<{len(self._log)} records>)"


class FileStore(CurveStore):
    """Keeps the curves in one JSON-lines file, safe for concurrent writers.

    Each record is one `os.write` of one line to a file opened with `O_APPEND`,
    made under an exclusive `fcntl.flock`, so lines from different processes
    never interleave. Readers hold a shared lock and parse only the bytes added
    since their previous read.

    Args:
        path: The file; created (with missing parent folders) on first write.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise invalid("path", path, "a non-empty str or os.PathLike", TypeError)
        self.path = os.path.abspath(os.fspath(path))
        self._lock = threading.Lock()
        self._offset = 0
        self._lines = 0  # lines read so far, to name a damaged one
        self._cache: list[dict] = []

    def _write(self, record: dict) -> None:
        import fcntl

        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # A cut last line (a writer killed mid-write, a damaged copy): end it,
                    # so that it costs its own record and not this one too.
                    line = b"\n" + line
                os.write(fd, line)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _records(self) -> list[dict]:
        import fcntl

        with self._lock:
            try:
                f = open(self.path, "rb")
            except FileNotFoundError:
                return list(self._cache)
            with f:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH)
                try:
                    size = os.fstat(f.fileno()).st_size
                    if size < self._offset:  # the file was replaced or truncated
                        self._offset, self._lines, self._cache = 0, 0, []
                    f.seek(self._offset)
                    data = f.read()
                finally:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)
            complete = data[: data.rfind(b"\n") + 1]
            self._offset += len(complete)
            bad = []
            for line in complete.split(b"\n")[:-1]:
                self._lines += 1
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
                    record = None
                if isinstance(record, dict) and isinstance(record.get("run"), str):
                    self._cache.append(record)
                else:
                    bad.append(self._lines)
            if bad:
                # A damaged line costs the one record it held; the curves go on.
                warnings.warn(
                    f"keras-hpx: {self.path}: line(s) {bad} damaged, skipped (each held one "
                    "epoch's value or one run's end).",
                    stacklevel=3,
                )
            return list(self._cache)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        type(self).__init__(self, state["path"])

    def __repr__(self) -> str:
        return f"FileStore({self.path!r})"


def get_store(store: str | os.PathLike | CurveStore | None) -> CurveStore:
    """Resolves a store argument: `None` -> `MemoryStore()`, a path -> `FileStore(path)`.

    Args:
        store: `None`, a file path, or a `CurveStore`.

    Returns:
        A `CurveStore`.
    """
    if store is None:
        return MemoryStore()
    if isinstance(store, CurveStore):
        return store
    if isinstance(store, (str, os.PathLike)):
        return FileStore(store)
    raise invalid("store", store, "None, a file path or a CurveStore", TypeError)
