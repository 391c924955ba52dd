import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_hpx.bayes import (
    BayesianOptimizer,
    ExpectedImprovement,
    Matern32,
    Matern52,
    Prior,
    clean_scores,
)
from keras_hpx.bayes.transforms import warp_scores
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
    opt = BayesianOptimizer()
    for i in range(9):
        v = opt.suggest(space, obs, rng, excluded=excluded)
        assert v is not None and space.key(v) not in excluded
        excluded.add(space.key(v))
        obs.append((v, float(i % 4)))
    assert len(excluded) == 9
    assert opt.suggest(space, obs, rng, excluded=excluded) is None


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
    v = BayesianOptimizer().suggest(BRANIN, obs, rng, excluded={BRANIN.key(o[0]) for o in obs})
    assert BRANIN.is_valid(v)
    scores = clean_scores([s for _, s in obs])
    assert np.all(np.isfinite(scores))
    assert scores[-1] == max(branin(o[0]) for o in obs[:-1])


def test_all_failed_or_no_observations_fall_back_to_random():
    rng = np.random.default_rng(0)
    for obs in ([], [({"x1": 0.0, "x2": 1.0}, None), ({"x1": 1.0, "x2": 1.0}, float("nan"))]):
        v = BayesianOptimizer().suggest(BRANIN, obs, rng)
        assert BRANIN.is_valid(v)


def test_same_seed_same_suggestion():
    obs = _random_obs(MIXED, 10, np.random.default_rng(1), _mixed_score)
    a = BayesianOptimizer().suggest(MIXED, obs, np.random.default_rng(5))
    b = BayesianOptimizer().suggest(MIXED, obs, np.random.default_rng(5))
    assert a == b


def test_conditional_space_proposals_keep_the_activity_pattern():
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
    opt = BayesianOptimizer(kernel, acquisition, n_candidates=128)
    v = opt.suggest(BRANIN, obs, rng)
    assert BRANIN.is_valid(v)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"kernel": "bogus"}, ValueError, r"kernel='bogus'"),
        ({"kernel": 3}, TypeError, r"kernel=3"),
        ({"acquisition": "bogus"}, ValueError, r"acquisition='bogus'"),
        ({"xi": -0.1}, ValueError, r"Received: xi=-0\.1$"),
        ({"kappa": "2"}, TypeError, r"Received: kappa='2'$"),
        ({"max_fit": 1}, ValueError, r"integer >= 2\. Received: max_fit=1$"),
        ({"max_fit": 2.5}, TypeError, r"Received: max_fit=2\.5$"),
        ({"n_candidates": 0}, ValueError, r"Received: n_candidates=0$"),
        ({"n_starts": -1}, ValueError, r"Received: n_starts=-1$"),
        ({"n_starts": True}, TypeError, r"Received: n_starts=True$"),
        ({"warp": "yes"}, TypeError, r"Received: warp='yes'$"),
        ({"min_noise": 0.0}, ValueError, r"positive number or None\. Received: min_noise=0\.0$"),
        ({"min_noise": float("nan")}, ValueError, r"Received: min_noise=nan$"),
        ({"prior": {"noise_rate": 1.0}}, TypeError, r"Received: prior=\{'noise_rate': 1\.0\}$"),
        (
            {"pareto": "nsga2"},
            ValueError,
            r"one of \['logehvi', 'parego', 'qparego'\]\. Received: pareto='nsga2'$",
        ),
    ],
)
def test_bad_arguments_raise(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        BayesianOptimizer(**kwargs)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="Received: rng=0$"):
        BayesianOptimizer().suggest(BRANIN, [], 0)


# ----- injected pieces and configuration ------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"kernel": "rbf", "acquisition": "ucb", "kappa": 1.5, "warp": False},
        {"kernel": Matern32(), "acquisition": ExpectedImprovement(xi=0.05), "max_fit": 20},
        {"acquisition": "pi", "n_candidates": 64, "n_starts": 2, "min_noise": 1e-4},
        {"prior": Prior(lengthscale_weight=0.5, noise_rate=10.0), "min_noise": 1e-6},
    ],
)
def test_config_round_trips_through_json_and_proposes_the_same(kwargs):
    opt = BayesianOptimizer(**kwargs)
    config = opt.get_config()
    again = BayesianOptimizer.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert repr(again) == repr(opt)
    assert type(again.kernel) is type(opt.kernel)
    assert type(again.acquisition) is type(opt.acquisition)
    assert again.prior == opt.prior and again.min_noise == opt.min_noise
    obs = _random_obs(BRANIN, 8, np.random.default_rng(3), branin)
    a = opt.suggest(BRANIN, obs, np.random.default_rng(4))
    b = again.suggest(BRANIN, obs, np.random.default_rng(4))
    assert a == b


