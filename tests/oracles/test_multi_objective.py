"""Several objectives: a custom run_trial's dict is accepted, `pareto_front()` is exactly
the non-dominated completed trials, best trials start with the front, `trials.csv` has a
`pareto` column, the Bayesian oracle aims at the front, and a resume keeps it all."""

import csv
import math

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import BayesianOracle, GridOracle, RandomOracle
from keras_hpx.oracles.bayesian import ProposalSource
from keras_hpx.pareto import dominates, hypervolume
from keras_hpx.testing.conformance import run_search

OBJECTIVES = [kt.Objective("accuracy", "max"), kt.Objective("size", "min")]


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0, step=0.1)
    hp.Float("y", 0.0, 1.0, step=0.1)
    return hp


def _results(values):
    """A trade-off: accuracy rises with x, size rises with x and y (y only costs)."""
    x, y = values["x"], values["y"]
    return {"accuracy": math.sqrt(x) - 0.1 * y, "size": x + 0.5 * y}


class TradeOffTuner(kt.Tuner):
    fail_ids: tuple = ()

    def run_trial(self, trial, *args, **kwargs):
        if trial.trial_id in self.fail_ids:
            return {"accuracy": float("nan"), "size": 0.0}
        return _results(trial.hyperparameters.values)


ORACLES = {
    "grid": lambda n, **kw: GridOracle(
        objective=OBJECTIVES, max_trials=n, hyperparameters=_space(), **kw
    ),
    "random": lambda n, **kw: RandomOracle(
        objective=OBJECTIVES, max_trials=n, hyperparameters=_space(), seed=2, **kw
    ),
    "bayes": lambda n, **kw: BayesianOracle(
        objective=OBJECTIVES,
        max_trials=n,
        hyperparameters=_space(),
        seed=2,
        num_initial_points=4,
        **kw,
    ),
}


def _brute_front(oracle):
    done = [t for t in oracle.trials.values() if t.status == "COMPLETED"]
    points = {
        t.trial_id: np.array(
            [
                -_results(t.hyperparameters.values)["accuracy"],
                _results(t.hyperparameters.values)["size"],
            ]
        )
        for t in done
    }
    return sorted(
        tid for tid, p in points.items() if not any(dominates(q, p) for q in points.values())
    )


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_the_front_is_exactly_the_non_dominated_completed_trials(tmp_path, name):
    tuner = run_search(ORACLES[name](12), tmp_path, project=name, tuner_class=TradeOffTuner)
    oracle = tuner.oracle
    assert oracle.multi_objective
    assert all(t.status == "COMPLETED" for t in oracle.trials.values())
    front = oracle.pareto_front()
    assert sorted(t.trial_id for t in front) == _brute_front(oracle)
    assert [t.trial_id for t in front] == [
        t for t in oracle.start_order if t in {f.trial_id for f in front}
    ]
    best = tuner.get_best_hyperparameters(len(oracle.trials))
    assert len(best) == len(oracle.trials)
    assert best[0].values in [t.hyperparameters.values for t in front]
    rows = list(csv.DictReader(open(tmp_path / name / "trials.csv")))
    assert {r["trial_id"] for r in rows if r["pareto"] == "1"} == {t.trial_id for t in front}


def test_failed_and_nan_trials_never_enter_the_front(tmp_path):
    oracle = ORACLES["random"](8)
    tuner = TradeOffTuner(
        oracle=oracle, hypermodel=lambda hp: None, directory=str(tmp_path), project_name="nan"
    )
    tuner.fail_ids = ("0", "3")
    tuner.search(verbose=0)
    assert oracle.trials["0"].status == "FAILED" and oracle.trials["3"].status == "FAILED"
    ids = {t.trial_id for t in oracle.pareto_front()}
    assert ids and not ids & {"0", "3"}


