"""`max_epochs`: a search-level epoch budget, counted over trials, executions and resumes."""

from __future__ import annotations

import csv
import json
import time
import warnings
from dataclasses import replace

import keras
import keras_tuner as kt
import numpy as np
import pytest

import keras_hpx
from keras_hpx import BayesianOracle, GridOracle, RandomOracle
from keras_hpx.oracles.reporter import SearchSnapshot
from keras_hpx.records import EndKind
from keras_hpx.stopping.search import (
    EpochCount,
    MaxEpochs,
    SearchProgress,
    count_epochs,
    first_stop,
    search_rules,
)


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Choice("c", ["a", "b", "c"])
    return hp


def _oracle(**kwargs):
    kwargs.setdefault("max_trials", 100)
    return RandomOracle(
        objective=kt.Objective("score", "min"), hyperparameters=_space(), seed=0, **kwargs
    )


def _report_epochs(oracle, trial, epochs, executions=1):
    for _ in range(executions):
        for step in range(epochs):
            oracle.update_trial(trial.trial_id, {"score": 1.0 / (step + 1)}, step=step)


def _end(oracle, trial):
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


# ----- the pure parts ---------------------------------------------------------------------


def test_max_epochs_rule_stops_at_the_budget_and_not_before():
    rule = MaxEpochs(10)
    go = rule.decide(SearchProgress(elapsed=0.0, scores=[], epochs=9))
    assert not go.stop and go.reason == "9 of 10 epochs trained"
    stop = rule.decide(SearchProgress(elapsed=0.0, scores=[], epochs=10))
    assert stop.stop and stop.reason == "max_epochs=10 reached after 10 epochs trained"
    assert (stop.value, stop.reference) == (10.0, 10.0)
    assert rule.decide(SearchProgress(0.0, [], "min", 12)).stop  # overshoot: still stopped
    assert not rule.decide(SearchProgress(elapsed=1e9, scores=[1.0])).stop  # epochs default 0


def test_search_rules_put_the_epoch_budget_after_the_time_budget():
    rules = search_rules(max_time=5, target=0.0, patience=3, max_epochs=20)
    assert [r.name for r in rules] == ["max_time", "max_epochs", "target", "patience"]
    decision = first_stop(rules, SearchProgress(1.0, [1.0], "min", 25))
    assert decision is not None and decision.reason.startswith("max_epochs=20")
    assert first_stop(rules, SearchProgress(1.0, [1.0], "min", 19)) is None


@pytest.mark.parametrize(
    "runs, stopped_at, expected",
    [
        ({}, None, EpochCount(0, True)),  # reported nothing
        ({0: 1, 1: 1, 2: 1}, None, EpochCount(3, True)),  # every epoch, one execution
        ({0: 2, 1: 2, 2: 2, 3: 2}, None, EpochCount(8, True)),  # two executions
        ({0: 2, 1: 2, 2: 1}, None, EpochCount(5, True)),  # one execution stopped earlier
        ({3: 1, 4: 1, 5: 1}, None, EpochCount(3, True)),  # started at initial_epoch=3
        ({0: 1}, None, EpochCount(1, True)),  # one epoch (or a final report at step 0)
        ({0: 1, 1: 1}, 1, EpochCount(2, True)),  # stopped early, every epoch reported
        ({4: 1}, None, EpochCount(5, False)),  # the final result only: best epoch + 1
        ({4: 2}, None, EpochCount(5, False)),
        ({1: 1}, 6, EpochCount(7, False)),  # the final report, and the early stop's epoch
        ({}, 2, EpochCount(3, False)),  # only the stop record
        ({0: 1, 2: 1, 5: 1}, None, EpochCount(6, False)),  # gaps: the last step + 1
    ],
)
def test_count_epochs(runs, stopped_at, expected):
    assert count_epochs(runs, stopped_at) == expected


def test_the_time_left_is_the_earlier_of_the_trials_and_the_epochs_estimates():
    snap = SearchSnapshot(done=2, total=10, best=None, elapsed=20.0, objective="loss")
    assert snap.time_left() == 80.0  # 10 s a trial
    assert replace(snap, epochs=50, max_epochs=100).time_left() == 20.0  # 0.4 s an epoch
    assert replace(snap, total=None, epochs=50, max_epochs=60).time_left() == 4.0
    assert replace(snap, total=None).time_left() is None


# ----- an oracle driven by hand -----------------------------------------------------------


