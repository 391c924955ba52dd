"""`keras_hpx.direction`: the one rule for whether a metric is minimised or maximised."""

from __future__ import annotations

import keras
import keras_tuner as kt
import pytest

from keras_hpx.direction import metric_direction, resolve_direction


@pytest.mark.parametrize(
    "name, direction",
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("val_binary_crossentropy", "min"),
        ("mean_absolute_error", "min"),
        ("val_mse", "min"),
        ("accuracy", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("val_auc", "max"),
        ("f1_score", "max"),
        ("val_wobble", None),
        ("loss_scale", None),  # "loss" only as the whole name or a suffix
        ("", None),
    ],
)
def test_the_name_rule(name, direction):
    assert metric_direction(name) == direction


def _multi_objective():
    # Keras Tuner turns a list of objectives into its MultiObjective
    oracle = kt.oracles.RandomSearchOracle(
        objective=[kt.Objective("val_loss", "max"), kt.Objective("val_wobble", "min")],
        max_trials=1,
    )
    return oracle.objective


def test_an_explicit_mode_wins_then_the_objective_then_the_model_then_the_name():
    auc = keras.metrics.AUC(name="wobble")  # Keras' AUC carries _direction="up"
    perverse = kt.Objective("val_wobble", "min")
    assert resolve_direction("val_wobble", mode="max", objective=perverse) == "max"
    assert resolve_direction("val_wobble", objective=perverse, model_metrics=[auc]) == "min"
    assert resolve_direction("val_wobble", model_metrics=[auc]) == "max"
    assert resolve_direction("val_loss", objective=kt.Objective("val_acc", "min")) == "min"
    assert resolve_direction("val_wobble", objective=_multi_objective()) == "min"
    assert resolve_direction("val_loss", objective=_multi_objective()) == "max"
    # a model metric without a direction, another metric's objective: the name decides
    plain = keras.metrics.Mean(name="wobble")
    assert resolve_direction("val_wobble", model_metrics=[plain]) is None
    assert resolve_direction("val_accuracy", objective=perverse, model_metrics=[plain]) == "max"


def test_a_plain_list_of_objectives():
    objectives = [kt.Objective("val_wobble", "max"), kt.Objective("val_loss", "min")]
    assert resolve_direction("val_wobble", objective=objectives) == "max"
