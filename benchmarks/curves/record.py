"""Records real Keras learning curves over a discrete space, for replayed multi-fidelity searches.

    python benchmarks/curves/record.py --dataset digits
    python benchmarks/curves/record.py --dataset generated
    python benchmarks/curves/record.py --dataset digits --limit 10 --out /tmp/curves

Every configuration of `SPACE` (1,008 of them) is trained with `model.fit` (Keras 3, JAX
backend: on this CPU its epochs cost about a tenth of TensorFlow's or torch's) for
`EPOCHS` (27) epochs on one dataset, and every epoch's `val_loss`, `val_accuracy`, `loss`
and `accuracy` are stored as float32, with the seconds of each epoch and the seconds of
building and compiling the model (`overhead_seconds`).

Datasets (fixed seed, features standardised with the training split's statistics):

- `digits`: scikit-learn's `load_digits` (8x8 images, 64 features, 10 classes); 1,024
  training and 773 validation samples.
- `generated`: `make_classification` with 2,560 samples, 20 features (8 informative,
  4 redundant), 5 classes of 2 clusters each, 10% of labels flipped; 1,536 training and
  1,024 validation samples.
- `shells` (held out: recorded after the defaults were chosen on the other two):
  `make_gaussian_quantiles`, 4 classes as concentric shells in 6 dimensions, plus 10
  noise features, 5% of labels redrawn; 1,536 training and 1,024 validation samples.

The training sizes are multiples of every batch size and the validation set is one batch,
so each model compiles one training and one validation step.

Everything runs in this one process on one core (OpenMP, BLAS and XLA single-threaded).
Every run trains a fresh model from scratch: the configuration's seed builds a new model
whose initial weights (and dropout seed states) are copied into an already compiled model
of the same program (same hyperparameters but the learning rate, a variable), whose
optimizer state is zeroed and learning rate set, before `model.fit` with a seeded
shuffle. Compiling once per program (144 of them) instead of once per configuration is
what makes the recording fit in an hour; a run does not depend on which configuration ran
before it (checked: the same curve bit for bit after another program or after itself).
JAX's persistent compilation cache (`--jax-cache`) also shares the validation step
between optimizers and batch sizes, and across resumed runs.

Results are appended to `<out>/<dataset>.partial.jsonl` after every configuration and
assembled into `<out>/<dataset>.npz` every `--save-every` configurations and at the end;
a rerun skips what is recorded (resume). Configurations are trained in a seeded random
order so that `--limit N` is a representative sample. The `.npz` holds only numeric and
fixed-width string arrays (load it with `allow_pickle=False`); `<out>/space.json` names the
hyperparameters, their values and the index order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# One core: set before NumPy, JAX or Keras is imported.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    " intra_op_parallelism_threads=1"
).strip()
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"
EPOCHS = 27
METRICS = ("val_loss", "val_accuracy", "loss", "accuracy")
# The index order: row-major over these, the last (learning_rate) varying fastest.
SPACE: dict[str, list[Any]] = {
    "optimizer": ["adam", "sgd"],
    "batch_size": [64, 256],
    "layers": [1, 2, 3],
    "units": [16, 64, 256],
    "activation": ["relu", "tanh"],
    "dropout": [0.0, 0.3],
    "learning_rate": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
}
# `shells` is held out: recorded after the defaults were chosen on the other two, to check
# that they are general (docs/benchmarks.md, "A held-out table").
DATASETS = ("digits", "generated", "shells")
SEEDS = {"digits": 0, "generated": 1, "shells": 2}


def space_shape() -> tuple[int, ...]:
    """The number of values of each hyperparameter, in index order."""
    return tuple(len(v) for v in SPACE.values())


def num_configs() -> int:
    """How many configurations the space holds."""
    return int(np.prod(space_shape()))


def config(index: int) -> dict[str, Any]:
    """The configuration at flat `index` (row-major over `SPACE`)."""
    positions = np.unravel_index(index, space_shape())
    return {name: values[int(p)] for (name, values), p in zip(SPACE.items(), positions)}


def space_description() -> dict[str, Any]:
    """What `space.json` holds: the space, its index order, the datasets and settings."""
    return {
        "hyperparameters": [{"name": k, "values": v} for k, v in SPACE.items()],
        "index_order": (
            "row-major (C order) over 'hyperparameters' as listed, the last varying "
            "fastest: index = numpy.ravel_multi_index(positions, shape)"
        ),
        "shape": list(space_shape()),
        "num_configs": num_configs(),
        "epochs": EPOCHS,
        "metrics": list(METRICS),
        "timing": {
            "epoch_seconds": "seconds of each epoch (training and validation) with compiled code",
            "overhead_seconds": "seconds of building the model and compiling its training and validation steps (a warm-up fit on one batch), measured once per program and shared by the configurations differing only in learning rate",
        },
        "datasets": {name: dataset_description(name) for name in DATASETS},
        "model": (
            "Dense(units, activation) x layers, each followed by Dropout(dropout) when "
            "dropout > 0, then Dense(classes, softmax); sparse categorical cross-entropy; "
            "adam = Adam(learning_rate), sgd = SGD(learning_rate, momentum=0.9); "
            "validation_batch_size = the whole validation set"
        ),
        "backend": "jax, one thread",
    }


def dataset_description(name: str) -> str:
    """One line saying how dataset `name` is made."""
    if name == "digits":
        return "sklearn.datasets.load_digits; 1024 train / 773 validation, split seed 0"
    if name == "shells":
        return (
            "sklearn.datasets.make_gaussian_quantiles(n_samples=2560, n_features=6, n_classes=4, "
            "random_state=2), 10 standard-normal noise features appended and 5% of labels "
            "redrawn at random (numpy seed 2); 1536 train / 1024 validation, split seed 2"
        )
    return (
        "sklearn.datasets.make_classification(n_samples=2560, n_features=20, n_informative=8, "
        "n_redundant=4, n_classes=5, n_clusters_per_class=2, flip_y=0.1, class_sep=1.0, "
        "random_state=1); 1536 train / 1024 validation, split seed 1"
    )


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed, standardised split of dataset `name`: `(x_train, y_train, x_val, y_val)`.

    Raises:
        ValueError: `name` is not one of `DATASETS`.
    """
    from sklearn.datasets import load_digits, make_classification, make_gaussian_quantiles

    if name == "digits":
        x, y = load_digits(return_X_y=True)
        n_train = 1024
    elif name == "generated":
        x, y = make_classification(
            n_samples=2560,
            n_features=20,
            n_informative=8,
            n_redundant=4,
            n_classes=5,
            n_clusters_per_class=2,
            flip_y=0.1,
            class_sep=1.0,
            random_state=1,
        )
        n_train = 1536
    elif name == "shells":
        # Classes are concentric shells in 6 dimensions (a boundary no linear model finds),
        # 10 pure-noise features, 5% of labels replaced at random.
        # (The split below draws from a fresh generator with the same seed: harmless, and
        # changing it would change the recorded table.)
        rng = np.random.default_rng(SEEDS[name])
        x, y = make_gaussian_quantiles(
            n_samples=2560, n_features=6, n_classes=4, random_state=SEEDS[name]
        )
        x = np.concatenate([x, rng.standard_normal((len(x), 10))], axis=1)
        noisy = rng.random(len(y)) < 0.05
        y = np.where(noisy, rng.integers(0, 4, len(y)), y)
        n_train = 1536
    else:
        raise ValueError(f"Invalid dataset={name!r}; expected one of {list(DATASETS)}.")
    order = np.random.default_rng(SEEDS[name]).permutation(len(x))
    x, y = x[order].astype(np.float64), y[order].astype(np.int32)
    mean, std = x[:n_train].mean(axis=0), x[:n_train].std(axis=0)
    std[std == 0] = 1.0
    x = ((x - mean) / std).astype(np.float32)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def build_model(values: dict[str, Any], n_features: int, n_classes: int) -> Any:
    """A compiled Keras MLP for one configuration."""
    import keras

    inputs = keras.Input((n_features,))
    h = inputs
    for _ in range(values["layers"]):
        h = keras.layers.Dense(values["units"], activation=values["activation"])(h)
        if values["dropout"] > 0:
            h = keras.layers.Dropout(values["dropout"])(h)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    if values["optimizer"] == "adam":
        optimizer = keras.optimizers.Adam(values["learning_rate"])
    else:
        optimizer = keras.optimizers.SGD(values["learning_rate"], momentum=0.9)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def config_seed(dataset: str, index: int, seed: int) -> int:
    """The seed of one configuration's training run."""
    return (seed * 1_000_003 + SEEDS[dataset] * 10_007 + index) % (2**31 - 1)


