"""`ModelCost`: the model's size and speed as metrics, so they can be objectives.

A phone or a latency budget makes the model's parameter count and inference time
objectives beside accuracy: `objective=[kt.Objective("val_accuracy", "max"),
kt.Objective("params", "min")]`. `fit` does not log them; this callback adds them to
every epoch's logs (so the `History` Keras Tuner reads has them at every epoch):

* `params`: `model.count_params()`;
* `latency_ms`: the median wall time of `model(x, training=False)` on one batch of
  `batch_size` zeros shaped like the model's input, over `repeats` calls after a
  warm-up, measured once per `fit` (at the first epoch's end), in milliseconds.
"""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any

import keras

from keras_hpx.checks import check_bool, check_int

__all__ = ["ModelCost"]


class ModelCost(keras.callbacks.Callback):
    """Adds `params` and `latency_ms` to the epoch logs.

    Example:

    ```python
    oracle = keras_hpx.BayesianOracle(
        objective=[kt.Objective("val_accuracy", "max"), kt.Objective("params", "min")],
        max_trials=30,
    )
    tuner.search(x, y, validation_split=0.2, epochs=10, callbacks=[keras_hpx.ModelCost()])
    ```

    Args:
        params: Log the parameter count as `params`. Defaults to `True`.
        latency: Log the inference latency as `latency_ms`. Defaults to `True`.
        batch_size: Rows in the timed batch. Defaults to `1`.
        repeats: Timed calls (their median is logged). Defaults to `20`.
    """

    def __init__(
        self, params: bool = True, latency: bool = True, batch_size: int = 1, repeats: int = 20
    ):
        super().__init__()
        self.params = check_bool("params", params)
        self.latency = check_bool("latency", latency)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.repeats = check_int("repeats", repeats, 1)
        self._latency_ms: float | None = None
        self._warned = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._latency_ms = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        if self.params:
            logs["params"] = float(self.model.count_params())
        if self.latency:
            if self._latency_ms is None:
                self._latency_ms = self._measure()
            if self._latency_ms is not None:
                logs["latency_ms"] = self._latency_ms

    def _example(self) -> Any:
        inputs = getattr(self.model, "inputs", None)
        if not inputs:
            return None
        batch = [
            keras.ops.zeros((self.batch_size, *tuple(t.shape)[1:]), dtype=t.dtype) for t in inputs
        ]
        return batch[0] if len(batch) == 1 else batch

    def _measure(self) -> float | None:
        x = self._example()
        if x is None:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "ModelCost: the model has no symbolic inputs (a subclassed model?), so "
                    "latency_ms cannot be measured; build it with keras.Input.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return None
        for _ in range(3):  # warm-up: tracing and compilation are not inference
            self.model(x, training=False)
        times = []
        for _ in range(self.repeats):
            t0 = time.perf_counter()
            out = self.model(x, training=False)
            keras.ops.convert_to_numpy(keras.tree.flatten(out)[0])  # wait for the result
            times.append(time.perf_counter() - t0)
        return 1000.0 * statistics.median(times)

    def get_config(self) -> dict:
        return {
            "params": self.params,
            "latency": self.latency,
            "batch_size": self.batch_size,
            "repeats": self.repeats,
        }
