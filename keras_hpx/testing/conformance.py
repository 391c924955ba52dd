"""A reusable conformance suite for Keras Tuner oracles.

Subclass `OracleConformance` in a pytest module and implement `make_oracle`;
every `test_*` method then drives your oracle through a real
`keras_tuner.Tuner` (its `run_trial` returns a metric computed from the
hyperparameters, so no model is trained) and checks the contract:

* every value respects bounds, steps and members; conditional children appear
  only with their parent's branch;
* no configuration is repeated;
* the search ends (STOPPED) exactly when the space or `max_trials` is used up,
  and answers IDLE, not STOPPED, while another worker's trial still runs;
* save and reload (`overwrite=False`) continue without loss or repetition;
* the same seed gives the same trials;
* a trial that raises or reports NaN does not end the search.

Example:

```python
from keras_hpx.testing.conformance import OracleConformance

class TestMyOracle(OracleConformance):
    def make_oracle(self, hyperparameters, objective, max_trials, seed):
        return MyOracle(objective=objective, max_trials=max_trials,
                        hyperparameters=hyperparameters, seed=seed)
```
"""

from __future__ import annotations

import math
from typing import Any

import keras_tuner as kt

from keras_hpx.space import Space

__all__ = [
    "OracleConformance",
    "ScoringTuner",
    "mixed_space",
    "run_search",
    "small_discrete_space",
]


def mixed_space() -> kt.HyperParameters:
    """Every kind of hyperparameter, a conditional scope included; all griddable."""
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, step=10, sampling="log")
    hp.Float("dropout", 0.0, 0.5, step=0.25)
    hp.Int("units", 8, 64, step=8, sampling="linear")
    hp.Int("batch", 16, 128, step=2, sampling="log")
    hp.Choice("activation", ["relu", "tanh", "gelu"])
    hp.Boolean("batchnorm")
    hp.Fixed("epochs", 3)
    hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.0, 0.9, step=0.3)
    return hp


def small_discrete_space() -> kt.HyperParameters:
    """2 x 3 = 6 combinations."""
    hp = kt.HyperParameters()
    hp.Choice("a", ["x", "y"])
    hp.Int("b", 1, 3)
    return hp


def score_of(values: dict) -> float:
    """A deterministic, well-defined score for any configuration (to minimise)."""
    total = 0.0
    for _, v in sorted(values.items()):
        if isinstance(v, bool):
            total += 0.3 * v
        elif isinstance(v, (int, float)):
            total += math.log1p(abs(float(v)))
        else:
            total += (sum(map(ord, str(v))) % 7) / 7.0
    return total