def graph_key(values: dict[str, Any]) -> tuple:
    """What decides the compiled program: everything but the learning rate (a variable)."""
    return tuple((k, v) for k, v in values.items() if k != "learning_rate")


def epoch_timer() -> Any:
    """A Keras callback whose `seconds` lists every epoch's seconds (validation included)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


class Trainer:
    """Trains configurations of one dataset, compiling each program once.

    Each run is a fresh model: the configuration's own seed builds a new model, whose
    initial weights (and dropout seed states) are copied into an already compiled model
    of the same shape, whose optimizer state is zeroed and learning rate set, and which
    is then trained with `model.fit` from its seeded shuffle. The compiled model is made
    (and compiled by a warm-up fit on one batch, whose seconds are the overhead) when the
    program changes (`graph_key`); configurations are recorded grouped by program, so a
    run is the same whichever configuration came before it.

    Args:
        data: `(x_train, y_train, x_val, y_val)`.
    """

    def __init__(self, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
        self.data = data
        self.n_features = int(data[0].shape[1])
        self.n_classes = int(max(data[1].max(), data[3].max())) + 1
        self._key: tuple | None = None
        self._model: Any = None
        self._overhead = float("nan")

    def _compiled(self, values: dict[str, Any], seed: int) -> tuple[Any, float]:
        """The compiled model for `values`' program, and its build + compile seconds."""
        import keras

        key = graph_key(values)
        if key != self._key:
            start = time.perf_counter()
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            model = build_model(values, self.n_features, self.n_classes)
            x_train, y_train, x_val, y_val = self.data
            batch = values["batch_size"]
            model.fit(  # compiles the training and the validation step
                x_train[:batch],
                y_train[:batch],
                validation_data=(x_val, y_val),
                validation_batch_size=len(x_val),
                batch_size=batch,
                epochs=1,
                verbose=0,
            )
            self._key, self._model = key, model
            self._overhead = time.perf_counter() - start
        return self._model, self._overhead

    def train(self, values: dict[str, Any], seed: int, epochs: int = EPOCHS) -> dict[str, Any]:
        """Trains one configuration from scratch; its per-epoch metrics and seconds."""
        import keras

        model, overhead = self._compiled(values, seed)
        keras.utils.set_random_seed(seed)
        fresh = build_model(values, self.n_features, self.n_classes)
        start = time.perf_counter()
        if len(fresh.variables) != len(model.variables):
            raise RuntimeError("the fresh and the compiled model differ in variables")
        for target, source in zip(model.variables, fresh.variables):
            target.assign(source.value)
        for var in model.optimizer.variables:
            name = var.path.rsplit("/", 1)[-1]
            if name == "learning_rate":
                var.assign(values["learning_rate"])
            elif name == "iteration" or name.endswith(("_momentum", "_velocity")):
                var.assign(np.zeros(var.shape, var.dtype))
            else:
                raise RuntimeError(f"unexpected optimizer variable {var.path}")
        reset = time.perf_counter() - start
        x_train, y_train, x_val, y_val = self.data
        timer = epoch_timer()
        np.random.seed(seed)  # the shuffle of every epoch
        history = model.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            validation_batch_size=len(x_val),
            batch_size=values["batch_size"],
            epochs=epochs,
            verbose=0,
            callbacks=[timer],
        )
        out: dict[str, Any] = {m: [float(v) for v in history.history[m]] for m in METRICS}
        out["epoch_seconds"] = list(timer.seconds)
        out["epoch_seconds"][0] += reset
        out["overhead_seconds"] = overhead
        return out


