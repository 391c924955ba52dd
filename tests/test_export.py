"""`keras-hpx export`: a real Keras Tuner project turned into HParams logs and a CSV."""

import argparse
import csv
import subprocess
import sys
import textwrap

import keras
import keras_tuner
import numpy as np
import pytest
from tensorboard.plugins.hparams import api_pb2

from keras_hpx.callbacks._context import find_tuner_context
from keras_hpx.export import add_export_parser, export_project, find_project
from keras_hpx.tensorboard import hparams as tb


class _FailTrial1(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        ctx = find_tuner_context()
        if ctx is not None and ctx.trial_id == "1":
            raise RuntimeError("sabotaged")


def _build(hp):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(hp.Int("units", 1, 3), activation="relu")]
    )
    model.add(keras.layers.Dense(1))
    if hp.Boolean("deep"):
        with hp.conditional_scope("deep", [True]):
            model.add(keras.layers.Dense(hp.Choice("extra", [2, 4])))
            model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 0.01, 0.1, step=0.03)), loss="mse")
    return model


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    tuner = keras_tuner.RandomSearch(
        _build, objective="val_loss", max_trials=3, directory=root, project_name="p", seed=5
    )
    tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[_FailTrial1()])
    trials = {
        tid: (t.status, t.score, dict(t.hyperparameters.values))
        for tid, t in tuner.oracle.trials.items()
    }
    return root, trials


