"""TensorBoard HParams records, written without TensorFlow.

Everything here is built from TensorBoard's own protocol buffers
(`tensorboard.plugins.hparams.api_pb2`, `plugin_data_pb2`), the `*_pb` builders of
`tensorboard.plugins.hparams.summary_v2` that need no TensorFlow, and its record
framing (`tensorboard.summary.writer.record_writer.RecordWriter`). Nothing imports
TensorFlow or Keras. (TensorBoard's `EventFileWriter` is not used: it creates its
directory through `tensorboard.compat.tf`, which imports TensorFlow whenever it is
installed, even on the JAX backend.)

How the HParams dashboard reads a log directory (TensorBoard 2.x):

* The **experiment** (columns, domains, metrics) is the `_hparams_/experiment`
  record of any run; `write_experiment` puts it in a run of its own under
  `log_dir/_hparams/`. Without it the dashboard guesses domains from the values
  it sees.
* A **session** is a run (a directory with event files) holding a
  `_hparams_/session_start_info` record (hyperparameter values, group name, start
  time) and, once it ends, a `_hparams_/session_end_info` record (status, end
  time). Sessions with the same group name form one **session group**: one row of
  the table, metrics averaged over its sessions.
* A session's metric value is the **last** scalar of that tag in the session's
  run (or in the sub-run named by the metric's group).

Layout written by `SessionWriter` and the callbacks: `log_dir/<run>/events...`,
scalars in the same run as the session records.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp_summary
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.summary.writer.record_writer import RecordWriter

from keras_hpx.callbacks._names import safe_name  # pure; re-exported here for compatibility
from keras_hpx.checks import check_choice, invalid

__all__ = [
    "STATUSES",
    "EventWriter",
    "SessionWriter",
    "experiment_pb",
    "hparam_info",
    "hparam_infos_from_space",
    "metric_info",
    "session_end_pb",
    "read_experiment",
    "read_run",
    "safe_name",
    "session_start_pb",
    "write_experiment",
]

#: Session statuses understood by the dashboard (its status filter has one box each).
STATUSES = {
    "UNKNOWN": api_pb2.STATUS_UNKNOWN,
    "SUCCESS": api_pb2.STATUS_SUCCESS,
    "FAILURE": api_pb2.STATUS_FAILURE,
    "RUNNING": api_pb2.STATUS_RUNNING,
}

_DATASETS = {
    None: api_pb2.DATASET_UNKNOWN,
    "training": api_pb2.DATASET_TRAINING,
    "validation": api_pb2.DATASET_VALIDATION,
}

#: A stepped Int or Float with at most this many values gets a discrete domain.
MAX_DISCRETE = 16


# ----- domains ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A Python bool, float or str for a hyperparameter value (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return None
    return str(value)


def hparam_info(
    name: str,
    values: Sequence[Any] | None = None,
    interval: tuple[float, float] | None = None,
    integer: bool = False,
    description: str = "",
    value_type: Any = None,
) -> api_pb2.HParamInfo:
    """One hyperparameter column with its domain.

    Args:
        name: The hyperparameter's name.
        values: A discrete domain: all its values (bool, number or str; mixed kinds
            become strings). Defaults to `None`.
        interval: A numeric interval `(min, max)`. Defaults to `None`.
        integer: Whether `interval` holds integers. Defaults to `False`.
        description: Text shown by the dashboard. Defaults to `""`.
        value_type: Without a domain: an example value, whose kind (bool, number,
            string) sets the column's type. Defaults to `None` (no type).

    Returns:
        An `api_pb2.HParamInfo`; without `values` or `interval` it has no domain.
    """
    if values is not None and interval is not None:
        raise invalid("interval", interval, f"`values` or `interval` for {name!r}, not both")
    if values is not None:
        plain = [_plain(v) for v in values]
        kinds = {type(v) for v in plain}
        if len(kinds) > 1:
            plain = [str(v) for v in values]
        # Discrete() refuses ints mixed with floats; all numbers are float64 here.
        domain = hp_summary.Discrete(plain)
        info = api_pb2.HParamInfo(name=name, description=description)
        domain.update_hparam_info(info)
        return info
    if interval is not None:
        lo, hi = float(interval[0]), float(interval[1])
        domain = (
            hp_summary.IntInterval(int(lo), int(hi)) if integer else hp_summary.RealInterval(lo, hi)
        )
        info = api_pb2.HParamInfo(name=name, description=description)
        domain.update_hparam_info(info)
        return info
    info = api_pb2.HParamInfo(name=name, description=description)
    example = _plain(value_type)
    if isinstance(example, bool):
        info.type = api_pb2.DATA_TYPE_BOOL
    elif isinstance(example, float):
        info.type = api_pb2.DATA_TYPE_FLOAT64
    elif isinstance(example, str):
        info.type = api_pb2.DATA_TYPE_STRING
    return info


def hparam_infos_from_space(space: Any, max_discrete: int = MAX_DISCRETE) -> list:
    """The columns and true domains of a `keras_hpx.space.Space`.

    Choice, Boolean and Fixed become discrete sets; Int and Float become intervals,
    or discrete sets when they have a `step` and at most `max_discrete` values.
    A name that occurs more than once (conditional scopes) is listed once, with the
    union of its discrete values or the hull of its intervals. Each is marked
    `differs` unless it has a single value, so the dashboard lists them before
    values set outside the space (such as Hyperband's `tuner/epochs`).

    Args:
        space: A `keras_hpx.space.Space` (or anything with `.params` like it).
        max_discrete: Largest stepped numeric domain written as a discrete set.
            Defaults to `16`.

    Returns:
        A list of `api_pb2.HParamInfo`, in the space's order.
    """
    merged: dict[str, dict] = {}
    for p in space.params:
        desc = p.describe()
        entry: dict[str, Any]
        if p.kind in ("choice", "boolean", "fixed"):
            entry = {"values": list(p.values)}
        elif p.step is not None and (p.n_values or 0) <= max_discrete:
            entry = {"values": p.grid_values()}
        else:
            entry = {"interval": (p.min_value, p.max_value), "integer": p.kind == "int"}
        old = merged.get(p.name)
        if old is None:
            merged[p.name] = {**entry, "description": desc}
        elif "values" in old and "values" in entry:
            old["values"] += [v for v in entry["values"] if v not in old["values"]]
        else:  # mixed or two intervals: the numeric hull (discrete values included)
            nums = [float(v) for v in old.get("values", [])] + list(old.get("interval", ()))
            nums += [float(v) for v in entry.get("values", [])] + list(entry.get("interval", ()))
            merged[p.name] = {
                "interval": (min(nums), max(nums)),
                "integer": old.get("integer", False) and entry.get("integer", False),
                "description": old["description"],
            }
    infos = []
    for name, entry in merged.items():
        info = hparam_info(name, **entry)
        # The dashboard lists (and shows by default) hparams that differ first.
        info.differs = len(entry.get("values", (0, 1))) > 1
        infos.append(info)
    return infos


def metric_info(
    tag: str,
    group: str = "",
    display_name: str = "",
    description: str = "",
    dataset: str | None = None,
) -> api_pb2.MetricInfo:
    """One metric column: the last scalar of `tag` in each session's run (or sub-run `group`).

    Args:
        tag: The scalar tag.
        group: Sub-directory of the session's run holding the scalar. Defaults to `""`.
        display_name: Column title. Defaults to `""` (the tag).
        description: Text shown by the dashboard. Defaults to `""`.
        dataset: `"training"`, `"validation"` or `None`. Defaults to `None`.
    """
    if dataset is not None:
        check_choice("dataset", dataset, ("training", "validation"), extra="or None")
    return api_pb2.MetricInfo(
        name=api_pb2.MetricName(group=group, tag=tag),
        display_name=display_name,
        description=description,
        dataset_type=_DATASETS[dataset],
    )


# ----- summaries ----------------------------------------------------------------------------


def _hparams_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=tag,
        metadata=metadata.create_summary_metadata(data),
        tensor=metadata.NULL_TENSOR,
    )
    return summary


def experiment_pb(
    hparam_infos: Iterable[api_pb2.HParamInfo],
    metric_infos: Iterable[api_pb2.MetricInfo],
    time_created_secs: float | None = None,
) -> summary_pb2.Summary:
    """The experiment record: the dashboard's columns and domains."""
    experiment = api_pb2.Experiment(
        hparam_infos=list(hparam_infos),
        metric_infos=list(metric_infos),
        time_created_secs=time.time() if time_created_secs is None else time_created_secs,
    )
    return _hparams_summary(
        metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment)
    )