def recording_order(n: int, seed: int) -> np.ndarray:
    """The seeded order in which configurations are trained: programs (`graph_key`) in a
    random order, the learning rates of each in a row."""
    n_rates = len(SPACE["learning_rate"])  # the last axis: consecutive indices
    graphs = np.random.default_rng(seed).permutation(n // n_rates)
    return (graphs[:, None] * n_rates + np.arange(n_rates)[None, :]).ravel()


def _empty_table(n: int, epochs: int) -> dict[str, np.ndarray]:
    table = {m: np.full((n, epochs), np.nan, np.float32) for m in METRICS}
    table["epoch_seconds"] = np.full((n, epochs), np.nan, np.float32)
    table["overhead_seconds"] = np.full(n, np.nan, np.float32)
    table["recorded"] = np.zeros(n, bool)
    return table


def _put(table: dict[str, np.ndarray], index: int, result: dict[str, Any]) -> None:
    for m in (*METRICS, "epoch_seconds"):
        table[m][index] = np.asarray(result[m], np.float32)
    table["overhead_seconds"][index] = result["overhead_seconds"]
    table["recorded"][index] = True


def _read_partial(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path) as f:
        for line in f:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash: that config reruns
                continue


def save_table(table: dict[str, np.ndarray], path: Path, dataset: str, seed: int) -> None:
    """Writes the table atomically as a compressed `.npz` (no object arrays)."""
    meta = {"dataset": dataset, "seed": seed, **space_description()}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **table, meta=np.array(json.dumps(meta, sort_keys=True)))
    os.replace(tmp, path)


