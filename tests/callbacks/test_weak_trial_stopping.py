"""WeakTrialStopping with real Keras training on tiny models (backend from KERAS_BACKEND)."""

import copy
import json
import os
import subprocess
import sys
import textwrap
import warnings

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import RandomOracle, WeakTrialStopping
from keras_hpx.callbacks.weak_trial_stopping import STOPPED_AT_EPOCH, STOPPED_EARLY, trial_curves
from keras_hpx.oracles.base import HpxOracle
from keras_hpx.records import EarlyStop
from keras_hpx.stopping import FileStore, HyperbandRule, MedianRule, MemoryStore, ThresholdRule

GOOD, BAD = 0.03, 1e-7  # learning rates: learns fast / does not move


def data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    return x, y


def model(lr, units=6):
    keras.utils.set_random_seed(1)
    m = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    return m


def fit(lr, cb, epochs=5, **kw):
    x, y = data()
    return model(lr).fit(
        x, y, validation_split=0.25, epochs=epochs, batch_size=64, verbose=0, callbacks=[cb], **kw
    )


# ----- (a) a loop of model.fit calls -------------------------------------------------------


def test_plain_loop_judges_later_runs_against_earlier_ones():
    cb = WeakTrialStopping(monitor="val_loss", min_steps=2, min_runs=2)
    runs = []
    for lr in (GOOD, GOOD * 0.7):
        h = fit(lr, cb)
        assert len(h.history["val_loss"]) == 5 and cb.stopped_epoch is None
        runs.append(cb.run_id)
    h = fit(BAD, cb)
    assert len(h.history["val_loss"]) == 2  # stopped after the warm-up
    assert cb.stopped_epoch == 1 and cb.decision.stop
    assert "median" in cb.decision.reason and cb.decision.n_runs == 2
    assert cb.early_stop == EarlyStop(1, f"val_loss: {cb.decision.reason}", "median")
    assert sorted(cb.compared_with) == sorted(runs)
    stored = cb.store.curves()[cb.run_id]
    assert stored.stopped and stored.stop_step == 1 and "val_loss" in stored.reason
    # a good run after it is still judged at every epoch and survives
    h = fit(GOOD, cb)
    assert len(h.history["val_loss"]) == 5 and cb.stopped_epoch is None


def test_a_run_is_not_stopped_at_its_last_epoch():
    cb = WeakTrialStopping(monitor="val_loss", min_steps=2, min_runs=2)
    for lr in (GOOD, GOOD * 0.7):
        fit(lr, cb)
    # Judged weak after 2 epochs, but 2 is all it trains: a stop would save nothing.
    h = fit(BAD, cb, epochs=2)
    assert len(h.history["val_loss"]) == 2 and cb.stopped_epoch is None
    assert not cb.decision.stop and cb.decision.reason.endswith("epoch 2 is the last")
    assert "median" in cb.decision.reason
    assert not cb.store.curves()[cb.run_id].stopped
    # The same run with a third epoch to save is stopped after the second.
    h = fit(BAD, cb, epochs=3)
    assert len(h.history["val_loss"]) == 2 and cb.stopped_epoch == 1


def test_accuracy_is_maximised_in_auto_mode():
    cb = WeakTrialStopping(monitor="val_accuracy", rule="percentile", min_steps=1, min_runs=1)
    fit(GOOD, cb, epochs=3)
    h = fit(BAD, cb, epochs=3)
    assert cb.direction == "max"
    assert len(h.history["val_accuracy"]) == 1


def test_divergence_rule_stops_a_diverging_run_without_references():
    x, y = data()
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    m.compile(keras.optimizers.SGD(5.0), "mse")  # far too large a step: the loss explodes
    cb = WeakTrialStopping(monitor="loss", rule=ThresholdRule(bound=1e4, min_steps=2))
    h = m.fit(x, y * 100, epochs=6, batch_size=16, verbose=0, callbacks=[cb])
    assert len(h.history["loss"]) == 2 and cb.stopped_epoch == 1
    assert "above the bound" in cb.decision.reason or "not finite" in cb.decision.reason


class _PlacedHyperband(HyperbandRule):
    """Asynchronous Hyperband whose bracket for the next run the test chooses."""

    placement = 0

    def bracket(self, run_key):
        return self.placement


