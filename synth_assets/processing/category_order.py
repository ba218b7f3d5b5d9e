"""An order of a column's categories that keeps its link to the numbers.

The Gaussian copula sees a category as an interval of [0, 1]. In order of appearance, a category
that goes with high values of a number can sit between two that go with low ones, and a linear
correlation keeps little of a non-monotone link. Ordering the categories by the mean rank of the
number they explain best (largest correlation ratio) makes the link monotone, so it survives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Below this share of explained variance the order of appearance is kept.
MIN_CORRELATION_RATIO = 0.01
_MAX_ROWS = 50_000


def _category_codes(values: pd.Series) -> tuple[np.ndarray, list]:
    codes, labels = pd.factorize(values.astype(object).where(values.notna(), None), use_na_sentinel=False)
    return codes, list(labels)


class DependenceOrder:
    """Ranks the numeric columns once (on a sample of rows), then orders any category column."""

    def __init__(self, numbers: pd.DataFrame, seed: int = 0):
        self._rows = None
        if len(numbers) > _MAX_ROWS:  # the order only needs group means, a sample is plenty
            self._rows = np.sort(np.random.default_rng(seed).choice(len(numbers), _MAX_ROWS, replace=False))
            numbers = numbers.iloc[self._rows]
        ranks = numbers.rank(pct=True).to_numpy(dtype=np.float64)
        self._ranks = np.where(np.isnan(ranks), 0.5, ranks)

    def order(self, categories: pd.Series) -> list | None:
        """Categories sorted by the mean rank of their best-explained numeric column, or None when
        no numeric column depends on them (then any order is as good)."""
        if self._ranks.shape[1] == 0 or len(categories) < 3:
            return None
        codes, labels = _category_codes(categories)  # on every row: rare categories keep a place
        if len(labels) < 3:  # two categories: any order is monotone
            return None
        if self._rows is not None:
            codes = codes[self._rows]
        ranks = self._ranks
        counts = np.bincount(codes, minlength=len(labels)).astype(np.float64)
        sums = np.zeros((len(labels), ranks.shape[1]))
        np.add.at(sums, codes, ranks)
        # A category missing from the sample sits at the middle rank.
        means = np.divide(sums, counts[:, None], out=np.full_like(sums, 0.5), where=counts[:, None] > 0)
        total = ranks.var(axis=0)
        between = (counts[:, None] * (means - ranks.mean(axis=0)) ** 2).sum(axis=0) / len(ranks)
        ratio = np.divide(between, total, out=np.zeros_like(between), where=total > 0)
        best = int(np.argmax(ratio))
        if ratio[best] < MIN_CORRELATION_RATIO:
            return None
        return [labels[i] for i in np.argsort(means[:, best], kind="stable")]



def declared_order(spec: dict) -> list | None:
    """An ordinal column's declared order: sdtype `ordinal` (`range_values`, else the values
    sorted), or a spec V1 categorical with `order` (SDV 2.0 loads that as ordinal)."""
    if spec.get("sdtype") == "ordinal":
        return list(spec.get("range_values") or [])
    if spec.get("sdtype") == "categorical" and isinstance(spec.get("order"), list):
        return list(spec["order"])
    return None


def ordinal_order(labels, range_values=None) -> list:
    """An ordinal column's categories in their declared order (SDV's `range_values`), values the
    declaration lacks after them (sorted when comparable), missing values last."""
    rank = {value: i for i, value in enumerate(range_values or [])}
    present = [label for label in labels if not pd.isna(label)]
    rest = [label for label in present if label not in rank]
    try:
        rest = sorted(rest)
    except TypeError:  # mixed types: keep the order of appearance
        pass
    declared = sorted((label for label in present if label in rank), key=rank.get)
    return declared + rest + [label for label in labels if pd.isna(label)]
