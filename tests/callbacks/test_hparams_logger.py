"""HParamsLogger and TrialLogger on real searches, checked through a real TensorBoard.

A tiny Keras Tuner search runs in a subprocess per backend (TensorFlow with one
execution per trial, JAX with two); a `tensorboard` process serves its logs and
the HParams plugin's HTTP API must show every trial with its hyperparameters,
metrics, status and the search space's domains.
"""

import copy
import csv
import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from tensorboard.plugins.hparams import api_pb2

from keras_hpx.callbacks.hparams_logger import HParamsLogger
from keras_hpx.callbacks.trial_logger import TrialLogger
from keras_hpx.tensorboard import hparams as tb
from keras_hpx.testing.tensorboard_server import TensorBoardServer

HERE = os.path.dirname(__file__)
SCRIPT = os.path.join(HERE, "hparams_search.py")
FAIL_TRIAL, STOP_TRIAL, BUILD_FAIL_TRIAL = "1", "2", "3"
BACKENDS = {"tensorflow": 1, "jax": 2, "torch": 1}  # backend -> executions per trial


def _run_search(backend, executions, root):
    log_dir, project = root / "logs", root / "project"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([HERE, env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, SCRIPT, str(log_dir), str(project), str(executions)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return log_dir, project, json.loads(line[len("RESULT ") :]), out.stdout


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def search(request, tmp_path_factory):
    backend = request.param
    if backend == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (it is in the bench extra, not the test extra)")
    executions = BACKENDS[backend]
    log_dir, project, result, stdout = _run_search(
        backend, executions, tmp_path_factory.mktemp(backend)
    )
    with TensorBoardServer(log_dir) as server:
        experiment = server.wait_for_experiment(timeout=60)
        groups = server.wait_for_groups(len(result["trials"]), timeout=60)
        yield {
            "backend": backend,
            "executions": executions,
            "log_dir": log_dir,
            "project": project,
            "result": result,
            "stdout": stdout,
            "server": server,
            "groups": {g["name"]: g for g in groups},
            "experiment": experiment,
        }


def _metric(group, tag):
    for m in group.get("metricValues", []):
        if m["name"]["tag"] == tag:
            return m["value"]
    return None


def test_backend_and_tensorflow_import(search):
    assert search["result"]["backend"] == search["backend"]
    if search["backend"] != "tensorflow":
        assert search["result"]["tensorflow_imported"] is False


def test_domains_match_the_search_space(search):
    infos = {h["name"]: h for h in search["experiment"]["hparamInfos"]}
    assert set(infos) == {"units", "act", "bias", "lr"}
    assert infos["units"]["domainDiscrete"] == [2, 4, 6, 8]
    assert sorted(infos["act"]["domainDiscrete"]) == ["relu", "tanh"]
    assert infos["bias"]["domainDiscrete"] == [False, True]
    assert infos["lr"]["domainInterval"] == {"minValue": 0.001, "maxValue": 0.1}
    metrics = {m["name"]["tag"]: m for m in search["experiment"]["metricInfos"]}
    assert {
        "score",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "epochs",
        "stopped_early",
    } <= set(metrics)
    assert metrics["val_loss"]["datasetType"] == "DATASET_VALIDATION"
    assert metrics["loss"]["datasetType"] == "DATASET_TRAINING"


def test_every_trial_is_a_session_group_with_values_metrics_and_status(search):
    trials, groups = search["result"]["trials"], search["groups"]
    assert set(groups) == set(trials)
    for trial_id, trial in trials.items():
        group = groups[trial_id]
        for name, value in trial["values"].items():
            assert group["hparams"][name] == pytest.approx(value), (trial_id, name)
        statuses = {s["status"] for s in group["sessions"]}
        if trial["status"] == "COMPLETED":
            assert statuses == {"STATUS_SUCCESS"}
            assert len(group["sessions"]) == search["executions"]
            # the score column is Keras Tuner's score (best epoch, mean of executions)
            assert _metric(group, "score") == pytest.approx(trial["score"], rel=1e-5)
            assert _metric(group, "val_loss") is not None
        else:
            assert trial_id in (FAIL_TRIAL, BUILD_FAIL_TRIAL) and trial["status"] == "FAILED"
            assert statuses == {"STATUS_FAILURE"}
            assert _metric(group, "score") is None
    assert _metric(groups[STOP_TRIAL], "stopped_early") == 1.0
    assert _metric(groups[STOP_TRIAL], "epochs") == 1.0
    assert _metric(groups["0"], "stopped_early") == 0.0
    assert _metric(groups["0"], "epochs") == 2.0


def test_dashboard_filters_failed_and_early_stopped_trials(search):
    server = search["server"]
    body = {
        "startIndex": 0,
        "sliceSize": 100,
        "allowedStatuses": ["STATUS_SUCCESS"],
        "aggregationType": "AGGREGATION_AVG",
        "colParams": [
            {
                "metric": {"tag": "stopped_early", "group": ""},
                "filterInterval": {"minValue": 0.5, "maxValue": 1},
            }
        ],
    }
    groups = server.post("session_groups", body).get("sessionGroups", [])
    assert [g["name"] for g in groups] == [STOP_TRIAL]
    body["allowedStatuses"] = ["STATUS_FAILURE"]
    body["colParams"] = []
    groups = server.post("session_groups", body).get("sessionGroups", [])
    assert [g["name"] for g in groups] == [FAIL_TRIAL, BUILD_FAIL_TRIAL]


def test_layout_one_run_per_trial_and_execution(search):
    log_dir, executions = search["log_dir"], search["executions"]
    for trial_id in search["result"]["trials"]:
        run = log_dir / trial_id
        if executions > 1 and trial_id not in (FAIL_TRIAL, BUILD_FAIL_TRIAL):
            assert sorted(os.listdir(run)) == [f"execution_{k}" for k in range(executions)]
        assert run.is_dir()


def test_trial_logger_csv_and_progress(search):
    trials = search["result"]["trials"]
    with open(search["log_dir"] / "trials.csv", newline="") as f:
        rows = {r["trial_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(trials)
    for trial_id, trial in trials.items():
        row = rows[trial_id]
        assert row["status"] == trial["status"]
        assert float(row["seconds"]) >= 0
        assert row["act"] == trial["values"]["act"]
        if trial["status"] == "COMPLETED":
            assert float(row["score"]) == pytest.approx(trial["score"], rel=1e-5)
            assert float(row["metric:val_loss"]) == pytest.approx(trial["score"], rel=1e-5)
    assert rows[STOP_TRIAL]["stopped_reason"] == "stop_training"
    assert "sabotaged trial" in rows[FAIL_TRIAL]["error"]
    assert "sabotaged build" in rows[BUILD_FAIL_TRIAL]["error"]
    lines = [x for x in search["stdout"].splitlines() if x.startswith("[")]
    assert len(lines) == len(trials)
    assert lines[-1].startswith(f"[{len(trials)}/{len(trials)}] trial ")
    assert "best=" in lines[-1] and "left" in lines[0]


# ----- plain model.fit, copies, arguments (in this process, any backend) ----------------------


def _csv_rows(path):
    """The rows of a trials CSV, read from disk."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _tiny_fit(callbacks, epochs=2):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=callbacks)


def test_plain_fit_with_explicit_hparams(tmp_path):
    logger = HParamsLogger(tmp_path, hparams={"units": 4, "opt": "sgd"}, run_name="first")
    assert not tmp_path.exists() or not os.listdir(tmp_path), "nothing written before fit"
    _tiny_fit([logger])
    data = tb.read_run(tmp_path / "first")
    assert data["start"].group_name == "first"
    assert data["start"].hparams["opt"].string_value == "sgd"
    assert data["end"].status == 1  # SUCCESS
    assert [s for s, _ in data["scalars"]["val_loss"]] == [0, 1]
    assert data["scalars"]["epochs"] == [(1, 2.0)]
    # without domains no experiment is written (the dashboard infers the columns)
    assert tb.read_experiment(tmp_path) is None and not (tmp_path / "_hparams").exists()
    # the same name again gets a new run, not a mixed one
    _tiny_fit([logger], epochs=1)
    assert (tmp_path / "first_retry1").is_dir()


def test_plain_fit_with_objective_and_keras_tuner_hyperparameters(tmp_path):
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.Int("units", 1, 4)
    hp.Choice("opt", ["sgd", "adam"])
    logger = HParamsLogger(tmp_path, hparams=hp, objective="val_loss", run_name="r")
    _tiny_fit([logger, keras.callbacks.EarlyStopping("loss", patience=0, min_delta=1e9)], epochs=3)
    exp = tb.read_experiment(tmp_path)
    assert [h.name for h in exp.hparam_infos] == ["units", "opt"]
    run = tb.read_run(tmp_path / "r")
    assert run["start"].hparams["units"].number_value == 1
    assert run["scalars"]["score"][0][1] == min(v for _, v in run["scalars"]["val_loss"])
    assert run["scalars"]["stopped_early"][0][1] == 1.0


def test_experiment_is_rewritten_once_when_the_space_grows(tmp_path):
    import keras_tuner

    small = keras_tuner.HyperParameters()
    small.Choice("opt", ["sgd", "adam"])
    logger = HParamsLogger(tmp_path, hparams=small, run_name="a")
    _tiny_fit([logger], epochs=1)
    (first,) = (tmp_path / "_hparams").iterdir()
    grown = copy.deepcopy(small)
    grown.Float("lr", 0.01, 0.1)
    clone = copy.deepcopy(logger)  # as Keras Tuner does; shares what was written
    clone.hparams = grown
    clone.run_name = "b"
    _tiny_fit([clone], epochs=1)
    (second,) = (tmp_path / "_hparams").iterdir()  # the old experiment run is gone
    assert second != first
    exp = tb.read_experiment(tmp_path)
    assert [h.name for h in exp.hparam_infos] == ["opt", "lr"]
    _tiny_fit([copy.deepcopy(clone)], epochs=1)  # nothing new: no rewrite
    assert list((tmp_path / "_hparams").iterdir()) == [second]


def test_non_finite_objective_is_a_failure_and_space_gives_domains(tmp_path):
    from keras_hpx.space import Param, Space

    class NaNify(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = float("nan")

    space = Space([Param("units", "int", min_value=1, max_value=4, step=1, default=1)])
    hp_logger = HParamsLogger(
        tmp_path, hparams={"units": 2}, space=space, objective="val_loss", run_name="nan"
    )
    trial_logger = TrialLogger(
        tmp_path, hparams={"units": 2}, objective="val_loss", run_name="nan", verbose=0
    )
    _tiny_fit([NaNify(), hp_logger, trial_logger])
    run = tb.read_run(tmp_path / "nan")
    assert run["end"].status == 2  # FAILURE, as Keras Tuner fails a trial without a score
    assert "score" not in run["scalars"] and run["scalars"]["epochs"] == [(1, 2.0)]
    exp = tb.read_experiment(tmp_path)
    assert [v.number_value for v in exp.hparam_infos[0].domain_discrete.values] == [1, 2, 3, 4]
    assert trial_logger.path == str(tmp_path / "trials.csv")
    (row,) = _csv_rows(trial_logger.path)
    assert row["trial_id"] == "nan" and row["units"] == "2"
    assert row["status"] == "FAILED" and row["error"] == "non-finite val_loss at every epoch"


def test_log_dir_under_a_file_is_refused_at_construction(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    log_dir = str(tmp_path / "file" / "logs")
    with pytest.raises(ValueError) as info:
        HParamsLogger(log_dir, hparams={"a": 1})
    message = str(info.value)
    assert f"log_dir={log_dir!r}" in message  # the value given
    assert f"{str(tmp_path / 'file')!r} is a file" in message  # what is in the way
    assert "expected a directory" in message
    assert not (tmp_path / "file").is_dir()


def test_unwritable_log_dir_warns_and_training_goes_on(tmp_path):
    logger = HParamsLogger(tmp_path / "file" / "logs", hparams={"a": 1})
    (tmp_path / "file").write_text("became a file after the logger was made")
    with pytest.warns(UserWarning, match="could not write"):
        _tiny_fit([logger])


def test_hyperband_bookkeeping_values_are_listed_after_the_space(tmp_path):
    import keras_tuner

    def build(hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Choice("u", [1, 2]))])
        model.compile(optimizer="sgd", loss="mse")
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    tuner = keras_tuner.Hyperband(
        build, objective="val_loss", max_epochs=2, factor=2, directory=tmp_path / "p", seed=0
    )
    log_dir = tmp_path / "logs"
    tuner.search(x, x[:, :1], validation_split=0.25, verbose=0, callbacks=[HParamsLogger(log_dir)])
    exp = tb.read_experiment(log_dir)
    infos = {h.name: h for h in exp.hparam_infos}
    assert infos["u"].differs and not infos["tuner/epochs"].differs  # the dashboard's order
    assert infos["tuner/trial_id"].type == api_pb2.DATA_TYPE_STRING  # no domain
    for trial_id, trial in tuner.oracle.trials.items():
        start = tb.read_run(log_dir / trial_id)["start"]
        assert start.hparams["tuner/epochs"].number_value == trial.hyperparameters["tuner/epochs"]


def test_custom_run_trial_with_one_fit_per_trial(tmp_path, capsys):
    import keras_tuner

    class OneFit(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            model = keras.Sequential(
                [keras.Input((3,)), keras.layers.Dense(hp.Choice("u", [1, 2]))]
            )
            model.compile(optimizer="sgd", loss="mse")
            return model.fit(*args, **kwargs)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    tuner = OneFit(
        objective="val_loss",
        max_trials=2,
        executions_per_trial=2,  # ignored by this run_trial: one fit per trial
        directory=tmp_path / "p",
        seed=0,
    )
    log_dir = tmp_path / "logs"
    loggers = [HParamsLogger(log_dir), TrialLogger(log_dir)]
    tuner.search(x, x[:, :1], validation_split=0.25, epochs=1, verbose=0, callbacks=loggers)
    loggers[1].close()  # the last trial's row (its "second execution" never comes)
    rows = _csv_rows(loggers[1].path)
    assert sorted(r["trial_id"] for r in rows) == sorted(tuner.oracle.trials)
    assert all(r["status"] == "COMPLETED" for r in rows)
    for trial_id in tuner.oracle.trials:
        assert tb.read_run(log_dir / trial_id / "execution_0")["end"].status == 1
    assert capsys.readouterr().out.count("COMPLETED") == 2


def test_deep_copies_share_state_and_hold_no_model(tmp_path, capsys):
    logger = HParamsLogger(tmp_path, hparams={"a": 1}, run_name="orig", verbose=0)
    _tiny_fit([logger], epochs=1)
    assert logger.model is not None
    clone = copy.deepcopy(logger)
    assert clone is not logger and clone.model is None  # the trained model is not copied
    assert (clone.log_dir, clone.hparams, clone.run_name) == (logger.log_dir, {"a": 1}, "orig")
    clone.hparams["a"] = 2  # the configuration is a copy ...
    assert logger.hparams == {"a": 1}
    clone.run_name = "copy"
    _tiny_fit([clone], epochs=1)
    # ... while both write one log dir, one session each
    assert sorted(os.listdir(tmp_path)) == ["copy", "orig"]
    for name, value in (("orig", 1), ("copy", 2)):
        run = tb.read_run(tmp_path / name)
        assert run["start"].group_name == name
        assert run["start"].hparams["a"].number_value == value
        assert run["end"].status == 1 and run["scalars"]["epochs"] == [(0, 1.0)]

    # TrialLogger copies write one CSV: one header, one row per fit, a shared count
    trials = TrialLogger(tmp_path / "t", hparams={"a": 1}, run_name="first")
    _tiny_fit([trials], epochs=1)
    (trials_copy,) = copy.deepcopy([trials])
    assert isinstance(trials_copy, TrialLogger) and trials_copy.path == trials.path
    trials_copy.run_name = "second"
    _tiny_fit([trials_copy], epochs=1)
    with open(trials.path, encoding="utf-8") as f:
        assert f.read().count("trial_id") == 1
    assert [r["trial_id"] for r in _csv_rows(trials.path)] == ["first", "second"]
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("[")]
    assert [x.split(" COMPLETED")[0] for x in lines] == ["[1] trial first", "[2] trial second"]


def test_deep_copies_share_open_sessions(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom")

    logger = HParamsLogger(tmp_path, hparams={"a": 1}, run_name="bad", verbose=0)
    with pytest.raises(RuntimeError, match="boom"):
        _tiny_fit([logger, Boom()])
    assert tb.read_run(tmp_path / "bad")["end"] is None  # still open
    clone = copy.deepcopy(logger)
    clone.run_name = "good"
    _tiny_fit([clone], epochs=1)  # the copy's fit closes the original's open session
    assert tb.read_run(tmp_path / "bad")["end"].status == 2  # FAILURE
    assert tb.read_run(tmp_path / "good")["end"].status == 1
    logger.close()  # nothing left open: no second end is written
    assert tb.read_run(tmp_path / "bad")["end"].status == 2


def test_failed_plain_fit_is_recorded_at_the_next_fit(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom")

    logger = HParamsLogger(tmp_path, hparams={"a": 1}, run_name="bad")
    with pytest.raises(RuntimeError, match="boom"):
        _tiny_fit([logger, Boom()])
    assert tb.read_run(tmp_path / "bad")["end"] is None  # still open
    copy.deepcopy(logger).close()  # what the next fit or interpreter exit does
    assert tb.read_run(tmp_path / "bad")["end"].status == 2  # FAILURE


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"log_dir": 3}, "log_dir=3"),
        ({"log_dir": "x", "metrics": "loss"}, "metrics='loss'"),
        ({"log_dir": "x", "hparams": [1]}, r"hparams=\[1\]"),
        ({"log_dir": "x", "max_discrete": -1}, "max_discrete=-1"),
        ({"log_dir": "x", "objective": 3}, "objective=3"),
        ({"log_dir": "x", "space": "nope"}, "space='nope'"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        HParamsLogger(**kwargs)


def test_trial_logger_bad_arguments():
    with pytest.raises(ValueError, match="total=0"):
        TrialLogger("x", total=0)
    with pytest.raises(ValueError, match="filename="):
        TrialLogger("x", filename="a/b.csv")


@pytest.mark.slow
def test_distributed_workers_log_their_own_trials_under_one_log_dir(tmp_path):
    from keras_hpx.testing.distributed import run_distributed

    log_dir, trials = tmp_path / "logs", 6
    result = run_distributed(
        os.path.join(HERE, "hparams_distributed_script.py"),
        n_workers=2,
        args=[str(log_dir), str(tmp_path / "project"), str(trials)],
        env={"KERAS_BACKEND": "jax"},
        timeout=240,
    )
    result.check()
    for worker in result.workers:
        assert "TF_IMPORTED False" in worker.output
    rows = []
    for worker in ("tuner0", "tuner1"):
        with open(log_dir / f"trials-{worker}.csv", newline="") as f:
            rows += list(csv.DictReader(f))
    assert sorted(r["trial_id"] for r in rows) == [str(i) for i in range(trials)]
    with TensorBoardServer(log_dir) as server:
        server.wait_for_experiment(timeout=60)
        groups = server.wait_for_groups(trials, timeout=60)
        assert sorted(g["name"] for g in groups) == [str(i) for i in range(trials)]
        assert all(s["status"] == "STATUS_SUCCESS" for g in groups for s in g["sessions"])
        assert {h["name"] for h in server.experiment()["hparamInfos"]} == {"units", "lr"}
