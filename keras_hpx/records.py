"""Typed records and constants shared by the oracles, the callbacks and `export` (pure Python).

One place for what crosses a boundary between parts of keras-hpx:

* `Status`: Keras Tuner's trial and `populate_space` status strings.
* `EarlyStop`: a weak-trial stop (the epoch and why). It travels between a
  callback and the oracle in exactly one way, as the metric
  `STOPPED_AT_EPOCH` reported with `oracle.update_trial(..., step=epoch)`:
  the only channel Keras Tuner forwards unchanged over gRPC. In one process
  the callback also hands the full record (with its reason) to a keras-hpx
  oracle (`HpxOracle.record_early_stop`).
* `SearchEnd`: why a search stopped, with a kind that says whether it is final
  or re-judged after a resume.

`stopped_early` is *not* one of these: it is an output column of `trials.csv`
and TensorBoard's HParams (1 when a run trained fewer epochs than planned, for
any reason), never read back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "STOPPED_AT_EPOCH",
    "STOPPED_EARLY",
    "EarlyStop",
    "EndKind",
    "SearchEnd",
    "Status",
]

STOPPED_AT_EPOCH = "stopped_at_epoch"
"""Trial metric: the 0-based epoch at which a weak-trial stop happened (the wire form)."""

STOPPED_EARLY = "stopped_early"
"""Output column (CSV, HParams): 1 when a run trained fewer epochs than planned."""


class Status:
    """Keras Tuner's status strings (`keras_tuner.engine.trial.TrialStatus`)."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    FAILED = "FAILED"

    FINISHED = frozenset({COMPLETED, FAILED, STOPPED})
    """Statuses of a trial that has ended (`STOPPED` as a trial status: stopped early)."""


@dataclass(frozen=True)
class EarlyStop:
    """A training run stopped early by a rule.

    Attributes:
        step: The 0-based epoch at which it stopped (Keras' `epoch`).
        reason: Why, for humans. Defaults to `""` (unknown, e.g. read over gRPC).
        rule: The rule's name (`"median"`, ...). Defaults to `""`.
    """

    step: int
    reason: str = ""
    rule: str = ""

    def describe(self) -> str:
        """`"at epoch 3 by median: val_loss 0.9 worse than ..."` (1-based epoch)."""
        text = f"at epoch {self.step + 1}"
        if self.rule:
            text += f" by {self.rule}"
        return text + (f": {self.reason}" if self.reason else "")

    def to_metrics(self) -> dict[str, float]:
        """The wire form: metrics to report with `update_trial(..., step=self.step)`."""
        return {STOPPED_AT_EPOCH: float(self.step)}

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> EarlyStop | None:
        """The record in a trial's metrics (see `to_metrics`), or `None` if there is none."""
        value: Any = metrics.get(STOPPED_AT_EPOCH)
        try:
            step = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(step):
            return None
        return cls(step=int(step))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (oracle state)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EarlyStop:
        """Inverse of `to_dict`."""
        return cls(
            step=int(data["step"]),
            reason=str(data.get("reason", "")),
            rule=str(data.get("rule", "")),
        )


class EndKind(str, enum.Enum):
    """Why a search ended."""

    EXHAUSTED = "exhausted"
    """Nothing new to propose; re-judged after a resume or when the space grows."""
    RULE = "rule"
    """A search-level stopping rule (`max_time`, `max_epochs`, `target`, `patience`, or
    one of `stop_rules`) was met; re-judged after a resume with the resumed search's
    rules (the same settings end it again at once, a larger budget continues it)."""
    EMPTY_SPACE = "empty_space"
    """The model declared no hyperparameters; final."""
    PROPOSAL_FAILED = "proposal_failed"
    """The oracle could not propose and nothing was running; final."""


@dataclass(frozen=True)
class SearchEnd:
    """Why a search stopped.

    Attributes:
        kind: An `EndKind`.
        reason: A sentence for humans.
    """

    kind: EndKind
    reason: str

    @property
    def final(self) -> bool:
        """Whether the end stands after a resume (`EXHAUSTED` and `RULE` are re-judged)."""
        return self.kind not in (EndKind.EXHAUSTED, EndKind.RULE)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Any) -> SearchEnd | None:
        """From `to_dict` output; also reads 0.1.0's plain reason string."""
        if data is None:
            return None
        if isinstance(data, str):  # keras-hpx 0.1.0 saved the reason only
            kind = EndKind.EXHAUSTED if data.startswith("search space") else EndKind.RULE
            return cls(kind, data)
        return cls(EndKind(data["kind"]), str(data["reason"]))
