import csv

import numpy as np

from keras_hpx.report import TrialsCSV, format_duration, progress_line


def test_csv_appends_then_widens_header_when_new_columns_appear(tmp_path):
    path = tmp_path / "sub" / "trials.csv"
    log = TrialsCSV(str(path))
    log.append("0", "COMPLETED", np.float64(0.5), 1.25, {"a": 1}, {"loss": np.float32(0.5)})
    log.append("1", "FAILED", None, 0.5, {"a": 2})
    log.append("2", "COMPLETED", 0.25, 2.0, {"a": 3, "b": "x"}, {"loss": 0.25}, "median rule")
    rows = list(csv.DictReader(open(path)))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["score"] == "0.5" and rows[1]["score"] == ""
    assert rows[0]["b"] == "" and rows[2]["b"] == "x"
    assert rows[2]["stopped_reason"] == "median rule"
    assert rows[0]["metric:loss"] == "0.5"
    # a fresh writer over the same file keeps what is there (resume)
    TrialsCSV(str(path)).append("3", "COMPLETED", 0.1, 1.0, {"a": 4})
    assert len(list(csv.DictReader(open(path)))) == 4


def test_retried_trial_replaces_its_row(tmp_path):
    log = TrialsCSV(str(tmp_path / "t.csv"))
    log.append("0", "FAILED", None, 1.0, {"a": 1})
    log.append("0", "COMPLETED", 0.3, 1.0, {"a": 1})
    rows = log.rows()
    assert len(rows) == 1 and rows[0]["status"] == "COMPLETED"


def test_progress_line_estimates_time_left():
    line = progress_line(3, 12, "02", "COMPLETED", 0.91, 0.95, 30.0, values={"lr": 0.001})
    assert line.startswith("[3/12] trial 02 COMPLETED")
    assert "best=0.95" in line and "~1m30s left" in line and "lr=0.001" in line
    assert format_duration(3725) == "1h02m"
