"""Bayesian optimisation in pure numpy/scipy (no Keras import).

One concept per module, in the order a step uses them:

* `transforms`: observed scores -> model targets (`clean_scores`: failures count
  as the worst score; `warp_scores`: a monotone Yeo-Johnson warp).
* `kernels`: covariance kernels (Matern 5/2, Matern 3/2, RBF).
* `gp`: Gaussian-process regression with MAP-fitted hyperparameters (`Prior`).
* `acquisition`: acquisition functions (log EI, EI, PI, UCB).
* `hypervolume_improvement`: several objectives: the boxes of the region a front
  does not dominate, and the exact log expected hypervolume improvement.
* `acquisition_search`: maximising an acquisition over the valid points of an
  encoded `Space` (`optimize_acquisition`).
* `optimizer`: `BayesianOptimizer`, one step that orchestrates the above:
  encode -> transform -> fit -> fantasies -> acquisition -> search -> decode,
  as `keras_hpx.oracles.bayesian` calls it.

The feature encoding of a space lives with the space: `keras_hpx.space` and
`keras_hpx.space_encoder`.
"""

from keras_hpx.bayes.acquisition import (
    ACQUISITIONS,
    AcquisitionFunction,
    ExpectedImprovement,
    LogExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    get_acquisition,
)
from keras_hpx.bayes.acquisition_search import optimize_acquisition
from keras_hpx.bayes.gp import GaussianProcess, GPParams, Prior
from keras_hpx.bayes.hypervolume_improvement import log_ehvi, nondominated_cells
from keras_hpx.bayes.kernels import KERNELS, RBF, Kernel, Matern32, Matern52, get_kernel
from keras_hpx.bayes.optimizer import BayesianOptimizer, Observation
from keras_hpx.bayes.transforms import clean_scores, warp_scores

__all__ = [
    "ACQUISITIONS",
    "KERNELS",
    "RBF",
    "AcquisitionFunction",
    "BayesianOptimizer",
    "ExpectedImprovement",
    "GPParams",
    "GaussianProcess",
    "Kernel",
    "LogExpectedImprovement",
    "Matern32",
    "Matern52",
    "Observation",
    "Prior",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
    "clean_scores",
    "get_acquisition",
    "get_kernel",
    "log_ehvi",
    "nondominated_cells",
    "optimize_acquisition",
    "warp_scores",
]
