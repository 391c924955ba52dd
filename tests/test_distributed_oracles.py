"""Each oracle served by a real chief to two real worker processes over gRPC on 127.0.0.1."""

import json
from pathlib import Path

import pytest

from keras_hpx.testing.distributed import run_distributed

SCRIPT = Path(__file__).parent / "scripts" / "distributed_oracle_search.py"
EXPECTED = {"grid": 36, "random": 14, "bayes": 14}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grid", "random", "bayes"])
def test_chief_and_two_workers(tmp_path, name):
    result = run_distributed(
        str(SCRIPT),
        n_workers=2,
        args=[name, str(tmp_path)],
        timeout=240,
        env={"KERAS_BACKEND": "jax"},
    )
    result.check()
    chief = json.load(open(tmp_path / "chief.json"))
    workers = [json.load(open(tmp_path / f"tuner{i}.json")) for i in range(2)]

    trials = chief["trials"]
    configs = [tuple(sorted(t["values"].items())) for t in trials]
    assert len(trials) == EXPECTED[name]
    assert len(set(configs)) == len(configs), "a configuration ran twice"
    assert all(t["status"] == "COMPLETED" for t in trials)
    ran = [r for w in workers for r in w["ran"]]
    assert sorted(r["trial_id"] for r in ran) == sorted(t["trial_id"] for t in trials)
    # both workers worked; neither quit while trials were still to be handed out, and on
    # an exhausted grid neither was told STOPPED while the last trials still ran (they
    # could have discovered hyperparameters that extend the grid)
    last_start = max(r["start"] for r in ran)
    last_end = max(r["end"] for r in ran)
    for w in workers:
        assert w["ran"], "a worker ran nothing"
        assert w["returned"] >= last_start, "a worker quit while work remained"
        if name == "grid":
            assert w["returned"] >= last_end - 0.05, "told STOPPED while trials still ran"
    # the chief answers quickly: proposals never block it for long. A proposal here takes
    # about 0.1 s on an idle core; the bound leaves room for the suite's other workers
    # sharing two cores (2.8 s was seen so), and still fails a proposal that takes seconds.
    slowest = max(s for w in workers for s in w["create_seconds"])
    assert slowest < 5.0, slowest


@pytest.mark.slow
def test_a_multi_objective_search_over_grpc(tmp_path):
    """Several objectives in distributed mode: the workers' dicts reach the chief's
    oracle (Keras Tuner's check is fixed in every process), and its front is exact."""
    result = run_distributed(
        str(SCRIPT),
        n_workers=2,
        args=["bayes_mo", str(tmp_path)],
        timeout=240,
        env={"KERAS_BACKEND": "jax"},
    )
    result.check()
    chief = json.load(open(tmp_path / "chief.json"))
    trials = chief["trials"]
    assert len(trials) == 14 and all(t["status"] == "COMPLETED" for t in trials)
    configs = [tuple(sorted(t["values"].items())) for t in trials]
    assert len(set(configs)) == len(configs)
    assert chief["front"], "no Pareto front on the chief"
