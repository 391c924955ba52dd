"""Search-level stopping rules: when should a whole search end? (pure Python)

The search-level counterpart of `keras_hpx.stopping.rules`: each rule is a
small object with one decision, `decide(progress) -> Decision`, over a
`SearchProgress` record (time spent, scores of the completed trials in the
order they ended, the objective's direction). The oracles build them from
their `max_time`, `target` and `patience` arguments and stop at the first rule
that says so; a user can pass their own rules too (`stop_rules=[...]`).

Like the trial rules, each `decide()` is a ladder of guard clauses and then one
comparison, and the `Decision` carries a sentence saying why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keras_hpx.checks import check_int, check_number
from keras_hpx.stopping.rules import Decision

__all__ = [
    "MaxTime",
    "Patience",
    "SearchProgress",
    "SearchRule",
    "Target",
    "first_stop",
    "search_rules",
]


@dataclass(frozen=True)
class SearchProgress:
    """What a search-level rule sees.

    Attributes:
        elapsed: Seconds of search so far (summed over resumes).
        scores: Objective values of the completed trials in the order they
            ended; non-finite ones count as no improvement.
        direction: `"min"` or `"max"`.
    """

    elapsed: float
    scores: Sequence[float]
    direction: str = "min"

    def better(self, a: float, b: float) -> bool:
        """Whether score `a` is strictly better than `b`."""
        return a > b if self.direction == "max" else a < b

    def best_and_since(self) -> tuple[float | None, int]:
        """`(best finite score or None, completed trials since it was reached)`."""
        best, since = None, 0
        for s in self.scores:
            if s is None or not math.isfinite(s):
                since += 1
            elif best is None or self.better(s, best):
                best, since = s, 0
            else:
                since += 1
        return best, since


class SearchRule:
    """Base class: `decide(progress)` returns a `Decision` (`stop` True to end the search)."""

    name = "search_rule"

    def decide(self, progress: SearchProgress) -> Decision:
        raise NotImplementedError

    def _go(self, reason: str) -> Decision:
        return Decision(False, reason, step=0)


class MaxTime(SearchRule):
    """Ends the search once `seconds` of search have passed (no new trial starts).

    Args:
        seconds: The budget, summed over resumes.
    """

    name = "max_time"

    def __init__(self, seconds: float):
        self.seconds = check_number("max_time", seconds, positive=True, what="number of seconds")

    def decide(self, progress: SearchProgress) -> Decision:
        if progress.elapsed < self.seconds:
            return self._go(f"{progress.elapsed:.1f}s of {self.seconds:g}s used")
        return Decision(
            True,
            f"max_time={self.seconds:g}s reached after {progress.elapsed:.1f}s",
            step=0,
            value=progress.elapsed,
            reference=self.seconds,
        )

    def __repr__(self) -> str:
        return f"MaxTime({self.seconds:g})"


class Target(SearchRule):
    """Ends the search once a completed trial reaches `value` (or better).

    Args:
        value: The objective value to reach.
    """

    name = "target"

    def __init__(self, value: float):
        self.value = check_number("target", value)

    def decide(self, progress: SearchProgress) -> Decision:
        best, _ = progress.best_and_since()
        if best is None:
            return self._go("no completed trial yet")
        if progress.better(self.value, best):
            return self._go(f"best {best:.6g} has not reached target {self.value:g}")
        return Decision(
            True,
            f"target={self.value:g} reached (best {best:.6g})",
            step=0,
            value=best,
            reference=self.value,
            n_runs=len(progress.scores),
        )

    def __repr__(self) -> str:
        return f"Target({self.value:g})"


class Patience(SearchRule):
    """Ends the search after `trials` completed trials in a row without improvement.

    Args:
        trials: Completed trials without a new best that end the search.
    """

    name = "patience"

    def __init__(self, trials: int):
        self.trials = check_int("patience", trials, 1)

    def decide(self, progress: SearchProgress) -> Decision:
        best, since = progress.best_and_since()
        if best is None:
            return self._go("no completed trial yet")
        if since < self.trials:
            return self._go(f"{since} of {self.trials} trials without improvement")
        return Decision(
            True,
            f"patience={self.trials}: {since} completed trials without improvement",
            step=0,
            value=best,
            n_runs=len(progress.scores),
        )

    def __repr__(self) -> str:
        return f"Patience({self.trials})"


def search_rules(
    max_time: float | None = None, target: float | None = None, patience: int | None = None
) -> list[SearchRule]:
    """The rules for an oracle's `max_time`, `target` and `patience` arguments (validated).

    Args:
        max_time: Seconds. Defaults to `None` (no rule).
        target: Objective value. Defaults to `None`.
        patience: Completed trials. Defaults to `None`.
    """
    rules: list[SearchRule] = []
    if max_time is not None:
        rules.append(MaxTime(max_time))
    if target is not None:
        rules.append(Target(target))
    if patience is not None:
        rules.append(Patience(patience))
    return rules


def first_stop(rules: Iterable[SearchRule], progress: SearchProgress) -> Decision | None:
    """The first rule's `Decision` that stops the search, or `None`."""
    for rule in rules:
        decision = rule.decide(progress)
        if decision.stop:
            return decision
    return None
