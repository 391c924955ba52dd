"""Screenshot of TensorBoard's HParams dashboard over a keras-hpx search (headless Chromium).

    python scripts/hparams_screenshot.py                      # runs the digits demo search
    python scripts/hparams_screenshot.py --logdir LOGS        # uses logs you already have

It runs the demo's search (scikit-learn digits, keras-hpx RandomOracle, JAX backend
unless KERAS_BACKEND says otherwise) with `HParamsLogger`, starts `tensorboard` on
127.0.0.1, waits until the HParams plugin lists every trial, and has Debian's
`chromium` (apt-get install chromium) take the picture of `/#hparams`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run_search(log_dir: str, trials: int, epochs: int, seed: int) -> int:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import keras_tuner as kt

    from keras_hpx.callbacks.hparams_logger import HParamsLogger
    from keras_hpx.demo import build_model, load_digits_split, make_oracle

    keras.utils.set_random_seed(seed)
    (x, y), (xv, yv) = load_digits_split(seed)
    oracle = make_oracle("random", trials, seed)
    oracle.progress = False
    tuner = kt.Tuner(
        oracle=oracle,
        hypermodel=build_model,
        directory=tempfile.mkdtemp(prefix="hpx-shot-"),
        project_name="digits",
        overwrite=True,
    )
    stop = keras.callbacks.EarlyStopping("val_accuracy", patience=1, min_delta=0.01)
    tuner.search(
        x,
        y,
        validation_data=(xv, yv),
        epochs=epochs,
        batch_size=64,
        verbose=0,
        callbacks=[HParamsLogger(log_dir), stop],
    )
    return len(oracle.trials)


def screenshot(url: str, out: str, width: int, height: int, budget_ms: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={os.path.abspath(out)}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}",
            url,
        ]
        subprocess.run(cmd, capture_output=True, timeout=180, check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--logdir", help="existing HParams logs (default: run the demo search)")
    p.add_argument("--out", default="docs/hparams.png", help="PNG to write (docs/hparams.png)")
    p.add_argument("--trials", type=int, default=12, help="trials of the search (12)")
    p.add_argument("--epochs", type=int, default=6, help="epochs per trial (6)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", default="1600,900", help="window size (1600,900)")
    args = p.parse_args(argv)

    from keras_hpx.testing.tensorboard_server import TensorBoardServer

    log_dir = args.logdir
    if log_dir is None:
        log_dir = tempfile.mkdtemp(prefix="hpx-hparams-")
        start = time.time()
        n = run_search(log_dir, args.trials, args.epochs, args.seed)
        print(f"search: {n} trials in {time.time() - start:.0f}s, logs in {log_dir}")
    from keras_hpx.tensorboard.hparams import EXPERIMENT_DIR

    n_runs = sum(  # one table row per trial directory
        1
        for d in os.listdir(log_dir)
        if os.path.isdir(os.path.join(log_dir, d)) and d not in (EXPERIMENT_DIR, ".")
    )
    width, height = (int(v) for v in args.size.split(","))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with TensorBoardServer(log_dir) as server:
        try:
            server.wait_for_experiment(timeout=60)
        except TimeoutError:
            print("no experiment record in the logs: the dashboard infers its columns")
        groups = server.wait_for_groups(n_runs, timeout=120)
        print(f"tensorboard at {server.url}: {len(groups)} session groups")
        screenshot(server.url + "/#hparams", args.out, width, height, budget_ms=15000)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
