"""The pure modules import without Keras, Keras Tuner or TensorFlow."""

import subprocess
import sys

PURE = [
    "keras_hpx.checks",
    "keras_hpx.direction",
    "keras_hpx.files",
    "keras_hpx.records",
    "keras_hpx.report",
    "keras_hpx.samplers",
    "keras_hpx.space",
    "keras_hpx.space_encoder",
    "keras_hpx.stopping",
    "keras_hpx.stopping.search",
    "keras_hpx.bayes",
]

CODE = """
import importlib, sys
for name in ("keras", "keras_tuner", "tensorflow"):
    sys.modules[name] = None  # any import of them raises ImportError
for module in sys.argv[1:]:
    importlib.import_module(module)
print("pure")
"""


def test_pure_modules_import_without_the_frameworks():
    out = subprocess.run(
        [sys.executable, "-c", CODE, *PURE], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "pure"
