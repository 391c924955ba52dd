"""`HParamsLogger`: TensorBoard's HParams dashboard for any Keras backend, with trial status.

What it writes under `log_dir` (read it with `tensorboard --logdir log_dir`):

* the **experiment** (run `_hparams/<host>-<pid>-<n>`, one per process; a new
  version replaces the old run): one column per hyperparameter with its true domain
  (choices and booleans as sets, Int and Float as intervals, or sets when stepped
  and small), and the metric columns: `score`, every metric Keras logs (training
  and `val_` validation ones), `epochs` and `stopped_early`. Rewritten when the
  search space grows or a new metric appears;
* one **session per trial** in run `<trial_id>` (with several executions per trial:
  one session per execution in `<trial_id>/execution_<k>`, all in the trial's row),
  holding the hyperparameter values, start and end time, status and the per-epoch
  scalars. A retried trial's new attempt is its own row, `<trial_id>_retry<n>`.

Status and filters in the dashboard:

* `SUCCESS`: `fit` returned (early-stopped trials too); `FAILURE`: `fit` raised
  (recorded when the next `fit` starts in the same process, or at exit);
  `RUNNING` shows as `UNKNOWN` (no end record yet). The status check boxes filter
  on these.
* `stopped_early` is a metric, 1 when the run trained fewer epochs than planned,
  whatever stopped it (`WeakTrialStopping`, Keras' `EarlyStopping`, any
  `model.stop_training = True`), else 0: set its min to 0.5 in the left panel to
  keep only early-stopped trials (or its max to 0.5 to hide them); `epochs` tells
  how many epochs ran. Why a run stopped is `TrialLogger`'s `stopped_reason`.
* `score` is the trial's objective as Keras Tuner scores it: the value at the best
  epoch (the other metric columns show the last epoch).

No TensorFlow is imported on the JAX or torch backends.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from keras_hpx.callbacks._names import safe_name
from keras_hpx.callbacks._sessions import Record, TrialCallback, check_log_dir, space_of
from keras_hpx.checks import check_int, invalid
from keras_hpx.records import STOPPED_EARLY
from keras_hpx.tensorboard import hparams as tb

__all__ = ["HParamsLogger"]

#: Metric columns the logger adds to those Keras logs.
SCORE, EPOCHS, STOPPED = "score", "epochs", STOPPED_EARLY


class HParamsLogger(TrialCallback):
    """Writes hyperparameters, per-epoch metrics and trial status for TensorBoard's HParams tab.

    In `tuner.search(..., callbacks=[HParamsLogger(log_dir)])` it finds each trial's
    id and hyperparameters by itself; in a plain `model.fit` give it `hparams`.

    Args:
        log_dir: Root directory of the logs (one per search). Files are created on
            the first write.
        hparams: Hyperparameter values of a plain `model.fit`: a dict, or a Keras
            Tuner `HyperParameters` (which also gives the domains). Ignored inside
            a search. Defaults to `None`.
        metrics: Names of the logged metrics to record (e.g. `["loss", "val_loss"]`).
            Defaults to `None` (all of them).
        objective: For a plain `model.fit`, the metric behind the `score` column:
            a name, `(name, "min"|"max")` or a Keras Tuner `Objective`. Inside a
            search the oracle's objective is used. Defaults to `None`.
        space: Domains for a plain `model.fit`: a `keras_hpx.space.Space` or a Keras
            Tuner `HyperParameters`. Without domains no experiment is written and
            the dashboard infers its columns. Defaults to `None`.
        run_name: Run (and row) name of a plain `model.fit`. Defaults to `None`
            (a time stamp).
        max_discrete: A stepped numeric hyperparameter with at most this many
            values gets a discrete domain. Defaults to `16`.
        verbose: `1` (or more) prints where each session is written. Defaults to `0`.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        hparams: Any = None,
        metrics: Iterable[str] | None = None,
        objective: Any = None,
        space: Any = None,
        run_name: str | None = None,
        max_discrete: int = tb.MAX_DISCRETE,
        verbose: int = 0,
    ):
        check_log_dir(log_dir)
        names = None
        if metrics is not None:
            if isinstance(metrics, str) or not isinstance(metrics, Iterable):
                raise invalid("metrics", metrics, "a list of metric names or None", TypeError)
            names = list(metrics)
            if not all(isinstance(m, str) for m in names):
                raise invalid("metrics", metrics, "a list of metric names or None", TypeError)
        if space is not None and not hasattr(space, "params") and not hasattr(space, "space"):
            raise invalid(
                "space",
                space,
                "a keras_hpx.space.Space, a keras_tuner.HyperParameters or None",
                TypeError,
            )
        max_discrete = check_int("max_discrete", max_discrete, 0)
        verbose = check_int("verbose", verbose, 0)
        super().__init__(hparams=hparams, objective=objective, run_name=run_name)
        self.log_dir = os.fspath(log_dir)
        self.metrics = names
        self.space = space
        self.max_discrete = max_discrete
        self.verbose = verbose

    # ----- experiment ---------------------------------------------------------------------

    def _space_for(self, record: Record) -> Any:
        if record.oracle is None and self.space is not None:
            if hasattr(self.space, "params"):
                return self.space
            return space_of(self.space)
        return record.space

    def _metric_infos(self, record: Record, names: list[str]) -> list:
        infos = []
        state = self._shared.state
        objective = state["objective"] = record.objective or state.get("objective")
        if objective is not None:
            infos.append(
                tb.metric_info(
                    SCORE,
                    description=f"The trial's objective ({objective.name}, "
                    f"{objective.direction}) at its best epoch.",
                )
            )
        for name in names:
            dataset = "validation" if name.startswith("val_") else "training"
            infos.append(tb.metric_info(name, dataset=dataset, description="At the last epoch."))
        infos.append(tb.metric_info(EPOCHS, description="Epochs trained."))
        infos.append(
            tb.metric_info(
                STOPPED,
                description="1 if the run trained fewer epochs than planned (any cause), else 0.",
            )
        )
        return infos

    def _update_experiment(self, record: Record) -> None:
        """Writes the experiment when it changed (space grew, new metric); once per process."""
        space = self._space_for(record)
        if space is None:
            return  # no domains: the dashboard infers columns from the sessions
        state = self._shared.state
        with self._shared.lock:
            names = state.setdefault("metric_names", [])
            for _, logs in record.history[-1:]:
                for k in logs:
                    if k not in names and (self.metrics is None or k in self.metrics):
                        names.append(k)
            hparam_infos = tb.hparam_infos_from_space(space, self.max_discrete)
            known = state.setdefault("hparam_infos", {})
            for info in hparam_infos:
                known[info.name] = info  # newer domains replace older ones
            for name, value in record.hparams.items():
                if name not in known:  # a value without a hyperparameter: no domain
                    known[name] = tb.hparam_info(name, value_type=value)
            metric_infos = self._metric_infos(record, names)
            key = (
                tuple(i.SerializeToString(deterministic=True) for i in known.values()),
                tuple(i.SerializeToString(deterministic=True) for i in metric_infos),
            )
            if key == state.get("experiment_key"):
                return
            state["experiment_key"] = key
            state["experiment_run"] = tb.write_experiment(
                self.log_dir,
                list(known.values()),
                metric_infos,
                replace=state.get("experiment_run"),
            )

    # ----- sessions -----------------------------------------------------------------------

    def _run_dir(self, record: Record) -> tuple[str, str]:
        """`(run_dir, group)`: a new directory per attempt of a trial, no clashes."""
        base = safe_name(record.trial_id)
        groups = self._shared.groups
        with self._shared.lock:
            if record.execution > 0 and record.trial_id in groups:
                group = groups[record.trial_id]
                run = os.path.join(self.log_dir, group, f"execution_{record.execution}")
                os.makedirs(run, exist_ok=True)
                return run, group
            attempt = 0
            while True:
                group = base if attempt == 0 else f"{base}_retry{attempt}"
                run = os.path.join(self.log_dir, group)
                if record.n_executions > 1:
                    run = os.path.join(run, f"execution_{record.execution}")
                try:
                    os.makedirs(run, exist_ok=False)
                except FileExistsError:
                    attempt += 1
                    continue
                groups[record.trial_id] = group
                return run, group

    def _has_record(self, trial_id: str) -> bool:
        return os.path.isdir(os.path.join(self.log_dir, safe_name(trial_id)))

    def _open(self, record: Record) -> None:
        run, group = self._run_dir(record)
        session = tb.SessionWriter(run, group, record.hparams, start_time_secs=record.start)
        record.extra["session"] = session
        session.start()
        # The experiment waits for the first epoch's metric names: a running
        # TensorBoard reads it once per run, so a first version without them would
        # linger there until its next reload.
        if self.verbose:
            print(f"HParamsLogger: trial {record.trial_id} -> {run}", flush=True)

    def _epoch(self, record: Record, epoch: int, logs: dict) -> None:
        session: tb.SessionWriter | None = record.extra.get("session")
        if session is None:  # its start could not be written
            return
        if self.metrics is not None:
            logs = {k: v for k, v in logs.items() if k in self.metrics}
        session.scalars(logs, step=epoch)
        session.flush()
        if epoch == record.history[0][0] or any(
            k not in self._shared.state.get("metric_names", []) for k in logs
        ):
            self._update_experiment(record)

    def _close(self, record: Record, status: str) -> None:
        session: tb.SessionWriter | None = record.extra.get("session")
        if session is None:
            return
        if record.history:
            last = record.history[-1][0]
            final: dict[str, float] = {EPOCHS: record.epochs}
            if record.returned:  # a fit that raised has no score and was not "stopped"
                final[STOPPED] = float(record.stopped_early)
            session.scalars(final, step=last)
            step, score, _ = record.best()
            assert step is not None  # `best` has an epoch whenever there is a history
            if record.returned and score is not None:
                session.scalars({SCORE: score}, step=step)
        session.end(status, end_time_secs=record.end)
        self._update_experiment(record)
