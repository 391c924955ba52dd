"""Issue 6: every public argument is validated with an error naming it, the value and what is
allowed, before any state exists. (Each module's own tests check more cases.)"""

import os
import warnings

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import (
    BayesianOracle,
    GridOracle,
    HParamsLogger,
    RandomOracle,
    TrialLogger,
    WeakTrialStopping,
)

BAD = [
    (
        lambda: RandomOracle(objective="val_loss", sampler="latin"),
        ValueError,
        r"\['sobol', 'uniform'\].*Received: sampler='latin'$",
    ),
    (
        lambda: BayesianOracle(objective="val_loss", acquisition="foo"),
        ValueError,
        r"logei.*Received: acquisition='foo'$",
    ),
    (
        lambda: BayesianOracle(objective="val_loss", kernel="foo"),
        ValueError,
        r"matern52.*Received: kernel='foo'$",
    ),
    (
        lambda: BayesianOracle(objective="val_loss", initial_sampler="x"),
        ValueError,
        r"initial_sampler='x'",
    ),
    (lambda: BayesianOracle(objective="val_loss", xi=-1.0), ValueError, r"xi=-1"),
    (
        lambda: BayesianOracle(objective="val_loss", num_initial_points=0),
        ValueError,
        r"num_initial_points=0",
    ),
    (lambda: WeakTrialStopping(rule="mean"), ValueError, r"median.*Received: rule='mean'$"),
    (lambda: WeakTrialStopping(mode="up"), ValueError, r"auto.*Received: mode='up'"),
    (lambda: WeakTrialStopping(monitor=""), ValueError, r"monitor=''"),
    (
        lambda: GridOracle(objective="val_loss", max_trials=-5),
        ValueError,
        r"`max_trials`: expected an integer >= 1 or None\. Received: max_trials=-5",
    ),
    (lambda: GridOracle(objective="val_loss", float_points=0), ValueError, r"float_points=0"),
    (lambda: GridOracle(objective="val_loss", shuffle="yes"), TypeError, r"shuffle='yes'"),
    (lambda: RandomOracle(objective="val_loss", max_time=0), ValueError, r"max_time=0"),
    (lambda: RandomOracle(objective="val_loss", target=float("inf")), ValueError, r"target=inf"),
    (lambda: RandomOracle(objective="val_loss", patience=-1), ValueError, r"patience=-1"),
    (lambda: RandomOracle(objective="val_loss", seed="abc"), TypeError, r"seed='abc'"),
    (
        lambda: BayesianOracle(objective="val_loss", beta=2.0, acquisition="ei"),
        ValueError,
        r"`beta`.*acquisition='ucb'.*Received: beta=2\.0",
    ),
    (lambda: BayesianOracle(objective="val_loss", alpha=-1.0), ValueError, r"alpha=-1\.0"),
    # Keras Tuner accepts these objectives and fails at the first report or score.
    (
        lambda: RandomOracle(objective=kt.Objective("val_acc", "maximize")),
        ValueError,
        r"direction=\"min\" or \"max\".*Received: objective=Objective\(name='val_acc', "
        r"direction='maximize'\)$",
    ),
    (lambda: GridOracle(objective=[]), ValueError, r"non-empty list.*Received: objective=\[\]$"),
    (
        lambda: BayesianOracle(objective=["val_loss", "val_loss"]),
        ValueError,
        r"distinct names.*Received: objective=\['val_loss', 'val_loss'\]$",
    ),
    (
        lambda: RandomOracle(objective="my_metric"),
        ValueError,
        r"Could not infer.*Received: objective='my_metric'$",
    ),
    (lambda: RandomOracle(objective=3), TypeError, r"Received: objective=3$"),
    (lambda: RandomOracle(objective=("loss",)), TypeError, r"Received: objective=\('loss',\)$"),
    (
        lambda: RandomOracle(objective=kt.Objective("score", None)),
        ValueError,
        r"Received: objective=Objective\(name='score', direction=None\)$",
    ),
]


@pytest.mark.parametrize("make, error, pattern", BAD)
def test_bad_argument_gets_a_clear_error(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_valid_objectives_are_still_accepted():
    for objective in (
        None,
        "val_loss",
        kt.Objective("score", "max"),
        ["val_loss", kt.Objective("score", "max")],
    ):
        RandomOracle(objective=objective)


def test_shuffling_a_grid_too_big_to_list_is_refused_when_the_space_is_known():
    hp = kt.HyperParameters()
    for i in range(8):
        hp.Int(f"d{i}", 0, 9)  # 10**8 combinations
    pattern = r"at most 5000000 combinations; this one has 100000000.*Received: shuffle=True$"
    with pytest.raises(ValueError, match=pattern):
        GridOracle(objective="val_loss", hyperparameters=hp, shuffle=True)
    GridOracle(objective="val_loss", hyperparameters=hp)  # walked lazily: fine
    # Declared later (as a tuner does before the first trial): refused there.
    oracle = GridOracle(objective="val_loss", shuffle=True)
    with pytest.raises(ValueError, match=pattern):
        oracle.update_space(hp)
    assert not oracle.hyperparameters.space  # nothing was taken in


def test_float_grid_without_points_names_the_float():
    hp = kt.HyperParameters()
    hp.Float("dropout", 0.0, 0.5)
    with pytest.raises(ValueError, match=r"'dropout'.*float_points"):
        GridOracle(objective="val_loss", hyperparameters=hp)


@pytest.mark.parametrize("cls", [HParamsLogger, TrialLogger])
def test_log_dir_that_is_a_file(tmp_path, cls):
    path = tmp_path / "a_file"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"is a file\. Received: log_dir="):
        cls(str(path))


def test_missing_monitored_metric_warns_once_with_the_metrics_that_exist():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 2), dtype="float32")
    stopper = WeakTrialStopping(monitor="val_accuracy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[stopper])
    mine = [w for w in caught if "val_accuracy" in str(w.message)]
    assert len(mine) == 1
    assert "loss" in str(mine[0].message)
    assert os.environ.get("KERAS_BACKEND", "tensorflow")  # training went on to the end
