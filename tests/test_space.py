import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_hpx.space import INACTIVE_FILL, Param, Space, canonical_key
from keras_hpx.space_encoder import SpaceEncoder

# ----- strategies: random valid parameters and spaces ---------------------------------------


@st.composite
def float_params(draw, name):
    sampling = draw(st.sampled_from(["linear", "log", "reverse_log"]))
    lo = draw(st.floats(1e-4, 10.0)) if sampling != "linear" else draw(st.floats(-10.0, 10.0))
    hi = lo + draw(st.floats(1e-3, 100.0))
    step = None
    if draw(st.booleans()):
        step = (
            draw(st.floats(1.5, 10.0))
            if sampling != "linear"
            else (hi - lo) / draw(st.integers(1, 20))
        )
    return Param(name, "float", lo, hi, step, sampling, default=lo)


@st.composite
def int_params(draw, name):
    sampling = draw(st.sampled_from(["linear", "log", "reverse_log"]))
    lo = draw(st.integers(1, 50))
    hi = lo + draw(st.integers(0, 500))
    step = (
        draw(st.integers(1, 7))
        if sampling == "linear"
        else draw(st.one_of(st.none(), st.integers(2, 4)))
    )
    return Param(name, "int", lo, hi, step, sampling, default=lo)


@st.composite
def choice_params(draw, name):
    kind = draw(st.sampled_from(["str", "int", "float"]))
    n = draw(st.integers(1, 6))
    if kind == "str":
        values = tuple(f"v{i}" for i in range(n))
        ordered = False
    elif kind == "int":
        values = tuple(sorted(draw(st.sets(st.integers(-100, 100), min_size=n, max_size=n))))
        ordered = draw(st.booleans())
    else:
        values = tuple(sorted(draw(st.sets(st.floats(-10, 10), min_size=n, max_size=n))))
        ordered = True
    return Param(name, "choice", values=values, ordered=ordered, default=values[0])


@st.composite
def spaces(draw):
    n = draw(st.integers(1, 6))
    params = []
    for i in range(n):
        name = f"p{i}"
        kind = draw(st.sampled_from(["float", "int", "choice", "boolean", "fixed"]))
        if kind == "float":
            p = draw(float_params(name))
        elif kind == "int":
            p = draw(int_params(name))
        elif kind == "choice":
            p = draw(choice_params(name))
        elif kind == "boolean":
            p = Param(name, "boolean", values=(False, True), default=False)
        else:
            p = Param(name, "fixed", values=(3,), default=3)
        # condition on an earlier discrete parent, sometimes
        parents = [q for q in params if q.kind in ("choice", "boolean")]
        if parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            allowed = tuple(draw(st.sets(st.sampled_from(parent.values), min_size=1)))
            p = Param(**{**p.__dict__, "conditions": ((parent.name, allowed),)})
        params.append(p)
    return Space(params)


# ----- properties --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_decoded_values_are_always_valid(space, seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        values = space.from_unit(rng.random(len(space)))
        assert space.is_valid(values), values
        x = rng.random(space.dim) * 1.4 - 0.2  # also outside the cube
        assert space.is_valid(space.decode(x)), x
        assert space.is_valid(space.decode(space.snap(x)))


