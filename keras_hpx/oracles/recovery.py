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
  them and says how to recover.
"""

from __future__ import annotations

import glob
import os
import shutil
import warnings
from dataclasses import dataclass, field
from typing import Any

from keras_hpx import files
from keras_hpx.oracles import keras_tuner_adapter as kta
from keras_hpx.records import Status

__all__ = ["PREVIOUS_SUFFIX", "LoadedProject", "keep_previous", "load_project", "placeholder_for"]

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


def _read_state(path: str) -> tuple[dict, bool]:
    hint = (
        f"Both {os.path.basename(path)} and its previous generation are unreadable. To "
        "recover, restore either file from a backup; or move the project directory aside "
        "and start with overwrite=True (its trial_*/trial.json files keep every result, "
        "and `keras-hpx export` still reads them)."
    )
    try:
        state = files.read_json(path)
        if not isinstance(state, dict):
            raise files.DamagedFileError(path, "does not hold an oracle state (not an object).")
        return state, False
    except (files.DamagedFileError, FileNotFoundError) as first:
        previous = path + PREVIOUS_SUFFIX
        try:
            state = files.read_json(previous)
        except (files.DamagedFileError, FileNotFoundError):
            if isinstance(first, FileNotFoundError):
                raise
            raise files.DamagedFileError(path, str(first).split(": ", 1)[-1], hint) from first
        warnings.warn(
            f"keras-hpx: {first}; resuming from its previous generation {previous}. "
            "Trials that ended after it are restored from their own files.",
            stacklevel=4,
        )
        return state, True


def load_project(oracle: Any) -> LoadedProject:
    """Reads the oracle's project (checked), reconciled so that `set_state` can take it.

    Args:
        oracle: The oracle (its project directory must be set).

    Raises:
        DamagedFileError: `oracle.json` and its previous generation are unreadable.
        FileNotFoundError: there is no `oracle.json` (nor a previous generation).
    """
    project = kta.project_dir(oracle)
    if project is None:  # not set: what `os.path.join(None, ...)` below always raised
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")
    trials: dict[str, Any] = {}
    damaged: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(project, "trial_*", "trial.json"))):
        trial_id = os.path.basename(os.path.dirname(path))[len("trial_") :]
        try:
            trial = kta.trial_from_state(files.read_json(path))
        except (files.DamagedFileError, KeyError, TypeError, ValueError, AttributeError) as e:
            damaged[trial_id] = path
            warnings.warn(
                f"keras-hpx: {path} is damaged ({e}); trial {trial_id} is lost, "
                "the rest of the search resumes.",
                stacklevel=3,
            )
            continue
        trials[str(trial.trial_id)] = trial
    state, used_previous = _read_state(kta.oracle_file(oracle))
    state = _reconcile(state, trials, damaged)
    return LoadedProject(state, trials, damaged, used_previous)


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


def placeholder_for(state: dict, trial_id: str, path: str) -> Any:
    """A `FAILED` trial standing for one whose `trial.json` was damaged (keeps its id)."""
    import keras_tuner

    hyperparameters = keras_tuner.HyperParameters.from_config(state["hyperparameters"])
    trial = kta.new_trial(hyperparameters, trial_id, Status.FAILED)
    trial.hyperparameters.values = {}
    trial.message = f"damaged file: {path} could not be read; the trial's result is lost"
    return trial
