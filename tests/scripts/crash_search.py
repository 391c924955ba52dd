"""A search that a test kills with SIGKILL mid-trial and then resumes.

python crash_search.py ORACLE DIRECTORY OVERWRITE(0|1) SECONDS_PER_TRIAL
"""

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_tuner as kt  # noqa: E402

from keras_hpx import GridOracle, RandomOracle  # noqa: E402
from keras_hpx.testing.conformance import ScoringTuner, score_of  # noqa: E402

name, directory, overwrite, pause = sys.argv[1], sys.argv[2], sys.argv[3] == "1", float(sys.argv[4])


def space():
    hp = kt.HyperParameters()
    hp.Int("a", 1, 4)
    hp.Choice("b", ["x", "y", "z"])
    return hp


class SlowTuner(ScoringTuner):
    def run_trial(self, trial, *args, **kwargs):
        time.sleep(pause)
        return {"score": score_of(trial.hyperparameters.values)}


objective = kt.Objective("score", "min")
if name == "grid":
    oracle = GridOracle(objective=objective, hyperparameters=space())
elif name == "random":
    oracle = RandomOracle(objective=objective, hyperparameters=space(), max_trials=10, seed=3)
elif name == "bayes":
    from keras_hpx import BayesianOracle

    oracle = BayesianOracle(
        objective=objective, hyperparameters=space(), max_trials=10, seed=3, num_initial_points=3
    )
else:
    raise SystemExit(f"unknown oracle {name}")
SlowTuner(
    oracle=oracle,
    hypermodel=lambda hp: None,
    directory=directory,
    project_name="crash",
    overwrite=overwrite,
).search(verbose=0)
print("SEARCH DONE", len(oracle.trials), flush=True)
