"""WeakTrialStopping in Keras Tuner's distributed mode: a real chief and two workers."""

import json
import os
import socket
import time

import pytest

from keras_hpx.testing.distributed import run_distributed
from keras_hpx.testing.ports import free_port

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_search_script.py")
TRIALS, EPOCHS = 6, 6


def test_workers_decide_with_every_workers_curves(tmp_path):
    result = run_distributed(
        SCRIPT,
        n_workers=2,
        args=["--out", str(tmp_path), "--trials", str(TRIALS), "--epochs", str(EPOCHS)],
        timeout=240,
    )
    result.check()
    logs = {w: json.loads((tmp_path / f"{w}.json").read_text()) for w in ("tuner0", "tuner1")}
    ran = {w: {r["trial"] for r in log} for w, log in logs.items()}
    assert ran["tuner0"] and ran["tuner1"] and not ran["tuner0"] & ran["tuner1"]
    assert len(ran["tuner0"] | ran["tuner1"]) == TRIALS
    # each worker compared its runs with trials that only the other worker ran
    for me, other in (("tuner0", "tuner1"), ("tuner1", "tuner0")):
        seen = {t for r in logs[me] for t in r["compared_with"]}
        assert seen & ran[other], (me, logs[me])

    # the chief's oracle holds every trial's per-epoch curve and the record of each stop
    stopped = 0
    project = tmp_path / "search"
    for trial_id in ran["tuner0"] | ran["tuner1"]:
        state = json.loads((project / f"trial_{trial_id}" / "trial.json").read_text())
        metrics = state["metrics"]["metrics"]
        history = [o["value"][0] for o in metrics["val_loss"]["observations"]]
        assert state["status"] == "COMPLETED"
        assert state["score"] == pytest.approx(min(history), rel=1e-6)
        if "stopped_at_epoch" in metrics:
            stopped += 1
            assert state["hyperparameters"]["values"]["lr"] != 0.03
            at = metrics["stopped_at_epoch"]["observations"][0]["value"][0]
            assert len(history) == int(at) + 1 < EPOCHS
        else:
            assert len(history) == EPOCHS
    assert stopped >= 1


def test_the_chiefs_bayesian_oracle_models_stopped_trials_at_their_budget(tmp_path):
    """The multi-fidelity method over gRPC: per-epoch reports and stops reach the chief,
    whose BayesianOracle models the stopped trials at the epochs they reached."""
    result = run_distributed(
        SCRIPT,
        n_workers=2,
        args=["--out", str(tmp_path), "--trials", "8", "--epochs", str(EPOCHS)]
        + ["--oracle", "bayes"],
        timeout=300,
    )
    result.check()
    state = json.loads((tmp_path / "search" / "oracle.json").read_text())
    assert state["hpx"]["early_stops"], "no trial was stopped early"
    assert state["bayesian"]["multi_fidelity"] is True
    assert "score+budget" in state["bayesian"]["warm_starts"], state["bayesian"]
    assert len(state["bayesian"]["warm_starts"]["score+budget"]["lengthscales"]) == 3


def test_a_rerun_of_a_stopped_configuration_is_not_stopped_over_grpc(tmp_path):
    """A worker's callback finds, in the chief's trials (read over gRPC), that its trial
    repeats a configuration stopped early, and trains it to the end."""
    result = run_distributed(
        SCRIPT,
        n_workers=2,
        args=["--out", str(tmp_path), "--trials", "4", "--epochs", str(EPOCHS)]
        + ["--oracle", "rerun", "--min-runs", "1"],
        timeout=240,
    )
    result.check()
    project = tmp_path / "search"
    bad = []
    for path in sorted(project.glob("trial_*/trial.json")):
        state = json.loads(path.read_text())
        if state["hyperparameters"]["values"]["lr"] == 1e-7:
            metrics = state["metrics"]["metrics"]
            bad.append((state["trial_id"], len(metrics["val_loss"]["observations"]), metrics))
    assert len(bad) == 2, bad
    (first, first_epochs, first_metrics), (second, second_epochs, second_metrics) = sorted(bad)
    assert "stopped_at_epoch" in first_metrics and first_epochs < EPOCHS
    assert "stopped_at_epoch" not in second_metrics and second_epochs == EPOCHS
    logs = [
        r for w in ("tuner0", "tuner1") for r in json.loads((tmp_path / f"{w}.json").read_text())
    ]
    # read at the first stop the rule decides (None before it)
    assert {r["rerun_of"] for r in logs if r["trial"] == second} - {None} == {first}
    assert all(r["rerun_of"] is None for r in logs if r["trial"] != second)


