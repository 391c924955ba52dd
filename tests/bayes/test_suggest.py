import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_hpx.bayes import BayesianOptimizer, clean_scores, suggest
from keras_hpx.bayes.optimize import INACTIVE_FILL, SpaceEncoder
from keras_hpx.space import Param, Space
from keras_hpx.testing.functions import BRANIN_MIN, branin

BRANIN = Space([Param("x1", "float", -5.0, 10.0), Param("x2", "float", 0.0, 15.0)])

MIXED = Space(
    [
        Param("lr", "float", 1e-4, 1e-1, sampling="log"),
        Param("units", "int", 16, 128, step=16),
        Param("act", "choice", values=("relu", "tanh", "gelu")),
        Param("bn", "boolean", values=(False, True)),
        Param("opt", "choice", values=("adam", "sgd")),
        Param("momentum", "float", 0.0, 0.99, conditions=(("opt", ("sgd",)),)),
    ]
)


def _mixed_score(v):
    s = (math.log10(v["lr"]) + 2.5) ** 2 + ((v["units"] - 80) / 64) ** 2
    s += {"relu": 0.0, "tanh": 0.3, "gelu": 0.1}[v["act"]] + (0.0 if v["bn"] else 0.2)
    if v["opt"] == "sgd":
        s += 0.5 * (v["momentum"] - 0.9) ** 2
    return s


def _random_obs(space, n, rng, score):
    obs = []
    for _ in range(n):
        v = space.from_unit(rng.random(len(space)))
        obs.append((v, score(v)))
    return obs


# ----- spaces for property tests -------------------------------------------------------------

_param = st.one_of(
    st.builds(
        lambda lo, span, log: Param(
            "p", "float", lo, lo + span, sampling="log" if log else "linear"
        ),
        st.floats(0.01, 1.0),
        st.floats(0.1, 10.0),
        st.booleans(),
    ),
    st.builds(
        lambda lo, step, k: Param("p", "float", lo, lo + step * k, step=step),
        st.floats(-1.0, 1.0),
        st.sampled_from([0.1, 0.25, 0.5]),
        st.integers(1, 6),
    ),
    st.builds(
        lambda lo, step, k: Param("p", "int", lo, lo + step * k, step=step),
        st.integers(-5, 5),
        st.integers(1, 4),
        st.integers(1, 5),
    ),
    st.builds(
        lambda n, ordered: Param(
            "p", "choice", values=tuple(f"c{i}" for i in range(n)), ordered=ordered
        ),
        st.integers(2, 4),
        st.booleans(),
    ),
    st.just(Param("p", "boolean", values=(False, True))),
)


@st.composite
def small_spaces(draw):
    params = draw(st.lists(_param, min_size=1, max_size=3))
    params = [Param(**{**p.__dict__, "name": f"p{i}"}) for i, p in enumerate(params)]
    if draw(st.booleans()):
        params.append(Param("parent", "choice", values=("a", "b", "c")))
        params.append(Param("child", "float", 0.0, 1.0, conditions=(("parent", ("b",)),)))
    return Space(params)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=small_spaces(), seed=st.integers(0, 2**16), n_obs=st.integers(0, 8))
def test_suggestions_are_valid_and_never_excluded(space, seed, n_obs):
    rng = np.random.default_rng(seed)
    obs = []
    for i in range(n_obs):
        v = space.from_unit(rng.random(len(space)))
        score = [float("nan"), float("inf"), None][i % 3] if i % 4 == 3 else float(rng.normal())
        obs.append((v, score))
    pending = [space.from_unit(rng.random(len(space)))]
    excluded = {space.key(v) for v, _ in obs} | {space.key(pending[0])}
    opt = BayesianOptimizer(n_candidates=64, n_starts=2)
    for _ in range(3):
        v = opt.suggest(space, obs, rng, pending=pending, excluded=excluded)
        if v is None:
            # Only allowed when the whole (discrete) space is used up.
            assert space.is_discrete and space.grid_size() == len(excluded)
            break
        assert space.is_valid(v), v
        assert v == space.active_values(v)
        assert space.key(v) not in excluded
        excluded.add(space.key(v))
        obs.append((v, float(rng.normal())))


def test_exhausted_discrete_space_returns_none():
    space = Space([Param("a", "choice", values=("x", "y", "z")), Param("b", "int", 1, 3, step=1)])
    rng = np.random.default_rng(0)
    obs, excluded = [], set()
    for i in range(9):
        v = suggest(space, obs, rng, excluded=excluded)
        assert v is not None and space.key(v) not in excluded
        excluded.add(space.key(v))
        obs.append((v, float(i % 4)))
    assert len(excluded) == 9
    assert suggest(space, obs, rng, excluded=excluded) is None