def test_config_is_plain_data_with_every_setting():
    config = BayesianOptimizer().get_config()
    assert config == {
        "kernel": "matern52",
        "acquisition": "logei",
        "xi": 0.0,
        "kappa": None,
        "max_fit": 150,
        "n_candidates": 2048,
        "n_starts": 10,
        "warp": True,
        "min_noise": None,
        "prior": None,
        "pareto": "logehvi",
    }
    prior = Prior(noise_shape=2.0)
    config = BayesianOptimizer(prior=prior).get_config()
    assert config["prior"] == {**dataclasses.asdict(Prior()), "noise_shape": 2.0}
    # A partial config takes the defaults for the rest.
    assert BayesianOptimizer.from_config({"kernel": "rbf"}).get_config() == {
        **BayesianOptimizer().get_config(),
        "kernel": "rbf",
    }


def test_from_config_refuses_what_it_cannot_rebuild():
    class MyKernel(Matern52):
        pass

    config = BayesianOptimizer(MyKernel()).get_config()
    assert config["kernel"].endswith("MyKernel")
    with pytest.raises(ValueError, match="kernel="):
        BayesianOptimizer.from_config(config)
    with pytest.raises(ValueError, match="unknown: \\['n_trials'\\]"):
        BayesianOptimizer.from_config({"n_trials": 3})
    with pytest.raises(TypeError, match="Received: config="):
        BayesianOptimizer.from_config([("kernel", "rbf")])
    with pytest.raises(ValueError, match="config\\['prior'\\]"):
        BayesianOptimizer.from_config({"prior": {"width": 1.0}})
    with pytest.raises(ValueError, match="Received: max_fit=0"):
        BayesianOptimizer.from_config({"max_fit": 0})


def test_prior_and_noise_floor_reach_the_gaussian_process():
    obs = _random_obs(BRANIN, 10, np.random.default_rng(0), branin)
    opt = BayesianOptimizer(min_noise=0.25, n_candidates=64, n_starts=1)
    opt.suggest(BRANIN, obs, np.random.default_rng(0))
    assert opt.last_params.noise_var >= 0.25
    # A very strong length-scale prior pins the length scales at its mode, 1.
    opt = BayesianOptimizer(prior=Prior(lengthscale_weight=1e4), n_candidates=64, n_starts=1)
    opt.suggest(BRANIN, obs, np.random.default_rng(0))
    np.testing.assert_allclose(opt.last_params.lengthscales, 1.0, atol=1e-2)
    default = BayesianOptimizer(n_candidates=64, n_starts=1)
    default.suggest(BRANIN, obs, np.random.default_rng(0))
    assert not np.allclose(default.last_params.lengthscales, 1.0, atol=1e-2)


def test_reset_forgets_the_warm_start():
    obs = _random_obs(BRANIN, 8, np.random.default_rng(0), branin)
    opt = BayesianOptimizer(n_candidates=64, n_starts=1)
    assert opt.last_params is None
    opt.suggest(BRANIN, obs, np.random.default_rng(0))
    assert opt.last_params is not None
    opt.reset()
    assert opt.last_params is None
    # Without a warm start the next call is the same as a fresh optimizer's.
    fresh = BayesianOptimizer(n_candidates=64, n_starts=1)
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    assert opt.suggest(BRANIN, obs, rng_a) == fresh.suggest(BRANIN, obs, rng_b)


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


# ----- several objectives ---------------------------------------------------------------------

UNIT2 = Space([Param("x", "float", 0.0, 1.0), Param("y", "float", 0.0, 1.0)])


def _two_objectives(v):
    """A convex front along y = 0: f1 = x, f2 = (1 - x)^2 + y (both minimised)."""
    return [v["x"], (1.0 - v["x"]) ** 2 + v["y"]]


@pytest.mark.parametrize("pareto", ["logehvi", "qparego", "parego"])
def test_several_objectives_find_the_front_better_than_random(pareto):
    """20 guided points after 8 random ones: a larger hypervolume than the median of
    random search with the same 28 evaluations, and most guided points near the front."""
    from keras_hpx.pareto import hypervolume

    ref = np.array([1.1, 2.1])

    def hv(obs):
        return hypervolume(np.array([s for _, s in obs]), ref)

    rng = np.random.default_rng(0)
    random_hv = [hv(_random_obs(UNIT2, 28, rng, _two_objectives)) for _ in range(30)]
    rng = np.random.default_rng(1)
    obs = _random_obs(UNIT2, 8, rng, _two_objectives)
    opt = BayesianOptimizer(pareto=pareto, n_candidates=256)
    for _ in range(20):
        v = opt.suggest(UNIT2, obs, rng, excluded={UNIT2.key(o[0]) for o in obs})
        assert UNIT2.is_valid(v)
        obs.append((v, _two_objectives(v)))
    assert hv(obs) > np.percentile(random_hv, 90), (hv(obs), np.median(random_hv))
    guided_y = [v["y"] for v, _ in obs[8:]]
    assert np.median(guided_y) < 0.1


