import numpy as np

from keras_hpx.bayes.acquisition_search import optimize_acquisition
from keras_hpx.space import Param, Space


def _quadratic(centre):
    """A concave acquisition peaked at `centre`, with its analytic gradient."""
    centre = np.asarray(centre, dtype=float)

    def acq(x):
        return -np.sum((np.atleast_2d(x) - centre) ** 2, axis=1)

    def acq_grad(x):
        return float(acq(x[None])[0]), -2.0 * (x - centre)

    return acq, acq_grad


def test_finds_the_maximum_of_a_continuous_acquisition():
    space = Space([Param("a", "float", 0.0, 1.0), Param("b", "float", 0.0, 10.0)])
    acq, acq_grad = _quadratic([0.3, 0.7])
    v = optimize_acquisition(space, acq, acq_grad, np.random.default_rng(0), n_candidates=64)
    assert abs(v["a"] - 0.3) < 1e-4 and abs(v["b"] - 7.0) < 1e-3


def test_mixed_space_refines_discrete_and_one_hot_columns():
    space = Space(
        [
            Param("x", "float", 0.0, 1.0),
            Param("n", "int", 0, 100, step=1),
            Param("c", "choice", values=("a", "b", "c")),
        ]
    )
    target = space.encode({"x": 0.8, "n": 37, "c": "c"})[0]
    acq, acq_grad = _quadratic(target)
    v = optimize_acquisition(space, acq, acq_grad, np.random.default_rng(1), n_candidates=32)
    assert v["n"] == 37 and v["c"] == "c" and abs(v["x"] - 0.8) < 1e-4


def test_small_discrete_space_is_enumerated_and_excluded_keys_are_skipped():
    space = Space([Param("a", "choice", values=("x", "y", "z")), Param("b", "int", 1, 3, step=1)])
    scores = {("z", 2): 3.0, ("y", 1): 2.0}

    def acq(X):
        return np.array([scores.get((v["a"], v["b"]), 0.0) for v in map(space.decode, X)])

    def no_grad(x):
        return 0.0, np.zeros_like(x)

    rng = np.random.default_rng(0)
    assert optimize_acquisition(space, acq, no_grad, rng) == {"a": "z", "b": 2}
    excluded = {space.key({"a": "z", "b": 2})}
    assert optimize_acquisition(space, acq, no_grad, rng, excluded=excluded) == {"a": "y", "b": 1}
    everything = {space.key(c) for c in space.grid()}
    assert optimize_acquisition(space, acq, no_grad, rng, excluded=everything) is None


def test_conditional_proposals_are_valid_and_never_excluded():
    space = Space(
        [
            Param("opt", "choice", values=("adam", "sgd")),
            Param("momentum", "float", 0.0, 0.99, conditions=(("opt", ("sgd",)),)),
            Param("lr", "float", 1e-4, 1e-1, sampling="log"),
        ]
    )
    rng = np.random.default_rng(2)
    excluded = set()
    for _ in range(5):
        v = optimize_acquisition(
            space,
            lambda x: rng.random(len(x)),
            lambda x: (0.0, np.zeros_like(x)),
            rng,
            excluded=excluded,
            n_candidates=16,
            n_starts=0,
        )
        assert space.is_valid(v) and ("momentum" in v) == (v["opt"] == "sgd")
        assert space.key(v) not in excluded
        excluded.add(space.key(v))
