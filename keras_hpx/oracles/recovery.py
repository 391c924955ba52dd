"""Reading a project back after a crash, when some of its files are damaged.

Keras Tuner's `Oracle.reload` reads every `trial_*/trial.json` and then
`oracle.json`; one truncated file ends a resume in a bare `JSONDecodeError`
that names no file. `load_project` reads the same files, each checked:

* a damaged `trial.json` costs that trial only: it stays in the search as
  `FAILED` with a message naming the file (its file is rewritten), its result
  and values lost; a warning names the file.
* a damaged `oracle.json` is replaced by the previous generation, which every
  save keeps (`oracle.json.prev`), and the trials that ended after it are put
  back from their own files. If both are damaged, `DamagedFileError` names
  them and says how to recover. A JSON object of the wrong shape (a key missing,
  a string for a number) counts as damaged too: whatever `restore` cannot take.
* a `trial.json` that says `RUNNING` for a trial the state recorded as ended (a
  file older than the search) counts as damaged: rerun, its reports would be
  refused as late for ever.
* a damaged tuner file (`<tuner_id>.json`, Keras Tuner's, read unchecked after
  the oracle's) is replaced by `{}`, all Keras Tuner's tuners keep there.
* damaged rows of the `trials.csv` files and lines of `WeakTrialStopping`'s
  curve file cost only themselves (`keras_hpx.report`, `keras_hpx.stopping.store`).
"""

from __future__ import annotations

import glob
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keras_hpx import files
from keras_hpx.oracles import keras_tuner_adapter as kta
from keras_hpx.records import Status

__all__ = [
    "PREVIOUS_SUFFIX",
    "LoadedProject",
    "keep_previous",
    "load_project",
    "placeholder_for",
    "repair_tuner_files",
]

PREVIOUS_SUFFIX = ".prev"
"""`oracle.json.prev`: the generation before the last save."""


@dataclass
class LoadedProject:
    """What `load_project` read.

    Attributes:
        state: The oracle's state (from `oracle.json` or its previous generation),
            reconciled with the trials.
        trials: `{trial_id: Trial}` read from good `trial.json` files.
        damaged: `{trial_id: path}` of the damaged `trial.json` files.
        used_previous: Whether `oracle.json` was damaged and `.prev` was used.
    """

    state: dict
    trials: dict[str, Any]
    damaged: dict[str, str] = field(default_factory=dict)
    used_previous: bool = False


def keep_previous(path: str) -> bool:
    """Copies the current `path` to `path + PREVIOUS_SUFFIX` (atomically) before it is
    replaced. A copy, not a hard link: damage done to the file in place (a truncating
    copy, a full disk) must not reach the spare. Returns whether a generation was kept.
    """
    if not os.path.exists(path):
        return False
    previous = path + PREVIOUS_SUFFIX
    tmp = f"{previous}.tmp-{os.getpid()}"
    try:
        shutil.copyfile(path, tmp)
        os.replace(tmp, previous)
        return True
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        return False  # only a spare generation: the save itself goes on


def _hint(path: str) -> str:
    return (
        f"Both {os.path.basename(path)} and its previous generation are unreadable. To "
        "recover, restore either file from a backup; or move the project directory aside "
        "and start with overwrite=True (its trial_*/trial.json files keep every result, "
        "and `keras-hpx export` still reads them)."
    )


_STATUSES = frozenset(
    {Status.RUNNING, Status.IDLE, Status.STOPPED, Status.COMPLETED, Status.INVALID, Status.FAILED}
)


def _check_trial(trial: Any, trial_id: str, path: str) -> None:
    """Raises `DamagedFileError` when a trial read from `path` cannot be what was saved."""
    if str(trial.trial_id) != trial_id:
        raise files.DamagedFileError(path, f"holds trial {trial.trial_id!r}, not {trial_id!r}.")
    if trial.status not in _STATUSES:
        raise files.DamagedFileError(path, f"holds an unknown status {trial.status!r}.")
    score = trial.score
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise files.DamagedFileError(path, f"holds a score that is not a number: {score!r}.")
    step = trial.best_step
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise files.DamagedFileError(path, f"holds a best step that is not an integer: {step!r}.")
    if not isinstance(trial.hyperparameters.values, dict):
        raise files.DamagedFileError(path, "holds hyperparameter values that are not a mapping.")


