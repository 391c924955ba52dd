import math

import keras_tuner as kt
import numpy as np
import pytest

from keras_hpx import BayesianOracle, EarlyStop
from keras_hpx.bayes import ExpectedImprovement, Matern32
from keras_hpx.oracles.bayesian import ProposalSource
from keras_hpx.space import Space
from keras_hpx.testing.conformance import OracleConformance, ScoringTuner, mixed_space
from keras_hpx.testing.functions import BRANIN_MIN, branin


class TestBayesianConformance(OracleConformance):
    def make_oracle(self, hyperparameters, objective, max_trials, seed):
        return BayesianOracle(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            num_initial_points=3,
        )


def _branin_space():
    hp = kt.HyperParameters()
    hp.Float("x1", -5.0, 10.0)
    hp.Float("x2", 0.0, 15.0)
    return hp


def _oracle(tmp_path, hp, name="o", **kwargs):
    kwargs.setdefault("objective", kt.Objective("score", "min"))
    kwargs.setdefault("seed", 0)
    oracle = BayesianOracle(hyperparameters=hp, **kwargs)
    oracle._set_project_dir(str(tmp_path), name)
    return oracle


def _finish(oracle, trial, score):
    oracle.update_trial(trial.trial_id, {"score": score})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def _drive(oracle, f, n):
    """Runs up to n trials through create_trial / update_trial / end_trial."""
    for _ in range(n):
        trial = oracle.create_trial("worker0")
        if trial.status != "RUNNING":
            return trial.status
        _finish(oracle, trial, f(trial.hyperparameters.values))
    return "RUNNING"


def test_branin_converges_and_uses_the_model(tmp_path):
    oracle = _oracle(tmp_path, _branin_space(), max_trials=30, num_initial_points=8)
    _drive(oracle, branin, 30)
    assert oracle.last_proposal == "model"
    best = min(t.score for t in oracle.trials.values())
    assert best - BRANIN_MIN < 0.05


def test_maximised_objective_is_flipped(tmp_path):
    oracle = _oracle(
        tmp_path, _branin_space(), objective=kt.Objective("score", "max"), max_trials=25
    )
    _drive(oracle, lambda v: -branin(v), 25)
    obs = oracle.observations().observed
    scores = {t.trial_id: t.score for t in oracle.trials.values()}
    assert sorted(s for _, s in obs) == sorted(-s for s in scores.values())
    assert max(scores.values()) > -0.5  # it climbed towards the maximum (-0.398)


def test_failed_nan_and_inf_trials_do_not_poison_the_model(tmp_path):
    hp = _branin_space()
    oracle = BayesianOracle(
        objective=kt.Objective("score", "min"),
        hyperparameters=hp,
        max_trials=12,
        num_initial_points=3,
        seed=1,
        max_consecutive_failed_trials=5,
    )
    tuner = ScoringTuner(
        oracle=oracle,
        hypermodel=lambda hp: None,
        directory=str(tmp_path),
        project_name="fail",
        overwrite=True,
        fail_ids=("01", "04"),
        nan_ids=("02", "05"),
    )
    tuner.search(verbose=0)
    statuses = [oracle.trials[t].status for t in oracle.start_order]
    assert len(statuses) == 12
    assert statuses.count("FAILED") == 4 and statuses.count("COMPLETED") == 8
    assert oracle.last_proposal == "model"
    obs, pending = oracle.observations()[:2]
    assert not pending
    assert sum(s is None for _, s in obs) == 4


def test_infinite_score_counts_as_failure_not_as_best(tmp_path):
    oracle = _oracle(tmp_path, _branin_space(), max_trials=20, num_initial_points=3)
    first = oracle.create_trial("w")
    _finish(oracle, first, float("inf"))
    _drive(oracle, branin, 4)
    obs = oracle.observations().observed
    assert obs[0][1] is None  # not 0, not -inf: the model sees it as the worst score
    assert oracle.trials[first.trial_id].status == "FAILED"
    assert _drive(oracle, branin, 3) == "RUNNING" and oracle.last_proposal == "model"


def test_pending_trials_make_concurrent_proposals_differ(tmp_path):
    oracle = _oracle(tmp_path, _branin_space(), max_trials=30, num_initial_points=6)
    _drive(oracle, branin, 10)
    running = [oracle.create_trial(f"worker{i}") for i in range(4)]
    assert all(t.status == "RUNNING" for t in running)
    assert oracle.last_proposal == "model"
    points = np.array(
        [
            [t.hyperparameters.values["x1"] / 15, t.hyperparameters.values["x2"] / 15]
            for t in running
        ]
    )
    gaps = [np.linalg.norm(points[i] - points[j]) for i in range(4) for j in range(i)]
    assert min(gaps) > 0.01, points
    pending = oracle.observations().pending
    assert len(pending) == 4


