"""`ModelCost` puts the parameter count and latency in the logs, so a search can trade
accuracy against size: a real multi-objective Keras Tuner search on tiny data."""

import keras
import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import ModelCost, RandomOracle


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return x, y


def _build(hp):
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(hp.Choice("units", [2, 16, 64]), activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_params_and_latency_reach_the_history():
    x, y = _data()
    hp = kt.HyperParameters()
    hp.Fixed("units", 16)
    model = _build(hp)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCost(repeats=3)])
    assert history.history["params"] == [float(model.count_params())] * 2
    latency = history.history["latency_ms"]
    assert len(latency) == 2 and latency[0] == latency[1] and 0 < latency[0] < 1000


def test_size_as_an_objective_in_a_real_search(tmp_path):
    x, y = _data()
    hp = kt.HyperParameters()
    hp.Choice("units", [2, 16, 64])
    oracle = RandomOracle(
        objective=[kt.Objective("val_accuracy", "max"), kt.Objective("params", "min")],
        max_trials=3,
        hyperparameters=hp,
        seed=0,
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=_build, directory=str(tmp_path), project_name="p")
    tuner.search(
        x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[ModelCost(latency=False)]
    )
    sizes = {
        t.hyperparameters.values["units"]: oracle.objective_values(t)[1]
        for t in oracle.trials.values()
    }
    assert sizes == {
        2: 6 * 2 + 2 + 2 * 2 + 2,
        16: 6 * 16 + 16 + 16 * 2 + 2,
        64: 6 * 64 + 64 + 64 * 2 + 2,
    }
    front = {t.hyperparameters.values["units"] for t in oracle.pareto_front()}
    assert 2 in front  # the smallest model is never dominated on size


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        ModelCost(batch_size=0)
    with pytest.raises(TypeError, match=r"Received: latency='yes'"):
        ModelCost(latency="yes")


def test_hparams_lists_every_objective_as_a_metric_column(tmp_path):
    import glob

    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.plugins.hparams import plugin_data_pb2

    from keras_hpx import HParamsLogger

    x, y = _data()
    hp = kt.HyperParameters()
    hp.Choice("units", [2, 16])
    oracle = RandomOracle(
        objective=[kt.Objective("val_accuracy", "max"), kt.Objective("params", "min")],
        max_trials=2,
        hyperparameters=hp,
        seed=0,
    )
    tuner = kt.Tuner(oracle=oracle, hypermodel=_build, directory=str(tmp_path), project_name="p")
    logs = tmp_path / "logs"
    tuner.search(
        x,
        y,
        validation_split=0.25,
        epochs=1,
        verbose=0,
        callbacks=[ModelCost(latency=False), HParamsLogger(logs)],
    )
    tags = set()
    for path in glob.glob(str(logs / "**" / "events*"), recursive=True):
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content
                )
                if data.HasField("experiment"):
                    tags |= {m.name.tag for m in data.experiment.metric_infos}
    assert {"val_accuracy", "params"} <= tags
