"""One Bayesian-optimisation step: observations in, next configuration out.

`BayesianOptimizer.suggest` only orchestrates the pure pieces:

    encode (space_encoder) -> clean + warp scores (transforms) -> standardise +
    MAP fit (gp, kernels) -> fantasies for pending points -> acquisition
    (acquisition) -> maximise over the space (acquisition_search) -> decode

Every piece comes in through the constructor (kernel, acquisition, the GP's
prior and noise floor, the search budgets); randomness comes in with each call.

Conventions:

* Scores are **minimised**; the oracle flips the sign of maximised objectives.
  Failed observations (score `None`, NaN or infinite) count as the worst finite
  score (`clean_scores`); scores are warped by a fitted Yeo-Johnson transform
  before the model sees them (`warp_scores`, monotone). Under several objectives
  (`pareto="logehvi"` or `"qparego"`, one GP per objective) an objective is warped
  only when its scores reject the identity (a likelihood-ratio test): a warp
  distorts the hypervolume the acquisition measures. ParEGO's one scalarised score
  is warped as a single objective is.
* Several objectives (scores are vectors, each value minimised): one GP per
  objective and the exact log expected hypervolume improvement over the
  observed front (`pareto="logehvi"`, `hypervolume_improvement`), or one GP
  on a random Chebyshev scalarisation (`pareto="parego"`). The front and the
  reference point live in each model's standardised units: the reference is
  the worst observed value of each objective plus a tenth of its range
  (`hypervolume_improvement.reference_point`).
* Pending (running) configurations are added as *kriging-believer* fantasies
  of the latent function: the model is conditioned, without noise, on
  `f(pending) = posterior mean`, and the incumbent includes them, so the
  acquisition at and around a pending point drops and concurrent proposals
  differ. Their keys must also be in `excluded`.
* Cost: the hyperparameter fit sees at most `max_fit` observations (the best
  half of them by score plus the most recent), so its cost is bounded; the
  posterior conditions on all observations (one Cholesky, `O(n**3 / 3)`) and
  scores the candidates in `O(n**2)` each. Measured on 2 CPU cores in 6
  dimensions: see `docs/benchmarks.md`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from keras_hpx import pareto
from keras_hpx.bayes import hypervolume_improvement as hvi
from keras_hpx.bayes import scalarised_improvement as scalarised
from keras_hpx.bayes._blas import single_threaded_blas
from keras_hpx.bayes.acquisition import ACQUISITIONS, AcquisitionFunction, get_acquisition
from keras_hpx.bayes.acquisition_search import AcqFn, AcqGradFn, optimize_acquisition
from keras_hpx.bayes.fidelity import TrainingRun, budget_points
from keras_hpx.bayes.gp import GaussianProcess, GPParams, Prior
from keras_hpx.bayes.kernels import KERNELS, Kernel, get_kernel
from keras_hpx.bayes.transforms import clean_scores, warp_scores
from keras_hpx.checks import check_bool, check_choice, check_int, check_number, invalid
from keras_hpx.space import Space
from keras_hpx.space_encoder import SpaceEncoder

__all__ = ["PARETO_METHODS", "BayesianOptimizer", "Observation"]

Observation = tuple[Mapping[str, Any], Any]
"""One `(values, score)` pair; the score is minimised and may be `None`, NaN or infinite.
With several objectives the score is a sequence of minimised values (or `None` for a
failed trial)."""

_CONFIG_KEYS = (
    "kernel",
    "acquisition",
    "xi",
    "kappa",
    "max_fit",
    "n_candidates",
    "n_starts",
    "warp",
    "min_noise",
    "prior",
    "pareto",
)
PARETO_METHODS = ("logehvi", "qparego", "parego")
MC_SAMPLES = 128  # base samples of the qParEGO acquisition
# Above this many boxes in the undominated region (fronts of many points in 4 or more
# objectives), a proposal falls back to ParEGO, whose cost does not grow with the front.
MAX_BOXES = 20_000


def _registered_name(obj: Any, registry: Mapping[str, type]) -> str:
    """`obj.name` when the registry builds `obj`'s class from it, else the class path."""
    name = getattr(obj, "name", "")
    if name and registry.get(name) is type(obj):
        return name
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class BayesianOptimizer:
    """Gaussian-process Bayesian optimisation over a `Space`, without Keras.

    Holds only its configuration and the last fitted hyperparameters (a warm
    start for the next fit, `last_params`); every call rebuilds the model from
    the observations it is given.

    Example:

    ```python
    opt = BayesianOptimizer("matern52", "logei", n_candidates=1024)
    values = opt.suggest(space, observations, np.random.default_rng(0), excluded=tried)
    ```

    Args:
        kernel: `"matern52"`, `"matern32"`, `"rbf"` or a `Kernel`. Defaults to
            `"matern52"`.
        acquisition: `"logei"`, `"ei"`, `"pi"`, `"ucb"` or an
            `AcquisitionFunction`. Defaults to `"logei"`.
        xi: Improvement margin of `"logei"`, `"ei"`, `"pi"` in standardised
            units (ignored for an `AcquisitionFunction` instance). Defaults to
            `None` (the acquisition's default).
        kappa: Width of `"ucb"` (ignored for an instance). Defaults to `None`
            (the acquisition's default, 2).
        max_fit: Most observations the hyperparameter fit sees. Defaults to `150`.
        n_candidates: Quasi-random candidates per proposal. Defaults to `2048`.
        n_starts: Candidates refined locally. Defaults to `10`.
        warp: Fit the model to Yeo-Johnson-warped scores (`warp_scores`); with one
            GP per objective (`pareto="logehvi"` or `"qparego"`), each objective only
            when its scores reject the identity (`warp_scores(only_if_needed=True)`).
            Defaults to `True`.
        prior: Prior of the GP's hyperparameters (`keras_hpx.bayes.Prior`).
            Defaults to `None` (`Prior()`).
        min_noise: Noise floor of the GP, in standardised units. Defaults to
            `None` (the `GaussianProcess` default, `1e-9`).
        pareto: How several objectives are searched: `"logehvi"`, one GP per
            objective and the exact log expected hypervolume improvement over
            the observed front (`keras_hpx.bayes.hypervolume_improvement`);
            `"qparego"`, one GP per objective and the expected improvement of a
            random augmented-Chebyshev scalarisation of their normalised
            predictions, new weights at each proposal
            (`keras_hpx.bayes.scalarised_improvement`); or `"parego"`, one GP
            on the scalarised scores themselves (Knowles, 2006). Ignored with one
            objective. Defaults to `"logehvi"`.

    Raises:
        TypeError: An argument of the wrong type.
        ValueError: An argument of the right type outside what is allowed.
    """

    def __init__(
        self,
        kernel: str | Kernel = "matern52",
        acquisition: str | AcquisitionFunction = "logei",
        *,
        xi: float | None = None,
        kappa: float | None = None,
        max_fit: int = 150,
        n_candidates: int = 2048,
        n_starts: int = 10,
        warp: bool = True,
        prior: Prior | None = None,
        min_noise: float | None = None,
        pareto: str = "logehvi",
    ):
        xi = check_number("xi", xi, minimum=0.0, allow_none=True)
        kappa = check_number("kappa", kappa, minimum=0.0, allow_none=True)
        self.kernel: Kernel = get_kernel(kernel)
        self.acquisition: AcquisitionFunction = get_acquisition(acquisition, xi=xi, kappa=kappa)
        self.max_fit: int = check_int("max_fit", max_fit, 2)
        self.n_candidates: int = check_int("n_candidates", n_candidates, 1)
        self.n_starts: int = check_int("n_starts", n_starts, 0)
        self.warp: bool = check_bool("warp", warp)
        if prior is not None and not isinstance(prior, Prior):
            raise invalid("prior", prior, "a keras_hpx.bayes.Prior or None", TypeError)
        self.prior: Prior = prior if prior is not None else Prior()
        self.min_noise: float | None = check_number(
            "min_noise", min_noise, positive=True, allow_none=True
        )
        self.pareto: str = check_choice("pareto", pareto, PARETO_METHODS)
        self.warm_starts: dict[str, GPParams] = {}
        """The last fit of each model, the next fit's starting point: `"score"` (one
        objective), `"score+budget"` (one objective, stopped runs modelled at their
        budgets), `"objective_<j>"` (objective `j` of several)."""

    # ----- configuration ------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The settings as JSON-ready data; `from_config` rebuilds an equal optimizer.

        Kernels and acquisitions are written by name (a custom class by its
        import path, which `from_config` refuses); the prior as a dict of its
        fields, or `None` when it is the default `Prior()`. The warm start
        (`last_params`) is state, not configuration, and is left out.

        Returns:
            A dict with the keys `kernel`, `acquisition`, `xi`, `kappa`,
            `max_fit`, `n_candidates`, `n_starts`, `warp`, `min_noise`, `prior`,
            `pareto`.
        """
        xi = getattr(self.acquisition, "xi", None)
        kappa = getattr(self.acquisition, "kappa", None)
        return {
            "kernel": _registered_name(self.kernel, KERNELS),
            "acquisition": _registered_name(self.acquisition, ACQUISITIONS),
            "xi": None if xi is None else float(xi),
            "kappa": None if kappa is None else float(kappa),
            "max_fit": self.max_fit,
            "n_candidates": self.n_candidates,
            "n_starts": self.n_starts,
            "warp": self.warp,
            "min_noise": self.min_noise,
            "prior": None if self.prior == Prior() else dataclasses.asdict(self.prior),
            "pareto": self.pareto,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BayesianOptimizer:
        """Rebuilds an optimizer from `get_config()` (missing keys take their defaults).

        Args:
            config: The output of `get_config`, or part of it.

        Returns:
            A new `BayesianOptimizer` (without a warm start).

        Raises:
            TypeError: `config` is not a mapping, or `config["prior"]` is
                neither a dict nor `None`.
            ValueError: An unknown key, or an invalid setting.
        """
        if not isinstance(config, Mapping):
            raise invalid("config", config, "a dict from get_config()", TypeError)
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise invalid(
                "config", dict(config), f"only the keys {list(_CONFIG_KEYS)}; unknown: {unknown}"
            )
        kwargs = dict(config)
        prior = kwargs.pop("prior", None)
        if prior is not None:
            if not isinstance(prior, Mapping):
                raise invalid("config['prior']", prior, "a dict of Prior fields or None", TypeError)
            fields = {f.name for f in dataclasses.fields(Prior)}
            if set(prior) - fields:
                raise invalid("config['prior']", prior, f"only the keys {sorted(fields)}")
            prior = Prior(**prior)
        return cls(prior=prior, **kwargs)

    @property
    def last_params(self) -> GPParams | None:
        """The last fit of the one-objective model (`warm_starts["score"]`)."""
        return self.warm_starts.get("score")

    @last_params.setter
    def last_params(self, params: GPParams | None) -> None:
        if params is None:
            self.warm_starts.pop("score", None)
        else:
            self.warm_starts["score"] = params

    def reset(self) -> None:
        """Forgets the warm starts (`warm_starts`); call it when the space's columns change."""
        self.warm_starts = {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # ----- the step -----------------------------------------------------------------------

    def suggest(
        self,
        space: Space,
        observations: Sequence[Observation],
        rng: np.random.Generator,
        *,
        pending: Sequence[Mapping[str, Any]] = (),
        excluded: Collection[Hashable] = frozenset(),
        runs: Sequence[TrainingRun | None] | None = None,
    ) -> dict | None:
        """The next configuration to evaluate.

        Args:
            space: The search space (`keras_hpx.space.Space`).
            observations: `(values, score)` pairs; scores are minimised, failed
                ones may be `None`, NaN or infinite.
            rng: The source of randomness.
            pending: Configurations being evaluated now. Defaults to `()`.
            excluded: `Space.key`s never to propose (tried and pending).
                Defaults to `frozenset()`.
            runs: Each observation's learning curve (`keras_hpx.bayes.fidelity.
                TrainingRun`, aligned with `observations`; `None` for one without).
                When a run was stopped early, one objective is modelled over
                `[configuration, budget]` (`keras_hpx.bayes.fidelity`) and proposals
                aim at the full budget. Defaults to `None` (final scores only).

        Returns:
            The active values of a valid configuration not in `excluded`, or
            `None` when none could be found (an exhausted discrete space).

        Raises:
            TypeError: `rng` is not a `numpy.random.Generator`.
        """
        if not isinstance(rng, np.random.Generator):
            raise invalid("rng", rng, "a numpy.random.Generator", TypeError)
        if runs is not None and len(runs) != len(observations):
            raise invalid(
                "runs", f"<{len(runs)} runs>", f"one per observation ({len(observations)})"
            )
        with single_threaded_blas():
            return self._suggest(space, observations, rng, pending, excluded, runs)

    def _suggest(
        self,
        space: Space,
        observations: Sequence[Observation],
        rng: np.random.Generator,
        pending: Sequence[Mapping[str, Any]],
        excluded: Collection[Hashable],
        runs: Sequence[TrainingRun | None] | None,
    ) -> dict | None:
        enc = SpaceEncoder(space)
        X, keep = _encode(enc, [v for v, _ in observations])
        scores = [observations[i][1] for i in keep]
        kept_runs = None if runs is None else [runs[i] for i in keep]
        width = _objective_count(scores)
        if width > 1:
            Y = _score_matrix(scores, width)
            if np.all(np.isfinite(Y), axis=1).sum() < 2 or enc.dim == 0:
                return self._random(space, rng, excluded)
            if self.pareto == "parego":
                return self._suggest_parego(space, enc, X, Y, rng, pending, excluded)
            return self._suggest_pareto(space, enc, X, Y, rng, pending, excluded)
        single = [_single(s) for s in scores]
        y = clean_scores(single)
        if np.isfinite(y).sum() < 2 or enc.dim == 0:
            return self._random(space, rng, excluded)
        if kept_runs is not None and any(r is not None and r.stopped for r in kept_runs):
            rows, budgets, values = budget_points(single, kept_runs)
            if len(np.unique(budgets)) > 1:
                return self._suggest_budget(
                    space, enc, X, rows, budgets, clean_scores(list(values)), rng, pending, excluded
                )
        return self._suggest_one(space, enc, X, y, rng, pending, excluded)

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        model: str,
        enc: SpaceEncoder,
        *,
        warp_if_needed: bool = False,
    ) -> tuple[GaussianProcess, np.ndarray]:
        """A GP fitted to `(X, y)` (cleaned scores, warped if set: with `warp_if_needed`
        only when they reject the identity), warm-started from and saved as
        `warm_starts[model]`; its standardised targets. The one-hot columns of each
        categorical share one length scale."""
        if self.warp:
            y = warp_scores(y, only_if_needed=warp_if_needed)
        gp = self._gaussian_process()
        warm = self.warm_starts.get(model)
        if warm is not None and np.size(warm.lengthscales) != X.shape[1]:
            warm = None  # another space's fit
        gp.fit(X, y, warm_start=warm, fit_subset=self._fit_subset(y), tied=enc.groups)
        assert gp.params is not None  # set by `fit`
        self.warm_starts[model] = gp.params
        return gp, gp.standardize(y)

    def _suggest_one(
        self,
        space: Space,
        enc: SpaceEncoder,
        X: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        pending: Sequence[Mapping[str, Any]],
        excluded: Collection[Hashable],
    ) -> dict | None:
        """One objective: `y` are cleaned scores (failures at the worst)."""
        gp, ys = self._fit(X, y, "score", enc)
        best = float(np.min(ys))
        Xp, _ = _encode(enc, list(pending))
        if len(Xp):
            best = min(best, float(np.min(_add_fantasies(gp, X, ys, Xp))))

        anchors = X[np.argsort(y, kind="stable")[:5]]
        return self._maximise_single(space, gp, best, anchors, rng, excluded)

    def _maximise_single(
        self,
        space: Space,
        gp: GaussianProcess,
        best: float,
        anchors: np.ndarray,
        rng: np.random.Generator,
        excluded: Collection[Hashable],
        lift: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> dict | None:
        """Maximises the acquisition of `gp`'s prediction at `lift(x)` (default `x`)
        against the incumbent `best`."""
        acquisition = self.acquisition
        inputs = lift if lift is not None else (lambda x: x)

        def acq(x: np.ndarray) -> np.ndarray:
            mean, var = gp.predict(inputs(x))
            return acquisition(mean, np.sqrt(var), best)

        def acq_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            mean, var, dmean, dvar = gp.predict_with_grad(inputs(x[None]))
            std = np.sqrt(np.maximum(var, 1e-20))
            a, da_dm, da_ds = acquisition.value_and_grad(mean, std, best)
            grad = da_dm[0] * dmean[0] + da_ds[0] * dvar[0] / (2.0 * std[0])
            return float(a[0]), grad[: x.size]  # the lifted columns are not searched

        return self._maximise(space, acq, acq_grad, anchors, rng, excluded)

    def _maximise(
        self,
        space: Space,
        acq: AcqFn,
        acq_grad: AcqGradFn,
        anchors: np.ndarray,
        rng: np.random.Generator,
        excluded: Collection[Hashable],
    ) -> dict | None:
        """`optimize_acquisition` with this optimizer's search budgets."""
        return optimize_acquisition(
            space,
            acq,
            acq_grad,
            rng,
            excluded=excluded,
            anchors=anchors,
            n_candidates=self.n_candidates,
            n_starts=self.n_starts,
        )

    def _suggest_budget(
        self,
        space: Space,
        enc: SpaceEncoder,
        X: np.ndarray,
        rows: np.ndarray,
        budgets: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        pending: Sequence[Mapping[str, Any]],
        excluded: Collection[Hashable],
    ) -> dict | None:
        """One objective, some runs stopped early: a GP over `[x, budget]` fitted to every
        run's scores at the budgets it reached (`fidelity.budget_points`), the acquisition
        at `_acquisition_budget()`'s budget (the full one) against the best mean there
        among the tried configurations."""
        Xa = np.column_stack([X[rows], budgets])
        gp, ys = self._fit(Xa, y, "score+budget", enc)
        target = self._acquisition_budget(enc, rows, budgets)

        def at_target(x: np.ndarray) -> np.ndarray:
            return np.column_stack([x, np.full(len(x), target)])

        predicted = gp.predict(at_target(X))[0]
        best = float(np.min(predicted))
        Xp, _ = _encode(enc, list(pending))
        if len(Xp):
            best = min(best, float(np.min(_add_fantasies(gp, Xa, ys, at_target(Xp)))))
        anchors = X[np.argsort(predicted, kind="stable")[:5]]
        return self._maximise_single(space, gp, best, anchors, rng, excluded, lift=at_target)

    def _acquisition_budget(
        self, enc: SpaceEncoder, rows: np.ndarray, budgets: np.ndarray
    ) -> float:
        """The budget `t` at which multi-fidelity proposals are scored: the full one, `1.0`
        (a lower one was measured and not adopted: `benchmarks/curves/methods.py`,
        `hpx_bo_hyperband_acq_populated`)."""
        return 1.0

    def _suggest_parego(
        self,
        space: Space,
        enc: SpaceEncoder,
        X: np.ndarray,
        Y: np.ndarray,
        rng: np.random.Generator,
        pending: Sequence[Mapping[str, Any]],
        excluded: Collection[Hashable],
    ) -> dict | None:
        """Several objectives, ParEGO: one objective, a random Chebyshev scalarisation
        of the objectives normalised over the finished trials (failures at the worst)."""
        finite = np.all(np.isfinite(Y), axis=1)
        weights = rng.dirichlet(np.ones(Y.shape[1]))
        N = pareto.normalise(Y, Y[finite].min(axis=0), Y[finite].max(axis=0))
        y = clean_scores(
            [float(v) if ok else None for v, ok in zip(pareto.chebyshev(N, weights), finite)]
        )
        return self._suggest_one(space, enc, X, y, rng, pending, excluded)

    def _suggest_pareto(
        self,
        space: Space,
        enc: SpaceEncoder,
        X: np.ndarray,
        Y: np.ndarray,
        rng: np.random.Generator,
        pending: Sequence[Mapping[str, Any]],
        excluded: Collection[Hashable],
    ) -> dict | None:
        """Several objectives, one GP per objective (each fitted to its cleaned scores,
        warped only when they reject the identity, standardised), pending points
        fantasised at each model's mean; log EHVI over the front (reference point in
        those units), or the soft log EI of a random Chebyshev scalarisation
        (`"qparego"`)."""
        m = Y.shape[1]
        finite = np.all(np.isfinite(Y), axis=1)
        gps, columns = [], []
        for j in range(m):
            # The acquisition measures hypervolume in these units, which a warp distorts:
            # each objective is warped only when its scores demand it.
            gp, ys = self._fit(
                X, clean_scores(list(Y[:, j])), f"objective_{j}", enc, warp_if_needed=True
            )
            gps.append(gp)
            columns.append(ys)
        S = np.column_stack(columns)
        observed = S[finite]
        points = observed
        Xp, _ = _encode(enc, list(pending))
        if len(Xp):
            fantasies = [_add_fantasies(gp, X, S[:, j], Xp) for j, gp in enumerate(gps)]
            points = np.vstack([observed, np.column_stack(fantasies)])
        score: Any
        if self.pareto == "qparego":
            weights = rng.dirichlet(np.ones(m))
            lo = observed.min(axis=0)
            span = np.where(np.ptp(observed, axis=0) > 0, np.ptp(observed, axis=0), 1.0)
            base = rng.standard_normal((MC_SAMPLES, m))
            scaled = (points - lo) * (weights / span)
            best = float(np.min(scaled.max(axis=1) + 0.05 * scaled.sum(axis=1)))

            def score(mean: np.ndarray, std: np.ndarray, grad: bool = True) -> Any:
                return scalarised.chebyshev_log_ei_and_grad(
                    mean,
                    std,
                    weights=weights,
                    lo=lo,
                    span=span,
                    best=best,
                    base_samples=base,
                    grad=grad,
                )

        else:
            ref = hvi.reference_point(observed)
            front = points[pareto.non_dominated(points)]
            lower, upper = hvi.nondominated_cells(front, ref)
            if len(lower) > MAX_BOXES:
                return self._suggest_parego(space, enc, X, Y, rng, pending, excluded)

            def score(mean: np.ndarray, std: np.ndarray, grad: bool = True) -> Any:
                return hvi.log_ehvi_and_grad(mean, std, lower, upper, grad=grad)

        def acq(x: np.ndarray) -> np.ndarray:
            moments = [gp.predict(x) for gp in gps]
            mean = np.column_stack([mu for mu, _ in moments])
            std = np.sqrt(np.column_stack([var for _, var in moments]))
            return score(mean, std, grad=False)[0]

        def acq_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            parts = [gp.predict_with_grad(x[None]) for gp in gps]
            mean = np.array([[p[0][0] for p in parts]])
            std = np.sqrt(np.maximum(np.array([[p[1][0] for p in parts]]), 1e-20))
            value, dm, ds = score(mean, std)
            assert dm is not None and ds is not None
            grad = sum(
                dm[0, j] * p[2][0] + ds[0, j] * p[3][0] / (2.0 * std[0, j])
                for j, p in enumerate(parts)
            )
            return float(value[0]), np.asarray(grad)

        on_front = np.flatnonzero(finite)[pareto.non_dominated(observed)]
        anchors = X[rng.permutation(on_front)[:5]]
        return self._maximise(space, acq, acq_grad, anchors, rng, excluded)

    def _gaussian_process(self) -> GaussianProcess:
        """A fresh, unfitted GP with this optimizer's kernel, prior and noise floor."""
        if self.min_noise is None:
            return GaussianProcess(self.kernel, prior=self.prior)
        return GaussianProcess(self.kernel, prior=self.prior, min_noise=self.min_noise)

    def _fit_subset(self, y: np.ndarray) -> np.ndarray | None:
        """Rows the hyperparameter fit sees: all, or the best half plus the most recent."""
        n = len(y)
        if n <= self.max_fit:
            return None
        half = self.max_fit // 2
        best = np.argsort(y, kind="stable")[:half]
        chosen = set(best.tolist())
        recent = [i for i in range(n - 1, -1, -1) if i not in chosen][: self.max_fit - half]
        return np.sort(np.concatenate([best, np.array(recent, dtype=int)]))

    def _random(
        self, space: Space, rng: np.random.Generator, excluded: Collection[Hashable]
    ) -> dict | None:
        """A uniformly random non-excluded configuration (too little data to model)."""
        return optimize_acquisition(
            space,
            lambda x: rng.random(len(x)),
            lambda x: (0.0, np.zeros_like(x)),
            rng,
            excluded=excluded,
            n_candidates=64,
            n_starts=0,
        )


def _add_fantasies(
    gp: GaussianProcess, X: np.ndarray, ys: np.ndarray, Xp: np.ndarray
) -> np.ndarray:
    """Conditions `gp` on its own mean at the pending points `Xp` (kriging believer,
    without noise) and returns those means."""
    params = gp.params
    assert params is not None  # fitted
    fantasy = gp.predict(Xp)[0]
    noise = np.concatenate([np.full(len(X), params.noise_var), np.full(len(Xp), gp.min_noise)])
    gp.condition(np.vstack([X, Xp]), np.concatenate([ys, fantasy]), noise)
    return fantasy


def _is_vector(score: Any) -> bool:
    return isinstance(score, (list, tuple, np.ndarray)) and np.ndim(score) == 1


def _objective_count(scores: Sequence[Any]) -> int:
    """How many objectives the scores hold: the length of the vector scores, else 1."""
    for s in scores:
        if _is_vector(s):
            return len(s)
    return 1


def _single(score: Any) -> Any:
    """A one-objective score (a length-1 vector counts as its value)."""
    return score[0] if _is_vector(score) and len(score) == 1 else score


def _score_matrix(scores: Sequence[Any], width: int) -> np.ndarray:
    """`(n, width)` minimised values; a row of NaN for a failed (`None`, wrong length or
    not finite somewhere) observation."""
    Y = np.full((len(scores), width), np.nan)
    for i, s in enumerate(scores):
        if not _is_vector(s) or len(s) != width:
            continue
        try:
            row = np.asarray(s, dtype=float)
        except (TypeError, ValueError):
            continue
        if np.all(np.isfinite(row)):
            Y[i] = row
    return Y


def _encode(
    enc: SpaceEncoder, configs: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the representable configurations, and their indices."""
    rows, keep = [], []
    for i, values in enumerate(configs):
        try:
            rows.append(enc.encode(values))
        except (ValueError, TypeError, KeyError):
            continue  # not representable in this space (e.g. it changed); skip it
        keep.append(i)
    return np.array(rows).reshape(len(rows), enc.dim), np.array(keep, dtype=int)
