"""Trial leases: a running trial whose worker has gone silent for too long is given up.

Pure bookkeeping (no Keras): when each running trial was last heard from
(created, reported, or a heartbeat), and which leases have run out. The oracle
(`HpxOracle`, argument `trial_timeout`) decides what to do with them: rerun
the trial on another worker, or fail it once it has lost its worker twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["LeaseBook", "LostLease"]


@dataclass(frozen=True)
class LostLease:
    """A running trial whose worker sent nothing for `silence` seconds.

    Attributes:
        trial_id: The trial.
        tuner_id: The worker that held it.
        silence: Seconds since the trial was last heard from.
        losses: How many times this trial has now lost its worker.
    """

    trial_id: str
    tuner_id: str
    silence: float
    losses: int

    def describe(self, timeout: float) -> str:
        return (
            f"worker {self.tuner_id!r} sent nothing for {self.silence:.0f}s "
            f"(trial_timeout={timeout:g}s); lease lost {self.losses} time(s)"
        )


class LeaseBook:
    """When each running trial was last heard from.

    Args:
        timeout: Seconds of silence after which a lease is lost.
        clock: The time source. Defaults to `time.monotonic`.
    """

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic):
        self.timeout = float(timeout)
        self.clock = clock
        self._heard: dict[str, float] = {}
        self.losses: Counter = Counter()

    def heard(self, trial_id: str) -> None:
        """The trial's worker is alive (a report, a heartbeat, the trial's start)."""
        self._heard[str(trial_id)] = self.clock()

    def forget(self, trial_id: str) -> None:
        """The trial ended: no lease to watch."""
        self._heard.pop(str(trial_id), None)

    def expired(self, running: Iterable[tuple[str, str]]) -> list[LostLease]:
        """The leases lost among `running` `(tuner_id, trial_id)` pairs (each counted once).

        A running trial never heard from (e.g. reloaded after a crash) starts its
        lease now.
        """
        now = self.clock()
        lost = []
        for tuner_id, trial_id in running:
            last = self._heard.setdefault(trial_id, now)
            if now - last >= self.timeout:
                self.losses[trial_id] += 1
                self._heard.pop(trial_id, None)
                lost.append(LostLease(trial_id, tuner_id, now - last, self.losses[trial_id]))
        return lost
