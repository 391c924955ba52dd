"""`WeakTrialStopping`: stop a weak run early, judged against the other runs' curves.

The callback is glue between Keras and the pure rules of `keras_hpx.stopping`:
after every epoch it adds the monitored value to the run's curve, gathers the
other runs' curves, asks the rule, and sets `model.stop_training` when told to.

Where the other runs' curves come from:

- `store=None` in a plain `model.fit`: an in-memory store shared by this
  instance and all its copies, so later fits are judged against earlier ones.
- `store=None` under any Keras Tuner tuner (found with `find_tuner_context()`):
  the oracle. Each epoch's logs are reported with
  `oracle.update_trial(trial_id, logs, step=epoch)`, so the oracle holds every
  trial's per-epoch history. The other trials' curves are read back from a
  keras-hpx oracle in this process with `HpxOracle.curves(monitor)` (kept as
  reports arrive: no scan of the trials), and from any other oracle (Keras
  Tuner's, or an `OracleClient` over gRPC) with
  `oracle.get_best_trials(num_trials=<all>)` and `trial_curves`. Nothing is read
  at the warm-up epochs (before the rule's `min_steps`), where the rule cannot
  stop anything. `update_trial` and `get_best_trials` are forwarded over gRPC
  by Keras Tuner's `OracleClient`, and the trial proto keeps per-step
  histories, so a distributed worker decides with every worker's curves. Once a
  trial has step reports, Keras Tuner skips its final report and scores the
  trial by its best reported step: a stopped trial keeps the best value it
  reached.
- `store="<path>"` or a `CurveStore`: that store, everywhere (a `FileStore` is
  shared by processes on one machine). Under a tuner the epochs are still
  reported to the oracle (for the score and the record of the stop).

When a run is stopped, the stop is one typed record,
`keras_hpx.records.EarlyStop(step=epoch, reason=..., rule=...)`, sent in one
way: its wire form `stop.to_metrics()` (the metric `stopped_at_epoch`, the
0-based epoch, as Keras' `epoch` and Keras Tuner's `best_step`) is reported with
that epoch's metrics by `oracle.update_trial(trial_id, metrics, step=epoch)`,
the only channel Keras Tuner forwards unchanged over gRPC. A keras-hpx oracle in
this process is also handed the record itself, reason included
(`HpxOracle.record_early_stop(trial_id, stop)`). Readers (`HParamsLogger`,
`TrialLogger`, `keras-hpx export`) get it back with `EarlyStop.from_metrics`
or from the oracle. The store marks the run stopped with the reason.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import uuid
import warnings
from collections.abc import Callable
from typing import Any

import keras

from keras_hpx.callbacks import heartbeat
from keras_hpx.callbacks._context import TunerContext, find_tuner_context
from keras_hpx.checks import check_bool, check_choice, check_int, invalid
from keras_hpx.direction import resolve_direction
from keras_hpx.records import STOPPED_AT_EPOCH, STOPPED_EARLY, EarlyStop, Status
from keras_hpx.stopping.pareto_rule import ParetoSuccessiveHalving
from keras_hpx.stopping.rules import Decision, StoppingRule, SuccessiveHalvingRule, get_rule
from keras_hpx.stopping.store import CurveStore, FileStore, get_store

__all__ = ["STOPPED_AT_EPOCH", "STOPPED_EARLY", "WeakTrialStopping", "trial_curves"]

_MODES = ("auto", "min", "max")
# Asks the oracle for every trial: `get_best_trials` returns completed trials
# first, then all the others (running ones included) when fewer are completed.
_ALL_TRIALS = 2**31 - 1


class _Shared:
    """State shared by a callback and every copy Keras Tuner makes of it."""

    def __init__(self, store: CurveStore) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.warned: set[str] = set()


class WeakTrialStopping(keras.callbacks.Callback):
    """Stops a weak training run early, compared with other runs at the same epoch.

    Works in a loop of `model.fit` calls sharing one instance, in
    `tuner.search(callbacks=[...])` with any Keras Tuner tuner (the curves
    survive Keras Tuner's per-execution deep copies), across processes with a
    file store, and in Keras Tuner's distributed mode (the chief's oracle holds
    every worker's curves).

    Example:

    ```python
    stop = keras_hpx.WeakTrialStopping(monitor="val_loss", rule="median")
    tuner.search(x, y, validation_split=0.2, epochs=20, callbacks=[stop])
    ```

    Args:
        monitor: The metric in the epoch logs to judge runs by. Defaults to
            `"val_loss"`.
        mode: `"min"`, `"max"`, or `"auto"`: decided at the first epoch's end (as
            Keras' `EarlyStopping` does) by `keras_hpx.direction.resolve_direction`:
            the tuner's objective, then the model's metric, then the name; a
            `ValueError` asks for `"min"` or `"max"` when none tells. Defaults to
            `"auto"`.
        rule: A rule name (`"median"`, `"percentile"`, `"successive_halving"` or
            `"asha"`, `"hyperband"`, `"threshold"` or `"divergence"`) or a
            `keras_hpx.stopping.StoppingRule`. With several brackets
            (`"hyperband"`), each run is placed in one by its trial id (its run id
            outside a tuner; numbered trials in synchronous Hyperband's order, the
            most aggressive bracket first), which sets where its judgements begin
            and the runs it is compared with (its bracket's and the more patient
            ones'). Under a tuner with several objectives only successive halving
            and Hyperband are accepted, and they judge every
            objective at once (`keras_hpx.stopping.pareto_rule`: a run is stopped
            only when dominated at its rung); `monitor` is then unused.
            Defaults to `"median"`.
        min_steps: Warm-up epochs every run completes before it can be stopped;
            `None` keeps the named rule's default (2 for median/percentile, 1 for
            the others). Only with a rule name. Defaults to `None`.
        min_runs: How many other runs must have reached an epoch before the rule
            stops anything there; `None` keeps the named rule's default (3 for
            median/percentile, 2 for successive halving, 1 for Hyperband, 0 for
            threshold). Only
            with a rule name. Defaults to `None`.
        store: Where runs share their curves: `None` (the oracle under a tuner,
            else memory), a file path (a `FileStore`, shared by processes), or a
            `CurveStore`. Defaults to `None`.
        report_to_oracle: Under a tuner, report every epoch's logs to the oracle
            (needed for `store=None` to see other trials' curves). Defaults to
            `True`.
        verbose: `1` (or more) prints a line when a run is stopped. Defaults to `0`.

    Attributes:
        stopped_epoch: The epoch at which the last run was stopped, or `None`.
        early_stop: The last run's `EarlyStop` record, or `None`.
        decision: The rule's last `Decision`, or `None`.
        run_id: The identifier of the current (or last) run in the store.
        bracket: The rule's bracket the current (or last) run is in (`0` for rules
            with one bracket).
        compared_with: The ids of the runs (trial ids when the oracle holds the
            curves, else store run ids) the last decision looked at.
        rerun_of: Under a tuner, the trial whose configuration the current run
            reruns, or `None`. A trial with the hyperparameters of another trial
            that was stopped early is a rerun the oracle asked for
            (`BayesianOracle(rerun_stopped=True)`, once its model still ranks the
            configuration first): it is never stopped. Read from the oracle (over
            gRPC too) at the first stop the rule decides; `None` until then.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        rule: str | StoppingRule = "median",
        min_steps: int | None = None,
        min_runs: int | None = None,
        store: str | CurveStore | None = None,
        report_to_oracle: bool = True,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise invalid("monitor", monitor, "a non-empty metric name", TypeError)
        if not monitor:
            raise invalid("monitor", monitor, "a non-empty metric name")
        check_choice("mode", mode, _MODES)
        report_to_oracle = check_bool("report_to_oracle", report_to_oracle)
        verbose = check_int("verbose", verbose, 0)
        self.rule = get_rule(rule, min_steps=min_steps, min_runs=min_runs)
        self.monitor = monitor
        self.mode = mode
        self.report_to_oracle = report_to_oracle
        self.verbose = verbose
        self._own_store = store is not None
        self._shared = _Shared(get_store(store))
        self._reset_run()

    @property
    def direction(self) -> str | None:
        """`"min"` or `"max"` once resolved (at the first epoch's end for `mode="auto"`),
        else `None`."""
        return self._direction

    @property
    def store(self) -> CurveStore:
        """The curve store shared by this callback and its copies."""
        return self._shared.store

    def _reset_run(self) -> None:
        self.run_id: str | None = None
        self.bracket = 0
        self._judge: StoppingRule = self.rule  # the rule of this run's bracket
        self.stopped_epoch: int | None = None
        self.early_stop: EarlyStop | None = None
        self.decision: Decision | None = None
        self._curve: dict[int, float] = {}
        self._ctx: TunerContext | None = None
        self._direction: str | None = None
        self._objectives: list[str] = []
        self.compared_with: list[str] = []
        self.rerun_of: str | None = None
        self._rerun_checked = False
        # Several objectives (`_start_pareto`): the rule, each objective's direction,
        # and this run's curve of each.
        self._pareto: ParetoSuccessiveHalving | None = None
        self._directions: dict[str, str] = {}
        self._curves: dict[str, dict[int, float]] = {}

    def __deepcopy__(self, memo: dict) -> WeakTrialStopping:
        # Keras Tuner deep-copies callbacks for every execution: the copy must
        # share the store (and the warn-once memory), not clone it.
        new = copy.copy(self)
        memo[id(self)] = new
        new._reset_run()
        return new

    # -- setup ---------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset_run()
        ctx = find_tuner_context()
        self._ctx = ctx
        if ctx is not None:
            self.run_id = f"trial-{ctx.trial_id}-exec{ctx.execution}-{uuid.uuid4().hex[:8]}"
            self._place(str(ctx.trial_id))
            self._objectives = _objective_names(ctx.oracle)
            if len(self._objectives) > 1:
                self._start_pareto(ctx.oracle)
            heartbeat.beat_for(ctx.oracle, ctx.trial_id)
        else:
            self.run_id = f"run-{uuid.uuid4().hex}"
            self._place(self.run_id)

    def _place(self, key: str) -> None:
        """Places the run in the rule's bracket for `key` (the trial id under a tuner, so
        every execution, worker and resume agrees) and records it in the store."""
        self.bracket = self.rule.bracket(key)
        self._judge = self.rule.in_bracket(self.bracket)
        if self.bracket:
            assert self.run_id is not None  # set just before
            self.store.place(self.run_id, self.bracket)

    def _is_rerun(self) -> bool:
        """Whether this trial reruns a configuration stopped early before (read once, at
        the first stop the rule decides; sets `rerun_of`)."""
        if self._ctx is None:
            return False
        if not self._rerun_checked:
            self._rerun_checked = True
            self.rerun_of = self._stopped_before(self._ctx)
        return self.rerun_of is not None

    def _stopped_before(self, ctx: TunerContext) -> str | None:
        """The id of another trial with this trial's hyperparameters that was stopped
        early, or `None`. A keras-hpx oracle proposes a configuration again only after
        its runs were all stopped (`BayesianOracle(rerun_stopped=True)`): such a rerun
        is not judged again. Read from the oracle (over gRPC too); `None` if it cannot
        be read."""
        trial_id = str(ctx.trial_id)

        def twin(trials: list) -> str | None:
            mine = _tuned_values(ctx.trial)
            for trial in trials:
                if str(trial.trial_id) == trial_id or _tuned_values(trial) != mine:
                    continue
                if trial.status != Status.RUNNING and trial.metrics.exists(STOPPED_AT_EPOCH):
                    return str(trial.trial_id)
            return None

        return self._read_oracle(
            "twin",
            "this run is judged as a first run",
            lambda oracle: oracle.stopped_twin(trial_id),
            twin,
        )

    def _resolve_direction(self, logs: dict) -> str:
        """`mode`, or for `"auto"` the direction by the one rule of `keras_hpx.direction`.

        Called at the first epoch's end, when the model's metrics are built.
        """
        objective = _objective(self._ctx.oracle) if self._ctx is not None else None
        direction = resolve_direction(
            self.monitor,
            mode=self.mode,
            objective=objective,
            model_metrics=_model_metrics(self.model),
        )
        if direction is not None:
            return direction
        missing = "" if self.monitor in logs else f" (nor is it in the epoch logs: {sorted(logs)})"
        raise ValueError(
            f"WeakTrialStopping cannot tell whether monitor={self.monitor!r} should be "
            f"minimised or maximised{missing}; pass mode='min' or mode='max'."
        )

    # -- each epoch ----------------------------------------------------------

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if self.run_id is None:  # used without on_train_begin (e.g. a custom loop)
            self.on_train_begin()
        run_id = self.run_id
        assert run_id is not None  # set by on_train_begin
        if self._pareto is not None:
            self._pareto_epoch_end(epoch, _numeric(logs))
            return
        if self._direction is None:
            self._direction = self._resolve_direction(logs)
        metrics = _numeric(logs)
        report = self._can_report(metrics)
        value = metrics.get(self.monitor)
        if value is None:
            self._warn_missing(logs)
            if report:
                self._report(epoch, metrics)
            return

        self._curve[epoch] = value
        self.store.append(run_id, epoch, value)
        decision = self._final_epoch_kept(
            epoch,
            self._judge.decide(
                self._curve, self._references(report, epoch), epoch, mode=self._direction
            ),
        )
        if decision.stop and self._is_rerun():
            decision = dataclasses.replace(
                decision,
                stop=False,
                reason=f"{decision.reason}; not stopped: a rerun of trial {self.rerun_of}'s "
                "configuration, which was stopped early (the oracle proposed it again)",
            )
        self.decision = decision
        stop = self._early_stop(epoch, decision) if decision.stop else None
        if report:
            trial = self._report(epoch, {**metrics, **(stop.to_metrics() if stop else {})})
            if stop is None and _status(trial) == "STOPPED":
                self.decision = Decision(True, "the oracle answered STOPPED", epoch, value)
                stop = EarlyStop(step=epoch, reason="the oracle answered STOPPED")
                # The objectives again at the same step (their means are unchanged): Keras
                # Tuner refuses a report without them.
                again = {name: metrics[name] for name in self._objectives}
                self._report(epoch, {**again, **stop.to_metrics()})
        if stop is not None:
            self._stop(stop)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._ctx is not None:
            heartbeat.stop_beat(self._ctx.oracle)
        if self.run_id is not None and self.stopped_epoch is None and self._curve:
            self.store.finish(self.run_id, stopped=False)

    def _final_epoch_kept(self, epoch: int, decision: Decision) -> Decision:
        """A stop at the run's last epoch (Keras' `epochs`) saves nothing: the run is
        not stopped there, so it ends as a completed run, not as a stopped one."""
        epochs = (self.params or {}).get("epochs")
        if not decision.stop or not isinstance(epochs, int) or epoch + 1 < epochs:
            return decision
        return dataclasses.replace(
            decision,
            stop=False,
            reason=f"{decision.reason}; not stopped: epoch {epoch + 1} is the last",
        )

    def _can_report(self, metrics: dict[str, float]) -> bool:
        """Whether this epoch can go to the oracle: a tuner runs us and the logs
        hold every objective (Keras Tuner raises inside its lock otherwise)."""
        if self._ctx is None or not self.report_to_oracle or not self._objectives:
            return False
        return all(name in metrics for name in self._objectives)

    def _report(self, epoch: int, metrics: dict[str, float]) -> Any:
        try:
            ctx = self._ctx
            assert ctx is not None  # `_can_report` checked it
            trial = ctx.oracle.update_trial(ctx.trial_id, metrics, step=epoch)
        except Exception as err:  # never crash training over a report
            self._warn_once(
                "report",
                f"WeakTrialStopping could not report epoch {epoch} to the oracle "
                f"({type(err).__name__}: {err}); using its own store instead.",
            )
            return None
        return trial

    def _references(self, report: bool, epoch: int) -> list[dict[int, float]]:
        """The curves of the other runs this run is compared with (`rule.compares`):
        from the oracle under a tuner, else from the store."""
        if epoch + 1 < self._judge.min_steps:
            # Warm-up: the rule stops nothing whatever the others did; read nothing.
            self.compared_with = []
            return []
        refs = None
        if report and not self._own_store and self._ctx is not None:
            refs = self._oracle_references()
            if refs is not None:
                refs = {tid: c for tid, c in refs.items() if self._compares_trial(tid)}
        if refs is None:
            refs = {
                rid: c.values
                for rid, c in self.store.curves().items()
                if rid != self.run_id and c.values and self._compares(c.bracket)
            }
        self.compared_with = list(refs)
        return list(refs.values())

    def _compares(self, bracket: int) -> bool:
        """Whether this run is compared with a run of `bracket`."""
        return self.rule.compares(self.bracket, bracket)

    def _compares_trial(self, trial_id: str) -> bool:
        """Whether this run is compared with trial `trial_id` (placed by its id)."""
        return self._compares(self.rule.bracket(trial_id))

    def _bracket_label(self) -> str:
        """`" (bracket b)"` for a rule with several brackets, else `""`: for stop reasons."""
        return f" (bracket {self.bracket})" if self._judge is not self.rule else ""

    def _oracle_references(self) -> dict[str, dict[int, float]] | None:
        ctx = self._ctx
        assert ctx is not None  # the only caller checks it
        trial_id = ctx.trial_id
        return self._read_oracle(
            "read",
            "using its own store instead",
            lambda oracle: oracle.curves(self.monitor, exclude=trial_id),
            lambda trials: trial_curves(trials, self.monitor, exclude=trial_id),
        )

    def _read_oracle(
        self,
        key: str,
        otherwise: str,
        in_process: Callable[[Any], Any],
        from_trials: Callable[[list], Any],
    ) -> Any:
        """`in_process(oracle)` for a keras-hpx oracle in this process (kept as reports
        arrive), else `from_trials(every trial)` read with `get_best_trials` (any oracle,
        also over gRPC). `None`, with a warning once per `key` that says what happens
        `otherwise`, when the oracle cannot be read."""
        from keras_hpx.oracles.base import HpxOracle  # imports Keras Tuner: under a tuner only

        assert self._ctx is not None  # callers check it
        oracle = self._ctx.oracle
        try:
            if isinstance(oracle, HpxOracle):
                return in_process(oracle)
            trials = oracle.get_best_trials(_ALL_TRIALS)
        except Exception as err:
            self._warn_once(
                key,
                f"WeakTrialStopping could not read trials from the oracle "
                f"({type(err).__name__}: {err}); {otherwise}.",
            )
            return None
        return from_trials(trials)

    # -- several objectives ----------------------------------------------------

    def _start_pareto(self, oracle: Any) -> None:
        """Several objectives: successive halving by non-dominated rank
        (`keras_hpx.stopping.pareto_rule`), judged on every objective at once; the
        other trials' curves come from the oracle. Other rules and own stores are
        refused (a single-metric rule would cut the front's trade-offs). With several
        brackets (`"hyperband"`), each bracket is successive halving by rank."""
        mapping = getattr(_objective(oracle), "name_to_direction", None)
        if not isinstance(self._judge, SuccessiveHalvingRule) or self._own_store:
            raise _multi_objective_error(self.monitor, self._objectives)
        if not isinstance(mapping, dict) or not self.report_to_oracle:
            raise _multi_objective_error(self.monitor, self._objectives)
        self._pareto = ParetoSuccessiveHalving.like(self._judge)
        self._directions = {str(k): str(v) for k, v in mapping.items()}
        self._direction = "min"  # unused: each objective has its own

    def _pareto_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        assert self._pareto is not None  # the only caller checks it
        for name in self._directions:
            if name in metrics:
                self._curves.setdefault(name, {})[epoch] = metrics[name]
        report = self._can_report(metrics)
        stop = None
        if report and epoch + 1 >= self._pareto.min_steps:
            refs = self._pareto_references()
            self.compared_with = list(refs)
            self.decision = self._final_epoch_kept(
                epoch, self._pareto.decide(self._curves, refs.values(), epoch, self._directions)
            )
            if self.decision.stop:
                stop = EarlyStop(
                    step=epoch,
                    reason=(
                        f"{', '.join(self._directions)}{self._bracket_label()}: "
                        f"{self.decision.reason}"
                    ),
                    rule=self._pareto.name,
                )
        if report:
            self._report(epoch, {**metrics, **(stop.to_metrics() if stop else {})})
        if stop is not None:
            self._stop(stop)

    def _pareto_references(self) -> dict[str, dict[str, dict[int, float]]]:
        """The other trials' curves of every objective: `{trial_id: {name: curve}}`."""
        from keras_hpx.oracles.base import HpxOracle  # imports Keras Tuner: under a tuner only

        ctx = self._ctx
        assert ctx is not None  # only under a tuner
        by_name = {}
        try:
            trials = None
            for name in self._directions:
                if isinstance(ctx.oracle, HpxOracle):  # in this process: kept as reports arrive
                    by_name[name] = ctx.oracle.curves(name, exclude=ctx.trial_id)
                else:  # any oracle, also over gRPC: one read for every objective
                    if trials is None:
                        trials = ctx.oracle.get_best_trials(_ALL_TRIALS)
                    by_name[name] = trial_curves(trials, name, exclude=ctx.trial_id)
        except Exception as err:
            self._warn_once(
                "read",
                f"WeakTrialStopping could not read trials from the oracle "
                f"({type(err).__name__}: {err}); this epoch stops nothing.",
            )
            return {}
        refs: dict[str, dict[str, dict[int, float]]] = {}
        for name, curves in by_name.items():
            for trial_id, curve in curves.items():
                if self._compares_trial(trial_id):
                    refs.setdefault(trial_id, {})[name] = curve
        return refs

    def _early_stop(self, epoch: int, decision: Decision) -> EarlyStop:
        """The record of a stop the rule decided at `epoch`."""
        return EarlyStop(
            step=epoch,
            reason=f"{self.monitor}{self._bracket_label()}: {decision.reason}",
            rule=self.rule.name,
        )

    def _stop(self, stop: EarlyStop) -> None:
        """Stops the run and records `stop` in the store and a keras-hpx oracle."""
        self.model.stop_training = True
        self.stopped_epoch = stop.step
        self.early_stop = stop
        assert self.run_id is not None  # called from on_epoch_end, which set it
        self.store.finish(self.run_id, stopped=True, reason=stop.reason, step=stop.step)
        if self._ctx is not None:
            from keras_hpx.oracles.base import HpxOracle

            if isinstance(self._ctx.oracle, HpxOracle):  # in this process: the full record
                try:
                    self._ctx.oracle.record_early_stop(self._ctx.trial_id, stop)
                except Exception as err:  # never crash training over a record
                    self._warn_once(
                        "record",
                        f"WeakTrialStopping: oracle.record_early_stop failed "
                        f"({type(err).__name__}: {err}).",
                    )
        if self.verbose:
            print(f"WeakTrialStopping: {self._run_label()} stopped {stop.describe()}", flush=True)

    def _run_label(self) -> str:
        return f"trial {self._ctx.trial_id}" if self._ctx is not None else f"run {self.run_id}"

    # -- warnings ------------------------------------------------------------

    def _warn_missing(self, logs: dict) -> None:
        self._warn_once(
            "monitor",
            f"WeakTrialStopping: monitor={self.monitor!r} is not in the epoch logs, so no run "
            f"is judged. Available metrics: {sorted(logs)}.",
        )

    def _warn_once(self, key: str, message: str) -> None:
        with self._shared.lock:
            if key in self._shared.warned:
                return
            self._shared.warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def get_config(self) -> dict:
        store = self.store
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "rule": repr(self.rule),
            "store": store.path if isinstance(store, FileStore) else None,
            "report_to_oracle": self.report_to_oracle,
            "verbose": self.verbose,
        }

    def __repr__(self) -> str:
        return (
            f"WeakTrialStopping(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"rule={self.rule!r}, store={self.store!r})"
        )


