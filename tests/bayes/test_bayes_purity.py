import subprocess
import sys
import textwrap


def test_bayes_imports_without_keras_tuner_or_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        for name in ("keras", "keras_tuner", "tensorflow"):
            sys.modules[name] = None  # any import of them now raises ImportError
        import keras_hpx.bayes as bayes
        import keras_hpx.bayes.acquisition, keras_hpx.bayes.gp, keras_hpx.bayes.kernels
        import keras_hpx.bayes.optimize, keras_hpx.bayes.optimizer
        import numpy as np
        from keras_hpx.space import Param, Space
        space = Space([Param("x", "float", 0.0, 1.0), Param("c", "choice", values=("a", "b", "c"))])
        obs = [({"x": 0.1 * i, "c": "abc"[i % 3]}, float(i % 4)) for i in range(6)]
        v = bayes.suggest(space, obs, np.random.default_rng(0), n_candidates=64)
        assert space.is_valid(v), v
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