def test_hyperband_brackets_agree_across_workers(tmp_path):
    """rule="hyperband" over gRPC: each worker places a trial by its id, so both agree, and
    compares it only with trials (from either worker) of its bracket or more patient ones."""
    from keras_hpx.stopping import HyperbandRule

    result = run_distributed(
        SCRIPT,
        n_workers=2,
        args=["--out", str(tmp_path), "--trials", str(TRIALS), "--epochs", str(EPOCHS)]
        # Interleaved: six trials fill three brackets (in synchronous order, the default,
        # the first 27 trials are all in bracket 0). Placement is a function of the trial
        # id either way; this checks that workers agree on it and compare accordingly.
        + ["--rule", "hyperband", "--order", "interleaved"],
        timeout=300,
    )
    result.check()
    # the script's rule: min_steps=2, min_runs=2, interleaved
    rule = HyperbandRule(min_steps=2, min_runs=2, order="interleaved")
    logs = [
        r for w in ("tuner0", "tuner1") for r in json.loads((tmp_path / f"{w}.json").read_text())
    ]
    trials = {r["trial"] for r in logs}
    assert len(trials) == TRIALS and {rule.bracket(t) for t in trials} == {0, 1, 2}
    compared = 0
    for r in logs:
        assert r["bracket"] == rule.bracket(r["trial"])
        for other in r["compared_with"]:
            assert rule.bracket(other) >= r["bracket"], r
            compared += 1
        if r["stop"]:  # only at a rung of its bracket: 2 or 6 epochs (bracket 0), 6 (1)
            assert r["epoch"] + 1 in {0: {2, 6}, 1: {6}}[r["bracket"]], r
    assert compared, "no decision compared with another trial"


def _alive(pid, wait=5.0):
    """Whether `pid` still runs after up to `wait` seconds (a zombie counts as gone)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                running = f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            running = False
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def test_launcher_kills_everything_on_timeout(tmp_path):
    script = tmp_path / "sleepy.py"
    script.write_text(
        "import os, subprocess, sys, time\n"
        "print(os.environ['KERASTUNER_TUNER_ID'], os.environ['KERASTUNER_ORACLE_PORT'], flush=True)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('child', child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    port = free_port()
    result = run_distributed(script, n_workers=2, timeout=3, port=port, kill_grace=1)
    assert result.timed_out and not result.ok and result.port == port
    assert [p.tuner_id for p in result.processes] == ["chief", "tuner0", "tuner1"]
    for p in result.processes:
        assert p.timed_out and p.returncode != 0
        assert p.output.startswith(f"{p.tuner_id} {port}")
        child = int(p.output.split("child")[1].split()[0])
        assert not _alive(child)  # the grandchild is gone too
    with pytest.raises(RuntimeError, match="TIMED OUT"):
        result.check()


def test_launcher_reports_exit_codes(tmp_path):
    script = tmp_path / "exit.py"
    script.write_text(
        "import os, sys\nprint('hello from', os.environ['KERASTUNER_TUNER_ID'])\n"
        "sys.exit(0 if os.environ['KERASTUNER_TUNER_ID'] == 'chief' else 3)\n"
    )
    result = run_distributed(script, n_workers=1, timeout=60)
    assert result.chief.ok and result.chief.output.strip() == "hello from chief"
    assert result.workers[0].returncode == 3 and not result.ok and not result.timed_out
    with pytest.raises(ValueError, match="n_workers=0"):
        run_distributed(script, n_workers=0)
    with pytest.raises(ValueError, match="script="):
        run_distributed(tmp_path / "missing.py")


def test_one_free_port_helper_serves_every_harness():
    from keras_hpx.testing import distributed, ports, tensorboard_server

    assert distributed.free_port is ports.free_port is free_port
    assert tensorboard_server.free_port is ports.free_port
    assert "free_port" in distributed.__all__  # kept for code that imported it from there
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))  # it really is free
