"""Stopping rules: pure functions of learning curves that decide whether to stop a run.

Notation used throughout:

- A *curve* is a mapping `step -> value` of one run's monitored metric. Steps are
  0-based integers (Keras' `epoch` in `on_epoch_end`, Keras Tuner's `best_step`);
  step `s` means `s + 1` steps are done.
- `mode` is `"min"` or `"max"`. Internally every value is moved to *loss space*
  (negated in `"max"` mode; NaN becomes `+inf`, the worst value) so that lower is
  always better.
- `best_up_to(curve, s)` is the best value a run reached at steps `<= s`.
- A reference run *reached* step `s` when it has a value at some step `>= s`.
  Rules compare the current run with the references at the same step `s`, each
  summarised by its best value up to `s`: a run that stopped at step 3 never
  counts at step 9, and a run's value at step 9 is never compared with another
  run's value at step 3.

A rule may have several *brackets* (`HyperbandRule`): `rule.bracket(run_key)` places
a run in one, `rule.in_bracket(b)` is the rule that judges that bracket's runs, and
`rule.compares(b, other)` says whether a run of bracket `b` is compared with a run of
bracket `other`. Other rules have one bracket.

Every rule's `decide()` is a ladder of guard clauses (no value yet, warm-up, too
few reference runs, not at a rung) followed by one comparison, and returns a
`Decision` with a human-readable reason.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from keras_hpx.checks import check_choice, invalid

__all__ = [
    "Decision",
    "StoppingRule",
    "PercentileRule",
    "MedianRule",
    "SuccessiveHalvingRule",
    "HyperbandRule",
    "ORDERS",
    "ThresholdRule",
    "RULES",
    "get_rule",
    "best_up_to",
    "reached",
]

Curve = Mapping[int, float]
_MODES = ("min", "max")
# Finite stand-in for "worst" so that percentiles never interpolate inf - inf = nan.
_WORST = float(np.finfo(np.float64).max)


@dataclass(frozen=True)
class Decision:
    """What a rule decided for one run at one step.

    Attributes:
        stop: Whether the run should stop now.
        reason: A sentence for humans saying why (or why not).
        step: The step the decision was taken at.
        value: The current run's value the rule compared (in the metric's own
            units, not negated), or `None` when no comparison was made.
        reference: The value it was compared with (a percentile of the reference
            runs, or a bound), or `None`.
        n_runs: How many reference runs the comparison used.
    """

    stop: bool
    reason: str
    step: int
    value: float | None = None
    reference: float | None = None
    n_runs: int = 0

    def __bool__(self) -> bool:
        return self.stop


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise invalid("mode", mode, f"one of {list(_MODES)}")


def _to_loss(value: float, mode: str) -> float:
    """Moves a value to loss space: lower is better, NaN is the worst (`+inf`)."""
    value = float(value)
    if math.isnan(value):
        return math.inf
    return value if mode == "min" else -value


def _from_loss(value: float, mode: str) -> float:
    return value if mode == "min" else -value


def _finite(value: float) -> float:
    return min(value, _WORST) if value > -math.inf else -_WORST


def best_up_to(curve: Curve, step: int, mode: str = "min") -> float | None:
    """Returns the best value of `curve` at steps `<= step`, or `None` if it has none.

    Args:
        curve: Mapping `step -> value` of one run.
        step: The last step to look at.
        mode: `"min"` or `"max"`. NaN values count as the worst. Defaults to `"min"`.
    """
    losses = [_to_loss(v, mode) for s, v in curve.items() if s <= step]
    if not losses:
        return None
    return _from_loss(min(losses), mode)


def reached(curve: Curve, step: int) -> bool:
    """Whether a run has a value at `step` or at a later step."""
    return any(s >= step for s in curve)


def _latest(curve: Curve, step: int) -> tuple[int, float] | None:
    steps = [s for s in curve if s <= step]
    if not steps:
        return None
    last = max(steps)
    return last, float(curve[last])


def _check_int(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise invalid(name, value, f"an integer >= {minimum}")


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class StoppingRule:
    """Base class of stopping rules.

    Subclasses implement `decide()`; they hold only their settings, never state
    about runs, so one rule object can serve many runs, threads and processes.

    Args:
        min_steps: Warm-up: a run always completes this many steps before the rule
            may stop it. Defaults to `1`.
        min_runs: The rule stops nothing until at least this many other runs have
            reached the step being judged. Defaults to `0`.
    """

    name = "rule"

    def __init__(self, min_steps: int = 1, min_runs: int = 0) -> None:
        _check_int("min_steps", min_steps, 1)
        _check_int("min_runs", min_runs, 0)
        self.min_steps = int(min_steps)
        self.min_runs = int(min_runs)

    def decide(
        self,
        curve: Curve,
        references: Iterable[Curve],
        step: int,
        mode: str = "min",
    ) -> Decision:
        """Decides whether the run with `curve` should stop after `step`.

        Args:
            curve: The current run's values, `step -> value`.
            references: The other runs' curves (finished or still running).
            step: The step just completed by the current run.
            mode: `"min"` if lower values are better, `"max"` otherwise. Defaults to
                `"min"`.

        Returns:
            A `Decision`.
        """
        raise NotImplementedError

    def bracket(self, run_key: str) -> int:
        """The bracket of the run called `run_key`: it sets the rule that judges the run
        (`in_bracket`) and the runs it is compared with (`compares`). Rules with one
        bracket answer `0`.

        Args:
            run_key: The run's stable name (Keras Tuner's trial id under a tuner).
        """
        return 0

    def compares(self, bracket: int, other: int) -> bool:
        """Whether a run of `bracket` is compared with the runs of bracket `other`.

        Args:
            bracket: The bracket of the run being judged.
            other: The bracket of a reference run.
        """
        return True

    def in_bracket(self, bracket: int) -> StoppingRule:
        """The rule that judges the runs of `bracket`; rules with one bracket are their
        own.

        Args:
            bracket: A bracket from `bracket()`.
        """
        return self

    def _guard(self, curve: Curve, step: int, mode: str) -> Decision | None:
        """Common guard clauses: no value yet, warm-up."""
        _check_mode(mode)
        if best_up_to(curve, step, mode) is None:
            return Decision(False, f"no value reported up to step {step} yet", step)
        if step + 1 < self.min_steps:
            return Decision(
                False,
                f"warm-up: {step + 1} of min_steps={self.min_steps} steps done",
                step,
            )
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(vars(self).items()))))


def _reference_values(references: Iterable[Curve], step: int, mode: str) -> list[float]:
    """Best-so-far values (loss space) at `step` of the references that reached it."""
    values = []
    for ref in references:
        if reached(ref, step):
            best = best_up_to(ref, step, mode)
            if best is not None:
                values.append(_to_loss(best, mode))
    return values


class PercentileRule(StoppingRule):
    """Stops a run whose best value so far is worse than a percentile of the other runs.

    At step `s`, every other run that reached `s` contributes its best value up to
    `s`; the current run is stopped when its own best value up to `s` is strictly
    worse than the `percentile`-th best of those. `percentile=25` keeps runs in
    the best quarter, `percentile=50` is the median stopping rule (Golovin et al.,
    2017, "Google Vizier").

    Args:
        percentile: Which percentile of the reference runs to beat, in (0, 100],
            counted from the best. Defaults to `25.0`.
        min_steps: Warm-up steps: a run always completes this many steps. Defaults
            to `2`.
        min_runs: The rule stops nothing until at least this many other runs have
            reached the step being judged. Defaults to `3`.
    """

    name = "percentile"

    def __init__(self, percentile: float = 25.0, min_steps: int = 2, min_runs: int = 3) -> None:
        super().__init__(min_steps=min_steps, min_runs=min_runs)
        if (
            isinstance(percentile, bool)
            or not isinstance(percentile, (int, float, np.number))
            or not 0.0 < float(percentile) <= 100.0
        ):
            raise invalid("percentile", percentile, "a number in (0, 100]")
        self.percentile = float(percentile)

    def _label(self) -> str:
        return f"{self.percentile:g}th percentile"

    def decide(
        self,
        curve: Curve,
        references: Iterable[Curve],
        step: int,
        mode: str = "min",
    ) -> Decision:
        guard = self._guard(curve, step, mode)
        if guard is not None:
            return guard
        refs = _reference_values(references, step, mode)
        if len(refs) < max(self.min_runs, 1):
            return Decision(
                False,
                f"only {len(refs)} other runs reached step {step}; min_runs={self.min_runs} needed",
                step,
                n_runs=len(refs),
            )
        best = best_up_to(curve, step, mode)
        assert best is not None  # `_guard` returned a decision otherwise
        current = _to_loss(best, mode)
        cutoff = float(np.percentile([_finite(v) for v in refs], self.percentile))
        value = _from_loss(current, mode)
        reference = _from_loss(cutoff, mode)
        if current > cutoff:
            return Decision(
                True,
                f"best value {_fmt(value)} up to step {step} is worse than the "
                f"{self._label()} {_fmt(reference)} of {len(refs)} other runs at that step",
                step,
                value,
                reference,
                len(refs),
            )
        return Decision(
            False,
            f"best value {_fmt(value)} up to step {step} is within the "
            f"{self._label()} {_fmt(reference)} of {len(refs)} other runs",
            step,
            value,
            reference,
            len(refs),
        )


class MedianRule(PercentileRule):
    """The median stopping rule: stops a run whose best value so far is worse than the
    median of the other runs' best values at the same step.

    Args:
        min_steps: Warm-up steps: a run always completes this many steps. Defaults
            to `2`.
        min_runs: The rule stops nothing until at least this many other runs have
            reached the step being judged. Defaults to `3`.
    """

    name = "median"

    def __init__(self, min_steps: int = 2, min_runs: int = 3) -> None:
        super().__init__(percentile=50.0, min_steps=min_steps, min_runs=min_runs)

    def _label(self) -> str:
        return "median"

    def __repr__(self) -> str:
        return f"MedianRule(min_steps={self.min_steps!r}, min_runs={self.min_runs!r})"


class SuccessiveHalvingRule(StoppingRule):
    """Asynchronous successive halving (ASHA, Li et al., 2020).

    Rungs sit at `min_steps * reduction_factor**k` completed steps (k = 0, 1, ...).
    When the current run completes a rung, it is compared with every other run
    that reached that rung: it continues only if it is among the best
    `1 / reduction_factor` of all of them (itself included). Between rungs it is
    never stopped.

    Args:
        min_steps: The grace period: the first rung, in completed steps. Defaults
            to `1`.
        reduction_factor: Keep the best `1 / reduction_factor` at each rung; rungs
            are this factor apart. Defaults to `4` (as Ray Tune's ASHA).
        min_runs: The rule stops nothing at a rung until at least this many other
            runs have reached it. Defaults to `2`.
    """

    name = "successive_halving"

    def __init__(self, min_steps: int = 1, reduction_factor: int = 4, min_runs: int = 2) -> None:
        super().__init__(min_steps=min_steps, min_runs=min_runs)
        _check_int("reduction_factor", reduction_factor, 2)
        self.reduction_factor = int(reduction_factor)

    def rung(self, step: int) -> int | None:
        """Returns the rung index `k` if completing `step` completes a rung, else `None`."""
        done = step + 1
        k = 0
        size = self.min_steps
        while size < done:
            size *= self.reduction_factor
            k += 1
        return k if size == done else None

    def decide(
        self,
        curve: Curve,
        references: Iterable[Curve],
        step: int,
        mode: str = "min",
    ) -> Decision:
        guard = self._guard(curve, step, mode)
        if guard is not None:
            return guard
        k = self.rung(step)
        if k is None:
            return Decision(False, f"step {step} is not at a rung", step)
        refs = _reference_values(references, step, mode)
        if len(refs) < max(self.min_runs, 1):
            return Decision(
                False,
                f"only {len(refs)} other runs reached rung {k} (step {step}); "
                f"min_runs={self.min_runs} needed",
                step,
                n_runs=len(refs),
            )
        best = best_up_to(curve, step, mode)
        assert best is not None  # `_guard` returned a decision otherwise
        current = _to_loss(best, mode)
        everyone = [_finite(v) for v in refs] + [_finite(current)]
        cutoff = float(np.percentile(everyone, 100.0 / self.reduction_factor))
        value = _from_loss(current, mode)
        reference = _from_loss(cutoff, mode)
        keep = f"best 1/{self.reduction_factor}"
        if current > cutoff:
            return Decision(
                True,
                f"best value {_fmt(value)} at rung {k} (step {step}) is not in the {keep} "
                f"of {len(everyone)} runs there (cutoff {_fmt(reference)})",
                step,
                value,
                reference,
                len(refs),
            )
        return Decision(
            False,
            f"best value {_fmt(value)} at rung {k} (step {step}) is in the {keep} "
            f"of {len(everyone)} runs there (cutoff {_fmt(reference)})",
            step,
            value,
            reference,
            len(refs),
        )


# Golden-ratio step: trial numbers 0, 1, 2, ... map to evenly spread points of [0, 1).
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _numbered(key: str) -> bool:
    """Whether a run's name is a trial number (ASCII digits, as Keras Tuner's ids)."""
    return key.isascii() and key.isdigit() and len(key) <= 30


def _unit(run_key: str) -> float:
    """A stable point of `[0, 1)` for a run's name, the same in every process.

    Keras Tuner's trial ids are numbers (`"0"`, `"07"`, ...): trial `n` maps to
    `n * 0.618... mod 1`, a low-discrepancy sequence, so even the first few trials
    are spread over the brackets in proportion. Any other name is hashed.
    """
    key = str(run_key)
    if _numbered(key):
        return (int(key) * _GOLDEN) % 1.0
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@functools.lru_cache(maxsize=32)
def _hyperband_shares(reduction_factor: int, brackets: int) -> tuple[float, ...]:
    """Synchronous Hyperband's share of configurations per bracket (bracket 0 first):
    proportional to `reduction_factor**s / (s + 1)`, `s = brackets - 1 - b`."""
    last = brackets - 1
    weights = [reduction_factor ** (last - b) / (last - b + 1) for b in range(brackets)]
    total = sum(weights)
    return tuple(w / total for w in weights)


@functools.lru_cache(maxsize=32)
def _hyperband_cycle(reduction_factor: int, brackets: int) -> tuple[int, ...]:
    """Synchronous Hyperband's configurations per bracket (bracket 0 first)."""
    last = brackets - 1
    return tuple(
        math.ceil(brackets / (last - b + 1) * reduction_factor ** (last - b))
        for b in range(brackets)
    )


