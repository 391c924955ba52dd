"""Export a finished (or running) Keras Tuner project to TensorBoard HParams logs and a CSV.

`keras-hpx export PROJECT_DIR LOG_DIR` reads `oracle.json` and every
`trial_*/trial.json` of a project written by any tuner (Keras Tuner's or ours)
and writes, without TensorFlow or Keras:

* the HParams experiment with the true domains of the search space;
* one session per trial in run `LOG_DIR/<trial_id>`: its hyperparameters, status
  (`COMPLETED` and `STOPPED` -> SUCCESS, `FAILED` and `INVALID` -> FAILURE,
  `RUNNING` and `IDLE` -> RUNNING), the metrics Keras Tuner kept (each metric at the
  step it was reported, usually the best epoch) and the `score`;
* `LOG_DIR/trials.csv`, one row per trial (the same columns as `TrialLogger`).

Early stops: a trial stopped by `WeakTrialStopping` carries the record's wire
form, the metric `stopped_at_epoch` (`keras_hpx.records.EarlyStop.from_metrics`);
a keras-hpx oracle also saves the full record, reason included, in
`oracle.json`. Such a trial (or one Keras Tuner marked `STOPPED`) gets
`stopped_early` 1 in HParams and a `stopped_reason` in the CSV. Keras Tuner saves
neither the epochs planned nor those trained, so other early stops (Keras'
`EarlyStopping`) cannot be told apart here, unlike in `HParamsLogger`.

Keras Tuner saves no times per trial: start times come from the display state in
`oracle.json` when the search printed progress, end times from the
`trial.json` file's modification time.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import shutil
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from keras_hpx import report
from keras_hpx.callbacks._names import safe_name
from keras_hpx.checks import check_bool, invalid
from keras_hpx.files import read_json
from keras_hpx.records import STOPPED_AT_EPOCH, STOPPED_EARLY, EarlyStop
from keras_hpx.space import Param, Space
from keras_hpx.tensorboard import hparams as tb

__all__ = ["ExportSummary", "add_export_parser", "export_project", "run_export"]

_STATUS = {
    "COMPLETED": "SUCCESS",
    "STOPPED": "SUCCESS",
    "FAILED": "FAILURE",
    "INVALID": "FAILURE",
    "RUNNING": "RUNNING",
    "IDLE": "RUNNING",
}


@dataclass
class ExportSummary:
    """What `export_project` wrote."""

    project_dir: str
    log_dir: str
    csv_path: str
    trials: int = 0
    statuses: dict = field(default_factory=dict)
    hyperparameters: list = field(default_factory=list)
    metrics: list = field(default_factory=list)

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        return (
            f"Exported {self.trials} trials ({counts}) from {self.project_dir}\n"
            f"  hyperparameters: {', '.join(self.hyperparameters)}\n"
            f"  metrics: {', '.join(self.metrics)}\n"
            f"  CSV: {self.csv_path}\n"
            f"  view: tensorboard --logdir {self.log_dir}"
        )


# ----- reading a project --------------------------------------------------------------------


def _hp_object(entry: dict) -> Any:
    """A Keras Tuner hyperparameter config as an object `Space.from_keras_tuner` reads."""
    config = dict(entry["config"])
    config["conditions"] = [
        SimpleNamespace(**c.get("config", c)) for c in config.get("conditions", [])
    ]
    config.setdefault("ordered", False)
    cls = type(entry["class_name"], (SimpleNamespace,), {})
    return cls(**config)


def _space(configs: list[dict]) -> Space:
    """The union of several `HyperParameters.get_config()` dicts, as one `Space`."""
    params: dict[tuple, Param] = {}
    for config in configs:
        hps = SimpleNamespace(space=[_hp_object(e) for e in config.get("space", [])])
        for p in Space.from_keras_tuner(hps).params:
            params.setdefault((p.name, p.conditions), p)
    return Space(list(params.values()))


def find_project(project_dir: str | os.PathLike) -> str:
    """The directory holding `trial_*/trial.json`: `project_dir` or its only such child."""
    allowed = "a Keras Tuner project directory (with trial_*/trial.json files)"
    if not isinstance(project_dir, (str, os.PathLike)):
        raise invalid("project_dir", project_dir, allowed, TypeError)
    project_dir = os.fspath(project_dir)
    if not os.path.isdir(project_dir):
        raise invalid("project_dir", project_dir, f"{allowed}; it is not a directory")
    if glob.glob(os.path.join(project_dir, "trial_*", "trial.json")):
        return project_dir
    children = sorted(
        {
            os.path.dirname(os.path.dirname(p))
            for p in glob.glob(os.path.join(project_dir, "*", "trial_*", "trial.json"))
        }
    )
    if len(children) == 1:
        return children[0]
    found = f"; it holds several projects: {children}" if children else ""
    raise invalid("project_dir", project_dir, allowed + found)


def _start_times(oracle_state: dict) -> dict[str, float]:
    starts = {}
    for trial_id, when in (oracle_state.get("display", {}).get("trial_start") or {}).items():
        try:
            starts[str(trial_id)] = datetime.datetime.fromisoformat(when).timestamp()
        except (TypeError, ValueError):
            pass
    return starts


def _metrics(trial: dict) -> tuple[dict[str, list[tuple[int, float]]], dict[str, float]]:
    """`({name: [(step, value)]}, {name: last value})` of a trial's metrics tracker."""
    series: dict[str, list[tuple[int, float]]] = {}
    for name, tracker in (trial.get("metrics", {}).get("metrics") or {}).items():
        for obs in tracker.get("observations", []):
            values = [float(v) for v in obs.get("value", []) if v is not None]
            if values:
                series.setdefault(name, []).append(
                    (int(obs.get("step", 0)), sum(values) / len(values))
                )
    last = {name: points[-1][1] for name, points in series.items()}
    return series, last


