import itertools

import keras_tuner as kt
import pytest

from keras_hpx import GridOracle
from keras_hpx.testing.conformance import (
    OracleConformance,
    ScoringTuner,
    mixed_space,
    run_search,
)


class TestGridConformance(OracleConformance):
    def make_oracle(self, hyperparameters, objective, max_trials, seed):
        return GridOracle(
            objective=objective, max_trials=max_trials, hyperparameters=hyperparameters, seed=seed
        )


def _search(tmp_path, oracle, project="g", overwrite=True, **kw):
    return run_search(oracle, tmp_path, project, overwrite, **kw)


def _configs(oracle):
    return [dict(oracle.trials[t].hyperparameters.values) for t in oracle.start_order]


def test_runs_every_combination_once_then_stops(tmp_path):
    hp = kt.HyperParameters()
    hp.Int("a", 1, 3)
    hp.Choice("b", ["x", "y"])
    hp.Float("c", 0.0, 1.0, step=0.5)
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp)
    assert oracle.grid_size() == 18
    _search(tmp_path, oracle)
    got = sorted((c["a"], c["b"], c["c"]) for c in _configs(oracle))
    want = sorted(itertools.product([1, 2, 3], ["x", "y"], [0.0, 0.5, 1.0]))
    assert got == want
    assert oracle.stop_reason == "search space exhausted"


def test_conditional_children_multiply_only_their_branch(tmp_path):
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["mlp"]):
        hp.Int("layers", 1, 4)
    with hp.conditional_scope("model", ["cnn"]):
        hp.Choice("kernel", [3, 5])
        hp.Boolean("pool")
    hp.Choice("opt", ["adam", "sgd"])
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp)
    # (4 + 2 * 2) * 2, not 2 * 4 * 2 * 2 * 2
    assert oracle.grid_size() == 16
    _search(tmp_path, oracle)
    configs = _configs(oracle)
    assert len(configs) == 16
    for c in configs:
        assert ("layers" in c) == (c["model"] == "mlp")
        assert ("kernel" in c) == (c["model"] == "cnn")


def test_grid_extends_with_discovered_hyperparameters(tmp_path):
    class Discovering(ScoringTuner):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            hp.Int("later", 1, 3)  # declared while "building"
            return super().run_trial(trial, *args, **kwargs)

    hp = kt.HyperParameters()
    hp.Choice("first", ["a", "b"])
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp)
    _search(tmp_path, oracle, project="d", tuner_class=Discovering)
    got = sorted((c["first"], c["later"]) for c in _configs(oracle))
    assert got == sorted(itertools.product(["a", "b"], [1, 2, 3]))


def test_float_without_step_is_refused_with_a_clear_error():
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    with pytest.raises(ValueError, match="learning_rate.*float_points"):
        GridOracle(objective="val_loss", hyperparameters=hp)


def test_float_points_are_spaced_on_the_sampling_scale(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("d", 0.0, 0.6)
    oracle = GridOracle(
        objective=kt.Objective("score", "min"), hyperparameters=hp, float_points={"lr": 4, "d": 3}
    )
    assert oracle.grid_size() == 12
    _search(tmp_path, oracle)
    lrs = sorted({c["lr"] for c in _configs(oracle)})
    ds = sorted({c["d"] for c in _configs(oracle)})
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    assert ds == pytest.approx([0.0, 0.3, 0.6])


def test_bad_float_points_are_refused():
    with pytest.raises(ValueError, match="float_points=0"):
        GridOracle(objective="val_loss", float_points=0)
    with pytest.raises(TypeError, match=r"float_points\['lr'\]=2.5"):
        GridOracle(objective="val_loss", float_points={"lr": 2.5})


def test_size_is_known_and_shown_before_the_search():
    oracle = GridOracle(objective="val_loss", hyperparameters=mixed_space())
    size = oracle.grid_size()
    # lr 4 x dropout 3 x units 8 x batch 4 x act 3 x bn 2 x (adam 1 + sgd 4)
    assert size == 4 * 3 * 8 * 4 * 3 * 2 * 5
    assert f"Grid of {size} combinations" in oracle.summary()


def test_shuffle_is_seeded_and_complete(tmp_path):
    def run(seed, project):
        hp = kt.HyperParameters()
        hp.Int("a", 1, 4)
        hp.Int("b", 1, 4)
        oracle = GridOracle(
            objective=kt.Objective("score", "min"), hyperparameters=hp, shuffle=True, seed=seed
        )
        _search(tmp_path, oracle, project=project)
        return [(c["a"], c["b"]) for c in _configs(oracle)]

    a, b, c = run(3, "a"), run(3, "b"), run(4, "c")
    assert a == b
    assert a != c
    assert sorted(a) == sorted(itertools.product(range(1, 5), range(1, 5)))
    assert a != sorted(a)


def test_resume_after_interrupt_with_running_trial(tmp_path):
    """A trial running at the crash is rerun; nothing lost, nothing repeated."""
    hp = kt.HyperParameters()
    hp.Int("a", 1, 3)
    hp.Int("b", 1, 3)
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp)
    oracle._set_project_dir(str(tmp_path), "crash")
    for _ in range(4):
        t = oracle.create_trial("w")
        oracle.update_trial(t.trial_id, {"score": 1.0})
        t.status = "COMPLETED"
        oracle.end_trial(t)
    running = oracle.create_trial("w")  # "crash" while this one runs
    assert running.status == "RUNNING"

    hp2 = kt.HyperParameters()
    hp2.Int("a", 1, 3)
    hp2.Int("b", 1, 3)
    resumed = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp2)
    tuner = _search(tmp_path, resumed, project="crash", overwrite=False)
    configs = [(c["a"], c["b"]) for c in _configs(tuner.oracle)]
    assert len(configs) == 9 and len(set(configs)) == 9
    assert all(tuner.oracle.trials[t].status == "COMPLETED" for t in tuner.oracle.trials)


def test_max_trials_none_means_all_and_max_trials_caps(tmp_path):
    hp = kt.HyperParameters()
    hp.Int("a", 1, 5)
    oracle = GridOracle(objective=kt.Objective("score", "min"), hyperparameters=hp, max_trials=2)
    _search(tmp_path, oracle)
    assert [c["a"] for c in _configs(oracle)] == [1, 2]
