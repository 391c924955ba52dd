"""The small parts behind `HpxOracle`, and what the redesign promises: the lock is always
released, saved settings are restored, a resumed Bayesian search proposes what an
uninterrupted one would, injected optimizers are used."""

import json
import os
import threading

import keras_tuner as kt
import pytest

from keras_hpx import BayesianOracle, RandomOracle
from keras_hpx.bayes import BayesianOptimizer, Prior
from keras_hpx.oracles.design import PointSource
from keras_hpx.oracles.tried import TriedIndex
from keras_hpx.oracles.warm_start import WarmStartQueue
from keras_hpx.samplers import SobolSampler
from keras_hpx.space import Space
from keras_hpx.stopping.rules import Decision
from keras_hpx.stopping.search import SearchRule
from keras_hpx.testing.conformance import run_search, small_discrete_space
from keras_hpx.testing.functions import branin


def _space():
    return Space.from_keras_tuner(small_discrete_space())


def test_tried_index_moves_a_rekeyed_trial():
    space = _space()
    index = TriedIndex(space.key)
    index.add("0", {"a": "x", "b": 1})
    assert {"a": "x", "b": 1} in index and {"a": "y", "b": 1} not in index
    index.add("0", {"a": "y", "b": 1})  # the same trial, re-keyed
    assert {"a": "x", "b": 1} not in index and {"a": "y", "b": 1} in index
    assert len(index) == 1 and len(index.keys()) == 1


def test_point_source_uses_up_a_discrete_space_exactly_and_repeats_by_seed():
    space = _space()
    seen: list[dict] = []
    source = PointSource(SobolSampler(3), seed=3)
    while (values := source.next(space, lambda v: v in seen)) is not None:
        seen.append(values)
    assert len(seen) == space.grid_size() == 6
    again = PointSource(SobolSampler(3), seed=3)
    tried: list[dict] = []
    for _ in range(6):
        tried.append(again.next(space, lambda v: v in tried))
    assert tried == seen


def test_warm_start_queue_validates_then_skips_tried_entries():
    space = _space()
    queue = WarmStartQueue()
    with pytest.raises(TypeError, match=r"Received: values=\['x'\]"):
        queue.add(["x"], space, allow_new_entries=True)
    with pytest.raises(ValueError, match=r"unknown: \['zz'\]"):
        queue.add({"zz": 1}, space, allow_new_entries=False)
    queue.add({"a": "y"}, space, allow_new_entries=True)
    queue.add({"a": "x", "b": 2}, space, allow_new_entries=True)
    assert queue.pop(space, lambda v: v == {"a": "y", "b": 1}) == {"a": "x", "b": 2}
    assert queue.pop(space, lambda v: False) is None


def test_an_error_inside_the_oracle_lock_does_not_deadlock_another_thread(tmp_path):
    oracle = RandomOracle(
        objective=kt.Objective("score", "min"), hyperparameters=small_discrete_space(), seed=1
    )
    run_search(oracle, tmp_path, project="lock")  # sets the project dir, runs 6 trials
    with pytest.raises(KeyError):
        oracle.update_trial("no-such-trial", {"score": 1.0})  # raises inside the lock
    done = threading.Event()
    threading.Thread(target=lambda: (oracle.create_trial("other"), done.set()), daemon=True).start()
    assert done.wait(10), "the lock was left held: create_trial from another thread blocked"


def test_user_search_rule_ends_the_search(tmp_path):
    class AfterThree(SearchRule):
        name = "after_three"

        def decide(self, progress):
            n = len(progress.scores)
            return Decision(n >= 3, f"{n} completed", step=0)

    oracle = RandomOracle(
        objective=kt.Objective("score", "min"),
        max_trials=50,
        hyperparameters=_branin_space(),
        stop_rules=[AfterThree()],
        seed=2,
    )
    run_search(oracle, tmp_path, project="rule")
    assert len(oracle.trials) == 3 and oracle.stop_reason == "3 completed"
    with pytest.raises(TypeError, match="stop_rules"):
        RandomOracle(objective="score", stop_rules=[lambda p: True])


def _branin_space():
    hp = kt.HyperParameters()
    hp.Float("x1", -5.0, 10.0)
    hp.Float("x2", 0.0, 15.0)
    return hp


class BraninTuner(kt.Tuner):
    def run_trial(self, trial, *args, **kwargs):
        return {"score": branin(trial.hyperparameters.values)}


def _bo(max_trials, **kwargs):
    kwargs.setdefault("num_initial_points", 4)
    return BayesianOracle(
        objective=kt.Objective("score", "min"),
        max_trials=max_trials,
        hyperparameters=_branin_space(),
        seed=11,
        **kwargs,
    )


def _values(oracle):
    return [oracle.trials[t].hyperparameters.values for t in oracle.start_order]


def test_a_resumed_bayesian_search_proposes_what_an_uninterrupted_one_does(tmp_path):
    straight = _bo(12)
    run_search(straight, tmp_path, project="straight", tuner_class=BraninTuner)
    first = _bo(7)
    run_search(first, tmp_path, project="resumed", tuner_class=BraninTuner)
    resumed = _bo(12)
    run_search(resumed, tmp_path, project="resumed", overwrite=False, tuner_class=BraninTuner)
    assert len(_values(resumed)) == 12
    assert _values(resumed) == _values(straight)


def test_an_injected_optimizer_is_used_and_its_settings_are_saved_and_restored(tmp_path):
    optimizer = BayesianOptimizer(
        "matern32", "ucb", kappa=1.5, n_candidates=256, min_noise=1e-4, prior=Prior()
    )
    oracle = _bo(6, optimizer=optimizer)
    assert oracle.optimizer is optimizer and oracle.kernel is optimizer.kernel
    run_search(oracle, tmp_path, project="inject", tuner_class=BraninTuner)
    with open(os.path.join(tmp_path, "inject", "oracle.json")) as f:
        saved = json.load(f)["bayesian"]["optimizer"]
    assert saved == optimizer.get_config()
    # Resumed with default arguments: the saved settings win, as Keras Tuner's do.
    again = _bo(8)
    run_search(again, tmp_path, project="inject", overwrite=False, tuner_class=BraninTuner)
    assert again.optimizer.get_config() == optimizer.get_config()
    assert len(again.trials) == 8


def test_keras_tuner_alpha_and_beta_are_mapped():
    oracle = BayesianOracle(objective="val_loss", alpha=1e-3, beta=3.0)
    config = oracle.optimizer.get_config()
    assert config["min_noise"] == pytest.approx(1e-3)
    assert "ucb" in json.dumps(config).lower() and oracle.acquisition.kappa == 3.0


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (
            {"optimizer": "fast"},
            TypeError,
            r"BayesianOptimizer or None\. Received: optimizer='fast'",
        ),
        (
            {"optimizer": BayesianOptimizer(), "kernel": "rbf"},
            ValueError,
            r"`kernel`: expected its default when `optimizer` is given.*Received: kernel='rbf'",
        ),
        ({"beta": 2.0, "kappa": 1.0}, ValueError, r"Received: kappa=1\.0"),
        ({"beta": -1.0}, ValueError, r"Received: beta=-1\.0"),
    ],
)
def test_bad_optimizer_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        BayesianOracle(objective="val_loss", **kwargs)


def test_arguments_after_max_trials_are_keyword_only():
    hp = small_discrete_space()
    for cls in (RandomOracle, BayesianOracle):
        with pytest.raises(TypeError):
            cls("score", 5, hp)