class ScoringTuner(kt.Tuner):
    """A real `keras_tuner.Tuner` whose trials compute a score instead of training.

    Args:
        fail_ids: Trial ids whose `run_trial` raises. Defaults to `()`.
        nan_ids: Trial ids that report NaN. Defaults to `()`.
        **kwargs: Passed to `keras_tuner.Tuner`.
    """

    def __init__(self, *args: Any, fail_ids: tuple = (), nan_ids: tuple = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fail_ids = set(fail_ids)
        self.nan_ids = set(nan_ids)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict:
        if trial.trial_id in self.fail_ids:
            raise RuntimeError(f"trial {trial.trial_id} fails on purpose")
        if trial.trial_id in self.nan_ids:
            return {"score": float("nan")}
        return {"score": score_of(trial.hyperparameters.values)}


def run_search(
    oracle: Any,
    directory: Any,
    project: str = "p",
    overwrite: bool = True,
    tuner_class: type = ScoringTuner,
    **tuner_kwargs: Any,
) -> Any:
    """Runs a whole search of `oracle` with a scoring tuner; returns the tuner.

    Args:
        oracle: The oracle.
        directory: The tuner's directory.
        project: The project name. Defaults to `"p"`.
        overwrite: Start afresh (`True`) or resume (`False`). Defaults to `True`.
        tuner_class: A `ScoringTuner` subclass. Defaults to `ScoringTuner`.
        **tuner_kwargs: More arguments for the tuner (e.g. `fail_ids`).
    """
    tuner = tuner_class(
        oracle=oracle,
        hypermodel=lambda hp: None,
        directory=str(directory),
        project_name=project,
        overwrite=overwrite,
        **tuner_kwargs,
    )
    tuner.search(verbose=0)
    return tuner


def _active_configs(oracle: Any) -> list[dict]:
    space = Space.from_keras_tuner(oracle.hyperparameters)
    return [
        space.active_values(oracle.trials[t].hyperparameters.values, fill_defaults=False)
        for t in oracle.start_order
    ]


class OracleConformance:
    """Mixin of pytest tests; subclasses implement `make_oracle`.

    Attributes:
        supports_continuous: Set to False for oracles that cannot search
            continuous floats without extra arguments (a grid). Defaults to `True`.
        max_trials_mixed: Trials to run on the mixed space. Defaults to `12`.
    """

    supports_continuous = True
    max_trials_mixed = 12

    def make_oracle(
        self, hyperparameters: Any, objective: Any, max_trials: int | None, seed: int
    ) -> Any:
        raise NotImplementedError

    # ----- helpers ------------------------------------------------------------------------

    def _search(
        self,
        tmp_path: Any,
        hp: Any,
        max_trials: int | None,
        seed: int = 1,
        project: str = "p",
        overwrite: bool = True,
        oracle: Any = None,
        **tuner_kwargs: Any,
    ) -> Any:
        if oracle is None:
            oracle = self.make_oracle(hp, kt.Objective("score", "min"), max_trials, seed)
        return run_search(oracle, tmp_path, project, overwrite, **tuner_kwargs)

    # ----- the contract -------------------------------------------------------------------

    def test_values_are_valid(self, tmp_path: Any) -> None:
        hp = mixed_space()
        tuner = self._search(tmp_path, hp, self.max_trials_mixed)
        space = Space.from_keras_tuner(hp)
        configs = _active_configs(tuner.oracle)
        assert len(configs) == self.max_trials_mixed
        for values in configs:
            assert space.is_valid(values), values
            assert ("momentum" in values) == (values["optimizer"] == "sgd"), values

    def test_no_repeats_and_stops_when_exhausted(self, tmp_path: Any) -> None:
        tuner = self._search(tmp_path, small_discrete_space(), max_trials=20)
        configs = _active_configs(tuner.oracle)
        keys = {tuple(sorted(c.items())) for c in configs}
        assert len(configs) == 6 and len(keys) == 6

    def test_stops_at_max_trials(self, tmp_path: Any) -> None:
        tuner = self._search(tmp_path, small_discrete_space(), max_trials=4)
        assert len(tuner.oracle.trials) == 4
        assert len({tuple(sorted(c.items())) for c in _active_configs(tuner.oracle)}) == 4

    def test_idle_not_stopped_while_others_run(self, tmp_path: Any) -> None:
        hp = kt.HyperParameters()
        hp.Choice("only", [1])
        oracle = self.make_oracle(hp, kt.Objective("score", "min"), 5, 1)
        oracle._set_project_dir(str(tmp_path), "idle")
        first = oracle.create_trial("worker0")
        assert first.status == "RUNNING"
        second = oracle.create_trial("worker1")
        assert second.status == "IDLE", "nothing new, but worker0's trial still runs"
        oracle.update_trial(first.trial_id, {"score": 1.0})
        first.status = "COMPLETED"
        oracle.end_trial(first)
        assert oracle.create_trial("worker1").status == "STOPPED"

    def test_save_and_reload_continue(self, tmp_path: Any) -> None:
        hp = small_discrete_space()
        first = self._search(tmp_path, hp, max_trials=3, project="resume")
        before = _active_configs(first.oracle)
        again = self._search(
            tmp_path,
            small_discrete_space(),
            max_trials=6,
            project="resume",
            overwrite=False,
        )
        after = _active_configs(again.oracle)
        assert after[:3] == before
        assert len(after) == 6
        assert len({tuple(sorted(c.items())) for c in after}) == 6

    def test_same_seed_same_trials(self, tmp_path: Any) -> None:
        a = self._search(tmp_path, mixed_space(), 6, seed=7, project="a")
        b = self._search(tmp_path, mixed_space(), 6, seed=7, project="b")
        assert _active_configs(a.oracle) == _active_configs(b.oracle)

    def test_failing_and_nan_trials_do_not_end_search(self, tmp_path: Any) -> None:
        oracle = self.make_oracle(small_discrete_space(), kt.Objective("score", "min"), 5, 1)
        run_search(oracle, tmp_path, "fail", fail_ids=("0",), nan_ids=("1",))
        statuses = [oracle.trials[t].status for t in oracle.start_order]
        assert len(statuses) == 5
        assert statuses[0] == "FAILED" and statuses[1] == "FAILED"
        assert statuses[2:] == ["COMPLETED"] * 3
        assert len({tuple(sorted(c.items())) for c in _active_configs(oracle)}) == 5