def session_start_pb(
    hparams: Mapping[str, Any],
    group_name: str,
    start_time_secs: float | None = None,
) -> summary_pb2.Summary:
    """A session's start record: its hyperparameter values and group.

    Values are written as bool, number or string; `None` (an inactive conditional
    hyperparameter) is left out, other types are written as `str(value)`.
    """
    clean = {}
    for name, value in hparams.items():
        value = value.item() if isinstance(value, np.generic) else value
        if value is None:
            continue
        if not isinstance(value, (bool, int, float, str)):
            value = str(value)
        clean[str(name)] = value
    return hp_summary.hparams_pb(clean, trial_id=str(group_name), start_time_secs=start_time_secs)


def session_end_pb(status: str, end_time_secs: float | None = None) -> summary_pb2.Summary:
    """A session's end record.

    Args:
        status: One of `STATUSES` (`"SUCCESS"`, `"FAILURE"`, `"RUNNING"`, `"UNKNOWN"`).
        end_time_secs: Seconds since the epoch. Defaults to `None` (now).
    """
    check_choice("status", status, STATUSES)
    info = plugin_data_pb2.SessionEndInfo(
        status=STATUSES[status],
        end_time_secs=time.time() if end_time_secs is None else end_time_secs,
    )
    return _hparams_summary(
        metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=info)
    )


