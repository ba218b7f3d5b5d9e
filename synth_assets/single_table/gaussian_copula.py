"""Gaussian copula over processed columns: per-column marginals + one correlation matrix.

Correlations are estimated on rank-based normal scores, which makes the fit one sort per column and
one matrix product, whatever the marginal. The default marginal is `empirical` (a quantile grid),
which keeps skewed and spiky columns' shapes that parametric marginals miss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.errors import SynthesizerInputError
from synth_assets.processing import TableProcessor
from synth_assets.single_table.base import SingleTableSynthesizer
from synth_assets.single_table.marginals import DISTRIBUTIONS, make_marginal, midrank_normal_scores


# Columns a marginal shapes: SDV applies `numerical_distributions` to numbers and datetimes
# (the seed page's own example is a datetime column); categories are intervals of [0, 1].
_SHAPED_SDTYPES = ("numerical", "datetime")


def check_numerical_distributions(numerical_distributions, table_metadata, table_name: str) -> dict:
    """SDV's `numerical_distributions`: {column: distribution name}, each a numerical or datetime column."""
    if numerical_distributions is None:
        return {}
    if not isinstance(numerical_distributions, dict):
        raise SynthesizerInputError("`numerical_distributions` must be a dict of {column_name: distribution}.")
    for column, distribution in numerical_distributions.items():
        if column not in table_metadata.columns:
            raise SynthesizerInputError(
                f"`numerical_distributions` names column '{column}', which is not in table '{table_name}'."
            )
        sdtype = table_metadata.columns[column].get("sdtype")
        if sdtype not in _SHAPED_SDTYPES:
            raise SynthesizerInputError(
                f"`numerical_distributions['{column}']`: table '{table_name}', column '{column}' is {sdtype!r}; "
                "distributions apply to numerical and datetime columns only."
            )
        _check_distribution("numerical_distributions", distribution, column)
    return dict(numerical_distributions)


def _check_distribution(name: str, value, column: str | None = None) -> str:
    if value not in DISTRIBUTIONS:
        where = f"`numerical_distributions['{column}']`" if column else f"`{name}`"
        raise SynthesizerInputError(f"{where} must be one of {list(DISTRIBUTIONS)}, got {value!r}.")
    return value


class GaussianCopulaSynthesizer(SingleTableSynthesizer):
    _parameter_names = (
        "enforce_min_max_values",
        "enforce_rounding",
        "locales",
        "numerical_distributions",
        "default_distribution",
    )

    def __init__(
        self,
        metadata,
        enforce_min_max_values=True,
        enforce_rounding=True,
        locales=("en_US",),
        numerical_distributions=None,
        default_distribution="empirical",
    ):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self.numerical_distributions = check_numerical_distributions(numerical_distributions, self.table_metadata, self.table_name)
        self.default_distribution = _check_distribution("default_distribution", default_distribution)
        self.fit_seconds = None

    def _fit_encoded(self, encoded: pd.DataFrame, processor: TableProcessor) -> None:
        values = encoded.to_numpy(dtype=np.float64)
        columns = list(encoded.columns)
        sources = {c.name: c.source_column for c in processor.output_columns}
        marginals = []
        for i, column in enumerate(columns):
            source = sources[column]
            distribution = self.numerical_distributions.get(source, self.default_distribution)
            # Category codes and null flags have no parametric shape worth fitting.
            if source != column or self.table_metadata.columns[source]["sdtype"] not in _SHAPED_SDTYPES:
                distribution = "empirical"
            marginals.append(make_marginal(distribution).fit(values[:, i]))
        if values.shape[1]:
            scores = np.column_stack([midrank_normal_scores(values[:, i]) for i in range(values.shape[1])])
            correlation = _correlation(scores)
            cholesky = _psd_cholesky(correlation)
        else:
            correlation = cholesky = np.zeros((0, 0))
        self._columns, self._marginals, self._correlation, self._cholesky = columns, marginals, correlation, cholesky

    def _sample_encoded(self, num_rows: int) -> pd.DataFrame:
        from scipy.special import ndtr

        dims = len(self._columns)
        z = self._rng.standard_normal((num_rows, dims)) @ self._cholesky.T
        u = ndtr(z)
        columns = {name: self._marginals[i].ppf(u[:, i]) for i, name in enumerate(self._columns)}
        return pd.DataFrame(columns, index=pd.RangeIndex(num_rows))

    def get_learned_distributions(self) -> dict:
        """{column: {'distribution', 'learned_parameters'}} for each modelled column, as SDV: numerical
        and datetime columns (in the encoded numbers), and categorical, boolean and ordinal ones (in
        their [0, 1] codes, always `empirical`). Null flags are not columns of the table."""
        self._require_fitted()
        learned = {}
        for name, marginal in zip(self._columns, self._marginals):
            if name in self.table_metadata.columns:
                learned[name] = marginal.to_dict()
        return learned


def _correlation(scores: np.ndarray) -> np.ndarray:
    std = scores.std(axis=0)
    constant = std == 0
    centered = scores - scores.mean(axis=0)
    std[constant] = 1.0
    normalised = centered / std
    correlation = normalised.T @ normalised / len(scores)
    correlation[constant, :] = 0.0
    correlation[:, constant] = 0.0
    np.fill_diagonal(correlation, 1.0)
    return np.clip(correlation, -1.0, 1.0)


def _psd_cholesky(correlation: np.ndarray) -> np.ndarray:
    """Cholesky factor of the nearest valid correlation matrix (eigenvalues clipped)."""
    try:
        return np.linalg.cholesky(correlation)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(correlation)
        fixed = eigenvectors @ np.diag(np.clip(eigenvalues, 1e-6, None)) @ eigenvectors.T
        d = np.sqrt(np.diag(fixed))
        return np.linalg.cholesky(fixed / np.outer(d, d) + 1e-9 * np.eye(len(d)))