def test_ties_and_duplicates_share_the_front(tmp_path):
    oracle = RandomOracle(objective=OBJECTIVES, max_trials=4, hyperparameters=_space(), seed=0)
    for values in ({"x": 0.5, "y": 0.0}, {"x": 0.9, "y": 0.0}, {"x": 0.5, "y": 0.5}):
        oracle.enqueue_trial(values)
    run_search(oracle, tmp_path, project="ties", tuner_class=TradeOffTuner)
    front = {tuple(sorted(t.hyperparameters.values.items())) for t in oracle.pareto_front()}
    assert (("x", 0.5), ("y", 0.0)) in front and (("x", 0.9), ("y", 0.0)) in front
    assert (("x", 0.5), ("y", 0.5)) not in front  # dominated by (0.5, 0.0)


def test_a_multi_objective_search_resumes_with_its_front(tmp_path):
    first = run_search(ORACLES["bayes"](6), tmp_path, project="r", tuner_class=TradeOffTuner).oracle
    # The per-objective models' warm starts are saved and restored.
    fits = first.optimizer.warm_starts
    assert sorted(fits) == ["objective_0", "objective_1"]
    restored = ORACLES["bayes"](6)
    restored.set_state(first.get_state())
    assert sorted(restored.optimizer.warm_starts) == sorted(fits)
    for name, saved in fits.items():
        back = restored.optimizer.warm_starts[name]
        np.testing.assert_allclose(back.lengthscales, saved.lengthscales)
        assert back.signal_var == pytest.approx(saved.signal_var)
    before = [first.trials[t].hyperparameters.values for t in first.start_order]
    again = run_search(
        ORACLES["bayes"](10), tmp_path, project="r", overwrite=False, tuner_class=TradeOffTuner
    ).oracle
    after = [again.trials[t].hyperparameters.values for t in again.start_order]
    assert after[:6] == before and len(after) == 10
    assert len({tuple(sorted(v.items())) for v in after}) == 10
    assert sorted(t.trial_id for t in again.pareto_front()) == _brute_front(again)
    # The per-objective models' warm starts are saved: the resumed search proposes what an
    # uninterrupted one does.
    whole = run_search(ORACLES["bayes"](10), tmp_path, project="w", tuner_class=TradeOffTuner)
    assert [
        whole.oracle.trials[t].hyperparameters.values for t in whole.oracle.start_order
    ] == after


def test_the_bayesian_oracle_models_the_front_and_covers_it(tmp_path):
    """Log expected hypervolume improvement (one GP per objective): proposals from the
    model, and a front at least as good (hypervolume) as random search's with the same
    budget and seed."""
    volumes = {}
    for name in ("bayes", "random"):
        oracle = run_search(
            ORACLES[name](16), tmp_path, project=f"hv-{name}", tuner_class=TradeOffTuner
        ).oracle
        if name == "bayes":
            assert oracle.last_proposal is ProposalSource.MODEL
        points = np.array(
            [
                [
                    -_results(t.hyperparameters.values)["accuracy"],
                    _results(t.hyperparameters.values)["size"],
                ]
                for t in oracle.pareto_front()
            ]
        )
        volumes[name] = hypervolume(points, np.array([0.1, 1.6]))
    assert volumes["bayes"] >= volumes["random"] * 0.95, volumes


def test_a_plain_model_fit_history_is_a_multi_objective_result(tmp_path):
    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Int("units", 1, 8)),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    oracle = RandomOracle(
        objective=[kt.Objective("val_accuracy", "max"), kt.Objective("val_loss", "min")],
        max_trials=3,
        seed=1,
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="fit")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0)
    assert all(t.status == "COMPLETED" for t in oracle.trials.values())
    assert oracle.pareto_front()
    for trial in oracle.trials.values():
        values = oracle.objective_values(trial)
        assert values is not None and np.all(np.isfinite(values))


def test_single_objective_csv_has_no_pareto_column(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("size", "min"), max_trials=3, hyperparameters=_space(), seed=0
    )
    run_search(oracle, tmp_path, project="one", tuner_class=TradeOffTuner)
    header = next(csv.reader(open(tmp_path / "one" / "trials.csv")))
    assert "pareto" not in header
    assert [t.trial_id for t in oracle.pareto_front()] == [oracle.get_best_trials(1)[0].trial_id]