def test_conditional_space_uses_the_model_and_masks_children(tmp_path):
    hp = mixed_space()
    oracle = _oracle(tmp_path, hp, max_trials=16, num_initial_points=4)

    def score(v):
        s = (math.log10(v["lr"]) + 2) ** 2 + v["dropout"] + v["units"] / 64
        return s + (v.get("momentum", 0.0) if v["optimizer"] == "sgd" else 0.5)

    _drive(oracle, score, 16)
    space = Space.from_keras_tuner(hp)
    configs = [
        space.active_values(t.hyperparameters.values, fill_defaults=False)
        for t in oracle.trials.values()
    ]
    assert oracle.last_proposal == "model"
    assert len({space.key(c) for c in configs}) == 16
    for c in configs:
        assert space.is_valid(c) and ("momentum" in c) == (c["optimizer"] == "sgd")


def test_exhausted_discrete_space_ends_with_stopped(tmp_path):
    hp = kt.HyperParameters()
    hp.Choice("a", ["x", "y", "z"])
    hp.Int("b", 1, 4)
    oracle = _oracle(tmp_path, hp, max_trials=50, num_initial_points=2)
    status = _drive(oracle, lambda v: v["b"] + (v["a"] == "y"), 50)
    assert status == "STOPPED"
    space = Space.from_keras_tuner(hp)
    assert len(oracle.trials) == 12
    assert len({space.key(t.hyperparameters.values) for t in oracle.trials.values()}) == 12


def test_save_and_reload_rebuild_the_model_from_trials(tmp_path):
    hp = _branin_space()
    oracle = _oracle(tmp_path, hp, name="resume", max_trials=14, num_initial_points=4)
    _drive(oracle, branin, 8)
    oracle.save()
    reloaded = _oracle(
        tmp_path, _branin_space(), name="resume", max_trials=14, num_initial_points=9
    )
    reloaded.reload()
    assert reloaded.num_initial_points == 4  # the saved choice wins
    assert len(reloaded.trials) == 8
    _drive(reloaded, branin, 10)
    assert reloaded.last_proposal == "model"
    assert len(reloaded.trials) == 14
    space = Space.from_keras_tuner(hp)
    assert len({space.key(t.hyperparameters.values) for t in reloaded.trials.values()}) == 14


def test_objects_are_accepted_and_bad_strings_list_the_valid_ones():
    oracle = BayesianOracle(acquisition=ExpectedImprovement(xi=0.1), kernel=Matern32())
    assert oracle.acquisition.xi == 0.1 and isinstance(oracle.kernel, Matern32)
    assert BayesianOracle(acquisition="ucb", kappa=3.0).acquisition.kappa == 3.0
    with pytest.raises(ValueError, match=r"'ei'.*'logei'.*Received: acquisition='gp_hedge'$"):
        BayesianOracle(acquisition="gp_hedge")
    with pytest.raises(ValueError, match=r"'matern52'.*Received: kernel='linear'$"):
        BayesianOracle(kernel="linear")
    with pytest.raises(ValueError, match="num_initial_points=0"):
        BayesianOracle(num_initial_points=0)
    with pytest.raises(ValueError, match="xi=-1"):
        BayesianOracle(xi=-1)
    with pytest.raises(ValueError, match="initial_sampler|sampler"):
        BayesianOracle(initial_sampler="halton")


def test_default_initial_points_follow_the_space():
    hp = kt.HyperParameters()
    hp.Float("a", 0, 1)
    assert BayesianOracle(hyperparameters=hp).initial_points() == 5
    for i in range(3):
        hp.Float(f"b{i}", 0, 1)
    hp.Fixed("epochs", 3)  # not tuned: does not count
    assert BayesianOracle(hyperparameters=hp).initial_points() == 10
    for i in range(3, 9):
        hp.Float(f"b{i}", 0, 1)
    assert BayesianOracle(hyperparameters=hp).initial_points() == 15
    assert BayesianOracle(hyperparameters=hp, num_initial_points=3).initial_points() == 3


# ----- trials stopped early (multi-fidelity) ----------------------------------------------------


def _line_space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


def _epoch_loss(x, epoch, epochs=9):
    """Large x learns slowly but ends best (x = 0.8): early losses mislead."""
    return (x - 0.8) ** 2 + 1.5 * x * (1.0 - (epoch + 1) / epochs) ** 2