def test_export_writes_sessions_domains_and_csv_without_tensorflow(project, tmp_path):
    root, trials = project
    out = tmp_path / "logs"
    code = textwrap.dedent(
        f"""
        import sys
        for name in ("tensorflow", "keras", "keras_tuner"):
            sys.modules[name] = None
        from keras_hpx.export import export_project
        print(export_project({str(root / "p")!r}, {str(out)!r}))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"Exported {len(trials)} trials" in run.stdout
    assert f"tensorboard --logdir {out}" in run.stdout

    exp = tb.read_experiment(out)
    infos = {h.name: h for h in exp.hparam_infos}
    assert {"units", "deep", "lr"} <= set(infos)
    assert [v.number_value for v in infos["lr"].domain_discrete.values] == pytest.approx(
        [0.01, 0.04, 0.07, 0.1]
    )
    # Keras Tuner gives Int a step of 1: a small range is a discrete set
    assert [v.number_value for v in infos["units"].domain_discrete.values] == [1, 2, 3]
    assert [m.name.tag for m in exp.metric_infos][:1] == ["score"]

    rows = {r["trial_id"]: r for r in csv.DictReader(open(out / "trials.csv", newline=""))}
    for trial_id, (status, score, values) in trials.items():
        data = tb.read_run(out / trial_id)
        assert data["start"].group_name == trial_id
        assert data["start"].hparams["units"].number_value == values["units"]
        assert data["start"].hparams["deep"].bool_value == values["deep"]
        if not values["deep"]:
            assert "extra" not in data["start"].hparams  # inactive: left out
        expected = api_pb2.STATUS_SUCCESS if status == "COMPLETED" else api_pb2.STATUS_FAILURE
        assert data["end"].status == expected
        assert rows[trial_id]["status"] == status
        if score is not None:
            assert data["scalars"]["score"][0][1] == pytest.approx(score, rel=1e-6)
            assert float(rows[trial_id]["score"]) == pytest.approx(score)
    assert trials["1"][0] == "FAILED"
    assert "sabotaged" in rows["1"]["error"]


def test_export_refuses_to_mix_then_overwrites(project, tmp_path):
    root, trials = project
    export_project(root / "p", tmp_path)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_project(root / "p", tmp_path)
    summary = export_project(root, tmp_path, overwrite=True)  # the parent of one project works
    assert summary.trials == len(trials)
    assert [p.name for p in (tmp_path / "_hparams").iterdir()] == ["export"]


def test_bad_project_dir_is_named(tmp_path):
    with pytest.raises(ValueError, match="project_dir="):
        find_project(tmp_path / "missing")
    with pytest.raises(ValueError, match="Keras Tuner project"):
        find_project(tmp_path)


def test_command_line(project, tmp_path, capsys):
    root, trials = project
    parser = argparse.ArgumentParser(prog="keras-hpx")
    add_export_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", str(root / "p"), str(tmp_path / "cli")])
    assert args.func(args) == 0
    assert f"Exported {len(trials)} trials" in capsys.readouterr().out


def _stopping_project(tmp_path, oracle):
    """A search whose trials report what WeakTrialStopping reports: trial 1 stopped at
    epoch index 2 (the wire form, and the full record for a keras-hpx oracle); trial 2
    as keras-hpx 0.1.0 reported it (the legacy `stopped_early` marker only)."""
    from keras_hpx.oracles.base import HpxOracle
    from keras_hpx.records import EarlyStop
    from keras_hpx.testing.conformance import ScoringTuner, run_search

    stop = EarlyStop(step=2, reason="val_loss: worse than the median", rule="median")

    class Reporting(ScoringTuner):
        def run_trial(self, trial, *args, **kwargs):
            metrics = {"score": 1.0, "val_loss": 0.5}
            if trial.trial_id == "1":
                metrics.update(stop.to_metrics())
                if isinstance(self.oracle, HpxOracle):
                    self.oracle.record_early_stop(trial.trial_id, stop)
            if trial.trial_id == "2":
                metrics.update(stopped_early=1.0)  # keras-hpx 0.1.0's marker
            self.oracle.update_trial(trial.trial_id, metrics, step=2)
            return metrics

    run_search(oracle, tmp_path / "proj", "p", tuner_class=Reporting)
    return stop


def _hp():
    hp = keras_tuner.HyperParameters()
    hp.Int("u", 1, 5)
    return hp


@pytest.mark.parametrize("which", ["keras_hpx", "keras_tuner"])
def test_early_stops_are_one_column_with_their_reason(tmp_path, which):
    from keras_hpx import RandomOracle

    objective = keras_tuner.Objective("score", "min")
    if which == "keras_hpx":
        oracle = RandomOracle(objective=objective, hyperparameters=_hp(), max_trials=3, seed=1)
    else:
        oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=objective, hyperparameters=_hp(), max_trials=3, seed=1
        )
    stop = _stopping_project(tmp_path, oracle)
    summary = export_project(tmp_path / "proj" / "p", tmp_path / "logs")
    assert summary.metrics.count("stopped_early") == 1
    with open(summary.csv_path, newline="") as f:
        rows = {r["trial_id"]: r for r in csv.DictReader(f)}
    assert "metric:stopped_early" not in rows["0"]  # the legacy marker is no metric column
    # the full record where a keras-hpx oracle saved it, else the wire form (no reason)
    expected = stop.describe() if which == "keras_hpx" else "at epoch 3"
    assert rows["1"]["stopped_reason"] == expected
    assert rows["2"]["stopped_reason"] == "at epoch 3"  # read from 0.1.0's marker
    assert rows["0"]["stopped_reason"] == ""
    for trial_id, stopped in (("0", False), ("1", True), ("2", True)):
        scalars = tb.read_run(tmp_path / "logs" / trial_id)["scalars"]
        assert scalars.get("stopped_early") == ([(2, 1.0)] if stopped else None), trial_id


def test_bad_arguments_use_the_common_wording(project, tmp_path):
    root, _ = project
    with pytest.raises(TypeError, match=r"Received: project_dir=3$"):
        find_project(3)
    with pytest.raises(TypeError, match=r"True or False\. Received: overwrite='yes'$"):
        export_project(root / "p", tmp_path, overwrite="yes")
    with pytest.raises(TypeError, match=r"Received: log_dir=None$"):
        export_project(root / "p", None)
