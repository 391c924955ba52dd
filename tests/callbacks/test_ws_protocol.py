"""WeakTrialStopping's stop protocol, curve reads and direction rule, on real Keras training.

- a stop is one `EarlyStop` record: its wire form (`stopped_at_epoch`) goes with the
  epoch's report, a keras-hpx oracle is handed the record itself;
- a keras-hpx oracle's curves are read with `HpxOracle.curves` (no scan of the
  trials); other oracles are read with `get_best_trials`, never during the warm-up;
- `mode="auto"` is resolved at the first epoch's end: the tuner's objective, then the
  model's metric, then the name.
"""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import RandomOracle, WeakTrialStopping
from keras_hpx.callbacks.weak_trial_stopping import _ALL_TRIALS
from keras_hpx.records import STOPPED_AT_EPOCH, STOPPED_EARLY, EarlyStop

GOOD, BAD = 0.03, 1e-7  # learning rates: learns fast / does not move
EPOCHS = 4


def data(n: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    return x, y


def model(lr: float, metrics: list | None = None) -> keras.Model:
    keras.utils.set_random_seed(1)
    m = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=metrics or ["accuracy"])
    return m


def build(hp: kt.HyperParameters) -> keras.Model:
    return model(hp.Choice("lr", [GOOD, 0.01, BAD]))


def search(oracle, tmp_path, callback, epochs: int = EPOCHS) -> None:
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="p")
    x, y = data()
    tuner.search(
        x, y, validation_split=0.25, epochs=epochs, batch_size=32, verbose=0, callbacks=[callback]
    )


class Recording(WeakTrialStopping):
    """Records, after every epoch, the direction and the runs the decision looked at."""

    log: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        Recording.log.append(
            {
                "epoch": epoch,
                "direction": self._direction,
                "compared": list(self.compared_with),
                "rerun_of": self.rerun_of,
                "reason": self.decision.reason if self.decision is not None else "",
            }
        )


@pytest.fixture(autouse=True)
def _fresh_log():
    Recording.log = []


class CountingRandomOracle(RandomOracle):
    """Our RandomOracle, counting how the callback reads the other trials."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.curve_reads: list[tuple[str, str | None]] = []
        self.full_reads = 0

    def curves(self, metric, exclude=None):
        self.curve_reads.append((metric, exclude))
        return super().curves(metric, exclude=exclude)

    def get_best_trials(self, num_trials=1):
        self.full_reads += num_trials == _ALL_TRIALS
        return super().get_best_trials(num_trials)


class CountingKerasTunerOracle(kt.oracles.RandomSearchOracle):
    """Keras Tuner's own oracle, counting the callback's full reads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.full_reads = 0

    def get_best_trials(self, num_trials=1):
        self.full_reads += num_trials == _ALL_TRIALS
        return super().get_best_trials(num_trials)


def test_keras_hpx_oracle_is_read_with_curves_and_handed_the_record(tmp_path):
    oracle = CountingRandomOracle(objective=kt.Objective("val_loss", "min"), max_trials=4, seed=2)
    stopper = Recording(monitor="val_loss", min_steps=2, min_runs=1)
    search(oracle, tmp_path, stopper)
    assert oracle.full_reads == 0  # never a scan of every trial
    judged = [r for r in Recording.log if r["epoch"] >= 1]  # min_steps=2: from epoch 1 on
    assert len(oracle.curve_reads) == len(judged) > 0
    assert {metric for metric, _ in oracle.curve_reads} == {"val_loss"}
    # the running trial is left out of its own references
    assert all(exclude in oracle.trials for _, exclude in oracle.curve_reads)
    assert all(r["compared"] == [] for r in Recording.log if r["epoch"] == 0)
    assert any(r["compared"] for r in judged)

    stopped = 0
    for trial_id, trial in oracle.trials.items():
        assert not trial.metrics.exists(STOPPED_EARLY)
        record = oracle.early_stop(trial_id)
        if not trial.metrics.exists(STOPPED_AT_EPOCH):
            assert record is None
            continue
        stopped += 1
        wire = EarlyStop.from_metrics(
            {STOPPED_AT_EPOCH: trial.metrics.get_last_value(STOPPED_AT_EPOCH)}
        )
        # the typed record, with what the wire form cannot carry
        assert isinstance(record, EarlyStop) and record.step == wire.step
        assert record.rule == "median" and record.reason.startswith("val_loss: best value")
        assert len(trial.metrics.get_history("val_loss")) == record.step + 1
    assert stopped >= 1


def test_keras_tuner_oracle_is_read_only_after_the_warm_up(tmp_path):
    oracle = CountingKerasTunerOracle(objective="val_loss", max_trials=3, seed=1)
    min_steps = 3
    stopper = Recording(monitor="val_loss", min_steps=min_steps, min_runs=100)  # never stops
    search(oracle, tmp_path, stopper)
    assert len(oracle.trials) == 3 and len(Recording.log) == 3 * EPOCHS
    # one full read per trial and judged epoch (epochs 2 and 3), none in the warm-up
    assert oracle.full_reads == 3 * (EPOCHS - min_steps + 1)
    assert all(r["compared"] == [] for r in Recording.log if r["epoch"] < min_steps - 1)
    later = [r for r in Recording.log if r["epoch"] >= min_steps - 1][-1]
    assert len(later["compared"]) == 2  # the other two trials


