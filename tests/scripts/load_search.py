"""One process of a many-worker load run over one of our oracles (chief or worker).

    python load_search.py ORACLE N_TRIALS OUT_DIR

Trials are near-instant, except the last one handed out, which sleeps LONG seconds so
that every other worker waits (IDLE) meanwhile. Workers write <out>/<tuner_id>.json
(trials run, create_trial durations, when search returned); the chief writes
<out>/chief.json (every trial) and <out>/chief_cpu.json (CPU seconds sampled every
0.25 s, to check that it does not spin while workers are idle).
"""

import json
import os
import sys
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_tuner as kt  # noqa: E402

from keras_hpx import BayesianOracle, GridOracle, RandomOracle  # noqa: E402
from keras_hpx.testing.conformance import ScoringTuner, score_of  # noqa: E402

name, n_trials, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "solo")
LONG = 4.0


def space():
    hp = kt.HyperParameters()
    hp.Int("a", 0, 9)
    hp.Int("b", 0, 9)
    hp.Int("c", 0, 9)  # 1,000 grid points
    hp.Choice("d", ["x", "y"])
    return hp


common = dict(objective=kt.Objective("score", "min"), hyperparameters=space(), max_trials=n_trials)
if name == "grid":
    oracle = GridOracle(**common)
elif name == "random":
    oracle = RandomOracle(seed=1, **common)
else:
    oracle = BayesianOracle(seed=1, num_initial_points=10, **common)

RAN, CREATE = [], []


class Worker(ScoringTuner):
    def run_trial(self, trial, *args, **kwargs):
        start = time.time()
        if int(trial.trial_id) == n_trials - 1:
            time.sleep(LONG)  # the others are IDLE meanwhile
        RAN.append({"trial_id": trial.trial_id, "start": start, "end": time.time()})
        return {"score": score_of(trial.hyperparameters.values)}


tuner = Worker(
    oracle=oracle,
    hypermodel=lambda hp: None,
    directory=os.path.join(out, "project"),
    project_name=name,
    overwrite=False,
)
samples = []
if "chief" in tuner_id:

    def sample():
        while True:
            samples.append((time.time(), time.process_time()))
            time.sleep(0.25)

    threading.Thread(target=sample, daemon=True).start()
else:
    real = tuner.oracle.create_trial

    def timed(tid):
        t0 = time.time()
        trial = real(tid)
        CREATE.append(time.time() - t0)
        return trial

    tuner.oracle.create_trial = timed

started = time.time()
tuner.search(verbose=0)
record = {"started": started, "returned": time.time(), "ran": RAN, "create_seconds": CREATE}
if "chief" in tuner_id:
    record["trials"] = [
        {"trial_id": t.trial_id, "status": t.status, "values": t.hyperparameters.values}
        for t in tuner.oracle.trials.values()
    ]
    with open(os.path.join(out, "chief_cpu.json"), "w") as f:
        json.dump(samples, f)
with open(os.path.join(out, f"{tuner_id}.json"), "w") as f:
    json.dump(record, f)
