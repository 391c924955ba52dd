"""`HpxOracle`: the Keras Tuner glue shared by every keras-hpx oracle.

A subclass writes one method, `propose(trial_id)`: a new configuration, or
`None` when nothing new is left. This class adapts Keras Tuner's hooks
(`populate_space`, `create_trial`, `update_trial`, `end_trial`, `score_trial`,
`get_state`/`set_state`) to small parts, each in its own module:

* `tried.TriedIndex`: configurations that ran or are running (never repeated);
* `warm_start.WarmStartQueue`: `enqueue_trial` entries, run first;
* `keras_hpx.stopping.search`: search-level rules (`max_time`, `max_epochs`,
  `target`, `patience`, or your own `stop_rules`), each a `Decision`;
* `reporter.TrialReporter`: `trials.csv` and the progress line;
* `keras_tuner_adapter`: Keras Tuner's private parts, and a lock that is
  always released;
* `keras_hpx.records`: the typed records (`SearchEnd`, `EarlyStop`, `Status`).

The search's state is a `SearchEnd | None`: `None` while searching; an
`EXHAUSTED` end is re-judged (after a resume, or when the space grows); any
other kind is final. The oracle answers `IDLE` while trials still run and
nothing new is left (their results or newly discovered hyperparameters may open
the space), and sleeps a little *after* releasing its lock so an idle worker
does not spin a core; `STOPPED` only when the search is over.

Resume: settings that decide *which* trials run (seed, sampler, grid points,
the Bayesian model's settings) are saved and win on resume, as Keras Tuner
does for its own; settings that decide *when to stop* or *how to report*
(`max_time`, `max_epochs`, `target`, `patience`, `stop_rules`, `progress`) come
from the constructor. The time and the epochs already spent are saved and
summed over resumes. Everything else is rebuilt from the trials.

Epochs (`max_epochs`, `epochs_trained`): each trial's epochs are counted from
the steps it reported (`keras_hpx.stopping.search.count_epochs`): exact when a
callback reports every epoch (`WeakTrialStopping`), a lower bound (its best
epoch + 1, with a warning) when Keras Tuner reports the final result only. A
finished trial's count is kept (and saved); running trials are counted live;
the epochs of runs that were thrown away (a lost lease, a crash) stay counted.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras_tuner
import numpy as np

from keras_hpx import files, report
from keras_hpx.checks import check_bool, check_int, check_number, invalid
from keras_hpx.oracles import keras_tuner_adapter as kta
from keras_hpx.oracles import objectives, recovery
from keras_hpx.oracles.leases import LeaseBook, LostLease
from keras_hpx.oracles.reporter import SearchSnapshot, TrialReporter
from keras_hpx.oracles.tried import TriedIndex
from keras_hpx.oracles.warm_start import WarmStartQueue
from keras_hpx.records import STOPPED_AT_EPOCH, EarlyStop, EndKind, SearchEnd, Status
from keras_hpx.space import Space
from keras_hpx.stopping.search import (
    EpochCount,
    SearchProgress,
    SearchRule,
    count_epochs,
    first_stop,
    search_rules,
)

__all__ = ["HpxOracle"]

# Seconds an IDLE answer waits (outside the lock): the tuner asks again at once, so
# this keeps an idle worker from spinning a core (or the chief's gRPC server).
IDLE_WAIT = 0.05
# Seconds between two copies of oracle.json kept as oracle.json.prev (a link and a
# rename: half a millisecond, worth not paying at every save of a fast search).
KEEP_PREVIOUS_EVERY = 5.0


class HpxOracle(keras_tuner.Oracle):
    """Base class of the keras-hpx oracles; subclass it and write `propose`.

    Args:
        objective: A string, `keras_tuner.Objective`, or list of them: the
            quantity to optimise. Defaults to `None` (Keras Tuner's default).
        max_trials: Maximum number of trials (failed ones count). Defaults to
            `None`: no limit beyond the oracle's own end and the stopping rules.
        hyperparameters: A `HyperParameters` search space; more may be discovered
            while building the model. Defaults to `None`.
        allow_new_entries: Whether the model may register hyperparameters not in
            `hyperparameters`. Defaults to `True`.
        tune_new_entries: Whether such new hyperparameters are tuned (else they
            keep their defaults). Defaults to `True`.
        seed: Seed of all the oracle's randomness; same seed, same trials.
            Defaults to `None` (a random seed, saved with the oracle).
        max_retries_per_trial: Times a crashing trial is retried. Defaults to `0`.
        max_consecutive_failed_trials: Failed trials in a row that end the search
            with an error. Defaults to `3`.
        max_time: Seconds of search (summed over resumes) after which no new
            trial starts. Defaults to `None`.
        max_epochs: Epochs of training over all trials after which no new trial
            starts; running trials finish (so the search may end a little above
            it). Counted as `epochs_trained`: every execution's epochs, running
            trials' epochs so far, summed over resumes. Exact when each epoch
            is reported to the oracle (`keras_hpx.WeakTrialStopping` does,
            when the epoch logs hold the objective; `rule="threshold"` stops
            only diverging runs, for a search without weak-trial stopping); a
            trial that reports only its final result (plain Keras Tuner) counts
            as its best epoch + 1, a lower bound, with a warning. Defaults to
            `None`.
        target: An objective value that ends the search once a trial reaches it.
            Defaults to `None`.
        patience: Completed trials without improvement that end the search.
            Defaults to `None`.
        stop_rules: More search-level rules (`keras_hpx.stopping.search.SearchRule`),
            checked after `max_time`, `max_epochs`, `target` and `patience`.
            Defaults to `()`.
        trial_timeout: Seconds a running trial may go without a report (an
            epoch's report, or a heartbeat from a keras-hpx callback) before
            its worker is taken for dead: the trial is rerun on another worker
            (and failed if it loses a second worker), the worker is forgotten so
            the chief can exit. Without a keras-hpx callback in the trial, Keras
            Tuner reports only when a trial ends: set it above your longest
            trial then. Defaults to `None` (wait for ever, as Keras Tuner).
        progress: Print one line per finished trial (k of N, best so far, time
            left). Defaults to `False`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        *,
        hyperparameters: Any = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        max_time: float | None = None,
        max_epochs: int | None = None,
        target: float | None = None,
        patience: int | None = None,
        stop_rules: Sequence[SearchRule] = (),
        trial_timeout: float | None = None,
        progress: bool = False,
    ):
        # Everything is validated before any state exists.
        check_int("max_trials", max_trials, 1, allow_none=True)
        check_int("max_epochs", max_epochs, 1, allow_none=True)
        seed = check_int("seed", seed, 0, allow_none=True)
        check_int("max_retries_per_trial", max_retries_per_trial, 0)
        check_int("max_consecutive_failed_trials", max_consecutive_failed_trials, 1)
        check_bool("allow_new_entries", allow_new_entries)
        check_bool("tune_new_entries", tune_new_entries)
        check_bool("progress", progress)
        check_number(
            "trial_timeout", trial_timeout, positive=True, allow_none=True, what="number of seconds"
        )
        rules = search_rules(
            max_time=max_time, target=target, patience=patience, max_epochs=max_epochs
        )
        extra = list(stop_rules) if isinstance(stop_rules, (list, tuple)) else None
        if extra is None or not all(isinstance(r, SearchRule) for r in extra):
            raise invalid(
                "stop_rules",
                stop_rules,
                "a list of keras_hpx.stopping.search.SearchRule objects",
                TypeError,
            )
        if hyperparameters is not None and not isinstance(
            hyperparameters, keras_tuner.HyperParameters
        ):
            raise invalid(
                "hyperparameters",
                hyperparameters,
                "a keras_tuner.HyperParameters or None",
                TypeError,
            )
        _check_objective(objective)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        self._given_seed = seed  # a resume keeps the saved seed; told if this differs
        if seed is not None:  # Keras Tuner reads `seed or random`, which loses seed=0
            self.seed = int(seed)
            self._seed_state = self.seed
        if self.multi_objective:
            kta.accept_multi_objective_dicts()
        self.max_time = None if max_time is None else float(max_time)
        self.max_epochs = None if max_epochs is None else int(max_epochs)
        self.target = None if target is None else float(target)
        self.patience = patience
        self.stop_rules: list[SearchRule] = rules + extra
        self.reporter = TrialReporter(progress=progress)
        self.warm_start = WarmStartQueue()
        self.search_end: SearchEnd | None = None
        self.trial_timeout = None if trial_timeout is None else float(trial_timeout)
        self.leases = None if trial_timeout is None else LeaseBook(trial_timeout)
        self.damaged_trials: set[str] = set()
        self.lost_leases: list[LostLease] = []
        """Every lease lost in this search (saved), oldest first."""
        self._awaiting_rerun: set[str] = set()  # lost their worker, not handed out again yet
        # Saved with the oracle.
        self._elapsed_before = 0.0
        self._start_times: dict[str, float] = {}
        self._early_stops: dict[str, EarlyStop] = {}
        self._finished_epochs: dict[str, int] = {}  # epochs of each finished trial
        self._discarded_epochs = 0  # of runs thrown away (lost leases, crashes)
        # Derived from the trials, never saved.
        self._session_start: float | None = None
        self._space_cache: tuple[int, Space] | None = None
        self._tried: TriedIndex | None = None
        self._tried_space: Space | None = None
        self._indexed_upto = 0
        self._curves: dict[str, dict[str, dict[int, float]]] | None = None
        self._metric_directions: dict[str, str] = {}  # as Keras Tuner infers them
        self._in_end_trial = False
        self._kept_at: float | None = None
        self._warned_epochs = False

    # ----- the one method subclasses write ------------------------------------------------

    def propose(self, trial_id: str) -> dict | None:
        """Returns the active values of a new, untried configuration, or `None`.

        Called under the oracle's lock. `self.is_tried(values)` tells whether a
        configuration ran or is running; `self.space` is the encoded space.
        An exception is caught: the trial is not started and a warning says why.
        """
        raise NotImplementedError

    def expected_trials(self) -> int | None:
        """Number of trials the search will run, when known (else `None`)."""
        return None

    # ----- space and tried configurations -------------------------------------------------

    @property
    def space(self) -> Space:
        """The current search space, encoded: a cached function of `hyperparameters`.

        A new `Space` object when hyperparameters were added; parts that cache
        something per space compare it by identity.
        """
        version = len(self.hyperparameters.space)
        if self._space_cache is None or self._space_cache[0] != version:
            self._space_cache = (version, Space.from_keras_tuner(self.hyperparameters))
        return self._space_cache[1]

    def _tried_index(self) -> TriedIndex:
        space = self.space
        if self._tried is None or self._tried_space is not space:
            self._tried, self._tried_space, self._indexed_upto = TriedIndex(space.key), space, 0
        order = self.start_order
        for trial_id in order[self._indexed_upto :]:
            trial = self.trials.get(trial_id)
            if trial is not None and trial_id not in self.damaged_trials:
                self._tried.add(trial_id, trial.hyperparameters.values)
        self._indexed_upto = len(order)
        return self._tried

    def is_tried(self, values: Mapping[str, Any]) -> bool:
        """Whether the active part of `values` ran, or is running."""
        return values in self._tried_index()

    def rng_for(self, *stream: int) -> np.random.Generator:
        """A Generator determined by the oracle's seed and `stream` (e.g. a trial number)."""
        return np.random.default_rng([int(self.seed), *map(int, stream)])

    # ----- Keras Tuner's hooks ------------------------------------------------------------

    def populate_space(self, trial_id: str) -> dict:
        if self._session_start is None:
            self._session_start = time.monotonic()
        if self._search_over():
            return {"status": Status.STOPPED}
        space = self.space
        if not len(space) and self.trials and not self.ongoing_trials:
            # A first trial ran with the defaults and declared nothing to tune.
            self._end(
                EndKind.EMPTY_SPACE, "empty search space: the model declared no hyperparameters"
            )
            end = self.search_end
            assert end is not None  # set by `_end`
            warnings.warn(f"keras-hpx: {end.reason}; nothing to search.", stacklevel=2)
            return {"status": Status.STOPPED}
        try:
            values = self.warm_start.pop(space, self.is_tried)
            if values is None:
                values = self.propose(trial_id)
        except Exception as e:  # a proposal error must not end a search with trials running
            warnings.warn(f"{type(self).__name__}.propose failed: {e!r}", stacklevel=2)
            values = None
            if not self.ongoing_trials:
                self._end(EndKind.PROPOSAL_FAILED, f"proposal failed: {e!r}")
                return {"status": Status.STOPPED}
        if values is None:
            if self.ongoing_trials or kta.retry_queue(self):
                return {"status": Status.IDLE}
            self._end(EndKind.EXHAUSTED, "search space exhausted")
            return {"status": Status.STOPPED}
        self.search_end = None  # a grown space re-opened an exhausted search
        self._start_times[trial_id] = time.time()
        return {"status": Status.RUNNING, "values": values}

    def create_trial(self, tuner_id: str) -> Any:
        trial = self._create_trial(tuner_id)
        if trial.status == Status.IDLE:
            time.sleep(IDLE_WAIT)  # outside the lock: other workers' reports go through
        return trial

    @kta.synchronized
    def _create_trial(self, tuner_id: str) -> Any:
        if self.leases is not None:
            for lost in self.leases.expired(
                [(t, trial.trial_id) for t, trial in self.ongoing_trials.items()]
            ):
                self._lease_lost(lost)
        if (
            self.max_trials
            and len(self.trials) >= self.max_trials
            and tuner_id not in self.ongoing_trials
            and not kta.retry_queue(self)
            and self.ongoing_trials
        ):
            # Keras Tuner answers STOPPED here; but a running trial may still fail and be
            # retried, or lose its worker and be rerun: wait with the others (IDLE).
            self.tuner_ids.add(tuner_id)
            return kta.new_trial(self.hyperparameters.copy(), "idle", Status.IDLE)
        for ended in [t for t in kta.retry_queue(self) if t in self.end_order]:
            self._forget_ended(ended)
        held = self.ongoing_trials.get(tuner_id)
        if held is not None and held.trial_id in self.end_order:
            self._forget_ended(held.trial_id)
        trial = super().create_trial(tuner_id)
        if trial.status == Status.RUNNING:
            self._awaiting_rerun.discard(trial.trial_id)  # handed out again
            if trial.trial_id not in self._start_times:
                self._start_times[trial.trial_id] = time.time()  # a retried trial
            if self.leases is not None:
                self.leases.heard(trial.trial_id)
        return trial

    def _lease_lost(self, lost: LostLease) -> None:
        """A worker went silent: forget it, and rerun its trial (or fail it, the second time)."""
        trial = self.trials[lost.trial_id]
        self.ongoing_trials.pop(lost.tuner_id, None)
        self.tuner_ids.discard(lost.tuner_id)  # so the chief can exit without it
        message = "lease lost: " + lost.describe(self.trial_timeout or 0.0)
        trial.message = message
        self.lost_leases.append(lost)
        self._discarded_epochs += self.trial_epochs(trial).epochs  # spent, even if thrown away
        trial.metrics = kta.new_metrics()  # the rerun starts clean; late reports are dropped
        self._early_stops.pop(str(lost.trial_id), None)  # a stop of the lost run
        if self._curves is not None:
            for by_trial in self._curves.values():
                by_trial.pop(lost.trial_id, None)
        if lost.losses >= 2:
            warnings.warn(f"keras-hpx: trial {lost.trial_id} failed: {message}.", stacklevel=3)
            trial.status = Status.FAILED
            self.end_order.append(lost.trial_id)
            self._report_end(trial)
        else:
            warnings.warn(
                f"keras-hpx: trial {lost.trial_id}: {message}; it is rerun by the next worker.",
                stacklevel=3,
            )
            trial.status = Status.INVALID  # Keras Tuner's "waiting for a retry"
            kta.retry_queue(self).append(lost.trial_id)
            self._awaiting_rerun.add(lost.trial_id)
        self._save_trial(trial)
        self.save()

    def _forget_ended(self, trial_id: str, release_workers: bool = True) -> None:
        """An ended trial is not retried any more, nor (`release_workers`) held by a worker.

        Two runs of one trial can both report: the run a restarted chief put back in the
        retry queue (its worker was alive) and the rerun, or a worker taken for dead
        and its replacement. The first end counts; handing the trial out again, or
        leaving it with the other run's worker, made that worker rerun it for ever
        (Keras Tuner gives a worker its ongoing trial again).
        """
        queue = kta.retry_queue(self)
        while trial_id in queue:
            queue.remove(trial_id)
        self._awaiting_rerun.discard(trial_id)
        if not release_workers:
            return
        for tuner_id in [k for k, t in self.ongoing_trials.items() if t.trial_id == trial_id]:
            del self.ongoing_trials[tuner_id]

    def _late(self, trial_id: str) -> bool:
        """Whether a report for `trial_id` comes too late: its worker was taken for dead and
        the trial waits for its rerun, or the trial has ended already."""
        return trial_id in self._awaiting_rerun or trial_id in self.end_order

    @kta.synchronized
    def get_trial(self, trial_id: str) -> Any:
        """The trial; from the trial's own worker, also a heartbeat (keeps its lease)."""
        trial = super().get_trial(trial_id)
        if self.leases is not None and trial.status == Status.RUNNING:
            self.leases.heard(trial_id)
        return trial

    @kta.synchronized
    def update_trial(self, trial_id: str, metrics: dict, step: int = 0) -> Any:
        if self._late(trial_id):
            warnings.warn(
                f"keras-hpx: a late report for trial {trial_id} (its worker was taken for "
                "dead, or it has ended) is ignored.",
                stacklevel=2,
            )
            return self.trials[trial_id]
        if self.leases is not None:
            self.leases.heard(trial_id)
        trial = self.trials[trial_id]
        if self.objective.has_value(metrics) and all(trial.metrics.exists(n) for n in metrics):
            # Every epoch's report after the first: add the values to their histories.
            # Keras Tuner's `MetricsTracker.update` recomputes a metric's best value over
            # all its steps twice per call (for a flag `update_trial` drops): per-epoch
            # reports made that quadratic in the epochs.
            for name, value in metrics.items():
                trial.metrics.metrics[name].update(float(value), step=step)
            self._save_trial(trial)
        else:  # a new metric (registered with its direction), or a missing objective (raises)
            if self.objective.has_value(metrics):
                # Keras Tuner infers a metric's direction by building a Keras metric (about
                # 10 ms each, every trial): once per name is enough.
                for name in metrics:
                    known = self._metric_directions.get(name)
                    if known is not None and not trial.metrics.exists(name):
                        trial.metrics.register(name, direction=known)
            trial = super().update_trial(trial_id, metrics, step=step)
            for name in metrics:
                self._metric_directions[name] = trial.metrics.metrics[name].direction
        if self._curves is not None:
            self._index_step(trial, metrics, step)
        if STOPPED_AT_EPOCH in metrics and str(trial_id) not in self._early_stops:
            stop = EarlyStop.from_metrics(metrics)  # the wire form (over gRPC: the only one)
            if stop is not None:
                self._early_stops[str(trial_id)] = stop
        return trial

    @kta.synchronized
    def end_trial(self, trial: Any) -> None:
        if self._late(trial.trial_id):
            warnings.warn(
                f"keras-hpx: the late result of trial {trial.trial_id} (its worker was taken "
                "for dead and the trial is rerun, or it has ended) is ignored.",
                stacklevel=2,
            )
            if trial.trial_id in self.end_order:
                self._forget_ended(trial.trial_id)  # its worker must get a new trial
            return
        self._in_end_trial = True  # one state write at the end instead of two
        try:
            super().end_trial(trial)
        finally:
            self._in_end_trial = False
        trial_id = trial.trial_id
        stored = self.trials[trial_id]
        if trial_id in self.end_order:  # ended: another run of it is not to be started
            self._forget_ended(trial_id, release_workers=False)  # another still runs it
        self._tried_index().add(trial_id, stored.hyperparameters.values)  # new hps may appear
        if self.leases is not None:
            self.leases.forget(trial_id)
        if stored.status in Status.FINISHED:
            self._report_end(stored)
        self.save()

    def _report_end(self, trial: Any) -> None:
        start = self._start_times.pop(trial.trial_id, None)
        seconds = None if start is None else time.time() - start
        count = self.trial_epochs(trial)
        self._finished_epochs[str(trial.trial_id)] = count.epochs
        if not count.exact:
            self._warn_inexact_epochs(trial, count)
        try:
            self.reporter.trial_ended(
                trial,
                self.space.active_values(trial.hyperparameters.values),
                seconds,
                self._early_stops.get(trial.trial_id),
                kta.project_dir(self),
                self._snapshot(),
                epochs=count.epochs if self.max_epochs is not None else None,
            )
        except Exception as e:  # reporting is a courtesy; the search goes on
            warnings.warn(f"Could not report trial {trial.trial_id}: {e!r}", stacklevel=2)

    def score_trial(self, trial: Any) -> None:
        """Scores a trial; a NaN or infinite objective or metric makes it fail, with a reason.

        Keras Tuner only catches NaN objectives; an infinite one would be ranked as
        the best (or worst) trial, and a diverged loss goes unnoticed.
        """
        if self.multi_objective:
            self._score_multi_objective(trial)
        else:
            super().score_trial(trial)
        bad = []
        score = trial.score
        objective_name = getattr(self.objective, "name", None)
        if score is None or not math.isfinite(float(score)):
            bad.append(f"objective {objective_name or 'score'}={score}")
        for name, tracker in trial.metrics.metrics.items():
            history = tracker.get_history()
            if not history or name == objective_name:
                continue
            value = np.asarray(history[-1].value, dtype=float)
            if not np.all(np.isfinite(value)):
                bad.append(f"{name}={float(np.ravel(value)[0])}")
        if bad:
            trial.score = float("nan")  # Keras Tuner marks the trial INVALID (then FAILED)
            trial.message = "non-finite result: " + ", ".join(bad)

    # ----- several objectives (see `objectives.py`) ----------------------------------------

    @property
    def multi_objective(self) -> bool:
        """Whether the search has several objectives (`objective=[...]`)."""
        return isinstance(getattr(self.objective, "objectives", None), list)

    @property
    def objectives(self) -> list[Any]:
        """The `keras_tuner.Objective`s: several, or the one."""
        return objectives.objective_list(self.objective)

    def _score_multi_objective(self, trial: Any) -> None:
        trial.score, trial.best_step = objectives.score_by_sum(self.objective, trial)

    def objective_values(self, trial: Any) -> np.ndarray | None:
        """The trial's objectives, in the order of `objectives`, at its best step (`None`
        if one is missing or not finite)."""
        return objectives.values_at_step(self.objectives, trial)

    def _completed_values(self) -> tuple[list[str], np.ndarray]:
        trials = ((t, self.trials.get(t)) for t in self.start_order)
        return objectives.completed_values(trials, self.objectives)

    def pareto_front(self) -> list[Any]:
        """The completed trials no other completed trial dominates, in the order they started.

        With one objective: the best trials (all that tie for the best score). Trials
        that failed, or whose objectives are missing, NaN or infinite, are never in it;
        equal trials are all in it (none dominates the other).
        """
        ids, values = self._completed_values()
        directions = [o.direction for o in self.objectives]
        return [self.trials[t] for t in objectives.front_ids(ids, values, directions)]

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The best trials; with several objectives, the Pareto front first.

        Several objectives: trials are ordered by non-dominated rank (the front,
        then the front of the rest, ...) and, within a rank, by the sum of their
        objectives normalised to [0, 1] over the completed trials (lowest first: the
        most balanced trade-off first). Then the other trials, as Keras Tuner does.
        One objective: Keras Tuner's order.
        """
        if not self.multi_objective:
            return super().get_best_trials(num_trials)
        ids, values = self._completed_values()
        ordered = objectives.best_order(ids, values, [o.direction for o in self.objectives])
        chosen = set(ordered)
        rest = [t for t in self.start_order if t not in chosen and t in self.trials]
        return [self.trials[t] for t in ordered + rest][:num_trials]

    # ----- the search's end ---------------------------------------------------------------

    @property
    def stop_reason(self) -> str | None:
        """Why the search stopped (a sentence), or `None` while it runs."""
        return None if self.search_end is None else self.search_end.reason

    def _end(self, kind: EndKind, reason: str) -> None:
        if kind is EndKind.RULE and self.search_end is None:
            print(f"keras-hpx: search stopped: {reason}")
        end = SearchEnd(kind, reason)
        changed, self.search_end = end != self.search_end, end
        if changed and kta.project_dir(self) is not None:
            # Keras Tuner saves nothing when it is told STOPPED: without this save the
            # last oracle.json (from the last trial's end) would hold the time and epochs
            # spent before the end, and a resume with the same settings could start
            # trials past `max_time`.
            try:
                self.save()
            except OSError as e:  # the search is over anyway; the next save retries
                warnings.warn(str(e), stacklevel=2)

    def _search_over(self) -> bool:
        if self.search_end is not None and self.search_end.final:
            return True
        decision = first_stop(self.stop_rules, self.progress_record())
        if decision is not None:
            self._end(EndKind.RULE, decision.reason)
            return True
        return False

    def elapsed(self) -> float:
        """Seconds of search so far, summed over resumes."""
        now = 0.0 if self._session_start is None else time.monotonic() - self._session_start
        return self._elapsed_before + now

    def direction(self) -> str:
        """`"min"` or `"max"`: the direction of the objective."""
        return getattr(self.objective, "direction", "min") or "min"

    def completed_scores(self) -> list[float]:
        """Scores of the completed trials, in the order they ended."""
        scores = []
        for trial_id in self.end_order:
            trial = self.trials.get(trial_id)
            if trial is not None and trial.status == Status.COMPLETED and trial.score is not None:
                scores.append(float(trial.score))
        return scores

    def best_score(self) -> float | None:
        """The best finite score of a completed trial, or `None`."""
        return report.best_of(self.completed_scores(), self.direction())

    def progress_record(self) -> SearchProgress:
        """What the search-level rules see now."""
        return SearchProgress(
            self.elapsed(), self.completed_scores(), self.direction(), self.epochs_trained
        )

    def _snapshot(self) -> SearchSnapshot:
        return SearchSnapshot(
            done=len(self.end_order),
            total=self.max_trials or self.expected_trials(),
            best=self.best_score(),
            elapsed=self.elapsed(),
            objective=getattr(self.objective, "name", "score"),
            front=tuple(t.trial_id for t in self.pareto_front()) if self.multi_objective else None,
            epochs=self.epochs_trained,
            max_epochs=self.max_epochs,
        )

    # ----- epochs (max_epochs) ------------------------------------------------------------

    @property
    @kta.synchronized
    def epochs_trained(self) -> int:
        """Epochs trained so far over all trials, summed over executions and resumes.

        Finished trials, plus what running trials have trained so far, plus the
        epochs of runs that were thrown away (a trial rerun after its worker was
        lost, or interrupted by a crash, as of the last saved state). Each
        trial counted by `trial_epochs`; the count `max_epochs` is checked
        against.
        """
        live = sum(
            self.trial_epochs(trial).epochs
            for trial_id, trial in self.trials.items()
            if trial_id not in self._finished_epochs
        )
        return self._discarded_epochs + sum(self._finished_epochs.values()) + live

    def trial_epochs(self, trial: Any) -> EpochCount:
        """The epochs `trial` trained, from its reports (`count_epochs`).

        Read from the objective's history (the first objective's, with several):
        Keras Tuner keeps one value per execution at each reported step, and
        every report holds the objective. A recorded early stop raises the
        bound of a trial that did not report every epoch.

        Args:
            trial: A Keras Tuner trial of this oracle.

        Returns:
            A `keras_hpx.stopping.search.EpochCount` (`epochs`, `exact`).
        """
        name = getattr(self.objectives[0], "name", None) if self.objectives else None
        runs: dict[int, int] = {}
        if name is not None and trial.metrics.exists(name):
            for obs in trial.metrics.get_history(name):
                runs[int(obs.step)] = len(obs.value) if isinstance(obs.value, list) else 1
        stop = self._early_stops.get(str(trial.trial_id))
        return count_epochs(runs, None if stop is None else stop.step)

    def _warn_inexact_epochs(self, trial: Any, count: EpochCount) -> None:
        if self.max_epochs is None or self._warned_epochs:
            return
        self._warned_epochs = True
        warnings.warn(
            f"keras-hpx: max_epochs: trial {trial.trial_id} did not report every epoch to "
            f"the oracle, so it is counted as {count.epochs} epochs (the last epoch it "
            "reported + 1), a lower bound: Keras Tuner reports only a trial's final result, "
            "at its best epoch, and not how many epochs ran or how many executions. For an exact "
            "count, add keras_hpx.WeakTrialStopping to the search's callbacks (it reports "
            "each epoch when the epoch logs hold the objective; rule='threshold' stops only "
            "diverging runs), or report each epoch with "
            "oracle.update_trial(trial_id, logs, step=epoch). This warning is shown once.",
            stacklevel=3,
        )

    # ----- warm start ---------------------------------------------------------------------

    def enqueue_trial(self, values: Mapping[str, Any]) -> None:
        """Runs the configuration `values` before any proposed one (warm start).

        Missing active hyperparameters take their defaults. Validated at once
        against the known space; hyperparameters discovered later are checked
        when the trial is created.

        Args:
            values: Hyperparameter values by name.

        Raises:
            TypeError: `values` is not a dict.
            ValueError: empty, a name not in the space, or a value it does not allow.
        """
        self.warm_start.add(values, self.space, self.allow_new_entries)

    # ----- what the callbacks tell the oracle ---------------------------------------------

    def record_early_stop(self, trial_id: str, stop: EarlyStop) -> None:
        """Notes that a running trial was stopped early (called by `WeakTrialStopping`).

        The trial keeps its status and the best score it reached; `stop.describe()`
        goes to `trials.csv` (column `stopped_reason`). Over gRPC the callback
        cannot call this; the oracle then reads the record's wire form (the
        `stopped_at_epoch` metric) in `update_trial`.

        Args:
            trial_id: The trial.
            stop: The record.

        Raises:
            TypeError: `stop` is not an `EarlyStop`.
        """
        if not isinstance(stop, EarlyStop):
            raise invalid("stop", stop, "a keras_hpx.records.EarlyStop", TypeError)
        self._early_stops[str(trial_id)] = stop

    def early_stop(self, trial_id: str) -> EarlyStop | None:
        """The trial's early stop, or `None` if it was not stopped early."""
        return self._early_stops.get(str(trial_id))

    @kta.synchronized
    def stopped_twin(self, trial_id: str) -> str | None:
        """Another trial with the same configuration as `trial_id` that ended stopped
        early, or `None`: when it exists, `trial_id` is a rerun (`BayesianOracle(
        rerun_stopped=True)`), which `WeakTrialStopping` does not judge again."""
        trial = self.trials.get(str(trial_id))
        if trial is None:
            return None
        key = self.space.key(trial.hyperparameters.values)
        for other_id in self.start_order:
            other = self.trials.get(other_id)
            if (
                other is None
                or other_id == str(trial_id)
                or other.status == Status.RUNNING
                or self.early_stop(other_id) is None
            ):
                continue
            if self.space.key(other.hyperparameters.values) == key:
                return str(other_id)
        return None

    @kta.synchronized
    def curves(self, metric: str, exclude: str | None = None) -> dict[str, dict[int, float]]:
        """Per-step curves of `metric` of every trial that reported it, kept as reports arrive.

        `{trial_id: {step: value}}`, each value the mean over the trial's
        executions at that step. O(trials) to copy the outer mapping; the inner
        curves are live views: read them, do not change them.

        Args:
            metric: The metric name.
            exclude: A trial id to leave out (the one being judged). Defaults to `None`.
        """
        if self._curves is None:
            self._curves = {}
            for trial in self.trials.values():
                self._index_curves(trial, trial.metrics.metrics)
        by_trial = self._curves.get(metric, {})
        return {tid: curve for tid, curve in by_trial.items() if tid != exclude}

    def _index_curves(self, trial: Any, names: Any) -> None:
        curves = self._curves
        assert curves is not None  # both callers check (or build) it first
        for name in names:
            if not trial.metrics.exists(name):
                continue
            history = trial.metrics.get_history(name)
            curves.setdefault(name, {})[str(trial.trial_id)] = {
                int(obs.step): float(obs.mean()) for obs in history
            }

    def _index_step(self, trial: Any, names: Any, step: int) -> None:
        """Updates the kept curves with the trial's values at `step` only (one report)."""
        curves = self._curves
        assert curves is not None  # the only caller checks it
        trial_id = str(trial.trial_id)
        for name in names:
            if not trial.metrics.exists(name):
                continue
            for obs in reversed(trial.metrics.get_history(name)):  # usually the last
                if obs.step == step:
                    curves.setdefault(name, {}).setdefault(trial_id, {})[int(step)] = float(
                        obs.mean()
                    )
                    break

    # ----- persistence --------------------------------------------------------------------

    def get_state(self) -> dict:
        state = super().get_state()
        state["hpx"] = {
            "oracle": type(self).__name__,
            "queue": self.warm_start.items,
            "elapsed": self.elapsed(),
            "start_times": self._start_times,
            "early_stops": {k: v.to_dict() for k, v in self._early_stops.items()},
            "search_end": None if self.search_end is None else self.search_end.to_dict(),
            "damaged_trials": sorted(self.damaged_trials),
            # Read by `keras-hpx plot` (Keras Tuner's own state does not keep the objective).
            "objectives": [
                {"name": o.name, "direction": o.direction}
                for o in self.objectives
                if getattr(o, "name", None) is not None
            ],
            "lost_leases": [dataclasses.asdict(lost) for lost in self.lost_leases],
            "epochs": {
                "finished": dict(self._finished_epochs),
                "discarded": self._discarded_epochs,
                # What running trials have trained so far: a crash throws it away.
                "running": {
                    str(t.trial_id): self.trial_epochs(t).epochs
                    for t in self.ongoing_trials.values()
                },
            },
        }
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        hpx = state.get("hpx", {})
        self.warm_start = WarmStartQueue(hpx.get("queue", []))
        self._elapsed_before = float(hpx.get("elapsed", 0.0))
        self._session_start = None
        self._start_times = dict(hpx.get("start_times", {}))
        self._early_stops = {
            k: EarlyStop.from_dict(v)
            for k, v in hpx.get("early_stops", {}).items()
            if isinstance(v, Mapping)  # 0.1.0 saved sentences: they are in trials.csv already
        }
        end = SearchEnd.from_dict(hpx.get("search_end", hpx.get("stop_reason")))
        # Running out of space and stopping rules are re-judged after a resume (with the
        # resumed settings); any other end is kept.
        self.search_end = end if end is not None and end.final else None
        self.damaged_trials = set(hpx.get("damaged_trials", [])) | self.damaged_trials
        self.lost_leases = [LostLease(**entry) for entry in hpx.get("lost_leases", [])]
        self._set_epochs_state(hpx.get("epochs", {}))
        if self.leases is not None:
            self.leases.losses.clear()
            self.leases.losses.update(lost.trial_id for lost in self.lost_leases)
        self._space_cache = None
        self._tried = None
        self._curves = None

    def _set_epochs_state(self, saved: Mapping[str, Any]) -> None:
        """Epochs from a saved state; trials are already loaded (`reload`)."""
        self._finished_epochs = {str(k): int(v) for k, v in saved.get("finished", {}).items()}
        discarded = int(saved.get("discarded", 0))
        for trial_id, n in saved.get("running", {}).items():
            # Running at the save: what the trial's file does not hold was lost.
            trial = self.trials.get(str(trial_id))
            kept = 0 if trial is None else self.trial_epochs(trial).epochs
            discarded += max(0, int(n) - kept)
        self._discarded_epochs = discarded
        for trial_id in self.end_order:  # saved before max_epochs existed: count them now
            trial = self.trials.get(trial_id)
            if trial_id not in self._finished_epochs and trial is not None:
                self._finished_epochs[trial_id] = self.trial_epochs(trial).epochs

    def reload(self) -> None:
        """Reads the project back (`overwrite=False`), every file checked.

        A damaged `trial.json` costs that trial (kept as `FAILED`, a warning names
        the file); a damaged `oracle.json` is replaced by its previous generation; a
        damaged tuner file (read by Keras Tuner next) by an empty state.
        See `keras_hpx.oracles.recovery`.

        Raises:
            keras_hpx.files.DamagedFileError: `oracle.json` and its previous
                generation are both unreadable (the message says how to recover).
        """
        project = kta.project_dir(self)
        if project is not None:
            recovery.repair_tuner_files(project, kta.oracle_file(self))
        loaded = recovery.load_project(self, self._restore)
        self._warn_changed_settings(loaded.state)
        for trial in self.ongoing_trials.values():  # running at the crash: rerun them
            kta.retry_queue(self).append(trial.trial_id)
        self.ongoing_trials: dict[str, Any] = {}
        for trial_id in loaded.damaged:
            self._save_trial(self.trials[trial_id])
        if loaded.damaged or loaded.used_previous:
            self.save()

    def _warn_changed_settings(self, state: Mapping[str, Any]) -> None:
        """Says when the resumed search is not run as this oracle was built to run it."""
        where = kta.project_dir(self)
        hpx = state.get("hpx", {})
        saved = hpx.get("oracle") if isinstance(hpx, Mapping) else None
        if isinstance(saved, str) and saved != type(self).__name__:
            warnings.warn(
                f"keras-hpx: the project {where} was searched by a {saved}; it resumes "
                f"with this {type(self).__name__}, which skips the configurations tried.",
                stacklevel=3,
            )
        if self._given_seed is not None and self.seed != self._given_seed:
            warnings.warn(
                f"keras-hpx: the project {where} was started with seed={self.seed}; the "
                f"resumed search keeps it (so that it runs the trials an uninterrupted "
                f"search would), not seed={self._given_seed}. For another seed, use a new "
                "project_name or overwrite=True.",
                stacklevel=3,
            )

    def _restore(self, loaded: recovery.LoadedProject) -> None:
        """Takes a project read back; raises on a state of the wrong shape (then
        `load_project` tries the previous generation, which overwrites all of this)."""
        self.trials = dict(loaded.trials)
        for trial_id, path in loaded.damaged.items():
            self.trials[trial_id] = recovery.placeholder_for(loaded.state, trial_id, path)
        self.damaged_trials = set(loaded.damaged)
        self.set_state(loaded.state)

    def save(self) -> None:
        """Writes `oracle.json` atomically, keeping the previous generation beside it.

        Raises:
            OSError: the state could not be written (the message names the file);
                the last good state is untouched and still loads.
        """
        if self._in_end_trial:
            return
        path = kta.oracle_file(self)
        state = self.get_state()
        now = time.monotonic()
        if self._kept_at is None or now - self._kept_at >= KEEP_PREVIOUS_EVERY:
            # A spare generation; the trials that end after it are in their own files.
            if recovery.keep_previous(path):
                self._kept_at = now
        try:
            files.atomic_write_json(path, state)
        except OSError as e:
            raise OSError(
                e.errno,
                f"keras-hpx could not save the search state to {path}: {e.strerror or e}. "
                "The last saved state is intact: free space or fix the directory, then "
                "resume with overwrite=False",
            ) from e

    def _save_trial(self, trial: Any) -> None:
        # Keras Tuner rewrites trial.json at every report; a running trial is rerun
        # after a crash anyway, so the file is written when the trial is created and
        # when it ends, not at every epoch.
        if trial.status == Status.RUNNING and trial.metrics.metrics:
            return
        path = os.path.join(kta.trial_dir(self, trial.trial_id), "trial.json")
        try:
            files.atomic_write_json(path, trial.get_state())
        except OSError as e:
            raise OSError(
                e.errno,
                f"keras-hpx could not save trial {trial.trial_id} to {path}: {e.strerror or e}",
            ) from e


