"""The TF-free HParams writer, read back from its event files."""

import os
import subprocess
import sys
import textwrap

import pytest
from tensorboard.plugins.hparams import api_pb2

from keras_hpx.space import Param, Space
from keras_hpx.tensorboard import hparams as tb


def _space():
    return Space(
        [
            Param("act", "choice", values=("relu", "tanh", "gelu"), default="relu"),
            Param("bias", "boolean", values=(False, True), default=True),
            Param("units", "int", min_value=16, max_value=64, step=16, default=16),
            Param("depth", "int", min_value=1, max_value=100, default=1),
            Param("wide", "int", min_value=0, max_value=1000, step=10, default=0),
            Param("lr", "float", min_value=1e-4, max_value=1e-1, sampling="log", default=1e-3),
            Param("drop", "float", min_value=0.0, max_value=0.5, step=0.25, default=0.0),
            Param("seed", "fixed", values=(7,), default=7),
            Param(
                "momentum",
                "float",
                min_value=0.0,
                max_value=0.9,
                default=0.0,
                conditions=(("act", ("relu",)),),
            ),
        ]
    )


def _discrete(info):
    out = []
    for v in info.domain_discrete.values:
        kind = v.WhichOneof("kind")
        out.append(getattr(v, kind))
    return out


def test_domains_follow_the_space():
    infos = {i.name: i for i in tb.hparam_infos_from_space(_space())}
    assert list(infos) == [
        "act",
        "bias",
        "units",
        "depth",
        "wide",
        "lr",
        "drop",
        "seed",
        "momentum",
    ]
    assert infos["act"].type == api_pb2.DATA_TYPE_STRING
    assert _discrete(infos["act"]) == ["gelu", "relu", "tanh"]  # sorted, as TensorBoard does
    assert infos["bias"].type == api_pb2.DATA_TYPE_BOOL
    assert _discrete(infos["bias"]) == [False, True]
    # stepped and small: the exact set; unstepped or large: an interval
    assert _discrete(infos["units"]) == [16.0, 32.0, 48.0, 64.0]
    assert infos["depth"].HasField("domain_interval")
    assert (infos["depth"].domain_interval.min_value, infos["depth"].domain_interval.max_value) == (
        1.0,
        100.0,
    )
    assert infos["wide"].HasField("domain_interval")
    assert infos["lr"].domain_interval.min_value == pytest.approx(1e-4)
    assert infos["lr"].domain_interval.max_value == pytest.approx(1e-1)
    assert "log sampling" in infos["lr"].description
    assert _discrete(infos["drop"]) == [0.0, 0.25, 0.5]
    assert _discrete(infos["seed"]) == [7.0]
    assert "active when act in ['relu']" in infos["momentum"].description
    # the threshold is a parameter
    small = {i.name: i for i in tb.hparam_infos_from_space(_space(), max_discrete=2)}
    assert small["units"].HasField("domain_interval")


def test_experiment_session_and_scalars_round_trip(tmp_path):
    space = _space()
    metrics = [
        tb.metric_info("loss", dataset="training"),
        tb.metric_info("val_loss", dataset="validation"),
    ]
    first = tb.write_experiment(tmp_path, tb.hparam_infos_from_space(space), metrics)
    assert os.path.dirname(first) == str(tmp_path / "_hparams")
    # a changed experiment goes into a new run; the run it replaces is deleted
    second = tb.write_experiment(
        tmp_path,
        tb.hparam_infos_from_space(space),
        metrics + [tb.metric_info("score")],
        replace=first,
    )
    assert not os.path.exists(first) and os.path.isdir(second)
    exp = tb.read_experiment(tmp_path)
    assert [m.name.tag for m in exp.metric_infos] == ["loss", "val_loss", "score"]
    assert exp.metric_infos[1].dataset_type == api_pb2.DATASET_VALIDATION

    run = tmp_path / "trial_7"
    session = tb.SessionWriter(run, "7", {"act": "tanh", "units": 32, "bias": False, "x": None})
    assert not run.exists(), "files are created on the first write"
    session.scalars({"loss": 1.0, "val_loss": 2.0, "name": "not a number"}, step=0)
    session.scalars({"loss": 0.5, "val_loss": 1.5}, step=1)
    session.end("SUCCESS", end_time_secs=session.start_time + 3)
    data = tb.read_run(run)
    assert data["start"].group_name == "7"
    assert data["start"].hparams["act"].string_value == "tanh"
    assert data["start"].hparams["units"].number_value == 32
    assert data["start"].hparams["bias"].bool_value is False
    assert "x" not in data["start"].hparams  # inactive (None) values are left out
    assert data["end"].status == api_pb2.STATUS_SUCCESS
    assert data["end"].end_time_secs == pytest.approx(session.start_time + 3)
    assert data["scalars"] == {"loss": [(0, 1.0), (1, 0.5)], "val_loss": [(0, 2.0), (1, 1.5)]}
    session.end("FAILURE")  # a second end is ignored
    assert tb.read_run(run)["end"].status == api_pb2.STATUS_SUCCESS


