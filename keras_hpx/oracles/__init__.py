"""keras_hpx.oracles: drop-in `keras_tuner.Oracle`s (the Keras Tuner glue).

`base.HpxOracle` adapts Keras Tuner's hooks to small parts (`tried`,
`warm_start`, `design`, `reporter`, `keras_tuner_adapter`); `grid`, `random`
and `bayesian` each write one `propose()`.
"""

from keras_hpx.oracles.base import HpxOracle
from keras_hpx.oracles.bayesian import BayesianOracle
from keras_hpx.oracles.grid import GridOracle
from keras_hpx.oracles.random import RandomOracle

__all__ = ["BayesianOracle", "GridOracle", "HpxOracle", "RandomOracle"]
