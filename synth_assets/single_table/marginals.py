"""Univariate marginals for the Gaussian copula: SDV's names on `copulas`, plus our empirical one."""

from __future__ import annotations

import numpy as np

# SDV's distribution names -> copulas.univariate class names.
COPULAS_DISTRIBUTIONS = {
    "norm": "GaussianUnivariate",
    "beta": "BetaUnivariate",
    "truncnorm": "TruncatedGaussian",
    "uniform": "UniformUnivariate",
    "gamma": "GammaUnivariate",
    "gaussian_kde": "GaussianKDE",
    "laplace": "LogLaplace",
    "student_t": "StudentTUnivariate",
}
DISTRIBUTIONS = ("empirical", *COPULAS_DISTRIBUTIONS)
_EMPIRICAL_POINTS = 1001


class EmpiricalMarginal:
    """Piecewise-linear quantile function on a fixed grid: exact shapes for skewed or spiky columns,
    point masses kept, size independent of the row count, fit in one sort."""

    def fit(self, values: np.ndarray) -> "EmpiricalMarginal":
        self.probabilities = np.linspace(0.0, 1.0, min(_EMPIRICAL_POINTS, max(len(values), 2)))
        self.quantiles = np.quantile(values, self.probabilities)
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.probabilities, self.quantiles)

    def to_dict(self) -> dict:
        return {"distribution": "empirical", "learned_parameters": {"quantiles": self.quantiles.tolist()}}


class CopulasMarginal:
    """A `copulas` univariate under SDV's name; falls back to the empirical marginal if it cannot fit."""

    def __init__(self, name: str):
        self.name = name

    def fit(self, values: np.ndarray) -> "CopulasMarginal":
        import warnings

        import copulas.univariate as univariate

        self._fallback = None
        model = getattr(univariate, COPULAS_DISTRIBUTIONS[self.name])()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(values)
            check = model.ppf(np.array([0.001, 0.5, 0.999]))
            if not np.all(np.isfinite(check)):
                raise ValueError("non-finite quantiles")
            self._model = model
        except Exception:  # degenerate data (e.g. constant): keep the real shape instead
            self._model = None
            self._fallback = EmpiricalMarginal().fit(values)
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        if self._model is None:
            return self._fallback.ppf(u)
        return self._model.ppf(np.clip(u, 1e-9, 1 - 1e-9))

    def to_dict(self) -> dict:
        if self._model is None:
            return self._fallback.to_dict()
        params = {k: float(v) for k, v in getattr(self._model, "_params", {}).items() if np.isscalar(v)}
        return {"distribution": self.name, "learned_parameters": params}


def make_marginal(name: str):
    if name == "empirical":
        return EmpiricalMarginal()
    return CopulasMarginal(name)


def normal_scores(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank-based normal scores; ties broken at random so point masses spread over their interval."""
    from scipy.special import ndtri

    n = len(values)
    order = np.lexsort((rng.random(n), values))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.arange(n)
    return ndtri((ranks + 0.5) / n)


def midrank_normal_scores(values: np.ndarray) -> np.ndarray:
    """Normal scores of mid-ranks: tied values (null flags, zero counts) share one score.

    For the copula's correlations. Random tie-breaking (normal_scores) turns a point mass into
    noise independent of everything else, so two flags that are always set together (both delays
    missing on a cancelled flight) came out nearly uncorrelated.
    """
    import pandas as pd
    from scipy.special import ndtri

    # pandas' rank: scipy.stats costs ~1 s to import, more than a whole small fit.
    ranks = pd.Series(values).rank(method="average").to_numpy()
    return ndtri((ranks - 0.5) / len(values))