def test_tensorboards_own_loader_reads_our_files(tmp_path):
    from tensorboard.backend.event_processing import event_file_loader

    session = tb.SessionWriter(tmp_path / "r", "g", {"a": 1.5})
    session.scalars({"loss": 0.25}, step=3)
    session.end("FAILURE")
    (path,) = (tmp_path / "r").iterdir()
    events = list(event_file_loader.EventFileLoader(str(path)).Load())  # checks CRCs
    assert events[0].file_version == "brain.Event:2"
    tags = [v.tag for e in events for v in e.summary.value]
    assert tags == ["_hparams_/session_start_info", "loss", "_hparams_/session_end_info"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="status='DONE'"):
        tb.session_end_pb("DONE")
    with pytest.raises(ValueError, match="dataset='test'"):
        tb.metric_info("x", dataset="test")
    with pytest.raises(ValueError, match="not both"):
        tb.hparam_info("x", values=[1], interval=(0, 1))


def test_writer_imports_and_writes_without_tensorflow_or_keras(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        for name in ("tensorflow", "keras", "keras_tuner"):
            sys.modules[name] = None  # any import of them raises ImportError
        from keras_hpx.tensorboard import hparams as tb
        from keras_hpx.testing import tensorboard_server
        from keras_hpx.space import Param, Space
        space = Space([Param("a", "choice", values=("x", "y"), default="x")])
        tb.write_experiment({str(tmp_path)!r}, tb.hparam_infos_from_space(space), [tb.metric_info("loss")])
        s = tb.SessionWriter({str(tmp_path / "run")!r}, "0", {{"a": "x"}})
        s.scalars({{"loss": 1.0}}, step=0)
        s.end("SUCCESS")
        assert tb.read_run({str(tmp_path / "run")!r})["end"].status == 1
        print("OK", sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "OK ['keras', 'tensorflow']"  # only the blocks


def test_a_running_tensorboard_switches_to_a_replaced_experiment(tmp_path):
    import time

    from keras_hpx.testing.tensorboard_server import TensorBoardServer

    infos = tb.hparam_infos_from_space(_space())
    first = tb.write_experiment(tmp_path, infos, [tb.metric_info("score")])
    session = tb.SessionWriter(tmp_path / "0", "0", {"act": "relu"})
    session.scalars({"score": 1.0, "loss": 2.0}, step=0)
    session.end("SUCCESS")
    with TensorBoardServer(tmp_path) as server:
        assert [m["name"]["tag"] for m in server.wait_for_experiment()["metricInfos"]] == ["score"]
        tb.write_experiment(
            tmp_path, infos, [tb.metric_info("score"), tb.metric_info("loss")], replace=first
        )
        deadline, tags = time.monotonic() + 30, []
        while time.monotonic() < deadline and tags != ["score", "loss"]:
            time.sleep(0.5)
            tags = [m["name"]["tag"] for m in server.experiment()["metricInfos"]]
        assert tags == ["score", "loss"]