def _saved_early_stops(oracle_state: dict) -> dict[str, EarlyStop]:
    """The full records a keras-hpx oracle saved in `oracle.json` (reasons included)."""
    saved = (oracle_state.get("hpx") or {}).get("early_stops") or {}
    stops = {}
    for trial_id, data in saved.items():
        try:
            stops[str(trial_id)] = EarlyStop.from_dict(data)
        except (KeyError, TypeError, ValueError):  # e.g. 0.1.0 saved no records: skip
            continue
    return stops


def _legacy_early_stop(series: dict[str, list[tuple[int, float]]]) -> EarlyStop | None:
    """Reads keras-hpx 0.1.0 projects: their `WeakTrialStopping` also reported a
    `stopped_early` marker metric (1.0 at the stopping step). Only for a trial
    without the `stopped_at_epoch` metric; new projects never have the marker."""
    points = series.get(STOPPED_EARLY)
    if not points or STOPPED_AT_EPOCH in series:
        return None
    return EarlyStop(step=points[-1][0])


def _early_stop(
    trial_id: str, series: dict[str, list[tuple[int, float]]], saved: dict[str, EarlyStop]
) -> EarlyStop | None:
    """The trial's weak-trial stop: the oracle's saved record, else its wire form."""
    last = {name: points[-1][1] for name, points in series.items()}
    wire = EarlyStop.from_metrics(last) or _legacy_early_stop(series)
    record = saved.get(trial_id)
    if record is not None and (wire is None or wire.step == record.step):
        return record
    return wire


# ----- export --------------------------------------------------------------------------------