def _drive_with_stops(oracle, n, stop_after, epochs=9, loss=None):
    """Trials report every epoch (as WeakTrialStopping does); those `stop_after(i, values)`
    picks (an epoch count, or `None` for all `epochs`) are stopped early with the typed
    record, over the wire form, as the callback does. `loss(values, epoch, epochs)` is the
    reported `val_loss` (default: `_epoch_loss` of `values["x"]`). Returns each trial's
    `last_proposal`."""
    if loss is None:
        loss = lambda values, epoch, epochs: _epoch_loss(values["x"], epoch, epochs)  # noqa: E731
    sources = []
    for i in range(n):
        trial = oracle.create_trial("worker0")
        assert trial.status == "RUNNING"
        sources.append(oracle.last_proposal)
        values = trial.hyperparameters.values
        last = stop_after(i, values) or epochs
        for epoch in range(last):
            metrics = {"val_loss": loss(values, epoch, epochs)}
            if epoch == last - 1 and last < epochs:
                metrics.update(EarlyStop(step=epoch, rule="asha").to_metrics())
            oracle.update_trial(trial.trial_id, metrics, step=epoch)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return sources


def test_stopped_trials_are_modelled_at_the_epochs_they_reached(tmp_path):
    oracle = _oracle(
        tmp_path,
        _line_space(),
        objective=kt.Objective("val_loss", "min"),
        max_trials=12,
        num_initial_points=6,
    )
    # Every trial after the second is stopped after 1 or 2 epochs.
    _drive_with_stops(oracle, 10, lambda i, x: None if i < 2 else 1 + i % 2)
    obs = oracle.observations()
    assert obs.runs is not None and len(obs.runs) == len(obs.observed) == 10
    assert sum(r.stopped for r in obs.runs) == 8
    assert obs.runs[0].last_epoch() == 9 and not obs.runs[0].stopped
    trial = oracle.create_trial("worker0")
    assert oracle.last_proposal is ProposalSource.MODEL
    assert "score+budget" in oracle.optimizer.warm_starts
    # Saved and restored with the search.
    assert trial.status == "RUNNING"
    oracle.update_trial(trial.trial_id, {"val_loss": 1.0}, step=0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    again = _oracle(tmp_path, _line_space(), objective=kt.Objective("val_loss", "min"))
    again.set_state(oracle.get_state())
    saved = oracle.optimizer.warm_starts["score+budget"]
    restored = again.optimizer.warm_starts["score+budget"]
    np.testing.assert_allclose(restored.lengthscales, saved.lengthscales)
    assert np.size(saved.lengthscales) == 2  # x and the budget


def test_stopped_trials_on_a_conditional_mixed_space_are_modelled_and_rerun(tmp_path):
    """The multi-fidelity model on a space unlike the recorded tables': two branches with
    their own float, int and boolean children, two of every three trials stopped after one
    or two epochs. The model (never the random fallback) proposes, keeps each branch's
    children, reruns stopped configurations, and homes in on both branches' optima."""
    hp = kt.HyperParameters()
    hp.Choice("model", ["a", "b"])
    with hp.conditional_scope("model", "a"):
        hp.Float("lr", 1e-4, 1e-1, sampling="log")
    with hp.conditional_scope("model", "b"):
        hp.Int("units", 8, 256, sampling="log")
        hp.Boolean("batchnorm")
    oracle = _oracle(
        tmp_path,
        hp,
        objective=kt.Objective("val_loss", "min"),
        max_trials=25,
        num_initial_points=6,
        seed=1,
    )

    def final(v):  # branch a's optimum at lr 0.01, branch b's at 64 units
        if v["model"] == "a":
            return (math.log10(v["lr"]) + 2) ** 2
        return (math.log2(v["units"]) - 6) ** 2 / 4

    sources = _drive_with_stops(
        oracle,
        25,
        lambda i, v: None if i % 3 == 0 else 1 + i % 2,
        loss=lambda v, epoch, epochs: final(v) + 1.0 / (epoch + 1),
    )
    assert sources[:6] == [ProposalSource.INITIAL] * 6
    assert set(sources[6:]) <= {ProposalSource.MODEL, ProposalSource.RERUN}
    assert ProposalSource.RERUN in sources
    assert "score+budget" in oracle.optimizer.warm_starts
    space = Space.from_keras_tuner(hp)
    values = [oracle.trials[t].hyperparameters.values for t in oracle.start_order]
    assert all(space.is_valid(space.active_values(v, fill_defaults=False)) for v in values)
    # Within a tenth of a decade of lr = 0.01 and a fifth of an octave of 64 units (final
    # scores below 0.01): the model's proposals, not the initial design's, get there.
    near_a = [i for i, v in enumerate(values) if v["model"] == "a" and final(v) < 0.01]
    near_b = [i for i, v in enumerate(values) if v["model"] == "b" and final(v) < 0.01]
    assert near_a and near_b and min(near_a + near_b) >= 6


def test_multi_fidelity_off_or_no_stop_models_final_scores_only(tmp_path):
    for name, flag, stops in (("off", False, True), ("nostop", True, False)):
        oracle = _oracle(
            tmp_path,
            _line_space(),
            name=name,
            objective=kt.Objective("val_loss", "min"),
            max_trials=10,
            num_initial_points=6,
            multi_fidelity=flag,
        )
        _drive_with_stops(oracle, 8, lambda i, x, stops=stops: 1 if stops and i >= 2 else None)
        assert oracle.observations().runs is None
        oracle.create_trial("worker0")
        assert oracle.last_proposal is ProposalSource.MODEL
        assert sorted(oracle.optimizer.warm_starts) == ["score"]


def test_multi_fidelity_must_be_a_bool():
    with pytest.raises(TypeError, match="Received: multi_fidelity='yes'"):
        BayesianOracle(objective="val_loss", multi_fidelity="yes")


def _three_points():
    hp = kt.HyperParameters()
    hp.Choice("x", [0.2, 0.5, 0.8])
    return hp


def _run_all(oracle, stop_first_of):
    """Drives the search to its end; the first run of `x == stop_first_of` is stopped after
    one epoch, every other run trains its 9 epochs. Returns the trials in start order."""
    seen = set()
    for _ in range(10):
        trial = oracle.create_trial("worker0")
        if trial.status != "RUNNING":
            break
        x = trial.hyperparameters.values["x"]
        stop = x == stop_first_of and x not in seen
        seen.add(x)
        for epoch in range(1 if stop else 9):
            metrics = {"val_loss": _epoch_loss(x, epoch)}
            if stop:
                metrics.update(EarlyStop(step=epoch, rule="asha").to_metrics())
            oracle.update_trial(trial.trial_id, metrics, step=epoch)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return [oracle.trials[t] for t in oracle.start_order]


@pytest.mark.parametrize("rerun", [True, False])
def test_a_configuration_stopped_early_can_be_rerun_once(tmp_path, rerun):
    oracle = _oracle(
        tmp_path,
        _three_points(),
        objective=kt.Objective("val_loss", "min"),
        max_trials=10,
        num_initial_points=2,
        rerun_stopped=rerun,
    )
    trials = _run_all(oracle, stop_first_of=0.8)  # the slow starter that ends best
    xs = [t.hyperparameters.values["x"] for t in trials]
    assert sorted(set(xs)) == [0.2, 0.5, 0.8]
    assert oracle.search_end is not None and "exhausted" in oracle.search_end.reason
    if not rerun:
        assert len(trials) == 3  # each configuration once: the stopped one for good
        return
    # The stopped configuration ran a second time (proposed by the model), and only it.
    assert len(trials) == 4 and xs.count(0.8) == 2
    first, second = [t for t in trials if t.hyperparameters.values["x"] == 0.8]
    assert oracle.early_stop(first.trial_id) is not None
    assert oracle.early_stop(second.trial_id) is None
    assert oracle.stopped_twin(second.trial_id) == first.trial_id
    assert oracle.stopped_twin(first.trial_id) is None  # its twin was not stopped
    assert oracle.stopped_only() == set()  # trained to the end once: excluded for good


def test_only_configurations_whose_every_run_was_stopped_are_rerunnable(tmp_path):
    oracle = _oracle(
        tmp_path,
        _three_points(),
        objective=kt.Objective("val_loss", "min"),
        max_trials=2,
        num_initial_points=2,
    )
    _drive_with_stops(oracle, 2, lambda i, x: 1 if i == 0 else None)
    space = Space.from_keras_tuner(_three_points())
    first, second = (oracle.trials[t] for t in oracle.start_order)
    assert oracle.stopped_only() == {space.key(first.hyperparameters.values)}
    assert oracle.stopped_twin(first.trial_id) is None
    # Saved and restored with the search.
    again = _oracle(tmp_path, _three_points(), name="o2", rerun_stopped=False)
    again.set_state(oracle.get_state())
    assert again.rerun_stopped is True


def test_rerun_stopped_must_be_a_bool():
    with pytest.raises(TypeError, match="Received: rerun_stopped=1"):
        BayesianOracle(objective="val_loss", rerun_stopped=1)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_the_model_proposes_whatever_the_scale_of_the_scores(tmp_path, scale):
    # At 1e-200 the model's fit failed on every proposal (scores standardised to NaN)
    # and every trial after the initial design was drawn at random.
    oracle = _oracle(tmp_path, _branin_space(), max_trials=14, num_initial_points=6)
    sources = []
    for _ in range(14):
        trial = oracle.create_trial("worker0")
        sources.append(oracle.last_proposal)
        _finish(oracle, trial, scale * branin(trial.hyperparameters.values))
    assert sources[6:] == [ProposalSource.MODEL] * 8
    best = min(oracle.trials.values(), key=lambda t: t.score)
    assert branin(best.hyperparameters.values) < 2.0  # minimum 0.398