@settings(max_examples=150, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_decode_encode_round_trip(space, seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        values = space.from_unit(rng.random(len(space)))
        x, mask = space.encode(values)
        back = space.decode(x)
        assert back.keys() == values.keys()
        for k, v in values.items():
            p = next(p for p in space.params if p.name == k)
            if p.kind == "float" and p.step is None:
                assert math.isclose(back[k], v, rel_tol=1e-9, abs_tol=1e-9)
            else:
                assert back[k] == v and type(back[k]) is type(v), (k, v, back[k])
        # the unit encoding round-trips too
        u, _ = space.to_unit(values)
        again = space.from_unit(u)
        for k, v in values.items():
            p = next(p for p in space.params if p.name == k)
            if p.kind == "float" and p.step is None:
                assert math.isclose(again[k], v, rel_tol=1e-9, abs_tol=1e-9)
            else:
                assert again[k] == v


@settings(max_examples=100, deadline=None)
@given(spaces())
def test_inactive_parameters_are_masked(space):
    values = space.from_unit(np.full(len(space), 0.3))
    x, mask = space.encode(values)
    for i, p in enumerate(space.params):
        cols = [j for j, c in enumerate(space.columns) if c.param == i]
        assert all(mask[j] == (p.name in values) for j in cols)


@settings(max_examples=60, deadline=None)
@given(spaces())
def test_grid_size_matches_enumeration_and_grid_is_valid(space):
    if not space.is_discrete or space.grid_size() > 3000:
        return
    grid = list(space.grid())
    assert len(grid) == space.grid_size()
    assert len({canonical_key(v) for v in grid}) == len(grid)
    assert all(space.is_valid(v) for v in grid)


@settings(max_examples=100, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_one_fill_convention_for_inactive_columns(space, seed):
    rng = np.random.default_rng(seed)
    enc = SpaceEncoder(space)
    for _ in range(3):
        values = space.from_unit(rng.random(len(space)))
        x, mask = space.encode(values)
        assert np.all(x[~mask] == INACTIVE_FILL)
        assert np.all((x[mask] >= 0.0) & (x[mask] <= 1.0))
        np.testing.assert_array_equal(enc.encode(values), x)


@settings(max_examples=80, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_encoder_moves_stay_on_valid_canonical_points(space, seed):
    enc = SpaceEncoder(space)
    if enc.dim == 0:
        return
    rng = np.random.default_rng(seed)
    X = enc.from_unit(rng.random((8, enc.dim)))
    moved = enc.perturb(X, 8, rng, 0.1)
    assert X.shape == moved.shape == (8, enc.dim)
    for x in np.vstack([X, moved]):
        values = enc.decode(x)
        assert space.is_valid(values), values
        np.testing.assert_allclose(enc.canonical(x)[0], enc.canonical(enc.canonical(x))[0])
        assert np.all(enc.active(x) == space.encode(values)[1])
        key = space.key(values)
        for y in enc.neighbours(x, enc.active(x)):
            assert space.is_valid(enc.decode(y))
            assert space.key(enc.decode(y)) != key


def test_encoder_masks_inactive_parameters_with_the_fill():
    space = Space(
        [
            Param("lr", "float", 1e-4, 1e-1, sampling="log"),
            Param("opt", "choice", values=("adam", "sgd")),
            Param("momentum", "float", 0.0, 0.99, conditions=(("opt", ("sgd",)),)),
        ]
    )
    enc = SpaceEncoder(space)
    adam = {"lr": 0.01, "opt": "adam"}
    x_adam = enc.encode(adam)
    # The inactive momentum column holds the fill value, not a default.
    momentum_col = [
        j for j, c in enumerate(space.columns) if space.params[c.param].name == "momentum"
    ]
    assert np.all(x_adam[momentum_col] == INACTIVE_FILL)
    # A momentum value left in an inactive configuration does not change its encoding.
    np.testing.assert_array_equal(enc.encode({**adam, "momentum": 0.5}), x_adam)
    # Switching the parent on re-activates the child at a valid value.
    sgd = enc.neighbours(x_adam, enc.active(x_adam))
    assert len(sgd) == 1 and enc.decode(sgd[0])["opt"] == "sgd"
    assert 0.0 <= sgd[0][momentum_col[0]] <= 1.0


# ----- hand-written cases ------------------------------------------------------------------


def test_unordered_choices_are_one_hot_not_ordered():
    space = Space([Param("act", "choice", values=("relu", "tanh", "gelu"), default="relu")])
    x_relu, _ = space.encode({"act": "relu"})
    x_tanh, _ = space.encode({"act": "tanh"})
    x_gelu, _ = space.encode({"act": "gelu"})
    d = lambda a, b: np.linalg.norm(a - b)  # noqa: E731
    assert d(x_relu, x_tanh) == d(x_relu, x_gelu) == d(x_tanh, x_gelu)
    ordered = Space([Param("n", "choice", values=(1, 2, 4), ordered=True, default=1)])
    assert ordered.dim == 1


def test_steps_logs_and_reverse_logs():
    lin = Param("d", "float", 0.0, 0.5, 0.1)
    assert lin.grid_values() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    log = Param("b", "int", 2, 32, 2, "log")
    assert log.grid_values() == [2, 4, 8, 16, 32]
    rev = Param("r", "float", 1.0, 100.0, sampling="reverse_log")
    # reverse log puts more mass near max_value
    draws = [rev.from_unit(u) for u in np.linspace(0, 0.999, 1000)]
    assert np.median(draws) > 50.5
    logf = Param("lr", "float", 1e-4, 1e-1, sampling="log")
    assert math.isclose(logf.from_unit(0.5), math.sqrt(1e-4 * 1e-1), rel_tol=1e-9)


def test_booleans_are_not_ints():
    p = Param("flag", "boolean", values=(False, True), default=False)
    assert p.is_valid(True) and not p.is_valid(1)


def test_conditional_grid_counts_only_parent_branch():
    space = Space(
        [
            Param("m", "choice", values=("a", "b"), default="a"),
            Param("x", "int", 1, 5, 1, conditions=(("m", ("a",)),), default=1),
            Param("y", "boolean", values=(False, True), conditions=(("m", ("b",)),)),
        ]
    )
    assert space.grid_size() == 5 + 2


def test_children_sorted_after_parents():
    child = Param("c", "int", 1, 2, 1, conditions=(("p", (True,)),), default=1)
    parent = Param("p", "boolean", values=(False, True), default=False)
    assert Space([child, parent]).names == ["p", "c"]


def test_float_without_step_needs_points():
    p = Param("lr", "float", 1e-3, 1.0, sampling="log")
    with pytest.raises(ValueError, match="'lr' has no `step`"):
        p.grid_values()
    assert p.grid_values(4) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])


def test_reads_keras_tuner_spaces():
    import keras_tuner as kt

    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Int("units", 32, 128, step=32)
    hp.Choice("act", ["relu", "tanh"])
    with hp.conditional_scope("act", ["tanh"]):
        hp.Boolean("scale")
    space = Space.from_keras_tuner(hp)
    assert space.names == ["lr", "units", "act", "scale"]
    assert space.params[1].grid_values() == [32, 64, 96, 128]
    assert space.params[3].conditions == (("act", ("tanh",)),)


def test_space_module_never_imports_keras():
    code = (
        "import sys\n"
        "for m in ('keras', 'keras_tuner', 'tensorflow'):\n"
        "    sys.modules[m] = None\n"
        "import keras_hpx, keras_hpx.space, keras_hpx.space_encoder\n"
        "import keras_hpx.samplers, keras_hpx.report\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_encoded_grid_is_listed_once_and_matches_grid_key_and_encode():
    space = Space(
        [
            Param("opt", "choice", values=("adam", "sgd", "rmsprop")),
            Param("units", "int", 16, 64, step=16),
            Param("momentum", "choice", values=(0.0, 0.9), conditions=(("opt", ("sgd",)),)),
        ]
    )
    configs, keys, rows = space.encoded_grid()
    assert configs == list(space.grid())
    assert keys == [space.key(c) for c in configs]
    np.testing.assert_array_equal(rows, np.array([space.encode(c)[0] for c in configs]))
    assert space.encoded_grid()[2] is rows  # cached on the space
    assert not rows.flags.writeable


def test_grid_size_of_many_independent_conditional_pairs_is_counted_not_enumerated():
    # "use layer i? then its width": 2 ** 40 branches if every parent were branched on.
    params = []
    for i in range(40):
        params.append(Param(f"use{i}", "boolean", values=(False, True), default=False))
        params.append(
            Param(f"units{i}", "int", 1, 4, default=1, conditions=((f"use{i}", (True,)),))
        )
    space = Space(params)
    assert space.grid_size() == 5**40  # each pair: off, or on with 4 widths
    small = Space(params[:8])
    assert small.grid_size() == len(list(small.grid())) == 5**4


def test_grid_size_with_nested_scopes_and_a_name_shared_by_two_branches():
    model = Param("model", "choice", values=("a", "b", "c"), default="a")
    deep = Param("deep", "boolean", values=(False, True), default=False)
    params = [
        model,
        Param("units", "int", 1, 3, default=1, conditions=(("model", ("a",)),)),
        Param("units", "int", 1, 5, default=1, conditions=(("model", ("b",)),)),
        Param(**{**deep.__dict__, "conditions": (("model", ("a", "b")),)}),
        Param("depth", "int", 2, 4, default=2, conditions=(("deep", (True,)),)),
        Param("other", "choice", values=("x", "y"), default="x"),
    ]
    space = Space(params)
    grid = list(space.grid())
    assert space.grid_size() == len(grid) == (3 * (1 + 3) + 5 * (1 + 3) + 1) * 2


def test_a_wide_int_is_counted_and_walked_without_listing_its_values():
    import tracemalloc

    space = Space(
        [Param("seed", "int", 0, 10**9, default=0), Param("flag", "boolean", values=(False, True))]
    )
    tracemalloc.start()
    try:
        assert space.grid_size() == 2 * (10**9 + 1)
        first = [v for _, v in zip(range(3), space.grid())]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first == [
        {"seed": 0, "flag": False},
        {"seed": 0, "flag": True},
        {"seed": 1, "flag": False},
    ]
    assert peak < 1_000_000  # a list of 10**9 values would take gigabytes
