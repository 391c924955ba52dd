"""Damaged state files and saves that fail: a resume costs at most what a file held.

Real searches write real files; the tests truncate them (as a full disk or a copy cut
short would) and resume with `overwrite=False`.
"""

import csv
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


def _edit(path, change):
    state = json.load(open(path))
    change(state)
    with open(path, "w") as f:
        json.dump(state, f)


def _run_caught(make, tmp_path, project, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner = run_search(make, tmp_path, project=project, **kwargs)
    return tuner, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.clear(),
        lambda s: s["hpx"].update(elapsed="abc"),
        lambda s: s.update(end_order=5),
        lambda s: s.update(ongoing_trials=[]),
        lambda s: s.update(random=[]),
        lambda s: s["hpx"]["epochs"].update(finished=[1]),
    ],
    ids=["empty", "elapsed_str", "end_order_int", "ongoing_list", "random_list", "epochs_list"],
)
def test_an_oracle_json_of_the_wrong_shape_resumes_from_its_previous_generation(tmp_path, change):
    # Valid JSON, so it reads; what it holds cannot be restored: that is damage too.
    reference = _configs(run_search(ORACLES["random"](6), tmp_path, project="ref").oracle)
    run_search(ORACLES["random"](4), tmp_path, project="p")
    path = tmp_path / "p" / "oracle.json"
    _edit(path, change)
    again, messages = _run_caught(ORACLES["random"](6), tmp_path, "p", overwrite=False)
    assert any(
        m.startswith(f"keras-hpx: {path}: holds a state that cannot be restored")
        and "previous generation" in m
        for m in messages
    ), messages
    oracle = again.oracle
    assert _configs(oracle) == reference  # the same trials as an uninterrupted search
    assert all(oracle.trials[t].status == "COMPLETED" for t in oracle.start_order)


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("score", "abc", "score that is not a number"),
        ("status", "BOGUS", "unknown status"),
        ("trial_id", "7", "holds trial '7', not '1'"),
        ("best_step", "x", "best step that is not an integer"),
    ],
)
def test_a_trial_json_with_a_field_of_the_wrong_type_costs_that_trial_only(
    tmp_path, field, value, problem
):
    run_search(ORACLES["random"](4), tmp_path, project="p")
    path = tmp_path / "p" / "trial_1" / "trial.json"
    _edit(path, lambda s: s.update({field: value}))
    tuner, messages = _run_caught(ORACLES["random"](6), tmp_path, "p", overwrite=False)
    assert any(str(path) in m and problem in m and "trial 1 is lost" in m for m in messages)
    oracle = tuner.oracle
    statuses = {t: oracle.trials[t].status for t in oracle.start_order}
    assert list(statuses) == ["0", "1", "2", "3", "4", "5"]
    assert statuses["1"] == "FAILED"
    assert sum(s == "COMPLETED" for s in statuses.values()) == 5


@pytest.mark.timeout(120)
def test_a_trial_json_older_than_the_search_is_not_rerun_for_ever(tmp_path):
    # The trial's file says RUNNING, the search's state recorded its end (a file
    # restored from a backup). Rerun, its reports were refused as late, for ever.
    run_search(ORACLES["random"](4), tmp_path, project="p")
    path = tmp_path / "p" / "trial_1" / "trial.json"
    _edit(path, lambda s: s.update(status="RUNNING"))
    tuner, messages = _run_caught(ORACLES["random"](6), tmp_path, "p", overwrite=False)
    assert any(str(path) in m and "recorded its end" in m for m in messages), messages
    assert not any("late result" in m for m in messages)
    oracle = tuner.oracle
    assert len(oracle.start_order) == 6 and oracle.trials["1"].status == "FAILED"
    assert [oracle.trials[t].status for t in ("0", "2", "3", "4", "5")] == ["COMPLETED"] * 5


@pytest.mark.parametrize("damage", ["truncate", "garbage", "list"])
def test_a_damaged_tuner_file_is_replaced_and_named(tmp_path, damage):
    # Keras Tuner reads its tuner's own file right after the oracle's, unchecked.
    run_search(ORACLES["random"](3), tmp_path, project="p")
    path = tmp_path / "p" / "tuner0.json"
    original = path.read_bytes()
    assert json.loads(original) == {}
    damaged = {"truncate": original[:1], "garbage": b"\xff\xfe\x00x", "list": b"[]"}[damage]
    path.write_bytes(damaged)
    tuner, messages = _run_caught(ORACLES["random"](5), tmp_path, "p", overwrite=False)
    assert any(m.startswith(f"keras-hpx: {path} ") and ".damaged" in m for m in messages)
    assert (tmp_path / "p" / "tuner0.json.damaged").read_bytes() == damaged
    assert json.loads(path.read_text()) == {}
    oracle = tuner.oracle
    assert [oracle.trials[t].status for t in oracle.start_order] == ["COMPLETED"] * 5


def test_a_cut_last_row_of_the_oracles_csv_costs_that_row_only(tmp_path):
    run_search(ORACLES["random"](4), tmp_path, project="p")
    path = tmp_path / "p" / "trials.csv"
    text = path.read_text()
    cut = text[: text.rstrip("\n").rfind(",")]  # trial 3's row loses its last cells
    path.write_text(cut)
    tuner, messages = _run_caught(ORACLES["random"](6), tmp_path, "p", overwrite=False)
    assert any(str(path) in m and "1 damaged row" in m for m in messages), messages
    rows = list(csv.DictReader(open(path, newline="")))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2", "4", "5"]  # 4 not glued to 3
    assert all(None not in r and r["status"] == "COMPLETED" for r in rows)
    assert (tmp_path / "p" / "trials.csv.damaged").read_text() == cut  # kept as it was


def test_resuming_with_another_seed_or_oracle_says_what_the_search_keeps(tmp_path):
    reference = _configs(run_search(ORACLES["random"](6), tmp_path, project="ref").oracle)
    run_search(ORACLES["random"](4), tmp_path, project="p")
    other = RandomOracle(objective=kt.Objective("score", "min"), max_trials=6, seed=4, **_hp())
    tuner, messages = _run_caught(other, tmp_path, "p", overwrite=False)
    assert any("started with seed=3" in m and "not seed=4" in m for m in messages), messages
    assert _configs(tuner.oracle) == reference  # the saved seed goes on
    grid = GridOracle(objective=kt.Objective("score", "min"), max_trials=8, **_hp())
    tuner, messages = _run_caught(grid, tmp_path, "p", overwrite=False)
    assert any("searched by a RandomOracle" in m and "GridOracle" in m for m in messages)
    assert _configs(tuner.oracle) == reference  # the grid skips all 6 tried: exhausted
    assert tuner.oracle.search_end.reason == "search space exhausted"
