import csv
import os
import subprocess
import sys


def test_demo_runs_a_real_search_and_writes_the_trials_csv(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_hpx",
            "demo",
            "--oracle",
            "grid",
            "--max-trials",
            "3",
            "--epochs",
            "2",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "[3/3] trial" in out.stdout
    assert "Best val_accuracy" in out.stdout
    assert f"tensorboard --logdir {tmp_path / 'hparams' / 'digits_grid'}" in out.stdout
    assert list((tmp_path / "hparams" / "digits_grid").rglob("events.out.tfevents.*"))
    rows = list(csv.DictReader(open(tmp_path / "digits_grid" / "trials.csv")))
    assert len(rows) == 3
    assert all(r["status"] == "COMPLETED" and float(r["score"]) > 0.1 for r in rows)
    assert len({(r["units_0"], r["learning_rate"], r["dropout"], r["layers"]) for r in rows}) == 3


def test_demo_rejects_a_bad_oracle_name():
    out = subprocess.run(
        [sys.executable, "-m", "keras_hpx", "demo", "--oracle", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "invalid choice: 'nope'" in out.stderr


def test_demo_defaults_to_the_bayesian_oracle(tmp_path):
    from keras_hpx import BayesianOracle
    from keras_hpx.cli import build_parser
    from keras_hpx.demo import make_oracle

    args = build_parser().parse_args(["demo", "--out", str(tmp_path)])
    assert args.oracle == "bayes"
    assert args.func.__name__ == "run_demo"
    oracle = make_oracle(args.oracle, args.max_trials, args.seed)
    assert type(oracle) is BayesianOracle
    assert oracle.max_trials == args.max_trials == 12
    assert oracle.objective.name == "val_accuracy" and oracle.objective.direction == "max"
    # and what --help tells the user
    help_text = subprocess.run(
        [sys.executable, "-m", "keras_hpx", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "default bayes" in " ".join(help_text.split())
