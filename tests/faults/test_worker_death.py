"""A worker killed with SIGKILL mid-trial: the search goes on and ends, the chief exits.

Real processes: a chief and two workers on 127.0.0.1; worker `tuner1` kills itself with
`kill -9` in the middle of its second trial (tests/scripts/fault_search.py).
"""

import json
from pathlib import Path

import pytest

from keras_hpx.testing.distributed import run_distributed

SCRIPT = Path(__file__).parents[1] / "scripts" / "fault_search.py"


def _run(tmp_path, name, mode, timeout=240):
    result = run_distributed(
        str(SCRIPT),
        n_workers=2,
        args=[name, mode, str(tmp_path)],
        timeout=timeout,
        env={"KERAS_BACKEND": "jax"},
    )
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grid", "random", "bayes"])
def test_a_worker_killed_mid_trial_costs_nothing_and_the_chief_exits(tmp_path, name):
    result = _run(tmp_path, name, "kill")
    assert not result.timed_out, result.report()
    assert result.chief.returncode == 0, result.report()
    assert result.workers[0].returncode == 0, result.report()
    assert result.workers[1].returncode == -9, result.report()
    chief = json.load(open(tmp_path / "chief.json"))
    survivor = json.load(open(tmp_path / "tuner0.json"))
    killed = json.load(open(tmp_path / "killed.json"))

    trials = chief["trials"]
    assert len(trials) == 8
    assert all(t["status"] == "COMPLETED" for t in trials), trials  # none lost
    configs = [tuple(sorted(t["values"].items())) for t in trials]
    assert len(set(configs)) == len(configs), "a configuration ran twice"
    (lost,) = chief["lost_leases"]
    assert lost["trial_id"] == killed["trial_id"] and lost["tuner_id"] == "tuner1"
    assert lost["silence"] >= 3.0
    rerun = [r for r in survivor["ran"] if r["trial_id"] == killed["trial_id"]]
    assert len(rerun) == 1, "the dead worker's trial was not rerun by the other worker"
    delay = rerun[0]["start"] - killed["time"]
    assert 3.0 <= delay < 3.0 + 10.0, delay  # trial_timeout=3 s, then the next ask
    print(f"{name}: the dead worker's trial was rerun {delay:.1f}s after the kill")


@pytest.mark.slow
def test_heartbeats_keep_a_slow_trial_alive(tmp_path):
    result = _run(tmp_path, "random", "slow")
    result.check()
    chief = json.load(open(tmp_path / "chief.json"))
    trials = chief["trials"]
    assert len(trials) == 4
    assert all(t["status"] == "COMPLETED" for t in trials)
    assert chief["lost_leases"] == []
    ran = [r for i in range(2) for r in json.load(open(tmp_path / f"tuner{i}.json"))["ran"]]
    assert sorted(r["trial_id"] for r in ran) == sorted(t["trial_id"] for t in trials)


@pytest.mark.parametrize("name", ["random", "bayes"])
def test_a_chief_killed_and_restarted_under_a_running_worker_takes_its_result(tmp_path, name):
    # The restarted chief puts the trial that was running back in its retry queue; its
    # worker, alive, then reports its end. Before: accepted, but left in the queue, so
    # it was handed out again and every later result was "late": the worker reran it
    # for ever.
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from keras_hpx.testing.ports import free_port

    script = Path(__file__).parents[1] / "scripts" / "chief_restart_search.py"
    port = free_port()
    env = dict(os.environ, KERAS_BACKEND="jax", KERASTUNER_ORACLE_IP="127.0.0.1")
    env["KERASTUNER_ORACLE_PORT"] = str(port)

    def start(tuner_id):
        log = open(tmp_path / f"{tuner_id}-{time.time():.0f}.log", "w")
        return subprocess.Popen(
            [sys.executable, str(script), name, str(tmp_path)],
            env=dict(env, KERASTUNER_TUNER_ID=tuner_id),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_for(condition, seconds):
        deadline = time.time() + seconds
        while not condition():
            assert time.time() < deadline, "timed out"
            time.sleep(0.1)

    def serving():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    chief, worker = start("chief"), start("tuner0")
    try:
        wait_for(lambda: (tmp_path / "running_2").exists(), 120)
        chief.send_signal(signal.SIGKILL)
        chief.wait()
        chief = start("chief")
        wait_for(serving, 120)
        (tmp_path / "go").touch()
        assert worker.wait(timeout=90) == 0
        assert chief.wait(timeout=60) == 0
    finally:
        for process in (chief, worker):
            if process.poll() is None:
                process.kill()
    ran = json.load(open(tmp_path / "tuner0.json"))["ran"]
    assert sorted(ran) == ["0", "1", "2", "3", "4", "5"]  # trial 2 once: its result taken
    trials = json.load(open(tmp_path / "chief.json"))["trials"]
    assert trials == {str(i): "COMPLETED" for i in range(6)}