def export_project(
    project_dir: str | os.PathLike, log_dir: str | os.PathLike, overwrite: bool = False
) -> ExportSummary:
    """Writes HParams logs and `trials.csv` for every trial of a Keras Tuner project.

    Args:
        project_dir: The tuner's `directory/project_name` (or `directory` when it
            holds a single project).
        log_dir: Where to write; view it with `tensorboard --logdir log_dir`.
        overwrite: Replace runs and the CSV that an earlier export wrote there.
            Defaults to `False` (an existing run raises `FileExistsError`).

    Returns:
        An `ExportSummary` (print it for a human summary).
    """
    project = find_project(project_dir)
    if not isinstance(log_dir, (str, os.PathLike)):
        raise invalid("log_dir", log_dir, "a directory path (str or os.PathLike)", TypeError)
    log_dir = os.fspath(log_dir)
    overwrite = check_bool("overwrite", overwrite)
    oracle_state: dict = {}
    oracle_path = os.path.join(project, "oracle.json")
    if os.path.exists(oracle_path):
        oracle_state = read_json(oracle_path)
    trials = []
    for path in sorted(glob.glob(os.path.join(project, "trial_*", "trial.json"))):
        trials.append((read_json(path), os.path.getmtime(path)))
    trials.sort(key=lambda t: (len(str(t[0]["trial_id"])), str(t[0]["trial_id"])))

    configs = [oracle_state["hyperparameters"]] if "hyperparameters" in oracle_state else []
    configs += [t["hyperparameters"] for t, _ in trials]
    space = _space(configs)

    runs = {str(t["trial_id"]): os.path.join(log_dir, safe_name(t["trial_id"])) for t, _ in trials}
    csv_path = os.path.join(log_dir, "trials.csv")
    existing = [r for r in runs.values() if os.path.exists(r)]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]} exists (and {len(existing) - 1} more runs); export into a new "
            "log_dir or pass overwrite=True (--overwrite)."
        )
    for run in existing:
        shutil.rmtree(run)
    if overwrite:
        shutil.rmtree(os.path.join(log_dir, tb.EXPERIMENT_DIR, "export"), ignore_errors=True)
        if os.path.exists(csv_path):
            os.remove(csv_path)

    starts = _start_times(oracle_state)
    saved_stops = _saved_early_stops(oracle_state)
    metric_names: list[str] = []
    csv = report.TrialsCSV(csv_path)
    summary = ExportSummary(project_dir=project, log_dir=log_dir, csv_path=csv_path)
    for trial, mtime in trials:
        trial_id = str(trial["trial_id"])
        values = space.active_values(
            trial["hyperparameters"].get("values", {}), fill_defaults=False
        )
        values = {k: v for k, v in values.items() if v is not None}
        kt_status = str(trial.get("status") or "IDLE")
        status = _STATUS.get(kt_status, "UNKNOWN")
        series, last = _metrics(trial)
        stop = _early_stop(trial_id, series, saved_stops)
        series.pop(STOPPED_EARLY, None)  # 0.1.0's marker: the column is written below
        last.pop(STOPPED_EARLY, None)
        for name in series:
            if name not in metric_names and name != "score":
                metric_names.append(name)
        end = mtime
        start = min(starts.get(trial_id, end), end)
        session = tb.SessionWriter(runs[trial_id], trial_id, values, start_time_secs=start)
        session.start()
        steps = sorted({s for points in series.values() for s, _ in points})
        for step in steps:
            session.scalars({n: v for n, pts in series.items() for s, v in pts if s == step}, step)
        score = trial.get("score")
        if score is not None:
            session.scalars({"score": float(score)}, step=int(trial.get("best_step") or 0))
        reason = None
        if stop is not None:
            reason = stop.describe()
        elif kt_status == "STOPPED":
            reason = "stopped by the oracle (status STOPPED)"
        if reason is not None:
            session.scalars({STOPPED_EARLY: 1.0}, step=steps[-1] if steps else 0)
        if status == "RUNNING":
            session.end("RUNNING", end_time_secs=end)
        else:
            session.end(status, end_time_secs=end)
        csv.append(
            trial_id,
            kt_status,
            None if score is None else float(score),
            end - start if trial_id in starts else None,
            values,
            last,
            reason,
            report.error_line(trial.get("message"), limit=500) if status == "FAILURE" else None,
        )
        summary.statuses[kt_status] = summary.statuses.get(kt_status, 0) + 1
        summary.trials += 1

    metric_infos = [tb.metric_info("score", description="The trial's score (Keras Tuner's).")]
    for name in metric_names:
        dataset = "validation" if name.startswith("val_") else "training"
        metric_infos.append(tb.metric_info(name, dataset=dataset))
    metric_infos.append(
        tb.metric_info(
            STOPPED_EARLY,
            description="1 if the trial was stopped early (WeakTrialStopping's record, or "
            "Keras Tuner's status STOPPED).",
        )
    )
    hparam_infos = tb.hparam_infos_from_space(space)
    tb.write_experiment(log_dir, hparam_infos, metric_infos, name="export")
    summary.hyperparameters = [h.name for h in hparam_infos]
    summary.metrics = [m.name.tag for m in metric_infos]
    return summary


# ----- command line --------------------------------------------------------------------------


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds `export PROJECT_DIR LOG_DIR [--overwrite]` to a `keras-hpx` parser's subparsers."""
    p = subparsers.add_parser(
        "export",
        help="turn a Keras Tuner project directory into TensorBoard HParams logs and a CSV",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("project_dir", help="the tuner's directory/project_name")
    p.add_argument("log_dir", help="where to write the logs (then: tensorboard --logdir LOG_DIR)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export there")
    p.set_defaults(func=run_export)
    return p


def run_export(args: argparse.Namespace) -> int:
    """Runs `keras-hpx export`; prints a summary. Returns the exit status."""
    summary = export_project(args.project_dir, args.log_dir, overwrite=args.overwrite)
    print(summary)
    return 0