def _mo_build(hp):
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(hp.Choice("units", [2, 32, 128]), activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    lr = hp.Choice("lr", [1e-1, 1e-5])
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _mo_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int32")
    return x, y


@pytest.mark.parametrize("brackets", [1, 2])
def test_weak_trial_stopping_stops_runs_dominated_at_their_epoch(tmp_path, brackets):
    """Several objectives: successive halving by non-dominated rank on every objective
    (val_accuracy up, params down). A stopped run was dominated at its rung by a run
    it is compared with that reached that rung, and the front keeps small models. One
    bracket is `rule="asha"`; two are asynchronous Hyperband."""
    from keras_hpx import ModelCost, WeakTrialStopping
    from keras_hpx.stopping import HyperbandRule

    oracle = GridOracle(
        objective=[kt.Objective("val_accuracy", "max"), kt.Objective("params", "min")],
        shuffle=True,
        seed=4,
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=_mo_build, directory=str(tmp_path), project_name="p")
    x, y = _mo_data()
    keras.utils.set_random_seed(0)
    rule = HyperbandRule(min_steps=1, reduction_factor=2, brackets=2, min_runs=2)
    if brackets == 1:
        stopper = WeakTrialStopping(rule="asha", min_runs=2)
    else:
        stopper = WeakTrialStopping(rule=rule)
    tuner.search(
        x,
        y,
        validation_split=0.25,
        epochs=4,
        batch_size=32,
        verbose=0,
        callbacks=[ModelCost(latency=False), stopper],
    )
    directions = {"val_accuracy": "max", "params": "min"}
    stopped = {t: oracle.early_stop(t) for t in oracle.trials if oracle.early_stop(t)}
    assert stopped, "no run was stopped"

    def best(trial, name, step):
        values = [o.mean() for o in trial.metrics.get_history(name) if o.step <= step]
        return max(values) if directions[name] == "max" else min(values)

    for trial_id, stop in stopped.items():
        assert stop.rule == "pareto_successive_halving" and "dominated" in stop.reason
        if brackets > 1:
            assert f"(bracket {rule.bracket(trial_id)})" in stop.reason
        me = oracle.trials[trial_id]
        mine = (best(me, "val_accuracy", stop.step), best(me, "params", stop.step))
        dominators = [
            t
            for t in oracle.trials.values()
            if t.trial_id != trial_id
            and (brackets == 1 or rule.compares(rule.bracket(trial_id), rule.bracket(t.trial_id)))
            and max(o.step for o in t.metrics.get_history("params")) >= stop.step
            and best(t, "val_accuracy", stop.step) >= mine[0]
            and best(t, "params", stop.step) <= mine[1]
            and (best(t, "val_accuracy", stop.step), best(t, "params", stop.step)) != mine
        ]
        assert dominators, (trial_id, stop)
    assert oracle.pareto_front()
    smallest = min(oracle.objective_values(t)[1] for t in oracle.trials.values())
    assert smallest in [oracle.objective_values(t)[1] for t in oracle.pareto_front()]


def test_weak_trial_stopping_refuses_other_rules_under_several_objectives(tmp_path):
    from keras_hpx import WeakTrialStopping

    def build(hp):
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(hp.Int("units", 1, 4)), keras.layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        return model

    oracle = RandomOracle(
        objective=[kt.Objective("val_loss", "min"), kt.Objective("val_mae", "min")],
        max_trials=2,
        seed=1,
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="ws")
    x = np.zeros((16, 4), dtype="float32")
    with pytest.raises(
        ValueError, match=r"several objectives \['val_loss', 'val_mae'\].*use rule='asha'"
    ):
        tuner.search(
            x, x[:, :1], validation_split=0.25, epochs=2, verbose=0, callbacks=[WeakTrialStopping()]
        )