def trial_curves(
    trials: Any, metric: str, exclude: str | None = None
) -> dict[str, dict[int, float]]:
    """Per-step curves of `metric` from Keras Tuner trials (mean over executions).

    What an oracle needs to run a `keras_hpx.stopping` rule itself, e.g. in its
    `update_trial`, to answer `STOPPED` (which this callback obeys).

    Args:
        trials: An iterable of `keras_tuner` `Trial`s (e.g. `oracle.trials.values()`).
        metric: The metric name.
        exclude: A trial id to leave out (the one being judged). Defaults to `None`.

    Returns:
        `{trial_id: {step: value}}` for every trial that reported `metric`.
    """
    curves = {}
    for trial in trials:
        trial_id = str(trial.trial_id)
        if trial_id == exclude or not trial.metrics.exists(metric):
            continue
        history = trial.metrics.get_history(metric)
        curves[trial_id] = {int(obs.step): float(obs.mean()) for obs in history}
    return curves


def _numeric(logs: dict) -> dict[str, float]:
    """The logs' scalar values as Python floats (what gRPC and JSON accept)."""
    out = {}
    for key, value in logs.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _objective(oracle: Any) -> Any:
    """The oracle's objective, or `None` when it has none it can tell."""
    try:
        return oracle.objective
    except Exception:  # e.g. an OracleClient whose chief is gone
        return None