def load_existing(path: Path, n: int, epochs: int) -> dict[str, np.ndarray]:
    """The table stored at `path` (the recorded rows), or an empty one."""
    table = _empty_table(n, epochs)
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            if f["val_loss"].shape == (n, epochs):
                for key in table:
                    table[key] = f[key].copy()
    return table


def configure_jax_cache(path: str | None) -> None:
    """Turns on JAX's persistent compilation cache at `path` (nothing for `None`)."""
    if not path:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def record(
    dataset: str,
    out: Path,
    limit: int | None = None,
    seed: int = 0,
    save_every: int = 25,
    jax_cache: str | None = None,
    epochs: int = EPOCHS,
) -> dict[str, np.ndarray]:
    """Records (or resumes recording) every configuration of the space on `dataset`.

    Args:
        dataset: `"digits"` or `"generated"`.
        out: The folder of the `.npz`, the partial `.jsonl` and `space.json`.
        limit: Train at most this many configurations in this call (`None`: all left).
        seed: The base seed of every run and of the recording order.
        save_every: Assemble the `.npz` after this many new configurations.
        jax_cache: JAX's persistent compilation cache folder, or `None` for none.
        epochs: Epochs per configuration.

    Returns:
        The table, as saved.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "space.json").write_text(json.dumps(space_description(), indent=1) + "\n")
    configure_jax_cache(jax_cache)
    n = num_configs()
    npz, partial = out / f"{dataset}.npz", out / f"{dataset}.partial.jsonl"
    table = load_existing(npz, n, epochs)
    for row in _read_partial(partial):
        _put(table, int(row["index"]), row)
    trainer = Trainer(load_dataset(dataset))
    todo = [int(i) for i in recording_order(n, seed) if not table["recorded"][i]]
    if limit is not None:
        todo = todo[:limit]
    print(
        f"{dataset}: {int(table['recorded'].sum())} of {n} recorded, {len(todo)} to train",
        flush=True,
    )
    start = time.perf_counter()
    with open(partial, "a") as log:
        for done, index in enumerate(todo, 1):
            values = config(index)
            result = trainer.train(values, config_seed(dataset, index, seed), epochs)
            _put(table, index, result)
            log.write(json.dumps({"index": index, **result}) + "\n")
            log.flush()
            if done % save_every == 0 or done == len(todo):
                save_table(table, npz, dataset, seed)
                elapsed = time.perf_counter() - start
                print(
                    f"{dataset}: {done}/{len(todo)} in {elapsed:.0f} s "
                    f"({elapsed / done:.2f} s/config, ~{elapsed / done * (len(todo) - done):.0f} s left); "
                    f"last {values} -> val_loss {result['val_loss'][-1]:.4f}",
                    flush=True,
                )
    if table["recorded"].all():
        save_table(table, npz, dataset, seed)
        partial.unlink(missing_ok=True)  # everything is in the .npz
    return table


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--limit", type=int, default=None, help="configurations this call")
    parser.add_argument("--out", default=str(DATA_DIR))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--save-every", type=int, default=25)
    parser.add_argument(
        "--jax-cache",
        default="/tmp/keras_hpx_curves_jax_cache",
        help="JAX persistent compilation cache folder ('' for none)",
    )
    args = parser.parse_args(argv)
    datasets = DATASETS if args.dataset == "all" else (args.dataset,)
    for dataset in datasets:
        record(
            dataset,
            Path(args.out),
            limit=args.limit,
            seed=args.seed,
            save_every=args.save_every,
            jax_cache=args.jax_cache or None,
            epochs=args.epochs,
        )


if __name__ == "__main__":
    sys.exit(main())