def test_hyperband_compares_a_run_with_its_bracket_and_more_patient_ones():
    rule = _PlacedHyperband(min_steps=1, reduction_factor=2, brackets=2, min_runs=1)
    cb = WeakTrialStopping(monitor="val_loss", rule=rule)
    good = []
    for lr in (GOOD, GOOD * 0.7):
        fit(lr, cb)
        good.append(cb.run_id)
    assert [cb.store.curves()[r].bracket for r in good] == [0, 0]
    # Bracket 1 (first judged after 2 epochs) is never compared with the runs of the
    # more aggressive bracket 0: nothing to compare with, so a weak run completes.
    rule.placement = 1
    h = fit(BAD, cb)
    assert len(h.history["val_loss"]) == 5 and cb.bracket == 1 and cb.compared_with == []
    slow = cb.run_id
    assert cb.store.curves()[slow].bracket == 1
    # Bracket 0 compares with every run that reached its rung, bracket 1's included.
    rule.placement = 0
    h = fit(BAD, cb)
    assert len(h.history["val_loss"]) == 1 and cb.stopped_epoch == 0
    assert sorted(cb.compared_with) == sorted([*good, slow])
    assert cb.early_stop.rule == "hyperband"
    assert cb.early_stop.reason.startswith("val_loss (bracket 0): best value")


# ----- deep copies, bad input, missing metric ----------------------------------------------


def test_deepcopy_shares_the_store_and_resets_the_run():
    cb = WeakTrialStopping(min_steps=1, min_runs=1)
    fit(GOOD, cb, epochs=2)
    twin = copy.deepcopy([cb])[0]
    assert twin is not cb and twin.store is cb.store
    assert twin.run_id is None and twin.stopped_epoch is None
    assert twin.rule == cb.rule and twin.monitor == cb.monitor
    fit(BAD, twin, epochs=2)
    assert twin.stopped_epoch == 0
    assert len(cb.store.curves()) == 2


def test_bad_arguments_are_rejected_with_the_value():
    with pytest.raises(ValueError, match="median.*Received: rule='mean'$"):
        WeakTrialStopping(rule="mean")
    with pytest.raises(ValueError, match=r"`mode`: expected one of \['auto', 'max', 'min'\]. "):
        WeakTrialStopping(mode="up")
    with pytest.raises(TypeError, match="Received: mode=None"):
        WeakTrialStopping(mode=None)
    with pytest.raises(ValueError, match="non-empty metric name. Received: monitor=''"):
        WeakTrialStopping(monitor="")
    with pytest.raises(TypeError, match="Received: monitor=3"):
        WeakTrialStopping(monitor=3)
    with pytest.raises(TypeError, match="integer >= 0. Received: verbose=True"):
        WeakTrialStopping(verbose=True)
    with pytest.raises(ValueError, match="Received: verbose=-1"):
        WeakTrialStopping(verbose=-1)
    with pytest.raises(TypeError, match="True or False. Received: report_to_oracle='yes'"):
        WeakTrialStopping(report_to_oracle="yes")
    with pytest.raises(ValueError, match="min_steps=2"):
        WeakTrialStopping(rule=MedianRule(), min_steps=2)
    with pytest.raises(TypeError, match="store=1"):
        WeakTrialStopping(store=1)
    with pytest.raises(ValueError, match="min_runs=-1"):
        WeakTrialStopping(min_runs=-1)


def test_unknown_direction_asks_for_a_mode():
    cb = WeakTrialStopping(monitor="val_wobble")
    with pytest.raises(
        ValueError,
        match="val_wobble.*nor is it in the epoch logs.*val_loss.*mode='min' or mode='max'",
    ):
        fit(GOOD, cb, epochs=1)


