"""The registry of multi-fidelity methods compared on the recorded curves.

Each method is a function `(table, budget_epochs, seed, objective) -> Trace`, registered
by name with `@register("name")`. To add one:

```python
from benchmarks.curves.methods import register
from benchmarks.curves.replay import run_oracle

@register("hpx_bo_mf_asha")
def hpx_bo_mf_asha(table, budget_epochs, seed, objective):
    return run_oracle(
        table,
        lambda obj: MyOracle(objective=obj, hyperparameters=table.space, seed=seed),
        budget_epochs,
        objective,
        make_callback=lambda: asha(objective),
    )
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .replay import CurveTable, Trace, run_kt_hyperband, run_optuna, run_oracle

Method = Callable[[CurveTable, int, int, str], Trace]
METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Registers a method under `name` (a decorator).

    Raises:
        ValueError: `name` is taken.
    """

    def add(fn: Method) -> Method:
        if name in METHODS:
            raise ValueError(f"A method named {name!r} is already registered.")
        METHODS[name] = fn
        return fn

    return add


def get_method(name: str) -> Method:
    """The method registered as `name`.

    Raises:
        KeyError: No such method (the message lists the registered ones).
    """
    if name not in METHODS:
        raise KeyError(f"Unknown method {name!r}; registered: {sorted(METHODS)}")
    return METHODS[name]


def asha(objective: str) -> Any:
    """keras-hpx's `WeakTrialStopping` with the ASHA rule at its defaults."""
    from keras_hpx import WeakTrialStopping

    return WeakTrialStopping(monitor=objective, rule="asha")


def _hpx(
    oracle_class: Any, table: CurveTable, seed: int, **oracle_kwargs: Any
) -> Callable[[Any], Any]:
    # max_trials=None: the epoch budget ends the search.
    return lambda objective: oracle_class(
        objective=objective,
        max_trials=None,
        hyperparameters=table.space,
        seed=seed,
        **oracle_kwargs,
    )


# The variants after the defaults were measured before `rerun_stopped` existed (it is on by
# default): they turn it off, so they give the trials that docs/benchmarks.md reports.
BEFORE_RERUNS: dict[str, Any] = {"rerun_stopped": False}


def interleaved(min_runs: int = 2) -> Any:
    """The Hyperband rule before synchronous order became the default: brackets interleaved
    from the first trial on, `min_runs=2`. The variants measured with it use it, so they
    give the trials that docs/benchmarks.md reports."""
    from keras_hpx.stopping import HyperbandRule

    return HyperbandRule(order="interleaved", min_runs=min_runs)


def _stopped_by(
    oracle_class: Any,
    table: CurveTable,
    budget_epochs: int,
    seed: int,
    objective: str,
    rule: Any,
    oracle_kwargs: dict[str, Any] | None = None,
    **callback_kwargs: Any,
) -> Trace:
    """`oracle_class(**oracle_kwargs)` + `WeakTrialStopping(rule=rule, **callback_kwargs)`
    on the table."""
    from keras_hpx import WeakTrialStopping

    return run_oracle(
        table,
        _hpx(oracle_class, table, seed, **(oracle_kwargs or {})),
        budget_epochs,
        objective,
        make_callback=lambda: WeakTrialStopping(monitor=objective, rule=rule, **callback_kwargs),
    )


