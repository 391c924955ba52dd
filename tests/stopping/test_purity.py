import subprocess
import sys

CODE = """
import sys
for name in ("keras", "keras_tuner", "tensorflow", "jax", "torch"):
    sys.modules[name] = None  # any import of them raises ImportError
import keras_hpx.stopping
from keras_hpx.stopping import MedianRule, FileStore, MemoryStore
from keras_hpx.stopping import rules, store
d = MedianRule(min_steps=1, min_runs=1).decide({0: 2.0}, [{0: 1.0}], 0)
assert d.stop, d
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "keras_tuner", "tensorflow"))
assert all(sys.modules[m] is None for m in loaded), loaded
print("pure")
"""


def test_stopping_imports_without_keras_or_keras_tuner():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pure"
