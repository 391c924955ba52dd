"""The recorded learning-curve benchmark: the stored tables and the replay drivers.

The tables are `benchmarks/curves/data/*.npz` (real Keras runs, `record.py`); the drivers
(`replay.py`) run real oracles, the real `WeakTrialStopping` callback, Keras Tuner's
Hyperband oracle and Optuna on them with small budgets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.curves.replay import (  # noqa: E402
    DATA_DIR,
    METRICS,
    CurveTable,
    ReplayTuner,
    Search,
    run_kt_hyperband,
    run_optuna,
    run_oracle,
    silence,
)

DATASETS = ("digits", "generated")  # the two
TABLES = (*DATASETS, "shells")  # and the held-out one (its best configurations start fast)
FTE = 27  # epochs of one full training run in the stored tables


@pytest.fixture(scope="module")
def digits() -> CurveTable:
    return CurveTable.load("digits")


def random_asha(
    table: CurveTable, budget: int, seed: int, keep: list | None = None, rule: Any = "asha"
):
    """RandomOracle + WeakTrialStopping(rule="asha"), as the benchmark's hpx_random_asha
    (another `rule` by name); the oracle is appended to `keep` for inspection."""
    from keras_hpx import RandomOracle, WeakTrialStopping

    def make(objective):
        oracle = RandomOracle(
            objective=objective, max_trials=None, hyperparameters=table.space, seed=seed
        )
        if keep is not None:
            keep.append(oracle)
        return oracle

    return run_oracle(
        table,
        make,
        budget,
        "val_loss",
        make_callback=lambda: WeakTrialStopping(monitor="val_loss", rule=rule),
    )


# ----- the stored tables ----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", TABLES)
def test_stored_table_has_every_configuration_and_epoch(dataset):
    table = CurveTable.load(dataset)  # allow_pickle=False inside
    space = json.loads((DATA_DIR / "space.json").read_text())
    assert table.num_configs == space["num_configs"] >= 1000
    assert table.max_epochs == space["epochs"] == FTE
    assert list(table.hyperparameters) == [hp["name"] for hp in space["hyperparameters"]]
    for metric in (*METRICS, "epoch_seconds"):
        values = table.arrays[metric]
        assert values.shape == (table.num_configs, FTE) and values.dtype == np.float32
    assert table.arrays["overhead_seconds"].shape == (table.num_configs,)
    assert table.arrays["recorded"].all()
    accuracy = table.arrays["val_accuracy"]
    assert np.isfinite(accuracy).all() and (accuracy >= 0).all() and (accuracy <= 1).all()
    # Diverged runs may have a non-finite loss; nearly all must be finite.
    assert np.isfinite(table.arrays["val_loss"]).mean() > 0.95
    assert (table.arrays["epoch_seconds"] > 0).all()
    assert (table.arrays["overhead_seconds"] > 0).all()
    # A space of Choices that indexes back to the same rows.
    hp = table.space
    assert [p.name for p in hp.space] == list(table.hyperparameters)
    for index in (0, 17, table.num_configs - 1):
        assert table.index(table.config(index)) == index


def test_stored_tables_are_small():
    files = [*DATA_DIR.glob("*.npz"), DATA_DIR / "space.json"]
    assert sum(f.stat().st_size for f in files) < 5 * 2**20
    assert not list(DATA_DIR.glob("*.partial.jsonl")), "a recording is unfinished"


@pytest.mark.parametrize("dataset", DATASETS)
def test_multi_fidelity_is_not_trivial(dataset):
    """The best configurations after a few epochs are not the best ones in the end."""
    loss = CurveTable.load(dataset).arrays["val_loss"]
    best = np.nanmin(loss, axis=1)  # each configuration's best epoch
    winner, top = int(np.nanargmin(best)), set(np.argsort(best)[:10])
    for epoch in (0, 2):  # after 1 and 3 epochs
        early = loss[:, epoch]
        assert int((early < early[winner]).sum()) >= 10  # not among the 10 best there
        assert len(set(np.argsort(early)[:10]) & top) <= 5


# ----- the replay drivers ---------------------------------------------------------------------


def test_random_asha_counts_epochs_and_stops_runs(digits):
    budget = 5 * FTE
    oracles: list = []
    trace = random_asha(digits, budget, seed=1, keep=oracles)
    # Charged exactly the budget, one epoch per epoch read.
    assert trace.total_epochs == budget
    assert trace.epochs == list(range(1, budget + 1))
    assert sum(trained for _, _, trained, _ in trace.trials) == budget
    # The rule stopped runs, so more configurations were tried than full runs fit.
    stopped = [t for t in trace.trials if t[3]]
    assert stopped and all(trained < FTE for _, _, trained, _ in stopped)
    assert len(trace.trials) > budget // FTE + 1
    # The callback itself reported every epoch and every stop to the oracle.
    (oracle,) = oracles
    for index, _, trained, was_stopped in trace.trials[:-1]:  # the last one was cut
        tid = next(
            t.trial_id
            for t in oracle.trials.values()
            if digits.index(t.hyperparameters.values) == index
        )
        trial = oracle.trials[tid]
        assert len(trial.metrics.get_history("val_loss")) == trained
        assert (oracle.early_stop(tid) is not None) == was_stopped
        if was_stopped:
            assert trial.metrics.get_last_value("stopped_at_epoch") == trained - 1
    # The anytime curve is the best value read so far.
    best = np.asarray(trace.best)
    assert (np.diff(best) <= 0).all()
    assert best[-1] >= digits.optimum("val_loss")
    assert trace.method_seconds > 0


def test_random_asha_is_deterministic(digits):
    a = random_asha(digits, 2 * FTE, seed=3)
    b = random_asha(digits, 2 * FTE, seed=3)
    c = random_asha(digits, 2 * FTE, seed=4)
    assert a.trials == b.trials and a.best == b.best and a.epochs == b.epochs
    assert a.trials != c.trials


def test_without_stopping_every_run_is_trained_to_the_end(digits):
    from keras_hpx import RandomOracle

    trace = run_oracle(
        digits,
        lambda obj: RandomOracle(
            objective=obj, max_trials=None, hyperparameters=digits.space, seed=1
        ),
        2 * FTE + 5,
    )
    assert [t[2] for t in trace.trials] == [FTE, FTE, 5]  # the last one cut by the budget
    assert not any(t[3] for t in trace.trials)


def test_keras_tuner_hyperband_charges_only_new_epochs(digits):
    budget = 2 * FTE
    trace = run_kt_hyperband(digits, budget, seed=1)
    assert trace.total_epochs == budget
    assert sum(trained for _, _, trained, _ in trace.trials) == budget
    # First bracket: 27 one-epoch runs; the best 9 continue from epoch 1 to 3 (2 new
    # epochs each), then the best 3 of those from 3 to 9 (the last cut by the budget).
    first, second, third = trace.trials[:27], trace.trials[27:36], trace.trials[36:]
    assert all(start == 0 and trained == 1 for _, start, trained, _ in first)
    assert all(start == 1 and trained == 2 for _, start, trained, _ in second)
    assert [(start, trained) for _, start, trained, _ in third] == [(3, 6), (3, 3)]
    assert {i for i, *_ in third} <= {i for i, *_ in second} <= {i for i, *_ in first}


def test_keras_tuner_hyperband_seed_zero_is_a_seed(digits):
    # Keras Tuner reads `seed or random.randint(...)`: our seed 0 must still be one seed.
    runs = [run_kt_hyperband(digits, FTE, seed=0) for _ in range(3)]
    configs = [[i for i, *_ in trace.trials] for trace in runs]
    assert configs[0] == configs[1] == configs[2]
    assert configs[0] != [i for i, *_ in run_kt_hyperband(digits, FTE, seed=1).trials]


@pytest.mark.parametrize("pruner", ["hyperband", "sha"])
def test_optuna_tpe_with_a_pruner(digits, pruner):
    import optuna

    budget = 10 * FTE  # Optuna's pruners wait for a few finished trials per bracket
    make = {
        "hyperband": lambda: optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=FTE, reduction_factor=3
        ),
        "sha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    }[pruner]
    traces = [
        run_optuna(digits, optuna.samplers.TPESampler(seed=2), make(), budget) for _ in range(2)
    ]
    trace = traces[0]
    assert trace.total_epochs == budget
    assert sum(trained for _, _, trained, _ in trace.trials) == budget
    assert any(pruned for *_, pruned in trace.trials)
    assert len(trace.trials) > budget // FTE + 1
    assert traces[0].trials == traces[1].trials  # seeded


def test_best_at_reads_the_anytime_curve(digits):
    trace = random_asha(digits, 2 * FTE, seed=5)
    assert np.isnan(trace.best_at(0))
    assert trace.best_at(1) == trace.best[0]
    assert trace.best_at(10**6) == trace.best[-1]
    assert trace.best_at(FTE) == trace.best[FTE - 1]


def test_bayesian_asha_with_a_longer_grace_period_stops_nothing_before_it(digits):
    from benchmarks.curves.methods import get_method

    trace = get_method("hpx_bo_asha_min4")(digits, 4 * FTE, 2, "val_loss")
    assert trace.total_epochs == 4 * FTE
    stopped = [trained for _, _, trained, was_stopped in trace.trials if was_stopped]
    # Rungs at 4 and 16 epochs: every stop happens at one of them, and some happened.
    assert stopped and set(stopped) <= {4, 16}


@pytest.mark.parametrize("order, budget", [("synchronous", 20), ("interleaved", 20)])
def test_hyperband_stops_each_trial_only_at_the_rungs_of_its_bracket(digits, order, budget):
    from keras_hpx.stopping import HyperbandRule

    # Brackets first judged at 1, 3, 9, 27 epochs; "synchronous" is what rule="hyperband"
    # builds, and it places the first 27 trials in bracket 0: a longer search reaches the
    # others.
    rule = HyperbandRule(order=order)
    oracles: list = []
    trace = random_asha(digits, budget * FTE, seed=2, keep=oracles, rule=rule)
    (oracle,) = oracles
    by_bracket: dict[int, list[int]] = {}
    for trial in oracle.trials.values():
        stop = oracle.early_stop(trial.trial_id)
        b = rule.bracket(trial.trial_id)
        if stop is not None:
            by_bracket.setdefault(b, []).append(stop.step + 1)
            assert f"(bracket {b})" in stop.reason
    # Every stop is at a rung of its trial's bracket: 1, 3, 9 / 3, 9 / 9 (27 is the end).
    rungs = {0: {1, 3, 9}, 1: {3, 9}, 2: {9}}
    assert set(by_bracket) == set(rungs), by_bracket
    for b, steps in by_bracket.items():
        assert set(steps) <= rungs[b], (b, steps)
    # The last bracket trains its runs to the end: some configurations ran all 27 epochs.
    assert any(trained == FTE for _, _, trained, _ in trace.trials)


def test_optimum_fate_import_sets_no_environment_variable(monkeypatch):
    """Importing the script (as the next test does) must not choose a Keras backend for the
    test process and the subprocesses later tests start (it once set `KERAS_BACKEND=jax`,
    and a later test's workers trained on another backend than the test itself)."""
    import importlib
    import os

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    before = dict(os.environ)
    import benchmarks.optimum_fate as fate

    importlib.reload(fate)
    assert dict(os.environ) == before


def test_optimum_fate_finds_the_visits_of_the_best_configurations(digits):
    """`benchmarks/optimum_fate.py`: the top configurations are the table's best by their best
    epoch, and a search's visits to them carry the epochs and stops of its trace."""
    from benchmarks.curves.replay import Trace
    from benchmarks.optimum_fate import early_ranks, top_configurations, visits

    top = top_configurations(digits, "val_loss", 3)
    best = np.nanmin(digits.arrays["val_loss"], axis=1)
    assert top[0] == int(np.argmin(best))
    assert best[top[0]] <= best[top[1]] <= best[top[2]]
    assert top_configurations(digits, "val_accuracy", 1)[0] == int(
        np.argmax(np.nanmax(digits.arrays["val_accuracy"], axis=1))
    )

    trace = Trace("val_loss")
    trace.trials.extend([(5, 0, 27, False), (top[1], 0, 3, True), (top[0], 0, 27, False)])
    seen = visits(trace, top)
    assert [(v.rank, v.trial, v.epochs, v.stopped) for v in seen] == [
        (1, 1, 3, True),
        (0, 2, 27, False),
    ]
    # After all epochs the best configuration ranks first (0% better than it).
    (final,) = early_ranks(digits, "val_loss", top[:1], [FTE])
    assert final == [0.0]
    ranks = early_ranks(digits, "val_loss", top, [1, 3])
    assert all(0.0 <= p < 1.0 for row in ranks for p in row)


def test_bayesian_hyperband_reruns_stopped_configurations_to_the_end():
    """`BayesianOracle(rerun_stopped=True)` + `WeakTrialStopping(rule="hyperband")`, the real
    classes on the generated table: the model proposes some stopped configurations again,
    each at most once more, and the callback trains every rerun to the end."""
    from keras_hpx import BayesianOracle, WeakTrialStopping

    table = CurveTable.load("generated")
    trace = run_oracle(
        table,
        lambda objective: BayesianOracle(
            objective=objective, max_trials=None, hyperparameters=table.space, seed=0
        ),
        20 * FTE,
        "val_loss",
        make_callback=lambda: WeakTrialStopping(monitor="val_loss", rule="hyperband"),
    )
    runs: dict[int, list[tuple[int, bool]]] = {}
    for index, _, trained, stopped in trace.trials:
        runs.setdefault(index, []).append((trained, stopped))
    reruns = {index: r for index, r in runs.items() if len(r) > 1}
    assert reruns, "no configuration was proposed again"
    last = trace.trials[-1][0]
    for index, r in reruns.items():
        assert len(r) == 2
        (_, first_stopped), (trained, stopped) = r
        assert first_stopped and not stopped
        assert trained == FTE or index == last  # the last trial may be cut by the budget


def _bayesian_hyperband_until(table: CurveTable, directory: Path, trials: int) -> Any:
    """`BayesianOracle` + `WeakTrialStopping(rule="hyperband")` in `directory`, resumed from
    what is saved there (as `overwrite=False` does), run until `trials` trials started."""
    import keras_tuner as kt

    from keras_hpx import BayesianOracle, WeakTrialStopping

    oracle = silence(
        BayesianOracle(
            objective=kt.Objective("val_loss", "min"),
            max_trials=None,
            hyperparameters=table.space,
            seed=3,
        )
    )
    oracle._set_project_dir(str(directory), "search")
    if (directory / "search" / "oracle.json").exists():
        oracle.reload()
    callback = WeakTrialStopping(monitor="val_loss", rule="hyperband")
    tuner = ReplayTuner(oracle, Search(table, "val_loss", 10**6), callback)
    while len(oracle.start_order) < trials:
        trial = oracle.create_trial("tuner0")
        assert trial.status == "RUNNING"
        tuner.run_trial(trial)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return oracle


def test_a_resumed_multi_fidelity_search_runs_the_trials_an_uninterrupted_one_does(
    digits, tmp_path
):
    """Stopped trials, their curves, the bracket placement and reruns all survive a resume:
    a search interrupted twice between trials (inside the first Hyperband cycle of 27
    trials and after it; a kill mid-trial is `tests/test_crash_resume.py`'s) proposes,
    stops and reruns exactly what an uninterrupted one does."""

    def trials(oracle: Any) -> list[tuple[dict, Any, bool, bool]]:
        return [
            (
                oracle.trials[t].hyperparameters.values,
                oracle.trials[t].score,
                oracle.early_stop(t) is not None,
                oracle.stopped_twin(t) is not None,
            )
            for t in oracle.start_order
        ]

    straight = trials(_bayesian_hyperband_until(digits, tmp_path / "straight", 40))
    for n in (13, 29):
        _bayesian_hyperband_until(digits, tmp_path / "resumed", n)
    resumed = trials(_bayesian_hyperband_until(digits, tmp_path / "resumed", 40))
    assert sum(stopped for *_, stopped, _ in straight) >= 10
    assert sum(rerun for *_, rerun in straight[29:]) >= 1  # reruns after both resumes
    assert resumed == straight


def test_merged_result_files_are_the_run_of_all_seeds_at_once(tmp_path, capsys, monkeypatch):
    import os

    # The script chooses a backend when imported (os.environ.setdefault): keep that out
    # of this process's environment, which later tests' subprocesses inherit.
    for name, default in (("KERAS_BACKEND", "jax"), ("TF_CPP_MIN_LOG_LEVEL", "3")):
        monkeypatch.setenv(name, os.environ.get(name, default))
    from benchmarks import multi_fidelity_benchmark as mfb

    common = ["--datasets", "digits", "--methods", "hpx_random_asha", "--budgets", "1", "2"]
    files = {}
    for name, seeds in {"all": ["--seeds", "3"], "a": ["--seeds", "1"]}.items():
        files[name] = str(tmp_path / f"{name}.json")
        mfb.main([*common, *seeds, "--out", files[name]])
    files["b"] = str(tmp_path / "b.json")
    mfb.main([*common, "--seeds", "2", "--first-seed", "1", "--out", files["b"]])
    capsys.readouterr()
    merged = str(tmp_path / "merged.json")
    mfb.main(["--merge", files["a"], files["b"], "--out", merged])
    table = capsys.readouterr().out
    whole, joined = (json.load(open(files["all"])), json.load(open(merged)))
    assert joined["settings"]["seeds"] == [0, 1, 2]
    for traces in (whole, joined):  # seconds in the method are timings: not compared
        for trace in traces["datasets"]["digits"]["methods"]["hpx_random_asha"]:
            assert trace.pop("method_seconds") > 0
    assert joined["datasets"] == whole["datasets"]
    assert "| hpx_random_asha |" in table and "3 seeds" in table
    with pytest.raises(SystemExit, match="a seed appears twice"):
        mfb.merge([files["a"], files["all"]])
