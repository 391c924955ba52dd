"""One process of a distributed search over one of our oracles (chief or worker).

    python distributed_oracle_search.py ORACLE OUT_DIR

Workers write <out>/<tuner_id>.json: the trials they ran (with start/end times), how
long each create_trial call took, and when their search returned. The chief writes
<out>/chief.json with the oracle's view of every trial.
"""

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_tuner as kt  # noqa: E402

from keras_hpx import BayesianOracle, GridOracle, RandomOracle  # noqa: E402
from keras_hpx.testing.conformance import ScoringTuner, score_of  # noqa: E402

name, out = sys.argv[1], sys.argv[2]
tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "solo")


def space():
    hp = kt.HyperParameters()
    hp.Int("a", 1, 3)
    hp.Choice("b", ["x", "y"])
    hp.Boolean("c")
    hp.Float("d", 0.0, 1.0, step=0.5)  # 3 x 2 x 2 x 3 = 36 grid points
    return hp


objective = kt.Objective("score", "min")
if name.endswith("_mo"):  # several objectives: score against a size that grows with "a"
    objective = [kt.Objective("score", "min"), kt.Objective("size", "min")]
    name = name[: -len("_mo")]
if name == "grid":
    oracle = GridOracle(objective=objective, hyperparameters=space())
elif name == "random":
    oracle = RandomOracle(objective=objective, hyperparameters=space(), max_trials=14, seed=1)
else:
    oracle = BayesianOracle(
        objective=objective, hyperparameters=space(), max_trials=14, seed=1, num_initial_points=4
    )

RAN, CREATE_SECONDS = [], []


class Worker(ScoringTuner):
    def run_trial(self, trial, *args, **kwargs):
        start = time.time()
        time.sleep(0.2)
        result = {"score": score_of(trial.hyperparameters.values)}
        if isinstance(objective, list):
            result["size"] = float(trial.hyperparameters.values["a"])
        RAN.append(
            {
                "trial_id": trial.trial_id,
                "values": trial.hyperparameters.values,
                "start": start,
                "end": time.time(),
            }
        )
        return result


tuner = Worker(
    oracle=oracle,
    hypermodel=lambda hp: None,
    directory=os.path.join(out, "project"),
    project_name=name,
    overwrite=False,  # a fresh directory; concurrent overwrites race in Keras Tuner
)
if "chief" not in tuner_id:
    real_create = tuner.oracle.create_trial

    def timed_create(tid):
        t0 = time.time()
        trial = real_create(tid)
        CREATE_SECONDS.append(time.time() - t0)
        return trial

    tuner.oracle.create_trial = timed_create

tuner.search(verbose=0)
record = {"returned": time.time(), "ran": RAN, "create_seconds": CREATE_SECONDS}
if "chief" in tuner_id:
    record["trials"] = [
        {"trial_id": t.trial_id, "status": t.status, "values": t.hyperparameters.values}
        for t in tuner.oracle.trials.values()
    ]
    record["front"] = [t.trial_id for t in tuner.oracle.pareto_front()]
with open(os.path.join(out, f"{tuner_id}.json"), "w") as f:
    json.dump(record, f)
