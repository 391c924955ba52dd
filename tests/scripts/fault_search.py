"""One process of a distributed search in which a worker dies (chief or worker).

    python fault_search.py ORACLE MODE OUT_DIR

MODE `kill`: worker `tuner1` kills itself with SIGKILL (kill -9) in the middle of its
second trial, after writing <out>/killed.json (the trial and the time). MODE `slow`:
every trial takes longer than `trial_timeout` but sends heartbeats, so no lease may be
lost. Each worker writes <out>/<tuner_id>.json (the trials it ran, with times); the
chief writes <out>/chief.json (the oracle's view of every trial).
"""

import json
import os
import signal
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_tuner as kt  # noqa: E402

from keras_hpx import BayesianOracle, GridOracle, RandomOracle  # noqa: E402
from keras_hpx.callbacks.heartbeat import Heartbeat  # noqa: E402
from keras_hpx.testing.conformance import ScoringTuner, score_of  # noqa: E402

name, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "solo")
TIMEOUT = 3.0


def space():
    hp = kt.HyperParameters()
    hp.Int("a", 1, 3)
    hp.Choice("b", ["x", "y"])
    hp.Float("d", 0.0, 1.0, step=0.5)  # 3 x 2 x 3 = 18 grid points
    return hp


common = dict(objective=kt.Objective("score", "min"), hyperparameters=space())
common["trial_timeout"] = TIMEOUT
trials = 8 if mode == "kill" else 4
if name == "grid":
    oracle = GridOracle(max_trials=trials, **common)
elif name == "random":
    oracle = RandomOracle(max_trials=trials, seed=1, **common)
else:
    oracle = BayesianOracle(max_trials=trials, seed=1, num_initial_points=3, **common)

RAN = []


class Worker(ScoringTuner):
    def run_trial(self, trial, *args, **kwargs):
        start = time.time()
        if mode == "kill" and tuner_id == "tuner1" and len(RAN) == 1:
            with open(os.path.join(out, "killed.json"), "w") as f:
                json.dump({"trial_id": trial.trial_id, "time": time.time()}, f)
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "slow":
            with Heartbeat(self.oracle, trial.trial_id, interval=0.5):
                time.sleep(2 * TIMEOUT)  # one long "epoch"
        else:
            time.sleep(0.3)
        RAN.append({"trial_id": trial.trial_id, "start": start, "end": time.time()})
        return {"score": score_of(trial.hyperparameters.values)}


tuner = Worker(
    oracle=oracle,
    hypermodel=lambda hp: None,
    directory=os.path.join(out, "project"),
    project_name=name,
    overwrite=False,  # a fresh directory; concurrent overwrites race in Keras Tuner
)
tuner.search(verbose=0)
record = {"returned": time.time(), "ran": RAN}
if "chief" in tuner_id:
    record["trials"] = [
        {
            "trial_id": t.trial_id,
            "status": t.status,
            "values": t.hyperparameters.values,
            "message": t.message,
        }
        for t in tuner.oracle.trials.values()
    ]
    record["lost_leases"] = [
        {"trial_id": lost.trial_id, "tuner_id": lost.tuner_id, "silence": lost.silence}
        for lost in tuner.oracle.lost_leases
    ]
with open(os.path.join(out, f"{tuner_id}.json"), "w") as f:
    json.dump(record, f)
