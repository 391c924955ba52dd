"""kill -9 a real search process mid-trial, resume with overwrite=False: nothing lost or repeated."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "crash_search.py"
EXPECTED = {"grid": 12, "random": 10, "bayes": 10}


def _rows(directory):
    path = Path(directory) / "crash" / "trials.csv"
    if not path.exists():
        return 0
    try:
        return len(list(csv.DictReader(open(path))))
    except (OSError, csv.Error):
        return 0


def _start(name, directory, overwrite):
    env = dict(os.environ, KERAS_BACKEND="jax")
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), name, str(directory), "1" if overwrite else "0", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _kill_after(proc, directory, rows, timeout=120):
    deadline = time.monotonic() + timeout
    while _rows(directory) < rows:
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "search too slow"
        time.sleep(0.05)
    time.sleep(0.15)  # now inside the next trial's 0.3 s
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kill_9_twice_then_resume(tmp_path, name):
    proc = _start(name, tmp_path, overwrite=True)
    _kill_after(proc, tmp_path, rows=3)
    proc = _start(name, tmp_path, overwrite=False)
    _kill_after(proc, tmp_path, rows=6)
    proc = _start(name, tmp_path, overwrite=False)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out[-3000:]
    assert "SEARCH DONE" in out

    trials = [json.load(open(p)) for p in sorted((tmp_path / "crash").glob("trial_*/trial.json"))]
    configs = [tuple(sorted(t["hyperparameters"]["values"].items())) for t in trials]
    assert len(trials) == EXPECTED[name]
    assert len(set(configs)) == len(configs), "a configuration was repeated"
    assert all(t["status"] == "COMPLETED" for t in trials)
    rows = list(csv.DictReader(open(tmp_path / "crash" / "trials.csv")))
    assert sorted(r["trial_id"] for r in rows) == sorted(t["trial_id"] for t in trials)


def test_kill_during_state_writes_leaves_a_loadable_file(tmp_path):
    target = tmp_path / "state.json"
    code = (
        "import sys\n"
        "from keras_hpx.files import atomic_write_json as atomic_save_json\n"
        "big = {'x': list(range(200000))}\n"
        "i = 0\n"
        "while True:\n"
        "    big['i'] = i; atomic_save_json(sys.argv[1], big); i += 1\n"
    )
    for k in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(target)], env=dict(os.environ, KERAS_BACKEND="jax")
        )
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3 + 0.13 * k)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        state = json.load(open(target))
        assert len(state["x"]) == 200000