# How `HyperbandRule` places numbered runs in its brackets.
ORDERS = ("synchronous", "interleaved")


class HyperbandRule(StoppingRule):
    """Asynchronous Hyperband (Li et al., 2020): successive halving in several brackets.

    One-bracket successive halving judges every run at the same early rungs, so a
    configuration that learns slowly but ends best is stopped every time it is tried,
    and nothing ever shows that it would have won. Hyperband hedges: bracket `b`
    (`0 <= b < brackets`) is asynchronous successive halving (`SuccessiveHalvingRule`)
    with the grace period `min_steps * reduction_factor**b`. Bracket 0 stops weak runs
    soonest; the last lets its runs train `reduction_factor**(brackets - 1)` times
    longer before their first judgement.

    A run is compared with the runs of its own bracket and of the more patient ones
    (`compares`), never with the survivors of a more aggressive bracket: those passed
    early cuts that a slow starter would have failed, so against them it would lose
    at its first rung whatever it becomes. The aggressive brackets, for their part,
    judge against every run that reached the rung, so they start stopping as soon as
    plain successive halving would. (Li et al. compare within a bracket only, Syne
    Tune by default across all brackets; on our recorded curves this order beat both:
    `docs/benchmarks.md`.)

    Numbered runs (Keras Tuner's trial ids) are placed as synchronous Hyperband runs
    its brackets (`order="synchronous"`, the default): in cycles of `cycle()` runs per
    bracket, the most aggressive first. With the defaults a cycle is 27, 12, 6 and 4
    runs first judged after 1, 3, 9 and 27 steps (Keras Tuner's `Hyperband(max_epochs=27,
    factor=3)` iteration, made asynchronous; with 27 epochs or fewer the last bracket
    trains every run to the end). A search shorter than the first bracket is successive
    halving, which is what a small budget needs, and the patient brackets come once the
    aggressive one has judged many runs; a configuration they would have rescued can
    still be rerun by the model (`BayesianOracle(rerun_stopped=True)`).
    `order="interleaved"` spreads the runs over the brackets from the first trial on (the
    golden-ratio sequence, in the same proportions): more runs trained long early, for
    less exploration at small budgets (`docs/benchmarks.md`). A run's bracket is a stable
    function of its name (`bracket(run_key)`), so every process and every resume agrees
    on it; names that are not numbers are hashed, in the same proportions.

    Args:
        min_steps: The grace period of bracket 0: its first rung, in completed steps.
            Defaults to `1`.
        reduction_factor: Each bracket keeps the best `1 / reduction_factor` at each
            rung; rungs, and the brackets' grace periods, are this factor apart.
            Defaults to `3` (as Keras Tuner's and Optuna's Hyperband).
        brackets: How many brackets. `1` is `SuccessiveHalvingRule`. A last grace
            period `min_steps * reduction_factor**(brackets - 1)` at or above the
            training length makes the last bracket a search without stopping.
            Defaults to `4`.
        min_runs: The rule stops nothing at a rung until at least this many runs it is
            compared with have reached it; with 1, as in Optuna's successive halving, a
            run that meets one other run at a rung goes on only if it is the better of
            the two. Defaults to `1`.
        order: `"synchronous"` or `"interleaved"`: how numbered runs are placed in the
            brackets (above). Defaults to `"synchronous"`.
    """

    name = "hyperband"

    def __init__(
        self,
        min_steps: int = 1,
        reduction_factor: int = 3,
        brackets: int = 4,
        min_runs: int = 1,
        order: str = "synchronous",
    ) -> None:
        super().__init__(min_steps=min_steps, min_runs=min_runs)
        _check_int("reduction_factor", reduction_factor, 2)
        _check_int("brackets", brackets, 1)
        check_choice("order", order, ORDERS)
        self.reduction_factor = int(reduction_factor)
        self.brackets = int(brackets)
        self.order = order

    def shares(self) -> list[float]:
        """The fraction of runs placed in each bracket, bracket 0 first."""
        return list(_hyperband_shares(self.reduction_factor, self.brackets))

    def cycle(self) -> list[int]:
        """Synchronous Hyperband's number of configurations per bracket, bracket 0 first:
        `ceil(brackets / (s + 1) * reduction_factor**s)` with `s = brackets - 1 - b`. With
        `order="synchronous"` numbered runs fill the brackets in cycles of these counts."""
        return list(_hyperband_cycle(self.reduction_factor, self.brackets))

    def bracket(self, run_key: str) -> int:
        key = str(run_key)
        if self.order == "synchronous" and _numbered(key):
            cycle = _hyperband_cycle(self.reduction_factor, self.brackets)
            position = int(key) % sum(cycle)
            for b, count in enumerate(cycle):
                if position < count:
                    return b
                position -= count
        # Called for every reference run at every judged epoch: the shares are cached.
        u = _unit(key)
        edge = 0.0
        for b, share in enumerate(_hyperband_shares(self.reduction_factor, self.brackets)):
            edge += share
            if u < edge:
                return b
        return self.brackets - 1

    def compares(self, bracket: int, other: int) -> bool:
        """A run is compared with the runs of its own bracket and of later (more patient)
        ones: `other >= bracket`."""
        return other >= bracket

    def in_bracket(self, bracket: int) -> SuccessiveHalvingRule:
        if (
            isinstance(bracket, bool)
            or not isinstance(bracket, (int, np.integer))
            or not 0 <= bracket < self.brackets
        ):
            raise invalid("bracket", bracket, f"an integer in [0, {self.brackets})")
        return SuccessiveHalvingRule(
            min_steps=self.min_steps * self.reduction_factor**bracket,
            reduction_factor=self.reduction_factor,
            min_runs=self.min_runs,
        )

    def decide(
        self,
        curve: Curve,
        references: Iterable[Curve],
        step: int,
        mode: str = "min",
    ) -> Decision:
        """Judges a run of bracket 0 against `references` (runs of any bracket: bracket 0
        compares with all). A caller that knows the run's name judges it in its own bracket:
        `rule.in_bracket(rule.bracket(run_key)).decide(...)`, as `WeakTrialStopping`
        does."""
        return self.in_bracket(0).decide(curve, references, step, mode)