_OBJECTIVE = (
    'a metric name, a keras_tuner.Objective(name, direction="min" or "max"), or a '
    "non-empty list of them with distinct names"
)


class _Shown(str):
    """Text shown as is where a value's `repr` is expected (in `invalid`'s message)."""

    def __repr__(self) -> str:
        return str(self)


def _show_objective(objective: Any) -> _Shown:
    if isinstance(objective, list):
        return _Shown("[" + ", ".join(map(_show_objective, objective)) + "]")
    if isinstance(objective, keras_tuner.Objective):
        return _Shown(f"Objective(name={objective.name!r}, direction={objective.direction!r})")
    return _Shown(repr(objective))


def _check_objective(objective: Any) -> None:
    """Raises unless `objective` is one Keras Tuner reads, with a direction for each part.

    Keras Tuner itself accepts an `Objective` with any direction, an empty list and
    repeated names, and fails later, at the first report or score.
    """
    if objective is None:
        return
    shown = _show_objective(objective)
    parts = list(objective) if isinstance(objective, list) else [objective]
    if not parts:
        raise invalid("objective", shown, _OBJECTIVE)
    names = []
    for part in parts:
        if isinstance(part, str):
            names.append(part)
        elif isinstance(part, keras_tuner.Objective):
            if part.direction not in ("min", "max"):
                raise invalid("objective", shown, _OBJECTIVE)
            names.append(part.name)
        else:
            raise invalid("objective", shown, _OBJECTIVE, TypeError)
    if len(set(names)) != len(names):
        raise invalid("objective", shown, _OBJECTIVE)
    try:
        kta.create_objective(objective)
    except (ValueError, TypeError) as e:  # e.g. a name whose direction cannot be inferred
        raise invalid("objective", shown, f"{_OBJECTIVE} ({e})", type(e)) from e
