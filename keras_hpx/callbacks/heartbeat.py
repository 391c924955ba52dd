"""Heartbeats: tell the oracle a trial's worker is alive while a long epoch runs.

An oracle with `trial_timeout` takes a trial whose worker has sent nothing
for that long as lost. Keras Tuner reports only when a trial ends (and our
callbacks at each epoch end), so a long epoch needs heartbeats. A heartbeat is
`oracle.get_trial(trial_id)`: a call Keras Tuner's gRPC client forwards to the
chief, which a keras-hpx oracle counts as a sign of life (other oracles just
answer it).

`Heartbeat` is a context manager running a daemon thread; `TrialHeartbeat` is a
callback that runs one for the length of each `fit` inside a tuner; `beat_for` /
`stop_beat` are what `WeakTrialStopping`, `HParamsLogger` and `TrialLogger` call (one
heartbeat per oracle in a process, however many of them a `fit` has). Beats are sent
only where they can matter: to a keras-hpx oracle with a `trial_timeout`, or to a
remote oracle (Keras Tuner's gRPC client, whose chief may have one).
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import keras

from keras_hpx.callbacks._context import find_tuner_context
from keras_hpx.checks import check_number

__all__ = [
    "DEFAULT_INTERVAL",
    "Heartbeat",
    "TrialHeartbeat",
    "beat_for",
    "needs_beats",
    "stop_beat",
]

DEFAULT_INTERVAL = 10.0
"""Seconds between heartbeats: set `trial_timeout` well above it (a minute or more)."""


class Heartbeat:
    """Calls `oracle.get_trial(trial_id)` every `interval` seconds until stopped.

    Args:
        oracle: The tuner's oracle (or Keras Tuner's gRPC client of it).
        trial_id: The running trial.
        interval: Seconds between beats. Defaults to `DEFAULT_INTERVAL`.
    """

    def __init__(self, oracle: Any, trial_id: str, interval: float = DEFAULT_INTERVAL):
        self.oracle = oracle
        self.trial_id = str(trial_id)
        self.interval = check_number("interval", interval, positive=True, what="number of seconds")
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"keras-hpx-heartbeat-{self.trial_id}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5.0)
            self._thread = None

    def _run(self) -> None:
        warned = False
        first = True  # a beat at once: the trial may have been built for a while
        while first or not self._stop.wait(self.interval):
            first = False
            try:
                self.oracle.get_trial(self.trial_id)
                self.beats += 1
            except Exception as err:  # a beat is best effort; training goes on
                if not warned:
                    warnings.warn(
                        f"keras-hpx: heartbeat for trial {self.trial_id} failed: {err!r}",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    warned = True

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


_BEATS: dict[int, Heartbeat] = {}
_BEATS_LOCK = threading.Lock()


def needs_beats(oracle: Any) -> bool:
    """Whether heartbeats can matter to `oracle`: a keras-hpx oracle with a `trial_timeout`,
    or a remote one (not a `keras_tuner.Oracle` in this process)."""
    import keras_tuner  # here: importing this module must stay light

    from keras_hpx.oracles.base import HpxOracle

    if isinstance(oracle, HpxOracle):
        return oracle.trial_timeout is not None
    return not isinstance(oracle, keras_tuner.Oracle)


def beat_for(oracle: Any, trial_id: str, interval: float | None = None) -> None:
    """Keeps one heartbeat running for `trial_id` towards `oracle` (replacing one for
    another trial), if `needs_beats(oracle)`; every `interval` seconds (`None`: the
    module's `DEFAULT_INTERVAL`, read at each call)."""
    interval = DEFAULT_INTERVAL if interval is None else interval
    if not needs_beats(oracle):
        return
    with _BEATS_LOCK:
        beat = _BEATS.get(id(oracle))
        if beat is not None and beat.trial_id == str(trial_id) and beat._thread is not None:
            return
        if beat is not None:
            beat.stop()
        _BEATS[id(oracle)] = Heartbeat(oracle, trial_id, interval).start()


def stop_beat(oracle: Any) -> None:
    """Stops the heartbeat towards `oracle`, if one runs."""
    with _BEATS_LOCK:
        beat = _BEATS.pop(id(oracle), None)
    if beat is not None:
        beat.stop()


class TrialHeartbeat(keras.callbacks.Callback):
    """Sends heartbeats to the tuner's oracle while `fit` runs (inside a tuner only).

    Add it when trials have long epochs and the oracle has a `trial_timeout`;
    `WeakTrialStopping`, `HParamsLogger` and `TrialLogger` already send them.

    Args:
        interval: Seconds between heartbeats. Defaults to `DEFAULT_INTERVAL`.
    """

    def __init__(self, interval: float = DEFAULT_INTERVAL):
        super().__init__()
        self.interval = check_number("interval", interval, positive=True, what="number of seconds")
        self._beat: Heartbeat | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.on_train_end()  # a fit that raised never called on_train_end
        ctx = find_tuner_context()
        if ctx is not None:
            self._beat = Heartbeat(ctx.oracle, ctx.trial_id, self.interval).start()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._beat is not None:
            self._beat.stop()
            self._beat = None

    def __deepcopy__(self, memo: dict) -> TrialHeartbeat:
        return TrialHeartbeat(self.interval)
