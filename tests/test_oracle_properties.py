"""Hypothesis-generated search spaces, nested conditionals included, through every oracle."""

import keras_tuner as kt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_hpx import BayesianOracle, GridOracle, RandomOracle
from keras_hpx.space import Space


@st.composite
def kt_spaces(draw, discrete_only=False):
    """A Keras Tuner space of 1-5 hyperparameters, children nested up to 2 deep."""
    hp = kt.HyperParameters()
    parents = []  # (name, values, scope): Keras Tuner nests only on parents of the same scope
    scope = [()]

    def declare(i):
        name = f"h{i}"
        kinds = ["int", "choice", "bool"] + ([] if discrete_only else ["float"])
        kind = draw(st.sampled_from(kinds + ["float_step"]))
        if kind == "int":
            lo = draw(st.integers(1, 5))
            hp.Int(name, lo, lo + draw(st.integers(0, 3)))
        elif kind == "choice":
            values = [f"c{j}" for j in range(draw(st.integers(1, 3)))]
            hp.Choice(name, values)
            parents.append((name, values, scope[-1]))
        elif kind == "bool":
            hp.Boolean(name)
            parents.append((name, [False, True], scope[-1]))
        elif kind == "float_step":
            hp.Float(name, 0.0, 1.0, step=draw(st.sampled_from([0.5, 0.25])))
        else:
            hp.Float(name, 1e-3, 1.0, sampling="log")

    def nest(i, depth):
        here = [p for p in parents if p[2] == scope[-1]]
        if here and depth < 2 and draw(st.booleans()):
            parent, values, _ = draw(st.sampled_from(here))
            allowed = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
            with hp.conditional_scope(parent, allowed):
                scope.append(scope[-1] + ((parent, tuple(allowed)),))
                declare(i)
                if draw(st.booleans()):
                    nest(i + 100, depth + 1)
                scope.pop()
        else:
            declare(i)

    for i in range(draw(st.integers(1, 5))):
        nest(i, 0)
    return hp


def drive(oracle, tmp_dir, limit=200):
    """Runs the oracle by hand; returns (configs, last status)."""
    oracle._set_project_dir(tmp_dir, "prop")
    oracle.verbose = 0
    configs, status = [], None
    for _ in range(limit):
        trial = oracle.create_trial("w0")
        status = trial.status
        if status != "RUNNING":
            break
        configs.append(dict(trial.hyperparameters.values))
        oracle.update_trial(trial.trial_id, {"score": float(len(configs) % 7)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return configs, status


def check(hp, configs, status, max_trials):
    space = Space.from_keras_tuner(hp)
    keys = [space.key(c) for c in configs]
    assert all(space.is_valid(space.active_values(c, fill_defaults=False)) for c in configs)
    assert len(set(keys)) == len(keys), "repeated configuration"
    assert status == "STOPPED"
    if space.is_discrete and space.grid_size() <= max_trials:
        assert len(configs) == space.grid_size(), "stopped before the space was exhausted"
    else:
        assert len(configs) == max_trials


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(kt_spaces(discrete_only=True), st.integers(1, 30))
def test_grid_oracle_properties(tmp_path_factory, hp, max_trials):
    oracle = GridOracle(
        objective=kt.Objective("score", "min"), hyperparameters=hp, max_trials=max_trials
    )
    configs, status = drive(oracle, str(tmp_path_factory.mktemp("g")))
    check(hp, configs, status, max_trials)


@SETTINGS
@given(kt_spaces(), st.integers(1, 30), st.sampled_from(["uniform", "sobol"]))
def test_random_oracle_properties(tmp_path_factory, hp, max_trials, sampler):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=hp,
        max_trials=max_trials,
        sampler=sampler,
        seed=1,
    )
    configs, status = drive(oracle, str(tmp_path_factory.mktemp("r")))
    check(hp, configs, status, max_trials)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kt_spaces(), st.integers(1, 15))
def test_bayesian_oracle_properties(tmp_path_factory, hp, max_trials):
    oracle = BayesianOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=hp,
        max_trials=max_trials,
        seed=1,
        num_initial_points=3,
    )
    configs, status = drive(oracle, str(tmp_path_factory.mktemp("b")))
    check(hp, configs, status, max_trials)
