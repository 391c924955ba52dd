"""Trial leases in one process, with real threads and real time: what a late report or a
returning worker may do (nothing harmful)."""

import time
import warnings

import keras_tuner as kt
import pytest

from keras_hpx import RandomOracle
from keras_hpx.testing.conformance import ScoringTuner, small_discrete_space


def _oracle(tmp_path, timeout=0.3, max_trials=6):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        max_trials=max_trials,
        hyperparameters=small_discrete_space(),
        seed=5,
        trial_timeout=timeout,
    )
    ScoringTuner(oracle=oracle, hypermodel=lambda hp: None, directory=str(tmp_path))
    return oracle


def _finish(oracle, trial, score):
    oracle.update_trial(trial.trial_id, {"score": score})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def _expire(oracle, dead):
    """Lets `dead`'s lease run out, noticed by a worker that is busy with its own trial
    (so the lost trial waits in the retry queue instead of being handed out at once)."""
    busy = oracle.create_trial("busy")
    time.sleep(0.4)
    oracle.update_trial(busy.trial_id, {"score": 3.0})  # busy is alive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert oracle.create_trial("busy").trial_id == busy.trial_id
    assert any("sent nothing for" in str(w.message) for w in caught)
    assert oracle.trials[dead.trial_id].status == "INVALID"  # waiting for its rerun
    return busy


def test_a_silent_worker_loses_its_trial_and_its_late_reports_are_ignored(tmp_path):
    oracle = _oracle(tmp_path)
    dead = oracle.create_trial("w0")
    values = dict(dead.hyperparameters.values)
    oracle.update_trial(dead.trial_id, {"score": 50.0}, step=0)
    busy = _expire(oracle, dead)
    assert "w0" not in oracle.tuner_ids and oracle.lost_leases[0].tuner_id == "w0"
    with pytest.warns(UserWarning, match="late report"):
        oracle.update_trial(dead.trial_id, {"score": 99.0}, step=1)
    rerun = oracle.create_trial("w1")  # another worker reruns it, from a clean record
    assert rerun.trial_id == dead.trial_id and rerun.hyperparameters.values == values
    assert not oracle.trials[dead.trial_id].metrics.exists("score")
    # the dead worker comes back under its old id: it gets other work
    again = oracle.create_trial("w0")
    assert again.status == "RUNNING" and again.trial_id not in (dead.trial_id, busy.trial_id)
    _finish(oracle, rerun, 1.0)
    stored = oracle.trials[dead.trial_id]
    assert stored.status == "COMPLETED" and stored.score == 1.0
    assert [o.value for o in stored.metrics.get_history("score")] == [[1.0]]  # 50, 99 gone
    _finish(oracle, again, 2.0)
    _finish(oracle, busy, 3.0)


def test_a_late_end_while_the_trial_waits_for_a_rerun_is_ignored(tmp_path):
    oracle = _oracle(tmp_path)
    dead = oracle.create_trial("w0")
    busy = _expire(oracle, dead)
    late = kt.engine.trial.Trial(dead.hyperparameters.copy(), trial_id=dead.trial_id)
    late.status = "COMPLETED"
    with pytest.warns(UserWarning, match="late result"):
        oracle.end_trial(late)  # as it would arrive over gRPC: a copy of the trial
    assert oracle.trials[dead.trial_id].status == "INVALID"
    assert dead.trial_id not in oracle.end_order
    rerun = oracle.create_trial("w1")
    assert rerun.trial_id == dead.trial_id
    _finish(oracle, rerun, 0.5)
    _finish(oracle, busy, 0.7)
    assert oracle.trials[dead.trial_id].status == "COMPLETED"
    assert oracle.end_order.count(dead.trial_id) == 1


def test_a_worker_back_from_the_dead_after_the_rerun_started_first_end_wins(tmp_path):
    """Keras Tuner's reports carry no worker id: once another worker reruns the trial,
    the old worker's reports count like a second execution, and the first end wins."""
    oracle = _oracle(tmp_path)
    dead = oracle.create_trial("w0")
    time.sleep(0.4)
    rerun = oracle.create_trial("w1")
    assert rerun.trial_id == dead.trial_id
    zombie = kt.engine.trial.Trial(dead.hyperparameters.copy(), trial_id=dead.trial_id)
    zombie.status = "COMPLETED"
    oracle.update_trial(dead.trial_id, {"score": 2.0})
    oracle.end_trial(zombie)
    assert oracle.trials[dead.trial_id].status == "COMPLETED"
    assert oracle.trials[dead.trial_id].score == 2.0
    with pytest.warns(UserWarning, match="late"):
        _finish(oracle, rerun, 1.0)  # w1's end comes second: ignored
    assert oracle.end_order.count(dead.trial_id) == 1
    assert not oracle.ongoing_trials


def test_a_trial_that_loses_two_workers_fails_and_the_search_goes_on(tmp_path):
    oracle = _oracle(tmp_path)
    first = oracle.create_trial("w0")
    time.sleep(0.4)
    second = oracle.create_trial("w1")
    assert second.trial_id == first.trial_id
    time.sleep(0.4)
    third = oracle.create_trial("w2")  # w1 went silent too
    assert third.trial_id != first.trial_id
    failed = oracle.trials[first.trial_id]
    assert failed.status == "FAILED" and "lease lost 2 time(s)" in failed.message
    _finish(oracle, third, 0.1)
    assert [lost.tuner_id for lost in oracle.lost_leases] == ["w0", "w1"]


def test_reports_and_heartbeats_keep_a_lease(tmp_path):
    oracle = _oracle(tmp_path, timeout=0.5)
    trial = oracle.create_trial("w0")
    for step in range(4):
        time.sleep(0.3)
        if step % 2:
            oracle.get_trial(trial.trial_id)  # a heartbeat
        else:
            oracle.update_trial(trial.trial_id, {"score": 1.0}, step=step)
        assert oracle.create_trial("w1").trial_id != trial.trial_id or step == 0
    assert oracle.lost_leases == []


def test_trial_timeout_is_validated():
    with pytest.raises(
        ValueError, match=r"positive number of seconds or None\. Received: trial_timeout=0"
    ):
        RandomOracle(objective="val_loss", trial_timeout=0)


def test_a_search_in_one_process_with_trial_timeout_runs_normally(tmp_path):
    from keras_hpx.testing.conformance import run_search

    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        max_trials=6,
        hyperparameters=small_discrete_space(),
        seed=1,
        trial_timeout=60,
    )
    run_search(oracle, tmp_path, project="solo")
    assert [oracle.trials[t].status for t in oracle.start_order] == ["COMPLETED"] * 6
    assert oracle.lost_leases == []
