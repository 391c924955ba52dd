"""One process of a distributed search whose chief is killed and restarted (test driver).

    python chief_restart_search.py ORACLE OUT_DIR

The worker's trial "2" waits, after writing <out>/running_2, until <out>/go exists: the
test kills the chief meanwhile (kill -9), starts it again with `overwrite=False` and then
creates <out>/go, so the worker reports trial 2's end to the restarted chief. Each
process writes <out>/<tuner_id>.json when its search returns (the trials it ran; the
chief: the oracle's view of every trial).
"""

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_tuner as kt  # noqa: E402

from keras_hpx import BayesianOracle, RandomOracle  # noqa: E402
from keras_hpx.testing.conformance import ScoringTuner, score_of  # noqa: E402

name, out = sys.argv[1], sys.argv[2]
tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "solo")


def space():
    hp = kt.HyperParameters()
    hp.Int("a", 1, 3)
    hp.Choice("b", ["x", "y"])
    hp.Float("d", 0.0, 1.0, step=0.5)
    return hp


common = dict(objective=kt.Objective("score", "min"), hyperparameters=space(), max_trials=6)
if name == "random":
    oracle = RandomOracle(seed=1, **common)
else:
    oracle = BayesianOracle(seed=1, num_initial_points=3, **common)

RAN = []


class Worker(ScoringTuner):
    def run_trial(self, trial, *args, **kwargs):
        if trial.trial_id == "2":
            open(os.path.join(out, "running_2"), "w").close()
            deadline = time.time() + 120
            while not os.path.exists(os.path.join(out, "go")) and time.time() < deadline:
                time.sleep(0.1)
        else:
            time.sleep(0.2)
        RAN.append(trial.trial_id)
        return {"score": score_of(trial.hyperparameters.values)}


tuner = Worker(
    oracle=oracle,
    hypermodel=lambda hp: None,
    directory=os.path.join(out, "project"),
    project_name=name,
    overwrite=False,  # a fresh directory, or the chief's restart
)
tuner.search(verbose=0)
record = {"ran": RAN}
if "chief" in tuner_id:
    record["trials"] = {t.trial_id: t.status for t in tuner.oracle.trials.values()}
with open(os.path.join(out, f"{tuner_id}.json"), "w") as f:
    json.dump(record, f)
