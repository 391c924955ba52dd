"""Distributed tuning on one machine: a chief serving a `BayesianOracle` to two workers.

What it shows:

* Keras Tuner's distributed mode: every process runs the *same* search script;
  environment variables tell them apart. `KERASTUNER_ORACLE_IP` and
  `KERASTUNER_ORACLE_PORT` say where the chief serves the oracle (over gRPC),
  `KERASTUNER_TUNER_ID` is `chief` for the chief and `tuner0`, `tuner1`, ... for
  the workers, which run the trials;
* `keras_hpx.testing.distributed.run_distributed(script, n_workers=2)` starts
  the chief and the workers on 127.0.0.1 with a free port, waits for all of
  them (killing them all if a deadline passes) and returns their exit codes and
  output. On several machines you would set the three variables yourself;
* keras-hpx's oracles work there unchanged: `BayesianOracle` accounts for the
  trials still running on the other worker, so concurrent proposals differ,
  and it answers "wait" (not "stop") while the last trials run, so no worker
  quits early.

This file is both parts. Run without `KERASTUNER_TUNER_ID` it is the launcher:
it starts itself as a chief and 2 workers, then prints which worker ran which
trial and the best hyperparameters. Run with `KERASTUNER_TUNER_ID` set it is
the search script. It tunes a tiny network on scikit-learn's bundled digits
(no download) for 6 trials of 2 epochs. The chief returns up to about 20 s
after the last trial ends (once the search is over, Keras Tuner's chief checks
every 20 s whether all its workers have left).

Run it with:

    python examples/distributed_local.py

Outputs go to `$KERAS_HPX_EXAMPLES_DIR/distributed_local/` (default:
`./example_runs/distributed_local/`).
"""

import json
import os
import shutil
import sys

OUT_DIR = os.path.abspath(
    os.path.join(os.environ.get("KERAS_HPX_EXAMPLES_DIR") or "example_runs", "distributed_local")
)
N_WORKERS = 2
MAX_TRIALS = 6

"""
## The search script: what the chief and every worker run
"""


def search(out_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import keras_tuner as kt
    import numpy as np
    from sklearn.datasets import load_digits

    from keras_hpx import BayesianOracle

    tuner_id = os.environ["KERASTUNER_TUNER_ID"]

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype("int32")
    x_train, y_train = x[:1408], y[:1408]
    x_val, y_val = x[1408:1792], y[1408:1792]

    def build_model(hp):
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    ran = []  # the trials this process ran

    class RecordingTuner(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            ran.append(trial.trial_id)
            return super().run_trial(trial, *args, **kwargs)

    # Every process builds the same oracle and tuner. In the chief it is the real
    # oracle; in a worker Keras Tuner replaces it with a client of the chief's.
    oracle = BayesianOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_trials=MAX_TRIALS,
        num_initial_points=3,
        seed=0,
    )
    tuner = RecordingTuner(
        oracle=oracle,
        hypermodel=build_model,
        directory=out_dir,
        project_name="search",
        overwrite=False,  # the launcher cleared the directory: no process may delete it
    )
    tuner.search(
        x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=64, verbose=0
    )

    if tuner_id == "chief":  # the chief's search returns once every trial has ended
        record = {
            "trials": [
                {
                    "trial_id": t.trial_id,
                    "status": t.status,
                    "score": t.score,
                    "values": t.hyperparameters.values,
                }
                for t in tuner.oracle.trials.values()
            ]
        }
    else:
        record = {"ran": ran}
    with open(os.path.join(out_dir, f"{tuner_id}.json"), "w") as f:
        json.dump(record, f)


"""
## The launcher: a chief and two workers on this machine
"""


def launch():
    from keras_hpx.testing.distributed import run_distributed

    shutil.rmtree(OUT_DIR, ignore_errors=True)
    os.makedirs(OUT_DIR)
    print(f"Starting a chief and {N_WORKERS} workers running {os.path.basename(__file__)} ...")
    result = run_distributed(
        os.path.abspath(__file__),
        n_workers=N_WORKERS,
        args=[OUT_DIR],
        env={"TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=160,
    )
    result.check()  # raises with every process's output unless all exited with 0
    print(f"All {len(result.processes)} processes exited with 0 after {result.seconds:.0f}s.")

    with open(os.path.join(OUT_DIR, "chief.json")) as f:
        trials = {t["trial_id"]: t for t in json.load(f)["trials"]}
    print(f"\nThe chief's oracle holds {len(trials)} trials:")
    for i in range(N_WORKERS):
        with open(os.path.join(OUT_DIR, f"tuner{i}.json")) as f:
            ran = json.load(f)["ran"]
        print(f"  worker tuner{i} ran {len(ran)} trials:")
        for trial_id in ran:
            t = trials[trial_id]
            values = ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in t["values"].items()
            )
            print(f"    trial {trial_id} {t['status']} val_accuracy={t['score']:.4f} ({values})")
    best = max((t for t in trials.values() if t["score"] is not None), key=lambda t: t["score"])
    print(f"Best: trial {best['trial_id']}, val_accuracy {best['score']:.4f}, {best['values']}")


if __name__ == "__main__":
    if os.environ.get("KERASTUNER_TUNER_ID"):
        search(sys.argv[1])
    else:
        launch()
