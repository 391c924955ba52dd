"""Typed records, the validation helper and the file helpers (pure parts shared by every side)."""

import json
import os

import numpy as np
import pytest

from keras_hpx import report
from keras_hpx.checks import check_bool, check_choice, check_int, check_number
from keras_hpx.files import DamagedFileError, atomic_write_json, read_json
from keras_hpx.records import STOPPED_AT_EPOCH, EarlyStop, EndKind, SearchEnd


def test_early_stop_round_trips_through_its_wire_form_and_state():
    stop = EarlyStop(step=3, reason="val_loss 0.9 > median 0.5", rule="median")
    assert stop.to_metrics() == {STOPPED_AT_EPOCH: 3.0}
    back = EarlyStop.from_metrics({"val_loss": 0.9, **stop.to_metrics()})
    assert back == EarlyStop(step=3)  # the reason does not travel as a metric
    assert EarlyStop.from_dict(json.loads(json.dumps(stop.to_dict()))) == stop
    assert stop.describe() == "at epoch 4 by median: val_loss 0.9 > median 0.5"
    assert EarlyStop.from_metrics({"val_loss": 1.0}) is None
    assert EarlyStop.from_metrics({STOPPED_AT_EPOCH: float("nan")}) is None


def test_search_end_kinds_and_the_0_1_0_sentence():
    assert not SearchEnd(EndKind.EXHAUSTED, "x").final
    assert not SearchEnd(EndKind.RULE, "x").final  # re-judged with the resumed settings
    assert SearchEnd(EndKind.EMPTY_SPACE, "x").final
    end = SearchEnd(EndKind.RULE, "target=1 reached")
    assert SearchEnd.from_dict(end.to_dict()) == end
    assert SearchEnd.from_dict("search space exhausted").kind is EndKind.EXHAUSTED
    assert SearchEnd.from_dict("patience=3: ...").kind is EndKind.RULE
    assert SearchEnd.from_dict(None) is None


def test_checks_policy_type_error_for_types_value_error_for_values():
    assert check_int("n", np.int64(3), 1) == 3
    assert check_int("n", None, 1, allow_none=True) is None
    with pytest.raises(
        TypeError, match=r"Invalid argument `n`: expected an integer >= 1\. Received: n=1\.0"
    ):
        check_int("n", 1.0, 1)
    with pytest.raises(TypeError, match=r"Received: n=True"):
        check_int("n", True)
    with pytest.raises(ValueError, match=r"Received: n=0"):
        check_int("n", 0, 1)
    assert check_number("x", 2, positive=True) == 2.0
    with pytest.raises(ValueError, match=r"positive number or None\. Received: x=-1"):
        check_number("x", -1, positive=True, allow_none=True)
    with pytest.raises(ValueError, match=r"Received: x=nan"):
        check_number("x", float("nan"))
    with pytest.raises(TypeError, match=r"True or False\. Received: b=1"):
        check_bool("b", 1)
    with pytest.raises(ValueError, match=r"one of \['a', 'b'\]\. Received: c='z'"):
        check_choice("c", "z", ["a", "b"])
    with pytest.raises(TypeError):
        check_choice("c", 1, ["a", "b"])


def test_damaged_json_names_the_file(tmp_path):
    path = tmp_path / "oracle.json"
    atomic_write_json(path, {"a": np.float32(1.5), "b": {1, 2}, "c": np.int64(3)})
    assert read_json(path) == {"a": 1.5, "b": [1, 2], "c": 3}
    path.write_text('{"a": 1.5, "b"')
    with pytest.raises(DamagedFileError, match=r"oracle\.json: is not valid JSON.*Rerun"):
        read_json(path, hint="Rerun with overwrite=True.")
    path.write_text("")
    with pytest.raises(DamagedFileError, match="is empty"):
        read_json(path)
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # no temporary left behind


def test_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    atomic_write_json(path, {"generation": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})  # fails before anything is written
    os.chmod(tmp_path, 0o500)
    try:
        if os.access(tmp_path, os.W_OK):  # root ignores permissions: use a missing directory
            with pytest.raises(OSError):
                atomic_write_json(tmp_path / "missing" / "state.json", {"generation": 2})
        else:
            with pytest.raises(OSError):
                atomic_write_json(path, {"generation": 2})
    finally:
        os.chmod(tmp_path, 0o700)
    assert read_json(path) == {"generation": 1}
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_hyperparameter_named_like_a_csv_column_gets_its_own_column(tmp_path):
    csv = report.TrialsCSV(str(tmp_path / "trials.csv"))
    csv.append("0", "COMPLETED", 0.5, 1.0, {"score": 7, "status": "on", "lr": 0.1}, {"score": 0.5})
    (row,) = csv.rows()
    assert row["score"] == "0.5" and row["status"] == "COMPLETED"
    assert row["hp:score"] == "7" and row["hp:status"] == "on" and row["lr"] == "0.1"
    assert row["metric:score"] == "0.5"