# ----- mode="auto" -------------------------------------------------------------------------


def _wobble(y_true, y_pred):
    return keras.ops.mean(y_pred)


def _fit(cb, metric, epochs=2):
    x, y = data()
    m = model(GOOD, metrics=[metric])
    return m.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=[cb])


def test_auto_mode_is_resolved_at_the_first_epoch_end_from_the_models_metric():
    metric = keras.metrics.MeanMetricWrapper(_wobble, name="wobble")
    metric._direction = "up"  # what Keras' own metrics carry; the name tells nothing
    cb = Recording(monitor="val_wobble", rule="threshold")
    cb.set_model(model(GOOD))
    cb.on_train_begin()
    assert cb.direction is None  # not at train begin: the metrics are not built yet
    _fit(cb, metric)
    assert [r["direction"] for r in Recording.log] == ["max", "max"]


def test_auto_mode_without_any_clue_asks_for_a_mode():
    metric = keras.metrics.MeanMetricWrapper(_wobble, name="wobble")
    cb = WeakTrialStopping(monitor="val_wobble")
    with pytest.raises(ValueError, match=r"monitor='val_wobble'.*; pass mode='min' or mode='max'"):
        _fit(cb, metric)
    cb = WeakTrialStopping(monitor="val_wobble", mode="min", rule="threshold")
    _fit(cb, metric)  # an explicit mode needs no clue
    assert cb.direction == "min"


def test_the_tuners_objective_comes_before_the_name(tmp_path):
    # A perverse objective: maximise the loss. The tuner's word wins over the name.
    oracle = RandomOracle(objective=kt.Objective("val_loss", "max"), max_trials=1, seed=1)
    search(oracle, tmp_path, Recording(monitor="val_loss", rule="threshold"), epochs=2)
    assert [r["direction"] for r in Recording.log] == ["max", "max"]
    # a metric the objective does not name: the model's metric, then the name
    oracle = RandomOracle(objective=kt.Objective("val_loss", "max"), max_trials=1, seed=1)
    Recording.log = []
    search(oracle, tmp_path / "b", Recording(monitor="val_accuracy", rule="threshold"), epochs=2)
    assert [r["direction"] for r in Recording.log] == ["max", "max"]
    oracle = RandomOracle(objective=kt.Objective("val_accuracy", "max"), max_trials=1, seed=1)
    Recording.log = []
    search(oracle, tmp_path / "c", Recording(monitor="loss", rule="threshold"), epochs=2)
    assert [r["direction"] for r in Recording.log] == ["min", "min"]


# ----- a rerun of a configuration stopped early ---------------------------------------------


def _sequence(base):
    """`base` (an oracle class) proposing the learning rates GOOD, BAD, BAD: the third trial
    repeats the second's configuration, as `BayesianOracle(rerun_stopped=True)` may."""

    rates = [GOOD, BAD, BAD]

    class Sequence(base):
        proposed = 0

        def _next(self):
            self.proposed += 1
            return {"lr": rates[self.proposed - 1]} if self.proposed <= len(rates) else None

        def propose(self, trial_id):  # ours: `HpxOracle.populate_space` asks `propose`
            return self._next()

        def populate_space(self, trial_id):
            if isinstance(self, RandomOracle):
                return super().populate_space(trial_id)
            values = self._next()  # Keras Tuner's
            return {"status": "RUNNING", "values": values} if values else {"status": "STOPPED"}

    return Sequence


@pytest.mark.parametrize("base", [RandomOracle, kt.oracles.RandomSearchOracle])
def test_a_rerun_of_a_stopped_configuration_is_not_stopped_again(tmp_path, base):
    """In our oracle (read in this process) and in Keras Tuner's (read with
    `get_best_trials`, as over gRPC): the BAD learning rate is stopped at its first
    judgement, then trains to the end when it is proposed again."""
    oracle = _sequence(base)(objective=kt.Objective("val_loss", "min"), max_trials=3, seed=0)
    stopper = Recording(monitor="val_loss", rule="asha", min_runs=1)
    search(oracle, tmp_path, stopper)
    first, second, third = (oracle.trials[t] for t in sorted(oracle.trials))
    assert [t.hyperparameters.values["lr"] for t in (first, second, third)] == [GOOD, BAD, BAD]
    epochs = [len(t.metrics.get_history("val_loss")) for t in (first, second, third)]
    assert epochs == [EPOCHS, 1, EPOCHS]  # stopped at its first rung, then not again
    assert second.metrics.exists(STOPPED_AT_EPOCH)
    assert not third.metrics.exists(STOPPED_AT_EPOCH)
    # Keras Tuner runs a copy of the callback per trial: what each copy saw, in order.
    third_run = Recording.log[-EPOCHS:]
    assert [r["rerun_of"] for r in Recording.log[: EPOCHS + 1]] == [None] * (EPOCHS + 1)
    assert any(r["rerun_of"] == second.trial_id for r in third_run)
    assert any("not stopped: a rerun of trial" in r["reason"] for r in third_run)
