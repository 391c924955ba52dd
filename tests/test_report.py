import csv
import re
import warnings

import numpy as np
import pytest

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


def _three_rows(path):
    log = TrialsCSV(str(path))
    for i in range(3):
        log.append(str(i), "COMPLETED", 0.5 + i, 1.0, {"a": i}, {"loss": 0.25 * i})
    return path.read_text()


def test_a_cut_last_row_costs_that_row_and_the_next_is_not_glued_to_it(tmp_path):
    path = tmp_path / "t.csv"
    text = _three_rows(path)
    cut = text[: text.rstrip("\n").rfind(",")]
    path.write_text(cut)
    with pytest.warns(UserWarning, match=rf"{re.escape(str(path))} has 1 damaged row\(s\)"):
        TrialsCSV(str(path)).append("3", "COMPLETED", 0.1, 1.0, {"a": 3}, {"loss": 0.0})
    rows = list(csv.DictReader(open(path, newline="")))
    assert [r["trial_id"] for r in rows] == ["0", "1", "3"]
    assert all(None not in r and None not in r.values() for r in rows)
    assert (tmp_path / "t.csv.damaged").read_text() == cut


def test_a_last_row_without_its_line_end_is_rewritten_not_appended_to(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_three_rows(path).rstrip("\r\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing was damaged: no warning
        TrialsCSV(str(path)).append("3", "COMPLETED", 0.1, 1.0, {"a": 3}, {"loss": 0.0})
    rows = list(csv.DictReader(open(path, newline="")))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[2]["metric:loss"] == "0.5" and rows[3]["a"] == "3"


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda t: "garbage;header\n" + t.split("\n", 1)[1], "has a damaged header"),
        (lambda t: t.replace("trial_id", "status", 1), "has a damaged header"),
        (lambda t: t.encode() + b"\xff\xfe\n", "is not UTF-8 text"),
    ],
)
def test_an_unreadable_file_is_kept_aside_and_a_new_one_started(tmp_path, damage, problem):
    path = tmp_path / "t.csv"
    damaged = damage(_three_rows(path))
    data = damaged if isinstance(damaged, bytes) else damaged.encode()
    for kept in ["t.csv.damaged", "t.csv.damaged.1"]:
        path.write_bytes(data)
        log = TrialsCSV(str(path))
        with pytest.warns(
            UserWarning, match=rf"{re.escape(str(path))} {problem}.*{re.escape(kept)}\.$"
        ):
            log.append("3", "COMPLETED", 0.1, 1.0, {"a": 3})
        assert (tmp_path / kept).read_bytes() == data  # an earlier copy is not overwritten
        assert [r["trial_id"] for r in log.rows()] == ["3"]
        log.append("4", "COMPLETED", 0.2, 1.0, {"a": 4})
        assert [r["trial_id"] for r in csv.DictReader(open(path))] == ["3", "4"]