def test_pending_points_make_concurrent_suggestions_differ():
    space = Space([Param("x", "float", 0.0, 1.0)])
    obs = [({"x": x}, (x - 0.33) ** 2) for x in (0.0, 0.2, 0.5, 0.8, 1.0)]
    excluded = {space.key(v) for v, _ in obs}
    opt = BayesianOptimizer()
    first = opt.suggest(space, obs, np.random.default_rng(0), excluded=excluded)
    excluded.add(space.key(first))
    # Excluding the exact key alone is not enough: the same maximiser comes back.
    again = opt.suggest(space, obs, np.random.default_rng(0), excluded=excluded)
    assert abs(again["x"] - first["x"]) < 1e-3
    # Declared pending, it repels the next proposal, and two pending points repel a third.
    second = opt.suggest(space, obs, np.random.default_rng(0), pending=[first], excluded=excluded)
    assert abs(second["x"] - first["x"]) > 0.03
    excluded.add(space.key(second))
    third = opt.suggest(
        space, obs, np.random.default_rng(0), pending=[first, second], excluded=excluded
    )
    assert min(abs(third["x"] - first["x"]), abs(third["x"] - second["x"])) > 0.01


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), None, "oops"])
def test_failed_observations_do_not_crash_and_count_as_bad(bad):
    rng = np.random.default_rng(0)
    obs = _random_obs(BRANIN, 10, rng, branin)
    # A failed trial right at the global optimum region must not attract the search.
    failed = {"x1": math.pi, "x2": 2.275}
    obs.append((failed, bad))
    v = suggest(BRANIN, obs, rng, excluded={BRANIN.key(o[0]) for o in obs})
    assert BRANIN.is_valid(v)
    scores = clean_scores([s for _, s in obs])
    assert np.all(np.isfinite(scores))
    assert scores[-1] == max(branin(o[0]) for o in obs[:-1])


def test_clean_scores():
    out = clean_scores([1.0, float("nan"), None, 3.0, float("-inf"), "x"])
    np.testing.assert_array_equal(out, [1.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    assert np.all(np.isnan(clean_scores([None, float("nan")])))
    assert clean_scores([]).shape == (0,)


def test_all_failed_or_no_observations_fall_back_to_random():
    rng = np.random.default_rng(0)
    for obs in ([], [({"x1": 0.0, "x2": 1.0}, None), ({"x1": 1.0, "x2": 1.0}, float("nan"))]):
        v = suggest(BRANIN, obs, rng)
        assert BRANIN.is_valid(v)


def test_same_seed_same_suggestion():
    obs = _random_obs(MIXED, 10, np.random.default_rng(1), _mixed_score)
    a = suggest(MIXED, obs, np.random.default_rng(5))
    b = suggest(MIXED, obs, np.random.default_rng(5))
    assert a == b


def test_conditional_space_masks_inactive_parameters():
    enc = SpaceEncoder(MIXED)
    adam = {"lr": 0.01, "units": 32, "act": "relu", "bn": True, "opt": "adam"}
    x_adam = enc.encode(adam)
    # The inactive momentum column holds the fill value, not a default.
    momentum_col = [
        j for j, c in enumerate(MIXED.columns) if MIXED.params[c.param].name == "momentum"
    ]
    assert np.all(x_adam[momentum_col] == INACTIVE_FILL)
    # A momentum value left in an inactive configuration does not change its encoding.
    np.testing.assert_array_equal(enc.encode({**adam, "momentum": 0.5}), x_adam)
    rng = np.random.default_rng(2)
    obs = _random_obs(MIXED, 15, rng, _mixed_score)
    excluded = {MIXED.key(v) for v, _ in obs}
    opt = BayesianOptimizer(n_candidates=256)
    for _ in range(5):
        v = opt.suggest(MIXED, obs, rng, excluded=excluded)
        assert MIXED.is_valid(v) and ("momentum" in v) == (v["opt"] == "sgd")
        excluded.add(MIXED.key(v))
        obs.append((v, _mixed_score(v)))


@pytest.mark.parametrize("kernel", ["matern32", "rbf"])
@pytest.mark.parametrize("acquisition", ["ei", "pi", "ucb"])
def test_every_kernel_and_acquisition_runs(kernel, acquisition):
    rng = np.random.default_rng(0)
    obs = _random_obs(BRANIN, 8, rng, branin)
    v = suggest(BRANIN, obs, rng, kernel=kernel, acquisition=acquisition, n_candidates=128)
    assert BRANIN.is_valid(v)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="acquisition='bogus'"):
        BayesianOptimizer(acquisition="bogus")
    with pytest.raises(ValueError, match="kernel='bogus'"):
        BayesianOptimizer(kernel="bogus")
    with pytest.raises(ValueError, match="max_fit=1"):
        BayesianOptimizer(max_fit=1)
    with pytest.raises(TypeError, match="rng=0"):
        suggest(BRANIN, [], 0)


def test_branin_smoke_beats_random_search():
    """30 evaluations (10 random + 20 guided) beat the median of random search."""
    rng = np.random.default_rng(0)
    random_best = [
        min(branin(BRANIN.from_unit(rng.random(2))) for _ in range(30)) for _ in range(50)
    ]
    rng = np.random.default_rng(1)
    obs = _random_obs(BRANIN, 10, rng, branin)
    opt = BayesianOptimizer(n_candidates=256)
    for _ in range(20):
        v = opt.suggest(BRANIN, obs, rng, excluded={BRANIN.key(o[0]) for o in obs})
        obs.append((v, branin(v)))
    best = min(s for _, s in obs)
    assert best - BRANIN_MIN < 0.1 * (np.median(random_best) - BRANIN_MIN)
    assert best - BRANIN_MIN < 1e-2


def test_warp_scores_is_monotone_and_tames_a_long_tail():
    from keras_hpx.bayes.optimizer import warp_scores

    y = np.array([0.4, 0.5, 0.9, 2.0, 8.0, 300.0])
    w = warp_scores(y)
    assert np.all(np.diff(w) > 0)  # the ranking is kept
    z = (y - y.mean()) / y.std()
    # The outlier no longer squeezes the good scores together.
    assert (w[1] - w[0]) / np.ptp(w) > 5 * (z[1] - z[0]) / np.ptp(z)
    np.testing.assert_array_equal(warp_scores(np.array([1.0, 1.0, 2.0])), [1.0, 1.0, 2.0])