def test_the_search_ends_once_finished_trials_reach_the_budget(tmp_path):
    oracle = _oracle(max_epochs=10)
    oracle._set_project_dir(str(tmp_path), "by_hand")
    a = oracle.create_trial("w0")
    _report_epochs(oracle, a, 4)
    assert oracle.epochs_trained == 4  # a running trial counts as it goes
    _end(oracle, a)
    b = oracle.create_trial("w0")
    assert b.status == "RUNNING"
    _report_epochs(oracle, b, 3, executions=2)  # two executions of 3 epochs
    _end(oracle, b)
    assert oracle.trial_epochs(oracle.trials[b.trial_id]) == EpochCount(6, True)
    assert oracle.epochs_trained == 10
    assert oracle.create_trial("w0").status == "STOPPED"
    assert oracle.search_end.kind is EndKind.RULE
    assert oracle.stop_reason == "max_epochs=10 reached after 10 epochs trained"
    assert len(oracle.trials) == 2
    # the CSV says what each trial trained
    rows = list(csv.DictReader(open(tmp_path / "by_hand" / "trials.csv")))
    assert [r["epochs_trained"] for r in rows] == ["4", "6"]


def test_running_trials_count_and_still_finish(tmp_path):
    oracle = _oracle(max_epochs=5)
    oracle._set_project_dir(str(tmp_path), "workers")
    a = oracle.create_trial("w0")
    b = oracle.create_trial("w1")
    _report_epochs(oracle, a, 5)  # a is still running
    assert oracle.create_trial("w2").status == "STOPPED"  # no new trial
    _report_epochs(oracle, b, 2)
    _end(oracle, b)
    _end(oracle, a)
    assert oracle.trials[a.trial_id].status == oracle.trials[b.trial_id].status == "COMPLETED"
    assert oracle.epochs_trained == 7  # the running trials' epochs go above the budget
    assert oracle.create_trial("w0").status == "STOPPED"


def test_a_trial_without_per_epoch_reports_counts_its_best_epoch_plus_one_with_one_warning(
    tmp_path,
):
    oracle = _oracle(max_epochs=100)
    oracle._set_project_dir(str(tmp_path), "final_only")
    with pytest.warns(UserWarning, match=r"max_epochs: trial 0+ .* counted as 5 epochs") as seen:
        for best_step in (4, 2):  # Keras Tuner's one report, at the best epoch
            trial = oracle.create_trial("w0")
            oracle.update_trial(trial.trial_id, {"score": 0.5}, step=best_step)
            _end(oracle, trial)
    assert sum("max_epochs" in str(w.message) for w in seen) == 1
    assert oracle.epochs_trained == 5 + 3


def test_no_warning_and_no_column_without_a_budget(tmp_path):
    oracle = _oracle(max_trials=1)
    oracle._set_project_dir(str(tmp_path), "no_budget")
    trial = oracle.create_trial("w0")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        oracle.update_trial(trial.trial_id, {"score": 0.5}, step=4)
        _end(oracle, trial)
    assert oracle.epochs_trained == 5  # counted all the same
    rows = list(csv.DictReader(open(tmp_path / "no_budget" / "trials.csv")))
    assert "epochs_trained" not in rows[0]


def test_the_epochs_of_a_run_lost_with_its_worker_stay_counted(tmp_path):
    oracle = _oracle(max_epochs=100, trial_timeout=0.2)
    oracle._set_project_dir(str(tmp_path), "lease")
    a = oracle.create_trial("w0")
    _report_epochs(oracle, a, 3)
    time.sleep(0.3)
    with pytest.warns(UserWarning, match="lease lost"):
        rerun = oracle.create_trial("w1")  # w0 is taken for dead: a is rerun on w1
    assert rerun.trial_id == a.trial_id and oracle.trials[a.trial_id].metrics.metrics == {}
    assert oracle.epochs_trained == 3
    _report_epochs(oracle, rerun, 2)
    _end(oracle, rerun)
    assert oracle.epochs_trained == 5


@pytest.mark.parametrize("make", [GridOracle, RandomOracle, BayesianOracle])
def test_every_oracle_takes_the_budget(make):
    kwargs = {"float_points": 3} if make is GridOracle else {}
    oracle = make(objective="val_loss", hyperparameters=_space(), max_epochs=7, **kwargs)
    assert oracle.max_epochs == 7 and oracle.epochs_trained == 0
    assert "max_epochs" in [r.name for r in oracle.stop_rules]


@pytest.mark.parametrize(
    "value, error, pattern",
    [
        (0, ValueError, r"`max_epochs`: expected an integer >= 1 or None\. Received: max_epochs=0"),
        (-3, ValueError, r"Received: max_epochs=-3"),
        (2.5, TypeError, r"Received: max_epochs=2\.5"),
        (True, TypeError, r"Received: max_epochs=True"),
        ("10", TypeError, r"Received: max_epochs='10'"),
    ],
)
def test_bad_budgets_name_the_argument_and_value(value, error, pattern):
    with pytest.raises(error, match=pattern):
        RandomOracle(objective="val_loss", max_epochs=value)
    with pytest.raises(error, match=r"Received: max_epochs="):
        MaxEpochs(value)


# ----- resume -------------------------------------------------------------------------------


class EpochTuner(kt.Tuner):
    """A real tuner whose trials "train" `epochs` epochs, reporting each as a callback does."""

    epochs = 3

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.values["x"]
        for step in range(self.epochs):
            self.oracle.update_trial(trial.trial_id, {"score": x / (step + 1)}, step=step)