# ----- writers ------------------------------------------------------------------------------


class EventWriter:
    """An event file in one run directory, created on the first write.

    Writes are synchronous (records are small; `flush` pushes them to the file).
    The file name follows TensorBoard's pattern with host, process id and a counter,
    so processes sharing one log directory never write the same file.

    Args:
        logdir: The run directory.
        filename_suffix: Appended to the event file's name. Defaults to `""`.
    """

    def __init__(self, logdir: str | os.PathLike, filename_suffix: str = ""):
        self.logdir = os.fspath(logdir)
        self.filename_suffix = filename_suffix
        self.path: str | None = None  # the event file, once written
        self._records: RecordWriter | None = None
        self._lock = threading.Lock()

    def _open(self) -> RecordWriter:
        os.makedirs(self.logdir, exist_ok=True)
        with _COUNTER_LOCK:
            global _COUNTER
            _COUNTER += 1
            uid = _COUNTER
        host, pid = socket.gethostname(), os.getpid()
        name = f"events.out.tfevents.{int(time.time()):010d}.{host}.{pid}.{uid}"
        name += self.filename_suffix
        self.path = os.path.join(self.logdir, name)
        records = RecordWriter(open(self.path, "wb"))  # noqa: SIM115 (closed in close())
        header = event_pb2.Event(
            wall_time=time.time(),
            file_version="brain.Event:2",
            source_metadata=event_pb2.SourceMetadata(writer="keras_hpx"),
        )
        records.write(header.SerializeToString())
        return records

    def add_summary(
        self, summary: summary_pb2.Summary, step: int = 0, wall_time: float | None = None
    ) -> None:
        """Appends a summary at `step`."""
        event = event_pb2.Event(
            wall_time=time.time() if wall_time is None else wall_time,
            step=int(step),
            summary=summary,
        )
        with self._lock:
            if self._records is None:
                self._records = self._open()
            self._records.write(event.SerializeToString())

    def scalars(
        self, values: Mapping[str, Any], step: int, wall_time: float | None = None
    ) -> list[str]:
        """Writes every numeric value as a scalar; returns the tags written."""
        summary = summary_pb2.Summary()
        written = []
        for tag, value in values.items():
            number = _number(value)
            if number is None:
                continue
            summary.MergeFrom(scalar_summary.scalar_pb(str(tag), number))
            written.append(str(tag))
        if written:
            self.add_summary(summary, step=step, wall_time=wall_time)
        return written

    def flush(self) -> None:
        with self._lock:
            if self._records is not None and not self._records.closed:
                self._records.flush()

    def close(self) -> None:
        with self._lock:
            if self._records is not None and not self._records.closed:
                self._records.close()


_COUNTER = 0
_COUNTER_LOCK = threading.Lock()


