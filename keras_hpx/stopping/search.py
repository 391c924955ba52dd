"""Search-level stopping rules: when should a whole search end? (pure Python)

The search-level counterpart of `keras_hpx.stopping.rules`: each rule is a
small object with one decision, `decide(progress) -> Decision`, over a
`SearchProgress` record (time spent, epochs trained, scores of the completed
trials in the order they ended, the objective's direction). The oracles build
them from their `max_time`, `max_epochs`, `target` and `patience` arguments and
stop at the first rule that says so; a user can pass their own rules too
(`stop_rules=[...]`).

How the epochs of a trial are counted (`count_epochs`, the rule behind
`max_epochs` and `HpxOracle.epochs_trained`): from the steps the trial
reported, each with the number of runs (executions) that reported it.

Like the trial rules, each `decide()` is a ladder of guard clauses and then one
comparison, and the `Decision` carries a sentence saying why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from keras_hpx.checks import check_int, check_number
from keras_hpx.stopping.rules import Decision

__all__ = [
    "EpochCount",
    "MaxEpochs",
    "MaxTime",
    "Patience",
    "SearchProgress",
    "SearchRule",
    "Target",
    "count_epochs",
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
        epochs: Epochs trained so far over all trials, running ones included
            (summed over executions and resumes; see `count_epochs`).
            Defaults to `0`.
    """

    elapsed: float
    scores: Sequence[float]
    direction: str = "min"
    epochs: int = 0

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


class MaxEpochs(SearchRule):
    """Ends the search once `epochs` epochs have been trained (no new trial starts).

    Compares `SearchProgress.epochs`: every trial's epochs (see `count_epochs`),
    running trials included, summed over resumes. Trials running when it is
    reached still finish, so the search may end a little above the budget.

    Args:
        epochs: The budget, in epochs over all trials.
    """

    name = "max_epochs"

    def __init__(self, epochs: int):
        self.epochs = check_int("max_epochs", epochs, 1)

    def decide(self, progress: SearchProgress) -> Decision:
        if progress.epochs < self.epochs:
            return self._go(f"{progress.epochs} of {self.epochs} epochs trained")
        return Decision(
            True,
            f"max_epochs={self.epochs} reached after {progress.epochs} epochs trained",
            step=0,
            value=float(progress.epochs),
            reference=float(self.epochs),
        )

    def __repr__(self) -> str:
        return f"MaxEpochs({self.epochs})"


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
    max_time: float | None = None,
    target: float | None = None,
    patience: int | None = None,
    max_epochs: int | None = None,
) -> list[SearchRule]:
    """The rules for an oracle's `max_time`, `max_epochs`, `target` and `patience`
    arguments (validated), in that order.

    Args:
        max_time: Seconds. Defaults to `None` (no rule).
        target: Objective value. Defaults to `None`.
        patience: Completed trials. Defaults to `None`.
        max_epochs: Epochs over all trials. Defaults to `None`.
    """
    rules: list[SearchRule] = []
    if max_time is not None:
        rules.append(MaxTime(max_time))
    if max_epochs is not None:
        rules.append(MaxEpochs(max_epochs))
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


class EpochCount(NamedTuple):
    """The epochs a trial trained, as far as its reports tell (`count_epochs`).

    Attributes:
        epochs: Epochs trained, summed over the trial's executions (and retries).
        exact: `False` when the reports only give a lower bound (a trial that
            reported its final result only, not every epoch).
    """

    epochs: int
    exact: bool


def count_epochs(runs_per_step: Mapping[int, int], stopped_at: int | None = None) -> EpochCount:
    """Epochs a trial trained, from the steps it reported.

    The rule: a run (one execution of a trial) that reports every epoch reports
    steps `0, 1, ..., last`, so the trial's reports at a step hold one value per
    run that trained that epoch, and the epochs trained are the sum over the
    steps of the runs that reported each step (an exact count; two executions
    of 5 epochs: 10). That holds when the reported steps have no gap (a run
    started at `initial_epoch=k` reports `k, ..., last` and counts right too).
    A trial that reported only its final result (Keras Tuner's one report at
    the best epoch, when no callback reports each epoch) has one step, its best
    epoch: it is counted as `best step + 1` epochs (or the early stop's epoch
    + 1, if later), a lower bound (`exact=False`). A single report at step 0
    counts 1 epoch per run, taken as exact. A trial that reported nothing
    counts 0.

    Args:
        runs_per_step: `{step: number of runs that reported it}` (Keras Tuner
            keeps one value per execution at each step of a metric).
        stopped_at: The step of a recorded early stop, if any. Defaults to `None`.

    Returns:
        An `EpochCount`.
    """
    steps = {int(s): int(n) for s, n in runs_per_step.items() if int(n) > 0}
    if not steps:
        if stopped_at is None:
            return EpochCount(0, True)
        return EpochCount(int(stopped_at) + 1, False)
    total = sum(steps.values())
    first, last = min(steps), max(steps)
    every_epoch = len(steps) == last - first + 1 and (len(steps) > 1 or last == 0)
    if every_epoch and (stopped_at is None or stopped_at <= last):
        return EpochCount(total, True)
    bound = last + 1 if stopped_at is None else max(last, int(stopped_at)) + 1
    return EpochCount(max(total, bound), False)
