"""Token encoding of per-step features for the PAR engine (numpy only, no torch).

Every column becomes one or two integer "slots" that the network predicts with a softmax:

* discrete columns: their integer code, one slot.
* continuous columns: a quantile bin index ``b`` (a *level*). Values that repeat often
  (zeros, integer counts, a constant gap) get a bin of their own and decode exactly; other
  bins decode uniformly inside the range of the training values they hold, so decoded values
  are continuous and stay within the real range. Many bins are split into a coarse and a
  fine slot (``b = coarse * fine_size + fine``) so no softmax gets large.
* persistent continuous columns (the value moves little from one step to the next, like a
  population or years of experience) are modelled as *level changes*: the first step carries
  the level, later steps carry ``b_t - b_{t-1}``, itself quantile-binned. Predicting a small
  change is much easier for the network than re-predicting a fine absolute bin every step,
  and it keeps synthetic sequences smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ['ColumnSpec', 'QuantileBinner', 'StepEncoder', 'level_features', 'normalize_specs',
           'first_step_mask']

_KINDS = ('continuous', 'discrete')


@dataclass(frozen=True)
class ColumnSpec:
    """One per-step feature: ``kind`` is 'continuous' or 'discrete' (codes 0..n_categories-1)."""

    name: str
    kind: str
    n_categories: int | None = None


def normalize_specs(specs) -> list[ColumnSpec]:
    """Read ColumnSpec, objects with name/kind/n_categories (OutputColumn), dicts or tuples."""
    if specs is None:
        raise TypeError('specs must be a list of column specs, got None')
    out = []
    for spec in specs:
        if isinstance(spec, ColumnSpec):
            item = spec
        elif isinstance(spec, dict):
            item = ColumnSpec(spec['name'], spec['kind'], spec.get('n_categories'))
        elif isinstance(spec, (tuple, list)):
            item = ColumnSpec(*spec)
        elif hasattr(spec, 'name') and hasattr(spec, 'kind'):
            item = ColumnSpec(spec.name, spec.kind, getattr(spec, 'n_categories', None))
        else:
            raise TypeError(f'Cannot read a column spec from {spec!r}')
        if item.kind not in _KINDS:
            raise ValueError(
                f"Column '{item.name}': kind must be one of {_KINDS}, got {item.kind!r}")
        if item.kind == 'discrete':
            if item.n_categories is None or int(item.n_categories) < 1:
                raise ValueError(
                    f"Column '{item.name}': a discrete column needs n_categories >= 1, "
                    f'got {item.n_categories!r}'
                )
            item = ColumnSpec(item.name, 'discrete', int(item.n_categories))
        else:
            item = ColumnSpec(item.name, 'continuous', None)
        out.append(item)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f'Column specs have duplicate names: {names}')
    return out


def first_step_mask(seq_lengths: np.ndarray) -> np.ndarray:
    """Boolean array over rows, True on the first row of every sequence."""
    lengths = np.asarray(seq_lengths, dtype=np.int64)
    mask = np.zeros(int(lengths.sum()), dtype=bool)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    mask[starts[lengths > 0]] = True
    return mask


# Bins holding at least this many training values decode through their own within-bin
# quantiles (KNOTS + 1 of them) instead of uniformly: at scale a tail bin spans a wide, skewed
# range (on the 2.25M-row panel the top 1/1024 of balances runs 440-4,000), and uniform
# decoding there inflated the spread and cut the balance-spend correlation from 0.74 to 0.59
# in a bare encode-decode round trip (0.71 with 16 knots). Small bins keep uniform decoding, so
# a model file never lists the individual values of a sparse bin.
KNOTS, MIN_KNOTTED = 16, 256


class QuantileBinner:
    """Fitted 1-D discretizer: quantile bins, exact point masses, decoding within a bin by its
    own quantiles when it is well populated (see KNOTS), uniformly otherwise.

    ``integer=True`` decodes to integers (used for level changes, which are whole bin counts).
    """

    def __init__(self, max_bins: int = 1024, min_per_bin: int = 3, integer: bool = False):
        if max_bins < 1:
            raise ValueError(f'max_bins must be >= 1, got {max_bins}')
        self.max_bins = int(max_bins)
        self.min_per_bin = max(1, int(min_per_bin))
        self.integer = bool(integer)

    def fit(self, values) -> 'QuantileBinner':
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            raise ValueError('QuantileBinner.fit needs at least one value')
        if not np.all(np.isfinite(x)):
            raise ValueError('QuantileBinner.fit got NaN or infinite values')
        uniq, counts = np.unique(x, return_counts=True)
        n = x.size
        target = int(min(self.max_bins, max(1, n // self.min_per_bin)))
        if uniq.size <= target:
            groups = np.arange(uniq.size)
        else:
            # Mid-rank of each distinct value decides its quantile bin; a value heavy enough to
            # fill a bin on its own (a point mass) never shares a bin, so it decodes exactly.
            starts = np.cumsum(counts) - counts
            quant = np.floor((starts + counts / 2.0) * target / n).astype(np.int64)
            heavy = counts >= n / target
            new = np.ones(uniq.size, dtype=bool)
            new[1:] = (quant[1:] != quant[:-1]) | heavy[1:] | heavy[:-1]
            groups = np.cumsum(new) - 1
        n_bins = int(groups[-1]) + 1
        self.lo_ = np.full(n_bins, np.inf)
        self.hi_ = np.full(n_bins, -np.inf)
        np.minimum.at(self.lo_, groups, uniq)
        np.maximum.at(self.hi_, groups, uniq)
        self.n_bins = n_bins
        self._set_decode_ranges()
        self.knots_ = None if self.integer else self._knots(uniq, counts, groups)
        return self

    def _knots(self, uniq, counts, groups):
        """(n_bins, KNOTS + 1) within-bin quantiles of the bins holding MIN_KNOTTED+ values
        (NaN rows for the others), ends widened as the decode ranges are."""
        per_bin = np.bincount(groups, weights=counts, minlength=self.n_bins).astype(np.int64)
        knotted = per_bin >= MIN_KNOTTED
        if not knotted.any():
            return None
        sorted_values = np.repeat(uniq, counts)
        starts = np.cumsum(per_bin) - per_bin
        # Linear-interpolated quantiles at KNOTS + 1 evenly spaced ranks of each bin.
        ranks = starts[:, None] + np.linspace(0, 1, KNOTS + 1)[None, :] * (per_bin[:, None] - 1)
        low = np.floor(ranks).astype(np.int64)
        high = np.minimum(low + 1, len(sorted_values) - 1)
        frac = ranks - low
        knots = sorted_values[low] * (1 - frac) + sorted_values[high] * frac
        knots[:, 0], knots[:, -1] = self.dlo_, self.dhi_
        knots[~knotted] = np.nan
        return knots

    def _set_decode_ranges(self):
        lo, hi = self.lo_, self.hi_
        if self.integer:
            self.dlo_, self.dhi_ = lo.copy(), hi.copy()
            return
        # Widen non-point bins halfway into the gaps to their neighbours (not past the data
        # range, and not into the gap next to a point mass) so decoded values are continuous.
        point = lo == hi
        dlo, dhi = lo.copy(), hi.copy()
        if self.n_bins > 1:
            mid = (hi[:-1] + lo[1:]) / 2.0
            widen_left = ~point[1:] & ~point[:-1]
            dlo[1:] = np.where(widen_left, mid, lo[1:])
            dhi[:-1] = np.where(widen_left, mid, hi[:-1])
        self.dlo_, self.dhi_ = dlo, dhi

    def transform(self, values) -> np.ndarray:
        x = np.asarray(values, dtype=np.float64).ravel()
        # Decoding ranges are the bin edges, so a decoded value re-encodes to its own bin.
        bins = np.searchsorted(self.dhi_, x, side='left')
        return np.clip(bins, 0, self.n_bins - 1).astype(np.int64)

    def inverse(self, bins, rng: np.random.Generator, position=None) -> np.ndarray:
        """Values for bins; ``position`` in [0, 1) picks where inside the bin (default random)."""
        b = np.clip(np.asarray(bins, dtype=np.int64), 0, self.n_bins - 1)
        lo, hi = self.dlo_[b], self.dhi_[b]
        u = rng.random(b.shape) if position is None else np.asarray(position, dtype=np.float64)
        if self.integer:
            return np.floor(lo + u * (hi - lo + 1)).clip(lo, hi)
        values = lo + u * (hi - lo)
        knots = getattr(self, 'knots_', None)  # model files from before knots decode uniformly
        if knots is not None:
            rows = knots[b]
            use = ~np.isnan(rows[:, 0])
            if use.any():
                scaled = np.clip(u[use], 0.0, 1.0) * KNOTS
                k = np.minimum(scaled.astype(np.int64), KNOTS - 1)
                left, right = rows[use, k], rows[use, k + 1]
                values[use] = left + (scaled - k) * (right - left)
        return values


def level_features(binner: QuantileBinner) -> np.ndarray:
    """(n_bins, 2) float32 inputs saying where each level lies in value space: the bin's centre
    on an asinh scale around the median centre, and its log width relative to the median width,
    each standardized over the bins.

    Quantile bins are evenly spaced in rank, so a level's index alone hides that the tail bins
    are wide: without these inputs the network moved through the top bins as fast as through
    the body and sequences piled up in the top bin (5x its real share on a lognormal panel).
    They are derived from the bin ranges the model file already holds.
    """
    lo, hi = binner.dlo_, binner.dhi_
    centre, width = (lo + hi) / 2.0, hi - lo
    median = np.median(centre)
    spread = np.median(np.abs(centre - median)) or (np.ptp(centre) / 2.0) or 1.0
    positive = width[width > 0]
    typical = np.median(positive) if positive.size else 1.0
    feats = np.stack([np.arcsinh((centre - median) / spread),
                      np.log((width + 1e-3 * typical) / typical)], axis=1)
    std = feats.std(axis=0)
    feats = (feats - feats.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return feats.astype(np.float32)


def _factor(n: int, two_slots: bool) -> tuple[int, int]:
    """(coarse vocabulary, fine size) so that bin = coarse * fine_size + fine."""
    if not two_slots:
        return n, 1
    fine = int(np.ceil(np.sqrt(n)))
    return int(np.ceil(n / fine)), fine


class StepEncoder:
    """Turns the per-step DataFrame into integer slot tokens and levels, and back.

    Parameters:
        specs: column specs (see ``normalize_specs``).
        max_bins: most quantile bins per continuous column.
        min_per_bin: fewest training rows per quantile bin (fewer bins on small data).
        single_slot_max: a column with at most this many bins is one slot, otherwise two.
        delta: 'auto' (level changes for persistent columns), True (all continuous) or False.
        delta_threshold: 'auto' uses level changes when ``E[du^2] / (2 Var u) < threshold``
            (u = bin / n_bins), i.e. the lag-1 autocorrelation is above ``1 - threshold``.
        max_delta_bins: most bins for the level-change distribution.

    After ``fit``: ``slot_column`` (column index of every slot), ``slot_vocab`` (softmax size of
    every slot), ``column_modes`` ('discrete', 'absolute' or 'delta') and per-column tables.
    """

    def __init__(
        self,
        specs,
        max_bins: int = 1024,
        min_per_bin: int = 3,
        single_slot_max: int = 48,
        delta='auto',
        delta_threshold: float = 0.1,
        max_delta_bins: int = 256,
    ):
        self.specs = normalize_specs(specs)
        self.max_bins = int(max_bins)
        self.min_per_bin = int(min_per_bin)
        self.single_slot_max = int(single_slot_max)
        if delta not in ('auto', True, False):
            raise ValueError(f"delta must be 'auto', True or False, got {delta!r}")
        self.delta = delta
        self.delta_threshold = float(delta_threshold)
        self.max_delta_bins = int(max_delta_bins)
        self.fitted = False

    @property
    def columns(self) -> list[str]:
        return [s.name for s in self.specs]

    def _check(self, steps: pd.DataFrame, seq_lengths) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(steps, pd.DataFrame):
            raise TypeError(f'steps must be a pandas DataFrame, got {type(steps).__name__}')
        missing = [c for c in self.columns if c not in steps.columns]
        if missing:
            raise ValueError(f'steps is missing columns {missing}')
        lengths = np.asarray(seq_lengths, dtype=np.int64).ravel()
        if lengths.size and lengths.min() < 1:
            raise ValueError('seq_lengths must all be >= 1')
        if int(lengths.sum()) != len(steps):
            raise ValueError(
                f'seq_lengths sum to {int(lengths.sum())} but steps has {len(steps)} rows'
            )
        values = steps[self.columns].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = [c for c, ok in zip(self.columns, np.isfinite(values).all(axis=0)) if not ok]
            raise ValueError(f'steps has NaN or infinite values in columns {bad}')
        for j, spec in enumerate(self.specs):
            if spec.kind == 'discrete':
                col = values[:, j]
                if col.size and (
                    np.any(col != np.round(col)) or col.min() < 0 or col.max() >= spec.n_categories
                ):
                    raise ValueError(
                        f"Discrete column '{spec.name}' must hold integer codes "
                        f'0..{spec.n_categories - 1}'
                    )
        return values, lengths

    def fit(self, steps: pd.DataFrame, seq_lengths) -> 'StepEncoder':
        values, lengths = self._check(steps, seq_lengths)
        if len(values) == 0:
            raise ValueError('steps has no rows')
        first = first_step_mask(lengths)
        self.level_binners: list[QuantileBinner | None] = []
        self.delta_binners: list[QuantileBinner | None] = []
        self.column_modes: list[str] = []
        self.persistence: list[float | None] = []
        slot_column, slot_vocab, slot_phase = [], [], []
        self.abs_factor, self.delta_factor = [], []
        self.column_n_slots: list[int] = []
        for j, spec in enumerate(self.specs):
            if spec.kind == 'discrete':
                self.level_binners.append(None)
                self.delta_binners.append(None)
                self.column_modes.append('discrete')
                self.persistence.append(None)
                self.abs_factor.append((spec.n_categories, 1))
                self.delta_factor.append(None)
                self.column_n_slots.append(1)
                slot_column.append(j)
                slot_vocab.append(spec.n_categories)
                slot_phase.append(False)
                continue
            binner = QuantileBinner(self.max_bins, self.min_per_bin).fit(values[:, j])
            levels = binner.transform(values[:, j])
            diff = np.diff(levels)[~first[1:]]
            ratio = self._persistence(levels, diff, binner.n_bins)
            use_delta = diff.size > 0 and binner.n_bins > 1 and (
                self.delta is True or (self.delta == 'auto' and ratio < self.delta_threshold)
            )
            two = binner.n_bins > self.single_slot_max
            self.level_binners.append(binner)
            self.persistence.append(ratio)
            if use_delta:
                dbin = QuantileBinner(self.max_delta_bins, self.min_per_bin, integer=True)
                dbin.fit(diff)
                two = two or dbin.n_bins > self.single_slot_max
                self.delta_binners.append(dbin)
                self.column_modes.append('delta')
                self.delta_factor.append(_factor(dbin.n_bins, two))
            else:
                self.delta_binners.append(None)
                self.column_modes.append('absolute')
                self.delta_factor.append(None)
            self.abs_factor.append(_factor(binner.n_bins, two))
            self.column_n_slots.append(2 if two else 1)
            for s in range(2 if two else 1):
                sizes = [self.abs_factor[-1][s]]
                if use_delta:
                    sizes.append(self.delta_factor[-1][s])
                slot_column.append(j)
                slot_vocab.append(max(sizes))
                slot_phase.append(use_delta)
        self.slot_column = np.asarray(slot_column, dtype=np.int64)
        self.slot_vocab = np.asarray(slot_vocab, dtype=np.int64)
        # Slots whose meaning differs between the first step (level) and later ones (change).
        self.slot_phased = np.asarray(slot_phase, dtype=bool)
        self.continuous_columns = [j for j, s in enumerate(self.specs) if s.kind == 'continuous']
        self.discrete_columns = [j for j, s in enumerate(self.specs) if s.kind == 'discrete']
        self.fitted = True
        return self

    @staticmethod
    def _persistence(levels: np.ndarray, diff: np.ndarray, n_bins: int) -> float:
        if diff.size == 0 or n_bins <= 1:
            return 1.0
        u = levels / n_bins
        var = u.var()
        if var <= 0:
            return 0.0
        return float(np.mean((diff / n_bins) ** 2) / (2.0 * var))

    def _require_fit(self):
        if not self.fitted:
            raise RuntimeError('StepEncoder is not fitted; call fit() first')

    @property
    def n_slots(self) -> int:
        return int(self.slot_column.size)

    def levels(self, steps: pd.DataFrame, seq_lengths) -> np.ndarray:
        """Per-column levels, int64 (n_rows, n_cols): bin index (continuous) or code (discrete)."""
        self._require_fit()
        values, _ = self._check(steps, seq_lengths)
        out = np.empty(values.shape, dtype=np.int64)
        for j, spec in enumerate(self.specs):
            if spec.kind == 'discrete':
                out[:, j] = values[:, j].astype(np.int64)
            else:
                out[:, j] = self.level_binners[j].transform(values[:, j])
        return out

    def encode(self, steps: pd.DataFrame, seq_lengths) -> tuple[np.ndarray, np.ndarray]:
        """Return (tokens int64 (n_rows, n_slots), levels int64 (n_rows, n_cols))."""
        levels = self.levels(steps, seq_lengths)
        first = first_step_mask(seq_lengths)
        tokens = np.empty((len(levels), self.n_slots), dtype=np.int64)
        slot = 0
        for j, mode in enumerate(self.column_modes):
            lev = levels[:, j]
            if mode == 'discrete':
                tokens[:, slot] = lev
                slot += 1
                continue
            coarse_n, fine = self.abs_factor[j]
            a_parts = (lev // fine, lev % fine)
            if mode == 'delta':
                diff = np.zeros_like(lev)
                diff[1:] = lev[1:] - lev[:-1]
                dbin = self.delta_binners[j].transform(diff)
                dfine = self.delta_factor[j][1]
                d_parts = (dbin // dfine, dbin % dfine)
                parts = tuple(np.where(first, a, d) for a, d in zip(a_parts, d_parts))
            else:
                parts = a_parts
            for s in range(self.column_n_slots[j]):
                tokens[:, slot] = parts[s]
                slot += 1
        return tokens, levels

    def decode_levels(self, levels: np.ndarray, rng=None, seq_lengths=None) -> pd.DataFrame:
        """Float DataFrame from per-column levels (bins decode uniformly within their range).

        With ``seq_lengths``, a level-change column keeps one within-bin position per sequence,
        so a level that stays put decodes to a constant and a rising level rises monotonically
        (fresh random positions would add step-to-step jitter the data does not have).
        """
        self._require_fit()
        rng = np.random.default_rng(rng)
        levels = np.asarray(levels, dtype=np.int64)
        data = {}
        for j, spec in enumerate(self.specs):
            if spec.kind == 'discrete':
                data[spec.name] = levels[:, j].astype(np.float64)
                continue
            position = None
            if seq_lengths is not None and self.column_modes[j] == 'delta':
                lengths = np.asarray(seq_lengths, dtype=np.int64)
                position = np.repeat(rng.random(lengths.size), lengths)
            data[spec.name] = self.level_binners[j].inverse(levels[:, j], rng, position)
        return pd.DataFrame(data, columns=self.columns)

    def tokens_to_levels(self, tokens: np.ndarray, seq_lengths, rng=None) -> np.ndarray:
        """Rebuild levels from slot tokens (level changes summed within each sequence)."""
        self._require_fit()
        rng = np.random.default_rng(rng)
        tokens = np.asarray(tokens, dtype=np.int64)
        lengths = np.asarray(seq_lengths, dtype=np.int64)
        first = first_step_mask(lengths)
        levels = np.empty((len(tokens), len(self.specs)), dtype=np.int64)
        slot = 0
        for j, mode in enumerate(self.column_modes):
            if mode == 'discrete':
                levels[:, j] = tokens[:, slot]
                slot += 1
                continue
            n_bins = self.level_binners[j].n_bins
            fine = self.abs_factor[j][1]
            two = self.column_n_slots[j] == 2
            coarse = tokens[:, slot]
            finer = tokens[:, slot + 1] if two else np.zeros_like(coarse)
            slot += 2 if two else 1
            absolute = np.clip(coarse * fine + finer, 0, n_bins - 1)
            if mode == 'absolute':
                levels[:, j] = absolute
                continue
            dfine = self.delta_factor[j][1]
            dbinner = self.delta_binners[j]
            dbin = np.clip(coarse * dfine + finer, 0, dbinner.n_bins - 1)
            step = np.where(first, absolute, dbinner.inverse(dbin, rng).astype(np.int64))
            # Segmented cumulative sum: restart at every first step.
            total = np.cumsum(step)
            seq_start = np.repeat(np.cumsum(lengths) - lengths, lengths)
            offset = np.where(seq_start > 0, total[np.maximum(seq_start - 1, 0)], 0)
            levels[:, j] = np.clip(total - offset, 0, n_bins - 1)
        return levels

    def decode(self, tokens: np.ndarray, seq_lengths, rng=None) -> pd.DataFrame:
        """Float DataFrame (same columns as fitted) from slot tokens."""
        rng = np.random.default_rng(rng)
        levels = self.tokens_to_levels(tokens, seq_lengths, rng)
        return self.decode_levels(levels, rng, seq_lengths)