def test_missing_monitor_warns_once_with_the_available_metrics():
    cb = WeakTrialStopping(monitor="val_auc", mode="max", min_steps=1, min_runs=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h1 = fit(GOOD, cb, epochs=3)
        h2 = fit(BAD, copy.deepcopy(cb), epochs=3)
    ours = [w for w in caught if "WeakTrialStopping" in str(w.message)]
    assert len(ours) == 1
    text = str(ours[0].message)
    assert "val_auc" in text and "val_loss" in text and "val_accuracy" in text
    assert len(h1.history["loss"]) == 3 and len(h2.history["loss"]) == 3


# ----- (b) tuner.search ----------------------------------------------------------------------


def build(hp):
    return model(hp.Choice("lr", [GOOD, 0.01, BAD, 1e-6]), units=hp.Choice("units", [4, 8]))


def _search(tuner, cb, epochs=5):
    x, y = data()
    tuner.search(
        x, y, validation_split=0.25, epochs=epochs, batch_size=64, verbose=0, callbacks=[cb]
    )


def _check_trials(oracle, epochs=5):
    stopped = 0
    for trial in oracle.trials.values():
        history = [o.mean() for o in trial.metrics.get_history("val_loss")]
        # a stopped trial keeps the best value it reached as its score
        assert trial.score == pytest.approx(min(history))
        assert not trial.metrics.exists(STOPPED_EARLY)  # the one wire form: stopped_at_epoch
        assert not isinstance(trial.message, str) or "stopped" not in trial.message
        stop = EarlyStop.from_metrics({STOPPED_AT_EPOCH: _last(trial, STOPPED_AT_EPOCH)})
        if stop is not None:
            stopped += 1
            # reported once, at the stopping step, with that epoch's metrics
            assert [o.step for o in trial.metrics.get_history(STOPPED_AT_EPOCH)] == [stop.step]
            assert len(history) == stop.step + 1 < epochs
            assert trial.hyperparameters.values["lr"] != GOOD
            if isinstance(oracle, HpxOracle):  # handed the full record too
                record = oracle.early_stop(trial.trial_id)
                assert record.step == stop.step and record.rule == "median"
                assert record.reason.startswith("val_loss: best value")
        else:
            assert len(history) == epochs
    return stopped


def _last(trial, name):
    return trial.metrics.get_last_value(name) if trial.metrics.exists(name) else None


def test_keras_tuner_random_search_keeps_curves_across_deep_copies(tmp_path):
    cb = WeakTrialStopping(monitor="val_loss", min_steps=2, min_runs=2)
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=6,
        seed=1,
        directory=str(tmp_path),
        project_name="kt",
    )
    _search(tuner, cb)
    assert len(tuner.oracle.trials) == 6
    assert _check_trials(tuner.oracle) >= 2
    # the original instance never ran; its store is shared with the copies that did
    assert cb.run_id is None and len(cb.store.curves()) == 6

    # the oracle holds the same curves as the store, per epoch
    def rounded(curves):
        return sorted([(k, round(v, 5)) for k, v in sorted(c.items())] for c in curves)

    from_oracle = trial_curves(tuner.oracle.trials.values(), "val_loss")
    from_store = [c.values for c in cb.store.curves().values()]
    assert rounded(from_oracle.values()) == rounded(from_store)
    first = next(iter(from_oracle))
    assert first not in trial_curves(tuner.oracle.trials.values(), "val_loss", exclude=first)


def test_our_random_oracle_records_the_stop_in_the_csv(tmp_path):
    oracle = RandomOracle(objective=kt.Objective("val_loss", "min"), max_trials=6, seed=2)
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="h")
    _search(tuner, WeakTrialStopping(min_steps=2, min_runs=2))
    stopped = _check_trials(oracle)
    assert stopped >= 2
    import csv

    with open(tmp_path / "h" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    reasons = [r for r in rows if r.get("stopped_reason")]
    assert len(reasons) == stopped
    for row in reasons:
        record = oracle.early_stop(row["trial_id"])
        assert row["stopped_reason"] == record.describe()
        assert row["stopped_reason"].startswith(f"at epoch {record.step + 1} by median: val_loss")


def test_hyperband_places_trials_by_trial_id_under_a_tuner(tmp_path):
    rule = HyperbandRule(min_steps=1, reduction_factor=2, brackets=2, min_runs=1)
    oracle = RandomOracle(objective=kt.Objective("val_loss", "min"), max_trials=8, seed=3)
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="hb")
    cb = WeakTrialStopping(rule=rule)
    _search(tuner, cb)
    brackets = {t: rule.bracket(t) for t in oracle.trials}
    assert set(brackets.values()) == {0, 1}
    # Every execution's run in the store carries its trial's bracket.
    placed = {c.run_id.split("-")[1]: c.bracket for c in cb.store.curves().values()}
    assert placed == brackets
    stops = {t: oracle.early_stop(t) for t in oracle.trials if oracle.early_stop(t)}
    assert stops, "no trial was stopped"
    for trial_id, stop in stops.items():
        b = brackets[trial_id]
        assert stop.rule == "hyperband" and f"(bracket {b})" in stop.reason
        assert stop.step + 1 in (2**b, 2 ** (b + 1), 2 ** (b + 2))  # a rung of its bracket
        # Judged against the trials of its bracket or more patient ones that reached
        # that epoch before it.
        before = [
            t
            for t in oracle.trials
            if t < trial_id
            and brackets[t] >= b
            and len(oracle.trials[t].metrics.get_history("val_loss")) > stop.step
        ]
        assert f"of {len(before) + 1} runs there" in stop.reason


