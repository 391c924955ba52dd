"""Damaged state files and saves that fail: a resume costs at most what a file held.

Real searches write real files; the tests truncate them (as a full disk or a copy cut
short would) and resume with `overwrite=False`.
"""

import json
import os
import subprocess
import threading
import warnings

import keras_tuner as kt
import pytest

from keras_hpx import BayesianOracle, GridOracle, RandomOracle
from keras_hpx.files import DamagedFileError
from keras_hpx.testing.conformance import ScoringTuner, run_search, small_discrete_space

ORACLES = {
    "grid": lambda n: GridOracle(objective=kt.Objective("score", "min"), max_trials=n, **_hp()),
    "random": lambda n: RandomOracle(
        objective=kt.Objective("score", "min"), max_trials=n, seed=3, **_hp()
    ),
    "bayes": lambda n: BayesianOracle(
        objective=kt.Objective("score", "min"), max_trials=n, seed=3, num_initial_points=2, **_hp()
    ),
}


def _hp():
    return {"hyperparameters": small_discrete_space()}


def _truncate(path, keep=0.5):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])


def _configs(oracle):
    return [
        tuple(sorted(oracle.trials[t].hyperparameters.values.items())) for t in oracle.start_order
    ]


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_a_truncated_trial_json_costs_that_trial_only(tmp_path, name):
    run_search(ORACLES[name](4), tmp_path, project=name)
    damaged = tmp_path / name / "trial_2" / "trial.json"
    _truncate(damaged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner = run_search(ORACLES[name](6), tmp_path, project=name, overwrite=False)
    messages = [str(w.message) for w in caught]
    assert any(str(damaged) in m and "trial 2 is lost" in m for m in messages), messages
    oracle = tuner.oracle
    statuses = {t: oracle.trials[t].status for t in oracle.start_order}
    assert len(statuses) == 6 and statuses["2"] == "FAILED"
    assert "damaged file" in oracle.trials["2"].message
    assert sum(s == "COMPLETED" for s in statuses.values()) == 5  # the other 3 kept, 2 new
    good = [c for t, c in zip(oracle.start_order, _configs(oracle)) if t != "2"]
    assert len(set(good)) == len(good)  # nothing repeated
    json.load(open(damaged))  # the damaged file was rewritten; the next resume reads it


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_a_truncated_oracle_json_resumes_from_its_previous_generation(tmp_path, name):
    first = run_search(ORACLES[name](4), tmp_path, project=name).oracle
    before = _configs(first)
    path = tmp_path / name / "oracle.json"
    assert (tmp_path / name / "oracle.json.prev").exists()
    _truncate(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = run_search(ORACLES[name](6), tmp_path, project=name, overwrite=False).oracle
    assert any("previous generation" in str(w.message) for w in caught)
    after = _configs(again)
    assert after[:4] == before and len(after) == 6 and len(set(after)) == 6
    assert all(again.trials[t].status == "COMPLETED" for t in again.start_order)


def test_both_generations_damaged_stops_with_an_error_naming_the_file(tmp_path):
    run_search(ORACLES["random"](3), tmp_path, project="p")
    for suffix in ("", ".prev"):
        _truncate(tmp_path / "p" / f"oracle.json{suffix}", keep=0.3)
    with pytest.raises(DamagedFileError, match=r"oracle\.json: is not valid JSON.*overwrite=True"):
        run_search(ORACLES["random"](5), tmp_path, project="p", overwrite=False)


def _full_disk(tmp_path):
    """A 256 KiB tmpfs (a real full disk) when this process may mount one (root on Linux),
    else None (the test then makes the save fail another way)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    return mount if out.returncode == 0 else None


def test_a_save_that_fails_names_the_file_releases_the_lock_and_the_last_state_loads(tmp_path):
    disk = _full_disk(tmp_path)
    root = disk if disk is not None else tmp_path / "plain"
    try:
        hp = small_discrete_space()
        oracle = RandomOracle(
            objective=kt.Objective("score", "min"), max_trials=6, hyperparameters=hp, seed=1
        )
        tuner = ScoringTuner(
            oracle=oracle, hypermodel=lambda hp: None, directory=str(root), project_name="p"
        )
        del tuner  # it set the oracle's project directory; the test drives the oracle
        first = oracle.create_trial("w0")
        oracle.update_trial(first.trial_id, {"score": 1.0})
        first.status = "COMPLETED"
        oracle.end_trial(first)
        good = json.load(open(root / "p" / "oracle.json"))
        if disk is not None:  # fill the disk
            try:
                with open(disk / "filler", "wb") as f:
                    while True:
                        f.write(b"x" * 4096)
                        f.flush()
            except OSError:
                pass
        else:  # no mount here: oracle.json turned into a directory, so the save fails too
            os.remove(root / "p" / "oracle.json")
            (root / "p" / "oracle.json").mkdir()
            (root / "p" / "oracle.json" / "keep").write_text("x")
        with pytest.raises(OSError, match=r"keras-hpx could not save .*(oracle|trial)\.json"):
            second = oracle.create_trial("w0")  # writes trial.json (and oracle.json)
            oracle.update_trial(second.trial_id, {"score": 2.0})
            second.status = "COMPLETED"
            oracle.end_trial(second)
        done = threading.Event()
        threading.Thread(target=lambda: (oracle.get_best_trials(), done.set()), daemon=True).start()
        assert done.wait(10), "the oracle's lock was left held after the failed save"
        if disk is not None:
            os.remove(disk / "filler")
            assert (
                json.load(open(root / "p" / "oracle.json"))["start_order"][:1]
                == good["start_order"]
            )
            resumed = ScoringTuner(
                oracle=RandomOracle(
                    objective=kt.Objective("score", "min"),
                    max_trials=6,
                    hyperparameters=small_discrete_space(),
                    seed=1,
                ),
                hypermodel=lambda hp: None,
                directory=str(root),
                project_name="p",
                overwrite=False,
            )
            resumed.search(verbose=0)
            assert len(resumed.oracle.trials) == 6
    finally:
        if disk is not None:
            subprocess.run(["umount", str(disk)], capture_output=True)
