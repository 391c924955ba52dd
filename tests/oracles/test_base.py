"""What every keras-hpx oracle inherits: stopping rules, warm start, validation, CSV."""

import csv
import json
import time

import keras_tuner as kt
import pytest

from keras_hpx import GridOracle, RandomOracle
from keras_hpx.testing.conformance import ScoringTuner


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Choice("c", ["a", "b", "c"])
    return hp


class ValueTuner(ScoringTuner):
    """Score = x (so the sequence of scores follows the sampler)."""

    def run_trial(self, trial, *args, **kwargs):
        time.sleep(getattr(self, "delay", 0.0))
        if trial.trial_id in self.fail_ids:
            raise RuntimeError("fails on purpose")
        return {"score": trial.hyperparameters.values["x"]}


def _tuner(tmp_path, oracle, project="p", overwrite=True, delay=0.0):
    tuner = ValueTuner(
        oracle=oracle,
        hypermodel=lambda hp: None,
        directory=str(tmp_path),
        project_name=project,
        overwrite=overwrite,
    )
    tuner.delay = delay
    return tuner


def test_target_ends_the_search(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "max"),
        hyperparameters=_space(),
        max_trials=200,
        target=0.9,
        seed=0,
    )
    _tuner(tmp_path, oracle).search(verbose=0)
    scores = [oracle.trials[t].score for t in oracle.end_order]
    assert scores[-1] >= 0.9 and all(s < 0.9 for s in scores[:-1])
    assert "target" in oracle.stop_reason
    # Keras Tuner saves nothing when create_trial answers STOPPED; the oracle saves the
    # end itself, so oracle.json says the search is over.
    saved = json.loads((tmp_path / "p" / "oracle.json").read_text())
    assert saved["hpx"]["search_end"]["kind"] == "rule"
    assert "target" in saved["hpx"]["search_end"]["reason"]


def test_patience_ends_the_search_and_holds_on_resume(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=_space(),
        max_trials=300,
        patience=5,
        seed=1,
    )
    _tuner(tmp_path, oracle).search(verbose=0)
    scores = [oracle.trials[t].score for t in oracle.end_order]
    best_at = scores.index(min(scores))
    assert len(scores) - 1 - best_at == 5
    assert "patience" in oracle.stop_reason
    again = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=_space(),
        max_trials=300,
        patience=5,
        seed=1,
    )
    _tuner(tmp_path, again, overwrite=False).search(verbose=0)
    assert len(again.trials) == len(scores)


def test_max_time_ends_the_search_and_counts_time_across_resumes(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=_space(),
        max_trials=500,
        max_time=1.0,
        seed=2,
    )
    start = time.monotonic()
    _tuner(tmp_path, oracle, delay=0.1).search(verbose=0)
    took = time.monotonic() - start
    n = len(oracle.trials)
    assert 3 <= n <= 15 and took < 5
    assert "max_time" in oracle.stop_reason
    again = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=_space(),
        max_trials=500,
        max_time=1.0,
        seed=2,
    )
    _tuner(tmp_path, again, overwrite=False, delay=0.1).search(verbose=0)
    assert len(again.trials) == n  # the budget was spent before the resume


def test_enqueued_trials_run_first_and_are_not_repeated(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"), hyperparameters=_space(), max_trials=4, seed=3
    )
    oracle.enqueue_trial({"x": 0.5, "c": "b"})
    oracle.enqueue_trial({"x": 0.25})  # c takes its default
    oracle.enqueue_trial({"x": 0.5, "c": "b"})  # duplicate: skipped
    _tuner(tmp_path, oracle).search(verbose=0)
    values = [oracle.trials[t].hyperparameters.values for t in oracle.start_order]
    assert values[0] == {"x": 0.5, "c": "b"}
    assert values[1] == {"x": 0.25, "c": "a"}
    assert len(values) == 4 and values[2] != values[0]


