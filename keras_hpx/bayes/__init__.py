"""Bayesian optimisation in pure numpy/scipy (no Keras import).

One concept per module: `kernels` (Matern 5/2, Matern 3/2, RBF), `gp` (Gaussian
process regression with MAP-fitted hyperparameters), `acquisition` (log EI, EI,
PI, UCB), `optimize` (acquisition optimisation over an encoded `Space`) and
`optimizer` (`BayesianOptimizer` and `suggest`: one optimisation step, as
`keras_hpx.oracles.bayesian` calls it).
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
from keras_hpx.bayes.gp import GaussianProcess, GPParams, Prior
from keras_hpx.bayes.kernels import KERNELS, RBF, Kernel, Matern32, Matern52, get_kernel
from keras_hpx.bayes.optimize import optimize_acquisition
from keras_hpx.bayes.optimizer import BayesianOptimizer, clean_scores, suggest

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
    "Prior",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
    "clean_scores",
    "get_acquisition",
    "get_kernel",
    "optimize_acquisition",
    "suggest",
]