def _objective_names(oracle: Any) -> list[str]:
    objective = _objective(oracle)
    mapping = getattr(objective, "name_to_direction", None)
    if isinstance(mapping, dict):
        return list(mapping)
    name = getattr(objective, "name", None)
    return [name] if name else []


def _model_metrics(model: Any) -> list[Any]:
    found = []
    for metric in getattr(model, "metrics", None) or []:
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, list):
            found.extend(inner)
        else:
            found.append(metric)
    return found


def _status(trial: Any) -> str | None:
    status = getattr(trial, "status", None)
    return None if status is None else str(status)


def _multi_objective_error(monitor: str, objectives: list[str]) -> Exception:
    """The limitation, said once: Keras Tuner ends the search on a `FatalError`."""
    from keras_tuner import errors

    return errors.FatalValueError(
        f"WeakTrialStopping judges one metric (monitor={monitor!r}) with this rule, but "
        f"this search has several objectives {objectives}: stopping a run on one of them "
        "would cut the trade-offs the Pareto front is made of (a smaller model with a "
        "lower accuracy). Under several objectives use rule='asha' or rule='hyperband' "
        "(successive halving by non-dominated rank, judged on every objective), with store=None and "
        "report_to_oracle=True, or leave WeakTrialStopping out."
    )


def _tuned_values(trial: Any) -> dict:
    """A trial's hyperparameter values without Keras Tuner's own (`tuner/...`)."""
    values = getattr(getattr(trial, "hyperparameters", None), "values", None) or {}
    return {k: v for k, v in values.items() if not str(k).startswith("tuner/")}