def _read_trials(project: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Every `trial_*/trial.json`, checked: `(trials, {trial_id: path} of damaged ones)`."""
    trials: dict[str, Any] = {}
    damaged: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(project, "trial_*", "trial.json"))):
        trial_id = os.path.basename(os.path.dirname(path))[len("trial_") :]
        try:
            trial = kta.trial_from_state(files.read_json(path))
            _check_trial(trial, trial_id, path)
        except (files.DamagedFileError, KeyError, TypeError, ValueError, AttributeError) as e:
            damaged[trial_id] = path
            warnings.warn(
                f"keras-hpx: {path} is damaged ({e}); trial {trial_id} is lost, "
                "the rest of the search resumes.",
                stacklevel=4,
            )
            continue
        trials[trial_id] = trial
    return trials, damaged


def load_project(oracle: Any, restore: Callable[[LoadedProject], None]) -> LoadedProject:
    """Reads the oracle's project (checked) and hands it to `restore`.

    `oracle.json` is tried first, then its previous generation. A file is damaged
    when it cannot be read, or when `restore` fails on what it holds (a JSON object
    of the wrong shape); `restore` must then leave nothing half-done that its next
    call does not overwrite (`set_state` overwrites everything it sets).

    Args:
        oracle: The oracle (its project directory must be set).
        restore: Puts a `LoadedProject` into the oracle; raises on a state it cannot
            take.

    Returns:
        The `LoadedProject` that `restore` took.

    Raises:
        DamagedFileError: `oracle.json` and its previous generation are unreadable.
        FileNotFoundError: there is no `oracle.json` (nor a previous generation).
    """
    project = kta.project_dir(oracle)
    if project is None:  # not set: what `os.path.join(None, ...)` below always raised
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")
    trials, damaged = _read_trials(project)
    path = kta.oracle_file(oracle)
    previous = path + PREVIOUS_SUFFIX
    first: Exception | None = None
    for candidate in (path, previous):
        try:
            state = files.read_json(candidate)
            if not isinstance(state, dict):
                raise files.DamagedFileError(
                    candidate, "does not hold an oracle state (not an object)."
                )
            try:
                loaded = _loaded(project, state, trials, damaged, candidate == previous)
                restore(loaded)
            except Exception as e:  # e.g. a JSON object of the wrong shape
                raise files.DamagedFileError(
                    candidate, f"holds a state that cannot be restored ({e!r})."
                ) from e
        except (files.DamagedFileError, FileNotFoundError) as e:
            first = e if first is None else first
            continue
        if loaded.used_previous:
            warnings.warn(
                f"keras-hpx: {str(first).rstrip('.')}; resuming from its previous generation "
                f"{previous}. "
                "Trials that ended after it are restored from their own files.",
                stacklevel=3,
            )
        for trial_id in sorted(set(loaded.damaged) - set(damaged)):
            warnings.warn(
                f"keras-hpx: {loaded.damaged[trial_id]} says trial {trial_id} is running, but "
                f"{os.path.basename(candidate)} recorded its end: the trial's file is older "
                "than the search's (restored from a backup?); its result is lost, the rest "
                "of the search resumes.",
                stacklevel=3,
            )
        return loaded
    assert first is not None
    if isinstance(first, FileNotFoundError):
        raise first
    problem = str(first).split(": ", 1)[-1]
    raise files.DamagedFileError(path, problem, _hint(path)) from first


def _loaded(
    project: str,
    state: dict,
    trials: dict[str, Any],
    damaged: dict[str, str],
    used_previous: bool,
) -> LoadedProject:
    """The project as `state` sees it: its saved orders made to agree with the trial files.

    A trial whose file says `RUNNING` although `state` recorded its end is counted as
    damaged: rerun, its reports would be refused as late for ever.
    """
    damaged = dict(damaged)
    end = state.get("end_order")
    ended = set(end) if isinstance(end, list) else set()
    for trial_id, trial in trials.items():
        if trial.status == Status.RUNNING and trial_id in ended:
            damaged[trial_id] = os.path.join(project, f"trial_{trial_id}", "trial.json")
    good = {k: v for k, v in trials.items() if k not in damaged}
    return LoadedProject(_reconcile(state, good, damaged), good, damaged, used_previous)


def _reconcile(state: dict, trials: dict[str, Any], damaged: dict[str, str]) -> dict:
    """Makes the saved orders agree with the trial files that could be read."""
    state = dict(state)
    known = set(trials) | set(damaged)
    start = [t for t in state.get("start_order", []) if t in known]
    end = [t for t in state.get("end_order", []) if t in known]
    # What the saved generation thought was running may have ended since (its file says).
    ongoing = {
        k: v
        for k, v in state.get("ongoing_trials", {}).items()
        if v in trials and trials[v].status not in Status.FINISHED
    }
    retry = [
        t
        for t in state.get("retry_queue", [])
        if t in trials and trials[t].status not in Status.FINISHED
    ]
    # Trials that ended (or started) after the saved generation: from their own files.
    for trial_id in sorted(trials, key=lambda t: (len(t), t)):
        if trial_id not in start:
            start.append(trial_id)
        status = trials[trial_id].status
        if status in Status.FINISHED and trial_id not in end:
            end.append(trial_id)
        elif (
            status == Status.RUNNING and trial_id not in ongoing.values() and trial_id not in retry
        ):
            retry.append(trial_id)  # it was running at the crash: rerun it
    # A damaged trial stays in the search as FAILED (its id is kept: Keras Tuner numbers
    # new trials by counting them), and is no longer running.
    for trial_id in damaged:
        if trial_id not in start:
            start.append(trial_id)
        if trial_id not in end:
            end.append(trial_id)
    state.update(start_order=start, end_order=end, ongoing_trials=ongoing, retry_queue=retry)
    return state


def repair_tuner_files(project: str, oracle_file: str) -> list[str]:
    """Replaces each damaged tuner file of the project (`<tuner_id>.json`) by `{}`.

    Keras Tuner's tuner reads its own file right after the oracle's `reload`, with no
    check: one damaged byte ends the resume in a bare `JSONDecodeError`. Its tuners keep
    nothing there (`{}`); a subclass that does loses what the file held. The original
    is kept as `<file>.damaged` and a warning names it.

    Returns:
        The files replaced.
    """
    replaced = []
    for path in sorted(glob.glob(os.path.join(project, "*.json"))):
        if os.path.abspath(path) == os.path.abspath(oracle_file):
            continue
        try:
            state = files.read_json(path)
            if isinstance(state, dict):
                continue
            problem = "does not hold a tuner state (not an object)."
        except files.DamagedFileError as e:
            problem = str(e).split(": ", 1)[-1]
        except OSError:
            continue  # unreadable for another reason: Keras Tuner will say so
        kept = path + ".damaged"
        try:
            shutil.copyfile(path, kept)
            files.atomic_write_text(path, "{}")
        except OSError:
            continue
        warnings.warn(
            f"keras-hpx: {path} {problem.rstrip('.')}; it is replaced by an empty tuner "
            f"state (Keras Tuner's tuners keep nothing there), the original kept as {kept}.",
            stacklevel=3,
        )
        replaced.append(path)
    return replaced


def placeholder_for(state: dict, trial_id: str, path: str) -> Any:
    """A `FAILED` trial standing for one whose `trial.json` was damaged (keeps its id)."""
    import keras_tuner

    hyperparameters = keras_tuner.HyperParameters.from_config(state["hyperparameters"])
    trial = kta.new_trial(hyperparameters, trial_id, Status.FAILED)
    trial.hyperparameters.values = {}
    trial.message = f"damaged file: {path} could not be read; the trial's result is lost"
    return trial