def _epoch_tuner(tmp_path, oracle, overwrite):
    return EpochTuner(
        oracle=oracle,
        hypermodel=lambda hp: None,
        directory=str(tmp_path),
        project_name="resume",
        overwrite=overwrite,
    )


def test_the_count_continues_across_a_reload(tmp_path):
    warnings.filterwarnings("ignore", "The use case of calling", DeprecationWarning)
    first = _oracle(max_epochs=7)
    _epoch_tuner(tmp_path, first, overwrite=True).search(verbose=0)
    assert first.epochs_trained == 9 and len(first.trials) == 3  # 3 + 3 < 7 <= 9
    saved = json.load(open(tmp_path / "resume" / "oracle.json"))["hpx"]["epochs"]
    assert sum(saved["finished"].values()) == 9

    same = _oracle(max_epochs=7)
    _epoch_tuner(tmp_path, same, overwrite=False).search(verbose=0)
    assert len(same.trials) == 3 and same.epochs_trained == 9  # spent before the resume

    more = _oracle(max_epochs=14)  # a larger budget (settings on when to stop are new)
    tuner = _epoch_tuner(tmp_path, more, overwrite=False)
    assert more.epochs_trained == 9
    tuner.search(verbose=0)
    assert len(more.trials) == 5 and more.epochs_trained == 15
    assert more.stop_reason == "max_epochs=14 reached after 15 epochs trained"


def test_a_trial_interrupted_by_a_crash_keeps_its_epochs_and_is_rerun(tmp_path):
    crashed = _oracle(max_epochs=20)
    _epoch_tuner(tmp_path, crashed, overwrite=True).save()
    a = crashed.create_trial("w0")
    b = crashed.create_trial("w1")
    _report_epochs(crashed, a, 4)
    _report_epochs(crashed, b, 3)
    _end(crashed, b)  # the last state written: a had trained 4 epochs; then the crash
    again = _oracle(max_epochs=20)
    tuner = _epoch_tuner(tmp_path, again, overwrite=False)
    assert again.epochs_trained == 3 + 4  # a's run was thrown away by the crash, but trained
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tuner.search(verbose=0)
    assert again.trials[a.trial_id].status == "COMPLETED"  # rerun
    assert again.trial_epochs(again.trials[a.trial_id]) == EpochCount(3, True)
    assert again.epochs_trained == 4 + 3 * len(again.trials) == 22  # 6 trials of 3 epochs


# ----- a real Keras search with weak-trial stopping -----------------------------------------

EPOCHS, BUDGET = 4, 6


class EpochLog(keras.callbacks.Callback):
    """Counts every epoch any fit trains (shared by Keras Tuner's copies)."""

    epochs: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        EpochLog.epochs.append(epoch)


def _build(hp):
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    lr = hp.Choice("lr", [0.05, 1e-7, 0.02, 1e-8, 0.03, 1e-6, 0.01])
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy")
    return model


def test_a_keras_search_with_weak_trial_stopping_ends_at_the_budget(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    oracle = GridOracle(objective=kt.Objective("val_loss", "min"), max_epochs=BUDGET, progress=True)
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=_build,
        directory=str(tmp_path),
        project_name="keras",
    )
    EpochLog.epochs = []
    stopping = keras_hpx.WeakTrialStopping(rule="median", min_steps=1, min_runs=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(
            x,
            y,
            validation_split=0.25,
            epochs=EPOCHS,
            batch_size=32,
            verbose=0,
            callbacks=[stopping, EpochLog()],
        )
    assert not [w for w in caught if "max_epochs" in str(w.message)]  # every epoch reported

    # the oracle counted exactly the epochs Keras trained (two executions per trial: see
    # test_the_search_ends_once_finished_trials_reach_the_budget, for speed)
    assert oracle.epochs_trained == len(EpochLog.epochs)
    counts = {t: oracle.trial_epochs(trial) for t, trial in oracle.trials.items()}
    assert all(c.exact for c in counts.values())
    assert sum(c.epochs for c in counts.values()) == oracle.epochs_trained
    # weak trials were stopped and counted fewer epochs than a full trial
    assert any(c.epochs < EPOCHS for c in counts.values()), counts
    # the budget ended the search, before the grid's 7 trials: the last trial started
    # below it
    last = oracle.end_order[-1]
    assert oracle.epochs_trained - counts[last].epochs < BUDGET <= oracle.epochs_trained
    assert len(oracle.trials) < 7
    assert oracle.search_end.kind is EndKind.RULE
    assert oracle.stop_reason.startswith(f"max_epochs={BUDGET} reached")

    # the CSV and the progress line show the epochs
    with open(tmp_path / "keras" / "trials.csv", newline="") as f:
        rows = {r["trial_id"]: r for r in csv.DictReader(f)}
    assert {t: int(r["epochs_trained"]) for t, r in rows.items()} == {
        t: c.epochs for t, c in counts.items()
    }
    out = capsys.readouterr().out
    assert f"epochs {oracle.epochs_trained}/{BUDGET}" in out