def _number(value: Any) -> float | None:
    """A float for numeric scalars (Python, numpy, 0-d arrays and tensors), else `None`."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.number)):
        return float(value)
    try:
        arr = np.asarray(value)
    except Exception:
        return None
    if arr.shape == () and arr.dtype.kind in "biuf":
        return float(arr)
    return None


#: Sub-directory of a log directory that holds the experiment runs.
EXPERIMENT_DIR = "_hparams"


def write_experiment(
    log_dir: str | os.PathLike,
    hparam_infos: Iterable[api_pb2.HParamInfo],
    metric_infos: Iterable[api_pb2.MetricInfo],
    replace: str | None = None,
    time_created_secs: float | None = None,
    name: str | None = None,
) -> str:
    """Writes the experiment record into a new run `log_dir/_hparams/<name>`.

    TensorBoard keeps the first experiment record it read from a run, even after
    the file is deleted, so each version of the experiment gets a run of its own,
    and the run it replaces is deleted: a TensorBoard already running then switches
    to the new one at its next reload.

    Args:
        log_dir: The log directory (the root of all sessions).
        hparam_infos: The hyperparameter columns.
        metric_infos: The metric columns.
        replace: An earlier experiment run directory (as returned) to delete.
            Defaults to `None`.
        time_created_secs: Seconds since the epoch. Defaults to `None` (now).
        name: The run's name under `_hparams`. Defaults to `None` (host, process
            and a counter: processes sharing `log_dir` never clash).

    Returns:
        The new run directory.
    """
    log_dir = os.fspath(log_dir)
    if name is None:
        with _COUNTER_LOCK:
            global _COUNTER
            _COUNTER += 1
            name = f"{safe_name(socket.gethostname())}-{os.getpid()}-{_COUNTER}"
    run = os.path.join(log_dir, EXPERIMENT_DIR, safe_name(name))
    writer = EventWriter(run)
    writer.add_summary(experiment_pb(hparam_infos, metric_infos, time_created_secs))
    writer.close()
    if replace:
        old = os.path.abspath(replace)
        root = os.path.abspath(os.path.join(log_dir, EXPERIMENT_DIR))
        if old != os.path.abspath(run) and os.path.dirname(old) == root:
            shutil.rmtree(old, ignore_errors=True)
    return run


def read_experiment(log_dir: str | os.PathLike) -> api_pb2.Experiment | None:
    """The experiment written under `log_dir` (the newest run, if there are several)."""
    root = os.path.join(os.fspath(log_dir), EXPERIMENT_DIR)
    if not os.path.isdir(root):
        return None
    runs = [os.path.join(root, d) for d in os.listdir(root)]
    runs = sorted((r for r in runs if os.path.isdir(r)), key=os.path.getmtime, reverse=True)
    for run in runs:
        experiment = read_run(run)["experiment"]
        if experiment is not None:
            return experiment
    return None


class SessionWriter:
    """One HParams session (a trial, or one execution of it) in its own run directory.

    Args:
        run_dir: The session's run directory, inside the log directory.
        group_name: The session group (table row) it belongs to, e.g. the trial id.
        hparams: The hyperparameter values of the session.
        start_time_secs: Seconds since the epoch. Defaults to `None` (now).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        group_name: str,
        hparams: Mapping[str, Any],
        start_time_secs: float | None = None,
    ):
        self.run_dir = os.fspath(run_dir)
        self.group_name = str(group_name)
        self.hparams = dict(hparams)
        self.start_time = time.time() if start_time_secs is None else float(start_time_secs)
        self.status: str | None = None
        self._events = EventWriter(self.run_dir)
        self._started = False

    def start(self) -> None:
        """Writes the start record (at most once)."""
        if not self._started:
            self._started = True
            self._events.add_summary(
                session_start_pb(self.hparams, self.group_name, self.start_time),
                wall_time=self.start_time,
            )
            self._events.flush()

    def scalars(self, values: Mapping[str, Any], step: int) -> list[str]:
        """Writes numeric `values` at `step` (starting the session first)."""
        self.start()
        return self._events.scalars(values, step)

    def flush(self) -> None:
        self._events.flush()

    def end(self, status: str = "SUCCESS", end_time_secs: float | None = None) -> None:
        """Writes the end record and closes the file (at most once)."""
        if self.status is not None:
            return
        self.start()
        end = time.time() if end_time_secs is None else float(end_time_secs)
        self._events.add_summary(session_end_pb(status, end), wall_time=end)
        self.status = status
        self._events.close()

    @property
    def ended(self) -> bool:
        return self.status is not None


def finite_or_none(value: Any) -> float | None:
    """`float(value)` when it is a finite number, else `None`."""
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


def read_run(run_dir: str | os.PathLike) -> dict:
    """Reads back the HParams records and scalars of one run directory (its own files only).

    Returns:
        A dict with `experiment` (`api_pb2.Experiment` or `None`), `start`
        (`SessionStartInfo` or `None`), `end` (`SessionEndInfo` or `None`) and
        `scalars` (`{tag: [(step, value), ...]}`), files read in name order.
    """
    from tensorboard.util import tensor_util

    out: dict[str, Any] = {"experiment": None, "start": None, "end": None, "scalars": {}}
    run_dir = os.fspath(run_dir)
    for name in sorted(os.listdir(run_dir)):
        path = os.path.join(run_dir, name)
        if "tfevents" not in name or not os.path.isfile(path):
            continue
        for event in _events(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if plugin.plugin_name == metadata.PLUGIN_NAME:
                    data = plugin_data_pb2.HParamsPluginData.FromString(plugin.content)
                    kind = data.WhichOneof("data")
                    key = {
                        "experiment": "experiment",
                        "session_start_info": "start",
                        "session_end_info": "end",
                    }[kind]
                    if out[key] is None:
                        out[key] = getattr(data, kind)
                elif value.HasField("tensor"):
                    number = float(tensor_util.make_ndarray(value.tensor))
                    out["scalars"].setdefault(value.tag, []).append((event.step, number))
    return out


def _events(path: str) -> Iterable[event_pb2.Event]:
    """The events of one file (TFRecord framing; TensorBoard's loader would import TF)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        start = pos + 12
        if start + length + 4 > len(data):
            break  # a record still being written
        yield event_pb2.Event.FromString(data[start : start + length])
        pos = start + length + 4
