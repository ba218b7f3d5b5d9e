"""Integer allocations: stratified draws from a count distribution and exact totals."""

from __future__ import annotations

import numpy as np


def stratified_draw(values: np.ndarray, probabilities: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` draws of `values`: one uniform per stratum of [0, 1), through the empirical quantile
    function, so the drawn shares follow `probabilities` closely even for small `size`."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    u = (rng.permutation(size) + rng.random(size)) / size
    cumulative = np.cumsum(probabilities)
    cumulative[-1] = 1.0
    index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(values) - 1)
    return np.asarray(values)[index].astype(np.int64)


def _largest_remainder(shares: np.ndarray, total: int, rng) -> np.ndarray:
    """Integer allocation of `total` proportional to `shares`; remainders go to the largest
    fractional parts (ties broken at random), so every share is kept to within one row."""
    exact = shares * total
    allocation = np.floor(exact).astype(np.int64)
    left = total - int(allocation.sum())
    if left:
        order = np.lexsort((rng.random(len(shares)), -(exact - allocation)))
        allocation[order[:left]] += 1
    return allocation


def _adjust_total(counts: np.ndarray, target: int, cap: int, rng) -> np.ndarray:
    """Nudge per-parent counts by +-1 on random parents until they sum to `target`, within [0, cap]."""
    counts = counts.copy()
    difference = target - int(counts.sum())
    while difference:
        eligible = np.flatnonzero(counts < cap) if difference > 0 else np.flatnonzero(counts > 0)
        step = min(abs(difference), len(eligible))
        chosen = rng.choice(eligible, size=step, replace=False)
        counts[chosen] += 1 if difference > 0 else -1
        difference = target - int(counts.sum())
    return counts
