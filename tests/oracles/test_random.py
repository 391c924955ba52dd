import keras_tuner as kt
import numpy as np
import pytest
from scipy.stats import kstest

from keras_hpx import RandomOracle
from keras_hpx.testing.conformance import OracleConformance, run_search


class TestRandomUniformConformance(OracleConformance):
    def make_oracle(self, hyperparameters, objective, max_trials, seed):
        return RandomOracle(
            objective=objective, max_trials=max_trials, hyperparameters=hyperparameters, seed=seed
        )


class TestRandomSobolConformance(OracleConformance):
    def make_oracle(self, hyperparameters, objective, max_trials, seed):
        return RandomOracle(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            sampler="sobol",
        )


def _run(tmp_path, hp, sampler, max_trials, seed=0, project="r", overwrite=True):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=hp,
        max_trials=max_trials,
        sampler=sampler,
        seed=seed,
    )
    run_search(oracle, tmp_path, project, overwrite)
    return [dict(oracle.trials[t].hyperparameters.values) for t in oracle.start_order]


@pytest.mark.parametrize("sampler", ["uniform", "sobol"])
def test_log_sampling_is_uniform_in_log_space(tmp_path, sampler):
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-5, 1e-1, sampling="log")
    configs = _run(tmp_path, hp, sampler, 64, seed=3)
    u = (np.log10([c["lr"] for c in configs]) + 5) / 4
    assert kstest(u, "uniform").pvalue > 0.01
    assert min(c["lr"] for c in configs) >= 1e-5 and max(c["lr"] for c in configs) <= 1e-1


def test_sobol_covers_more_evenly_than_uniform(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Float("y", 0.0, 1.0)

    def gaps(sampler):
        worst = []
        for seed in range(4):
            configs = _run(tmp_path, hp, sampler, 16, seed=seed, project=f"{sampler}{seed}")
            x = np.sort([c["x"] for c in configs])
            worst.append(np.max(np.diff(np.r_[0.0, x, 1.0])))
        return np.mean(worst)

    assert gaps("sobol") < gaps("uniform")


@pytest.mark.parametrize("sampler", ["uniform", "sobol"])
def test_small_discrete_space_runs_each_combination_once(tmp_path, sampler):
    hp = kt.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Choice("b", ["p", "q", "r"])
    configs = _run(tmp_path, hp, sampler, 50)
    assert len(configs) == 9
    assert len({(c["a"], c["b"]) for c in configs}) == 9


def test_same_seed_same_trials_across_interrupt_and_resume(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Int("n", 1, 100)
    straight = _run(tmp_path, hp, "sobol", 8, seed=5, project="straight")
    _run(tmp_path, hp, "sobol", 3, seed=5, project="resumed")
    resumed = _run(tmp_path, hp, "sobol", 8, seed=5, project="resumed", overwrite=False)
    assert resumed == straight


def test_unknown_sampler_lists_valid_ones():
    with pytest.raises(ValueError, match=r"\['sobol', 'uniform'\].*Received: sampler='halton'$"):
        RandomOracle(objective="val_loss", sampler="halton")


def test_conditional_children_drawn_only_with_their_parent(tmp_path):
    hp = kt.HyperParameters()
    hp.Choice("opt", ["adam", "sgd"])
    with hp.conditional_scope("opt", ["sgd"]):
        hp.Float("momentum", 0.0, 0.99)
    configs = _run(tmp_path, hp, "uniform", 20, seed=2)
    assert all(("momentum" in c) == (c["opt"] == "sgd") for c in configs)
    assert {c["opt"] for c in configs} == {"adam", "sgd"}


def test_seed_zero_is_a_seed(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    a = _run(tmp_path, hp, "uniform", 4, seed=0, project="z1")
    b = _run(tmp_path, hp, "uniform", 4, seed=0, project="z2")
    assert a == b