class ThresholdRule(StoppingRule):
    """Stops a diverging run: its latest value is NaN, infinite, or worse than `bound`.

    Needs no reference runs (`min_runs=0` by default).

    Args:
        bound: Stop when the latest value is worse than this (above it in `"min"`
            mode, below it in `"max"` mode); `None` checks only for NaN and inf.
            Defaults to `None`.
        min_steps: Warm-up steps: a run always completes this many steps. Defaults
            to `1`.
        min_runs: The rule stops nothing until at least this many other runs have
            reached the step being judged. Defaults to `0`.
    """

    name = "threshold"

    def __init__(self, bound: float | None = None, min_steps: int = 1, min_runs: int = 0) -> None:
        super().__init__(min_steps=min_steps, min_runs=min_runs)
        if bound is not None and (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float, np.number))
            or math.isnan(float(bound))
        ):
            raise invalid("bound", bound, "a number or None")
        self.bound = None if bound is None else float(bound)

    def decide(
        self,
        curve: Curve,
        references: Iterable[Curve],
        step: int,
        mode: str = "min",
    ) -> Decision:
        _check_mode(mode)
        latest = _latest(curve, step)
        if latest is None:
            return Decision(False, f"no value reported up to step {step} yet", step)
        if step + 1 < self.min_steps:
            return Decision(
                False, f"warm-up: {step + 1} of min_steps={self.min_steps} steps done", step
            )
        if self.min_runs:
            n = sum(1 for ref in references if reached(ref, step))
            if n < self.min_runs:
                return Decision(
                    False,
                    f"only {n} other runs reached step {step}; min_runs={self.min_runs} needed",
                    step,
                    n_runs=n,
                )
        at, value = latest
        if not math.isfinite(value):
            return Decision(True, f"value {value} at step {at} is not finite", step, value)
        if self.bound is not None and _to_loss(value, mode) > _to_loss(self.bound, mode):
            side = "above" if mode == "min" else "below"
            return Decision(
                True,
                f"value {_fmt(value)} at step {at} is {side} the bound {_fmt(self.bound)}",
                step,
                value,
                self.bound,
            )
        return Decision(False, f"value {_fmt(value)} at step {at} is acceptable", step, value)