def test_enqueue_trial_rejects_bad_values_before_any_change():
    oracle = GridOracle(objective="val_loss", hyperparameters=_space(), float_points=3)
    with pytest.raises(ValueError, match=r"values\['c'\].*choice of.*Received: values\['c'\]='z'"):
        oracle.enqueue_trial({"x": 0.5, "c": "z"})
    with pytest.raises(ValueError, match=r"values\['x'\].*Received: values\['x'\]=2\.0"):
        oracle.enqueue_trial({"x": 2.0})
    with pytest.raises(ValueError, match="non-empty dict"):
        oracle.enqueue_trial({})
    assert len(oracle.warm_start) == 0


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (
            {"max_trials": 0},
            r"`max_trials`: expected an integer >= 1 or None\. Received: max_trials=0",
        ),
        ({"max_trials": 2.5}, r"max_trials=2\.5"),
        ({"seed": -1}, r"seed=-1"),
        ({"max_time": -3}, r"max_time=-3"),
        ({"target": float("nan")}, r"target=nan"),
        ({"patience": 0}, r"patience=0"),
        ({"max_retries_per_trial": -1}, r"max_retries_per_trial=-1"),
        ({"max_consecutive_failed_trials": 0}, r"max_consecutive_failed_trials=0"),
        ({"hyperparameters": {"x": 1}}, r"hyperparameters=\{'x': 1\}"),
        ({"sampler": "latin"}, r"sampler='latin'"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        RandomOracle(objective="val_loss", **kwargs)


def test_trials_csv_is_written_as_trials_end_with_failures(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"), hyperparameters=_space(), max_trials=3, seed=4
    )
    tuner = _tuner(tmp_path, oracle)
    tuner.fail_ids = {"1"}
    tuner.search(verbose=0)
    rows = list(csv.DictReader(open(tmp_path / "p" / "trials.csv")))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    assert [r["status"] for r in rows] == ["COMPLETED", "FAILED", "COMPLETED"]
    assert float(rows[0]["score"]) == pytest.approx(oracle.trials["0"].score)
    assert all(float(r["seconds"]) >= 0 for r in rows)
    assert {r["c"] for r in rows} <= {"a", "b", "c"}


def test_progress_line_per_trial(tmp_path, capsys):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=_space(),
        max_trials=2,
        seed=5,
        progress=True,
    )
    _tuner(tmp_path, oracle).search(verbose=0)
    out = capsys.readouterr().out
    assert "[1/2] trial 0 COMPLETED" in out and "[2/2] trial 1 COMPLETED" in out


def test_state_file_is_replaced_atomically(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"), hyperparameters=_space(), max_trials=2, seed=6
    )
    _tuner(tmp_path, oracle).search(verbose=0)
    leftovers = [p.name for p in (tmp_path / "p").rglob("*.tmp-*")]
    assert leftovers == []
    import json

    state = json.load(open(tmp_path / "p" / "oracle.json"))
    assert state["random"]["draws"] >= 2


def test_empty_search_space_runs_once_then_stops_with_a_warning(tmp_path):
    oracle = RandomOracle(objective=kt.Objective("score", "min"), max_trials=5, seed=0)

    class NoSpace(ScoringTuner):
        def run_trial(self, trial, *args, **kwargs):
            return {"score": 1.0}

    tuner = NoSpace(
        oracle=oracle, hypermodel=lambda hp: None, directory=str(tmp_path), project_name="empty"
    )
    with pytest.warns(UserWarning, match="empty search space"):
        tuner.search(verbose=0)
    assert len(oracle.trials) == 1
    assert oracle.stop_reason.startswith("empty search space")
    with pytest.raises(ValueError, match="allow_new_entries"):
        RandomOracle(objective="val_loss", allow_new_entries=False)


def test_search_level_stop_reaches_every_worker_and_running_trials_still_end(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "max"),
        hyperparameters=_space(),
        max_trials=50,
        target=0.5,
        seed=0,
    )
    oracle._set_project_dir(str(tmp_path), "workers")
    a = oracle.create_trial("worker0")
    b = oracle.create_trial("worker1")
    assert a.status == b.status == "RUNNING"
    oracle.update_trial(a.trial_id, {"score": 0.9})  # reaches the target
    a.status = "COMPLETED"
    oracle.end_trial(a)
    assert oracle.create_trial("worker0").status == "STOPPED"
    oracle.update_trial(b.trial_id, {"score": 0.1})  # worker1's trial was running: it ends
    b.status = "COMPLETED"
    oracle.end_trial(b)
    assert oracle.trials[b.trial_id].status == "COMPLETED"
    assert oracle.create_trial("worker1").status == "STOPPED"
    assert "target" in oracle.stop_reason
