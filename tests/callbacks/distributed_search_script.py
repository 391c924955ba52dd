"""One process of a distributed search with WeakTrialStopping (run by the test).

Every process (chief and workers, told apart by KERASTUNER_TUNER_ID) builds the
same tuner. Each worker writes what its callback saw to <out>/<tuner_id>.json.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_hpx import BayesianOracle, RandomOracle, WeakTrialStopping  # noqa: E402

LOG = []
BAD = 1e-7  # a learning rate that does not learn


class RerunOracle(RandomOracle):
    """Proposes lr 0.03, 0.01 and BAD, then BAD again once its first run ended stopped
    early: the rerun that `BayesianOracle(rerun_stopped=True)` may propose (IDLE until
    then)."""

    def propose(self, trial_id):
        rates = [self.trials[t].hyperparameters.values["lr"] for t in self.start_order]
        if len(rates) < 3:
            return {"lr": [0.03, 0.01, BAD][len(rates)], "units": 4}
        bad = [t for t in self.start_order if self.trials[t].hyperparameters.values["lr"] == BAD]
        if len(bad) == 1 and self.early_stop(bad[0]) and self.trials[bad[0]].status != "RUNNING":
            return {"lr": BAD, "units": 4}
        return None


class RecordingStopper(WeakTrialStopping):
    """Records, after every epoch, what the decision compared with."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        LOG.append(
            {
                "trial": self._ctx.trial_id if self._ctx else None,
                "epoch": epoch,
                "bracket": self.bracket,
                "compared_with": list(self.compared_with),
                "stop": bool(self.decision and self.decision.stop),
                "rerun_of": self.rerun_of,
            }
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--oracle", choices=["random", "bayes", "rerun"], default="random")
    parser.add_argument("--rule", default="median")
    parser.add_argument("--min-runs", type=int, default=2)
    parser.add_argument(
        "--order", default=None, help="HyperbandRule(order=...) for --rule hyperband"
    )
    a = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")

    def build(hp):
        lrs = [0.03, 0.01, BAD] if a.oracle != "bayes" else [0.03, 0.01, 3e-3, BAD]
        lr = hp.Choice("lr", lrs)
        units = hp.Choice("units", [4, 8])
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
        return model

    class Tuner(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            keras.utils.set_random_seed(1)
            return super().run_trial(trial, *args, **kwargs)

    if a.order is not None:
        from keras_hpx.stopping import HyperbandRule

        rule = HyperbandRule(min_steps=2, min_runs=a.min_runs, order=a.order)
        stopper = RecordingStopper(monitor="val_loss", rule=rule)
    else:
        stopper = RecordingStopper(
            monitor="val_loss", rule=a.rule, min_steps=2, min_runs=a.min_runs
        )
    objective = kt.Objective("val_loss", "min")
    if a.oracle == "random":
        oracle = RandomOracle(objective=objective, max_trials=a.trials, seed=3)
    elif a.oracle == "rerun":
        oracle = RerunOracle(objective=objective, max_trials=a.trials, seed=3)
    else:
        oracle = BayesianOracle(
            objective=objective, max_trials=a.trials, num_initial_points=3, seed=3
        )
    tuner = Tuner(
        oracle=oracle,
        hypermodel=build,
        directory=a.out,
        project_name="search",
        overwrite=False,
    )
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "local")
    if tuner_id != "chief":
        # Start together, so that a worker slowed by its imports still gets trials.
        open(os.path.join(a.out, f"ready_{tuner_id}"), "w").close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready = [f for f in os.listdir(a.out) if f.startswith("ready_")]
            if len(ready) >= a.workers:
                break
            time.sleep(0.1)
    tuner.search(
        x,
        y,
        validation_split=0.25,
        epochs=a.epochs,
        batch_size=32,
        verbose=0,
        callbacks=[stopper],
    )
    if tuner_id != "chief":
        with open(os.path.join(a.out, f"{tuner_id}.json"), "w") as f:
            json.dump(LOG, f)


if __name__ == "__main__":
    main()