def test_oracle_that_answers_stopped_is_obeyed(tmp_path):
    class StopAtEpoch2(kt.oracles.RandomSearchOracle):
        def update_trial(self, trial_id, metrics, step=0):
            trial = super().update_trial(trial_id, metrics, step=step)
            if step >= 1:
                trial.status = "STOPPED"
            return trial

    oracle = StopAtEpoch2(objective="val_loss", max_trials=1, seed=1)
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="s")
    cb = WeakTrialStopping(min_steps=1, min_runs=100)
    _search(tuner, cb)
    (trial,) = oracle.trials.values()
    assert len(trial.metrics.get_history("val_loss")) == 2
    assert trial.metrics.get_last_value(STOPPED_AT_EPOCH) == 1.0
    assert not trial.metrics.exists(STOPPED_EARLY) and trial.message is None
    (run,) = cb.store.curves().values()
    assert run.stopped and run.stop_step == 1 and run.reason == "the oracle answered STOPPED"
    history = [o.mean() for o in trial.metrics.get_history("val_loss")]
    assert trial.score == pytest.approx(min(history))


# ----- (c) several processes with a file store -------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_weak_trial_stopping import fit
    from keras_hpx import WeakTrialStopping
    cb = WeakTrialStopping(min_steps=2, min_runs=2, store={path!r})
    h = fit(float(sys.argv[1]), cb)
    print(json.dumps([cb.run_id, len(h.history["val_loss"]), sorted(cb.compared_with or [])]))
    """
)


def test_processes_share_curves_through_a_file_store(tmp_path):
    # Every run in its own process (the same backend and numbers for all three: a run in
    # the test's process could see another backend than its subprocesses).
    path = str(tmp_path / "curves.jsonl")
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=os.path.dirname(__file__), path=path))

    def run(lrs):
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(lr)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for lr in lrs
        ]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=180)
            assert p.returncode == 0, err.decode()[-3000:]
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        return results

    first = run([GOOD, GOOD * 0.7])  # side by side: neither has two runs to compare with
    ids = [run_id for run_id, _, _ in first]
    assert [n for _, n, _ in first] == [5, 5]
    ((bad_id, n, compared_with),) = run([BAD])
    curves = FileStore(path).curves()
    seen = {i: c.values for i, c in curves.items()}
    assert n == 2, (compared_with, ids, seen)  # stopped at the first judged epoch
    assert compared_with == sorted(ids)
    assert len(curves) == 3 and curves[bad_id].stopped
    assert all(len(curves[i].values) == 5 and curves[i].finished for i in ids)


def test_memory_store_object_is_accepted():
    store = MemoryStore()
    a = WeakTrialStopping(min_steps=1, min_runs=1, store=store)
    b = WeakTrialStopping(min_steps=1, min_runs=1, store=store)
    fit(GOOD, a, epochs=2)
    fit(BAD, b, epochs=2)
    assert b.stopped_epoch == 0 and b.compared_with == [a.run_id]


def test_json_config():
    cb = WeakTrialStopping(store="x.jsonl")
    assert json.loads(json.dumps(cb.get_config()))["store"].endswith("x.jsonl")
