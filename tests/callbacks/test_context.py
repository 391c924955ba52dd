"""`find_tuner_context()`: the trial of a running `fit`, found on the call stack."""

from __future__ import annotations

import copy
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from keras_hpx.callbacks._context import TunerContext, find_tuner_context


class Recorder(keras.callbacks.Callback):
    """Records, at every `on_train_begin`, what `find_tuner_context()` finds.

    Keras Tuner deep-copies the callbacks of `search` for every execution; the
    copies are this same object, so every record lands in one list.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def __deepcopy__(self, memo: dict) -> Recorder:
        return self

    def on_train_begin(self, logs: dict | None = None) -> None:
        ctx = find_tuner_context()
        if ctx is None:
            self.records.append({"ctx": None})
            return
        self.records.append(
            {
                "ctx": ctx,
                "trial_id": ctx.trial_id,
                "execution": ctx.execution,
                "units_hp": ctx.trial.hyperparameters.get("units"),
                "units_model": self.model.layers[0].units,
            }
        )


def build_model(hp: kt.HyperParameters) -> keras.Model:
    """A one-layer regression model whose width is the trial's `units`."""
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(hp.Choice("units", [1, 2, 3, 4, 5, 6, 7, 8])),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


class RenamedTrialTuner(kt.RandomSearch):
    """Overrides `run_trial` with its own names: the trial is `t`, two fits per trial."""

    def run_trial(self, t: Any, *fit_args: Any, **fit_kwargs: Any) -> list:
        histories = []
        # `execution` is not used here: find_tuner_context() reads it from this frame.
        for execution in range(2):  # noqa: B007
            model = self.hypermodel.build(t.hyperparameters)
            histories.append(model.fit(*fit_args, **fit_kwargs))
        return histories


def _search(tuner: kt.Tuner, recorder: Recorder) -> None:
    x, y = _data()
    tuner.search(
        x, y, validation_split=0.25, epochs=1, batch_size=8, verbose=0, callbacks=[recorder]
    )


def _check_records(tuner: kt.Tuner, recorder: Recorder, executions: int) -> None:
    oracle = tuner.oracle
    assert len(oracle.trials) == 3
    assert all(r["ctx"] is not None for r in recorder.records), recorder.records
    expected = [(tid, k) for tid in oracle.start_order for k in range(executions)]
    assert [(r["trial_id"], r["execution"]) for r in recorder.records] == expected
    for r in recorder.records:
        ctx = r["ctx"]
        assert ctx.tuner is tuner and ctx.oracle is oracle
        assert ctx.trial.trial_id == r["trial_id"]
        assert r["units_hp"] == oracle.trials[r["trial_id"]].hyperparameters.get("units")
        assert r["units_model"] == r["units_hp"]  # the model of this fit is this trial's


def test_keras_tuners_own_run_trial_gives_trial_and_execution(tmp_path):
    tuner = kt.RandomSearch(
        build_model,
        objective="val_loss",
        max_trials=3,
        executions_per_trial=2,
        directory=tmp_path,
        project_name="plain",
        seed=1,
    )
    recorder = Recorder()
    _search(tuner, recorder)
    _check_records(tuner, recorder, executions=2)


def test_run_trial_override_with_a_renamed_trial_argument(tmp_path):
    tuner = RenamedTrialTuner(
        build_model,
        objective="val_loss",
        max_trials=3,
        directory=tmp_path,
        project_name="renamed",
        seed=2,
    )
    recorder = Recorder()
    _search(tuner, recorder)
    # found in the override's frame (it holds `t` and its loop's `execution`)
    _check_records(tuner, recorder, executions=2)
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_plain_fit_has_no_tuner_context():
    recorder = Recorder()
    x, y = _data()
    model = build_model(kt.HyperParameters())
    model.fit(x, y, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.records == [{"ctx": None}]
    assert find_tuner_context() is None


# ----- the frame rules, without Keras Tuner --------------------------------------------------


class FakeTrial:
    def __init__(self, trial_id: str) -> None:
        self.trial_id = trial_id
        self.hyperparameters = kt.HyperParameters()


class FakeTuner:
    oracle = "an oracle"
    hypermodel = "a hypermodel"

    def run(self, t: FakeTrial, execution: int | None = None) -> TunerContext | None:
        return find_tuner_context()

    def nested(self, outer: FakeTrial, inner: FakeTrial) -> TunerContext | None:
        return self.run(inner)

    def through_a_helper(self, job: FakeTrial, execution: int) -> TunerContext | None:
        return _helper(job.hyperparameters)

    def two_trial_locals(self, other: FakeTrial, trial: FakeTrial) -> TunerContext | None:
        return find_tuner_context()


def _helper(hp: Any) -> TunerContext | None:
    return find_tuner_context()


def test_any_local_of_a_tuner_frame_is_found():
    tuner, trial = FakeTuner(), FakeTrial("7")
    ctx = tuner.run(trial)
    assert ctx is not None and ctx.tuner is tuner and ctx.trial is trial
    assert ctx.trial_id == "7" and ctx.execution == 0
    assert tuner.run(trial, execution=3).execution == 3


def test_the_innermost_trial_wins_and_outer_frames_give_the_execution():
    tuner, outer, inner = FakeTuner(), FakeTrial("outer"), FakeTrial("inner")
    assert tuner.nested(outer, inner).trial is inner
    ctx = tuner.through_a_helper(inner, execution=1)
    assert ctx.trial is inner and ctx.execution == 1


def test_a_local_named_trial_is_preferred_in_one_frame():
    tuner, other, trial = FakeTuner(), FakeTrial("other"), FakeTrial("mine")
    assert tuner.two_trial_locals(other, trial).trial is trial


def test_trials_outside_a_tuner_frame_are_ignored():
    t = FakeTrial("loose")  # a trial-like local, but no tuner `self` here

    class NotATuner:
        oracle = "only an oracle"

        def run(self, trial: FakeTrial) -> TunerContext | None:
            return find_tuner_context()

    assert t.trial_id == "loose"
    assert NotATuner().run(t) is None
    assert _helper(copy.copy(t)) is None
