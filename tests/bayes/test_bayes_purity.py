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
        import keras_hpx.bayes.acquisition, keras_hpx.bayes.acquisition_search
        import keras_hpx.bayes.gp, keras_hpx.bayes.kernels
        import keras_hpx.bayes.optimizer, keras_hpx.bayes.transforms
        import keras_hpx.space, keras_hpx.space_encoder
        import numpy as np
        from keras_hpx.space import Param, Space
        from keras_hpx.space_encoder import SpaceEncoder
        space = Space([Param("x", "float", 0.0, 1.0), Param("c", "choice", values=("a", "b", "c"))])
        assert SpaceEncoder(space).encode({"x": 0.5, "c": "b"}).shape == (space.dim,)
        obs = [({"x": 0.1 * i, "c": "abc"[i % 3]}, float(i % 4)) for i in range(6)]
        opt = bayes.BayesianOptimizer(n_candidates=64)
        v = opt.suggest(space, obs, np.random.default_rng(0))
        assert space.is_valid(v), v
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
