"""Smoke tests of `examples/`: every script runs to the end, alone, and prints its result.

Each example is found with a glob, so a new one is tested automatically; it must
also get an entry in `EXPECTED` (a line its output must contain), or its test
fails.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))

# example name -> text its output must contain
EXPECTED = {
    "bayesian_warm_start": "6 trials (kernel=matern32, acquisition=ei",
    "compare_oracles": "Best val_accuracy per oracle",
    "distributed_local": "All 3 processes exited with 0",
    "export_keras_tuner_project": "Exported 4 trials (4 COMPLETED)",
    "fit_sweep_stopping_hparams": "Stopped runs:",
    "grid_float_points_conditional": "9 trials for a grid of 9 combinations",
    "jax_backend": "TensorFlow imported: no",
    "multi_fidelity_digits": "Epochs trained:",
    "multi_objective_digits": "Front picture:",
    "search_stopping_and_resume": "Session 3:",
}


def test_there_are_at_least_eight_examples_each_with_a_docstring():
    assert len(EXAMPLES) >= 8, [p.name for p in EXAMPLES]
    for path in EXAMPLES:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring, f"examples/{path.name} has no module docstring"
        assert f"python examples/{path.name}" in docstring, (
            f"the docstring of examples/{path.name} does not say how to run it"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    assert path.stem in EXPECTED, f"add the text examples/{path.name} must print to EXPECTED"
    env = dict(os.environ, KERAS_HPX_EXAMPLES_DIR=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = out.stdout + out.stderr
    assert out.returncode == 0, output[-5000:]
    assert EXPECTED[path.stem] in out.stdout, output[-5000:]
    # the outputs went where KERAS_HPX_EXAMPLES_DIR says, not to ./example_runs
    assert (tmp_path / path.stem).is_dir(), sorted(os.listdir(tmp_path))
    assert not (tmp_path / "example_runs").exists()