@register("hpx_bo_asha")
def hpx_bo_asha(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `BayesianOracle` + `WeakTrialStopping(rule="asha")`: the multi-fidelity
    method (stopped trials modelled at their budget, `multi_fidelity=True`)."""
    from keras_hpx import BayesianOracle

    return run_oracle(
        table,
        _hpx(BayesianOracle, table, seed),
        budget_epochs,
        objective,
        make_callback=lambda: asha(objective),
    )


@register("hpx_bo_asha_final")
def hpx_bo_asha_final(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `BayesianOracle(multi_fidelity=False)` + `WeakTrialStopping(rule="asha")`:
    stopped trials enter the model as if finished (the 0.2.0 behaviour before issue 12)."""
    from keras_hpx import BayesianOracle

    return _stopped_by(
        BayesianOracle, table, budget_epochs, seed, objective, "asha", {"multi_fidelity": False}
    )


@register("hpx_bo_asha_min4")
def hpx_bo_asha_min4(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """`hpx_bo_asha` with a longer grace period: `WeakTrialStopping(rule="asha",
    min_steps=4)`, rungs at 4 and 16 epochs (for slow-learning optima)."""
    from keras_hpx import BayesianOracle

    return _stopped_by(BayesianOracle, table, budget_epochs, seed, objective, "asha", min_steps=4)


@register("hpx_bo_hyperband")
def hpx_bo_hyperband(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `BayesianOracle` + `WeakTrialStopping(rule="hyperband")`: asynchronous
    Hyperband (brackets first judged after 1, 3, 9 and 27 epochs, numbered trials in
    synchronous Hyperband's order), stopped trials modelled at their budget."""
    return _bo_hyperband(table, budget_epochs, seed, objective)


@register("hpx_bo_hyperband_interleaved")
def hpx_bo_hyperband_interleaved(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with the previous default rule: brackets interleaved from the
    first trial on, `min_runs=2` (reruns on)."""
    return _bo_hyperband(table, budget_epochs, seed, objective, rule=interleaved())


@register("hpx_bo_hyperband_norerun")
def hpx_bo_hyperband_norerun(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with `BayesianOracle(rerun_stopped=False)`: a stopped configuration
    is never proposed again (the default before reruns)."""
    return _bo_hyperband(table, budget_epochs, seed, objective, interleaved(), **BEFORE_RERUNS)


@register("hpx_bo_asha_norerun")
def hpx_bo_asha_norerun(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """`hpx_bo_asha` with `BayesianOracle(rerun_stopped=False)`."""
    from keras_hpx import BayesianOracle

    return _stopped_by(BayesianOracle, table, budget_epochs, seed, objective, "asha", BEFORE_RERUNS)


def _hyperband_comparing(compares: Callable[[int, int], bool]) -> Any:
    """`HyperbandRule()` with another choice of which brackets a run is compared with."""
    from keras_hpx.stopping import HyperbandRule

    class Variant(HyperbandRule):
        def compares(self, bracket: int, other: int) -> bool:
            return compares(bracket, other)

    return Variant(order="interleaved", min_runs=2)


@register("hpx_bo_hyperband_within")
def hpx_bo_hyperband_within(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` comparing a run only with its own bracket (Li et al.)."""
    from keras_hpx import BayesianOracle

    rule = _hyperband_comparing(lambda bracket, other: other == bracket)
    return _stopped_by(BayesianOracle, table, budget_epochs, seed, objective, rule, BEFORE_RERUNS)


@register("hpx_bo_hyperband_shared")
def hpx_bo_hyperband_shared(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` comparing a run with every bracket (Syne Tune's shared rungs)."""
    from keras_hpx import BayesianOracle

    rule = _hyperband_comparing(lambda bracket, other: True)
    return _stopped_by(BayesianOracle, table, budget_epochs, seed, objective, rule, BEFORE_RERUNS)


def _hyperband_in_cycles() -> Any:
    """The product's synchronous order (cycles of 27, 12, 6 and 4 trials per bracket,
    aggressive first) with `min_runs=2`, as it was measured before `min_runs=1` became
    the default (this experiment first re-implemented the order in a subclass)."""
    from keras_hpx.stopping import HyperbandRule

    return HyperbandRule(order="synchronous", min_runs=2)


@register("hpx_bo_hyperband_cycles")
def hpx_bo_hyperband_cycles(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with numbered trials placed in synchronous Hyperband's order."""
    from keras_hpx import BayesianOracle

    return _stopped_by(
        BayesianOracle,
        table,
        budget_epochs,
        seed,
        objective,
        _hyperband_in_cycles(),
        BEFORE_RERUNS,
    )


def _hyperband_warm(first: int) -> Any:
    """`HyperbandRule()` with numbered trials below `first` all in bracket 0."""
    from keras_hpx.stopping import HyperbandRule

    class Variant(HyperbandRule):
        def bracket(self, run_key: str) -> int:
            key = str(run_key)
            if key.isdigit() and int(key) < first:
                return 0
            return super().bracket(run_key)

    return Variant(order="interleaved", min_runs=2)


@register("hpx_bo_hyperband_warm9")
def hpx_bo_hyperband_warm9(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with the first 9 trials in bracket 0."""
    from keras_hpx import BayesianOracle

    return _stopped_by(
        BayesianOracle, table, budget_epochs, seed, objective, _hyperband_warm(9), BEFORE_RERUNS
    )


@register("hpx_bo_hyperband_fallback")
def hpx_bo_hyperband_fallback(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` where a run with fewer than `min_runs` comparable runs at a
    rung is compared with every run there."""
    return _fallback(table, budget_epochs, seed, objective)


@register("hpx_bo_hyperband_fallback_min1")
def hpx_bo_hyperband_fallback_min1(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband_fallback` with `min_runs=1`."""
    return _fallback(table, budget_epochs, seed, objective, min_runs=1)


def _fallback(
    table: CurveTable, budget_epochs: int, seed: int, objective: str, min_runs: int | None = None
) -> Trace:
    from keras_hpx import BayesianOracle, WeakTrialStopping
    from keras_hpx.stopping.rules import _reference_values

    class Fallback(WeakTrialStopping):
        def _references(self, report: bool, epoch: int) -> list[dict[int, float]]:
            refs = super()._references(report, epoch)
            if not refs and epoch + 1 < self._judge.min_steps:
                return refs
            if len(_reference_values(refs, epoch, self._direction)) >= self._judge.min_runs:
                return refs
            self._compares = lambda bracket: True  # type: ignore[method-assign]
            try:
                return super()._references(report, epoch)
            finally:
                del self._compares

    return run_oracle(
        table,
        _hpx(BayesianOracle, table, seed, **BEFORE_RERUNS),
        budget_epochs,
        objective,
        make_callback=lambda: Fallback(monitor=objective, rule=interleaved(min_runs or 2)),
    )


@register("hpx_bo_hyperband_min1")
def hpx_bo_hyperband_min1(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with `min_runs=1`: a run is judged as soon as one other
    comparable run reached its rung (it must be the better of the two to go on)."""
    from keras_hpx import BayesianOracle

    return _stopped_by(
        BayesianOracle,
        table,
        budget_epochs,
        seed,
        objective,
        interleaved(min_runs=1),
        BEFORE_RERUNS,
    )


def _bo_hyperband(
    table: CurveTable,
    budget_epochs: int,
    seed: int,
    objective: str,
    rule: Any = "hyperband",
    **oracle_kwargs: Any,
) -> Trace:
    """`BayesianOracle(**oracle_kwargs)` + `WeakTrialStopping(rule=rule)`."""
    from keras_hpx import BayesianOracle

    return _stopped_by(BayesianOracle, table, budget_epochs, seed, objective, rule, oracle_kwargs)


@register("hpx_bo_hyperband_final")
def hpx_bo_hyperband_final(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with `BayesianOracle(multi_fidelity=False)`: stopped trials enter
    the model as if finished."""
    return _bo_hyperband(table, budget_epochs, seed, objective, interleaved(), multi_fidelity=False)


@register("hpx_bo_hyperband_init5")
def hpx_bo_hyperband_init5(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with `num_initial_points=5`."""
    return _bo_hyperband(
        table, budget_epochs, seed, objective, interleaved(), num_initial_points=5, **BEFORE_RERUNS
    )


def _populated_budget_optimizer() -> Any:
    """A `BayesianOptimizer` that scores multi-fidelity proposals at the highest budget where
    at least `d + 2` runs (`d`: the encoded feature columns) were observed at that budget or
    above, not at the full budget: BOHB's idea, which fits its model at the highest budget
    with enough observations (with a smaller threshold than its `d + 3`). An experiment (not
    adopted: docs/benchmarks.md, "A held-out table"), so it lives here, not in the package."""
    import numpy as np

    from keras_hpx.bayes import BayesianOptimizer

    class PopulatedBudget(BayesianOptimizer):
        def _acquisition_budget(self, enc: Any, rows: Any, budgets: Any) -> float:
            target = float(np.min(budgets))
            for level in np.unique(budgets):
                if len(np.unique(rows[budgets >= level])) >= enc.dim + 2:
                    target = float(level)
            return target

    return PopulatedBudget()


@register("hpx_bo_hyperband_acq_populated")
def hpx_bo_hyperband_acq_populated(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` with the acquisition at the highest well-observed budget instead
    of the full one (`_populated_budget_optimizer`)."""
    return _bo_hyperband(
        table, budget_epochs, seed, objective, optimizer=_populated_budget_optimizer()
    )


@register("hpx_random_hyperband")
def hpx_random_hyperband(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `RandomOracle` + `WeakTrialStopping(rule="hyperband")`."""
    from keras_hpx import RandomOracle

    return _stopped_by(RandomOracle, table, budget_epochs, seed, objective, "hyperband")


@register("hpx_bo")
def hpx_bo(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `BayesianOracle`, every trial trained to the end."""
    from keras_hpx import BayesianOracle

    return run_oracle(table, _hpx(BayesianOracle, table, seed), budget_epochs, objective)


@register("hpx_random_asha")
def hpx_random_asha(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `RandomOracle` + `WeakTrialStopping(rule="asha")`."""
    from keras_hpx import RandomOracle

    return run_oracle(
        table,
        _hpx(RandomOracle, table, seed),
        budget_epochs,
        objective,
        make_callback=lambda: asha(objective),
    )


@register("hpx_random")
def hpx_random(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """keras-hpx's `RandomOracle`, every trial trained to the end (the floor)."""
    from keras_hpx import RandomOracle

    return run_oracle(table, _hpx(RandomOracle, table, seed), budget_epochs, objective)


@register("kt_hyperband")
def kt_hyperband(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """Keras Tuner's Hyperband (`max_epochs` = the table's, `factor=3`)."""
    return run_kt_hyperband(table, budget_epochs, objective, seed=seed, factor=3)


def _optuna(pruner: str | None, table: CurveTable, seed: int) -> tuple[Any, Any]:
    import optuna

    sampler = optuna.samplers.TPESampler(seed=seed)
    if pruner == "hyperband":
        return sampler, optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=table.max_epochs, reduction_factor=3
        )
    if pruner == "sha":
        return sampler, optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return sampler, None


@register("optuna_tpe_hyperband")
def optuna_tpe_hyperband(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """Optuna's `TPESampler` + `HyperbandPruner(min_resource=1, reduction_factor=3)`."""
    return run_optuna(table, *_optuna("hyperband", table, seed), budget_epochs, objective)


@register("optuna_tpe_sha")
def optuna_tpe_sha(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """Optuna's `TPESampler` + `SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)`."""
    return run_optuna(table, *_optuna("sha", table, seed), budget_epochs, objective)


@register("optuna_tpe")
def optuna_tpe(table: CurveTable, budget_epochs: int, seed: int, objective: str) -> Trace:
    """Optuna's `TPESampler`, every trial trained to the end."""
    return run_optuna(table, *_optuna(None, table, seed), budget_epochs, objective)


DEFAULT_METHODS = [
    "hpx_bo_hyperband",
    "hpx_bo_asha",
    "hpx_bo_asha_min4",
    "hpx_bo_asha_final",
    "hpx_bo",
    "hpx_random_asha",
    "hpx_random_hyperband",
    "kt_hyperband",
    "optuna_tpe_hyperband",
    "optuna_tpe_sha",
]


def _model_vouches(
    oracle: Any, trial: Any, curve: dict[int, float], sign: float, refit: bool = True
) -> float:
    """Experiment: the probability, under the oracle's multi-fidelity model, that the
    running `trial` (its partial `curve` included) ends better than the best final
    score the model predicts among the tried configurations."""
    import numpy as np
    from scipy.stats import norm

    from keras_hpx.bayes.fidelity import TrainingRun, budget_points
    from keras_hpx.bayes.optimizer import _encode
    from keras_hpx.bayes.transforms import clean_scores
    from keras_hpx.space_encoder import SpaceEncoder

    obs = oracle.observations()
    if obs.runs is None:
        return 0.0
    space = oracle.space
    values = space.active_values(trial.hyperparameters.values)
    observed = [*obs.observed, (values, None)]
    runs = [*obs.runs, TrainingRun({e: sign * v for e, v in curve.items()}, stopped=True)]
    enc = SpaceEncoder(space)
    X, keep = _encode(enc, [v for v, _ in observed])
    scores = [observed[i][1] for i in keep]
    kept = [runs[i] for i in keep]
    # The running trial's score is its best so far (a low-fidelity observation).
    scores[-1] = min(sign * v for v in curve.values())
    rows, budgets, vals = budget_points(scores, kept)
    opt = oracle.optimizer
    Xa = np.column_stack([X[rows], budgets])
    warm = opt.warm_starts.get("score+budget")
    if refit or warm is None or np.size(warm.lengthscales) != Xa.shape[1]:
        gp, _ = opt._fit(Xa, clean_scores(list(vals)), "score+budget", enc)
    else:  # the last proposal's hyperparameters, conditioned on today's data
        from keras_hpx.bayes.transforms import warp_scores

        y = warp_scores(clean_scores(list(vals)))
        gp = opt._gaussian_process()
        gp.params = warm
        gp.y_mean, gp.y_std = float(np.mean(y)), float(np.std(y)) or 1.0
        gp.condition(Xa, gp.standardize(y))
    full = np.column_stack([X, np.ones(len(X))])
    mean, var = gp.predict(full)
    best = float(np.min(mean[:-1]))
    return float(norm.cdf((best - mean[-1]) / np.sqrt(max(var[-1], 1e-12))))


def _vouched(threshold: float, refit: bool = True) -> Any:
    from keras_hpx import WeakTrialStopping

    class Vouched(WeakTrialStopping):
        def _final_epoch_kept(self, epoch: int, decision: Any) -> Any:
            import dataclasses

            decision = super()._final_epoch_kept(epoch, decision)
            if not decision.stop or self._ctx is None:
                return decision
            oracle = self._ctx.oracle
            trial = oracle.trials[self._ctx.trial_id]
            sign = 1.0 if self._direction == "min" else -1.0
            p = _model_vouches(oracle, trial, self._curve, sign, refit)
            if p < threshold:
                return decision
            return dataclasses.replace(decision, stop=False, reason=f"model vouches: {p:.3f}")

    return Vouched


def _vouch_run(
    table: CurveTable,
    budget_epochs: int,
    seed: int,
    objective: str,
    threshold: float,
    refit: bool,
) -> Trace:
    from keras_hpx import BayesianOracle

    return run_oracle(
        table,
        _hpx(BayesianOracle, table, seed, **BEFORE_RERUNS),
        budget_epochs,
        objective,
        make_callback=lambda: _vouched(threshold, refit)(monitor=objective, rule=interleaved()),
    )


@register("hpx_bo_hyperband_vouch")
def hpx_bo_hyperband_vouch(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """Experiment: `hpx_bo_hyperband` where a stop is vetoed when the model (refitted at
    every veto) gives the run at least a 20% chance to end best."""
    return _vouch_run(table, budget_epochs, seed, objective, 0.2, refit=True)


@register("hpx_bo_hyperband_vouch_fast")
def hpx_bo_hyperband_vouch_fast(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband_vouch` with the last proposal's model hyperparameters (no refit)."""
    return _vouch_run(table, budget_epochs, seed, objective, 0.2, refit=False)


@register("hpx_bo_hyperband_vouch50")
def hpx_bo_hyperband_vouch50(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband_vouch_fast` vetoing only at a 50% chance or more."""
    return _vouch_run(table, budget_epochs, seed, objective, 0.5, refit=False)


@register("hpx_bo_hyperband_cycles_rr")
def hpx_bo_hyperband_cycles_rr(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband_cycles` with reruns (`rerun_stopped=True`, the default)."""
    from keras_hpx import BayesianOracle

    return _stopped_by(
        BayesianOracle, table, budget_epochs, seed, objective, _hyperband_in_cycles()
    )


def _unselected(
    table: CurveTable, budget_epochs: int, seed: int, objective: str, rule: Any = None
) -> Trace:
    """A run is also compared with runs of more aggressive brackets that reached its rung
    without having been judged (no selection by early scores)."""
    from keras_hpx import BayesianOracle, WeakTrialStopping

    judged: dict[str, int] = {}  # trial id -> the first step it was judged at

    class Unselected(WeakTrialStopping):
        _now = 0

        def _references(self, report: bool, epoch: int) -> list[dict[int, float]]:
            self._now = epoch
            return super()._references(report, epoch)

        def _compares_trial(self, trial_id: str) -> bool:
            if super()._compares_trial(trial_id):
                return True
            first = judged.get(str(trial_id))
            return first is None or first >= self._now

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            super().on_epoch_end(epoch, logs)
            decision = self.decision
            if decision is not None and decision.reference is not None and self._ctx:
                judged.setdefault(str(self._ctx.trial_id), epoch)

    return run_oracle(
        table,
        _hpx(BayesianOracle, table, seed),
        budget_epochs,
        objective,
        make_callback=lambda: Unselected(monitor=objective, rule=rule or interleaved()),
    )


@register("hpx_bo_hyperband_unselected")
def hpx_bo_hyperband_unselected(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """`hpx_bo_hyperband` where unjudged runs of aggressive brackets are references too."""
    return _unselected(table, budget_epochs, seed, objective)


@register("hpx_bo_hyperband_cycles_unselected")
def hpx_bo_hyperband_cycles_unselected(
    table: CurveTable, budget_epochs: int, seed: int, objective: str
) -> Trace:
    """Both `_cycles_rr` and `_unselected`."""
    return _unselected(table, budget_epochs, seed, objective, _hyperband_in_cycles())