def test_several_objectives_warp_an_objective_only_when_its_scores_need_it():
    """A warp changes the hypervolume log EHVI measures, so objectives whose scores do not
    reject the identity are modelled unwarped (the same GP fits as `warp=False`); scores
    that span decades are still warped."""
    obs = _random_obs(UNIT2, 12, np.random.default_rng(3), _two_objectives)
    for column in np.array([s for _, s in obs]).T:  # no evidence against the identity
        z = (column - column.mean()) / column.std()
        np.testing.assert_allclose(warp_scores(column, only_if_needed=True), z)
        assert not np.allclose(warp_scores(column), z)  # the plain warp would bend them

    def fits(observations, **kwargs):
        optimizer = BayesianOptimizer(n_candidates=64, n_starts=1, **kwargs)
        optimizer.suggest(UNIT2, observations, np.random.default_rng(0))
        return [optimizer.warm_starts[f"objective_{j}"] for j in range(2)]

    def same(a, b):  # up to rounding (standardised twice against once)
        return np.allclose(a.lengthscales, b.lengthscales, rtol=1e-5) and np.isclose(
            a.noise_var, b.noise_var, rtol=1e-5
        )

    assert all(same(a, b) for a, b in zip(fits(obs), fits(obs, warp=False)))
    # One objective spanning six decades: that one is warped, the other is not.
    tail = [(v, [10.0 ** (6.0 * s[0]), s[1]]) for v, s in obs]
    warped, unwarped = fits(tail), fits(tail, warp=False)
    assert not same(warped[0], unwarped[0]) and same(warped[1], unwarped[1])


def test_several_objectives_keep_one_warm_start_per_objective_and_reset_them():
    obs = _random_obs(UNIT2, 8, np.random.default_rng(0), _two_objectives)
    opt = BayesianOptimizer(n_candidates=64, n_starts=1)
    opt.suggest(UNIT2, obs, np.random.default_rng(0))
    assert sorted(opt.warm_starts) == ["objective_0", "objective_1"]
    opt.reset()
    assert opt.warm_starts == {}


def test_several_objectives_with_failures_pending_and_exclusions():
    rng = np.random.default_rng(2)
    obs = _random_obs(UNIT2, 10, rng, _two_objectives)
    obs += [({"x": 0.5, "y": 0.5}, None), ({"x": 0.25, "y": 0.0}, [float("nan"), 1.0])]
    opt = BayesianOptimizer(n_candidates=128)
    first = opt.suggest(UNIT2, obs, np.random.default_rng(3))
    assert UNIT2.is_valid(first)
    # A pending proposal is fantasised: the next proposal, same randomness, differs.
    second = opt.suggest(
        UNIT2, obs, np.random.default_rng(3), pending=[first], excluded={UNIT2.key(first)}
    )
    assert UNIT2.is_valid(second) and second != first
    # Same inputs, same randomness: the same proposal.
    again = BayesianOptimizer(n_candidates=128)
    assert again.suggest(UNIT2, obs, np.random.default_rng(3)) == first


def test_several_objectives_on_an_exhausted_discrete_space_return_none():
    space = Space([Param("a", "choice", values=(1, 2, 3))])
    obs = [({"a": a}, [float(a), float(-a)]) for a in (1, 2, 3)]
    assert (
        BayesianOptimizer().suggest(
            space, obs, np.random.default_rng(0), excluded={space.key(o[0]) for o in obs}
        )
        is None
    )


def test_too_many_boxes_fall_back_to_parego(monkeypatch):
    """Fronts whose undominated region needs more than MAX_BOXES boxes are searched with
    ParEGO (cost independent of the front): the same proposal as `pareto="parego"`."""
    import keras_hpx.bayes.optimizer as optimizer_module

    rng = np.random.default_rng(5)
    space = Space([Param(f"x{i}", "float", 0.0, 1.0) for i in range(3)])
    # 12 points on a simplex in 4 objectives (all on the front): 13^3 boxes > 1000.
    obs = [(space.from_unit(rng.random(3)), list(rng.dirichlet(np.ones(4)))) for _ in range(12)]
    ehvi = BayesianOptimizer(n_candidates=64).suggest(space, obs, np.random.default_rng(1))
    monkeypatch.setattr(optimizer_module, "MAX_BOXES", 1000)
    fallback = BayesianOptimizer(n_candidates=64).suggest(space, obs, np.random.default_rng(1))
    parego = BayesianOptimizer(n_candidates=64, pareto="parego")
    assert fallback == parego.suggest(space, obs, np.random.default_rng(1))
    assert fallback != ehvi


def test_a_categoricals_one_hot_columns_share_one_length_scale():
    rng = np.random.default_rng(3)
    opt = BayesianOptimizer()
    opt.suggest(MIXED, _random_obs(MIXED, 20, rng, _mixed_score), rng)
    lengths = opt.warm_starts["score"].lengthscales
    (act_group,) = {c.group for c in MIXED.columns if c.kind == "onehot" and len(c.group) == 3}
    assert len(set(lengths[list(act_group)])) == 1
    assert len(set(lengths)) > 2  # numeric columns keep their own
