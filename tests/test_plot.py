"""`keras-hpx plot PROJECT_DIR --pareto out.png` draws the trials and their front."""

import subprocess
import sys

import keras_tuner as kt
import pytest

from keras_hpx import RandomOracle
from keras_hpx.plot import pareto_points, plot_pareto
from keras_hpx.testing.conformance import run_search


class TradeOff(kt.Tuner):
    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.values["x"]
        return {"accuracy": x, "size": x * x + 0.2 * (x > 0.5)}


def _project(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0, step=0.1)
    oracle = RandomOracle(
        objective=[kt.Objective("accuracy", "max"), kt.Objective("size", "min")],
        max_trials=8,
        hyperparameters=hp,
        seed=3,
    )
    run_search(oracle, tmp_path, project="mo", tuner_class=TradeOff)
    return oracle, tmp_path / "mo"


def test_points_and_front_match_the_oracle(tmp_path):
    oracle, project = _project(tmp_path)
    objectives, ids, values, front = pareto_points(project)
    assert objectives == [("accuracy", "max"), ("size", "min")]
    assert len(ids) == 8
    assert {ids[i] for i in range(len(ids)) if front[i]} == {
        t.trial_id for t in oracle.pareto_front()
    }


def test_the_cli_writes_a_png(tmp_path):
    _, project = _project(tmp_path)
    out = tmp_path / "front.png"
    done = subprocess.run(
        [sys.executable, "-m", "keras_hpx", "plot", str(project), "--pareto", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_objectives_can_be_given_and_are_checked(tmp_path):
    _, project = _project(tmp_path)
    path = plot_pareto(project, tmp_path / "x.png", [("size", "min"), ("accuracy", "max")])
    assert path.endswith("x.png")
    with pytest.raises(ValueError, match="two or more objectives"):
        pareto_points(project, [("size", "min")])