RULES: dict[str, type[StoppingRule]] = {
    "median": MedianRule,
    "percentile": PercentileRule,
    "successive_halving": SuccessiveHalvingRule,
    "asha": SuccessiveHalvingRule,
    "hyperband": HyperbandRule,
    "threshold": ThresholdRule,
    "divergence": ThresholdRule,
}


_RULE_ALLOWED = f"one of {sorted(RULES)} or a keras_hpx.stopping.rules.StoppingRule"


def get_rule(
    rule: str | StoppingRule,
    min_steps: int | None = None,
    min_runs: int | None = None,
) -> StoppingRule:
    """Resolves a rule name or object to a `StoppingRule`.

    Args:
        rule: One of `RULES` (`"median"`, `"percentile"`, `"successive_halving"` or
            `"asha"`, `"hyperband"`, `"threshold"` or `"divergence"`) or a
            `StoppingRule` object.
        min_steps: Overrides the named rule's warm-up steps; must be `None` with a
            rule object (set it on the object). Defaults to `None`.
        min_runs: Overrides the named rule's minimum number of reference runs;
            must be `None` with a rule object. Defaults to `None`.

    Returns:
        A `StoppingRule`.
    """
    if isinstance(rule, StoppingRule):
        for name, value in (("min_steps", min_steps), ("min_runs", min_runs)):
            if value is not None:
                raise invalid(
                    name,
                    value,
                    f"None with a rule object (rule={rule!r}); set {name} on the rule "
                    "object instead, or give the rule by name",
                )
        return rule
    if isinstance(rule, str):
        cls = RULES.get(rule.lower())
        if cls is None:
            raise invalid("rule", rule, _RULE_ALLOWED)
        kwargs = {}
        if min_steps is not None:
            kwargs["min_steps"] = min_steps
        if min_runs is not None:
            kwargs["min_runs"] = min_runs
        return cls(**kwargs)
    raise invalid("rule", rule, _RULE_ALLOWED, TypeError)
