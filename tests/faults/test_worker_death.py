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
