"""Conditional sampling of PAR's per-sequence context: nearest matching on the values given.

`sample_sequential_columns` gives some context values (a group, an age) and needs the rest (other
context columns, the columns constant per sequence, the length, the index start) drawn from their
real conditional distribution. A Gaussian copula conditioned on a category's interval blurs
deterministic links (group A is always 2 steps long) into ~20% wrong values, so instead each
request takes the values it was not given from a real sequence that matches it ("hot-deck"):

* discrete given columns (categorical, boolean, ...) must match exactly; a combination never seen
  together falls back to the sequences matching the most given columns;
* among those, numerical/datetime given columns (and a requested sequence length) pick the
  ceil(sqrt(m)) nearest of the m candidates in rank distance (ties all kept);
* one of the nearest is drawn at random per request.

A given value never seen in training (a category, or a missing value where the data had none)
cannot be matched: it is left out of that row's matching and the model is conditioned on the
donor's value instead; the caller warns and still shows the given value.

The donors hold per-sequence context only (context values, length, index start); ids and PII are
never stored here, they are generated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_CHUNK = 2_000_000  # distance-matrix cells per chunk (16 MB of float64)


def numeric_values(values: pd.Series, spec: dict | None) -> np.ndarray:
    """Floats for distances: numbers as they are, datetimes as nanoseconds; unparsable -> NaN."""
    if spec is not None and spec.get("sdtype") == "datetime":
        parsed = pd.to_datetime(values, format=spec.get("datetime_format"), errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(None)
        out = parsed.to_numpy(dtype="datetime64[ns]").view("int64").astype(np.float64)
        out[parsed.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


class ContextMatcher:
    """Training sequences' context rows; `sample(given, rng)` completes given rows by matching."""

    def __init__(self, donors: pd.DataFrame, numeric_columns, specs: dict, table_name: str):
        self.donors = donors.reset_index(drop=True)
        self.numeric_columns = [c for c in numeric_columns if c in donors.columns]
        self.specs = specs
        self.table_name = table_name
        self._sorted = {c: np.sort(self._numbers(c, self.donors[c])) for c in self.numeric_columns}
        self._sorted = {c: v[~np.isnan(v)] for c, v in self._sorted.items()}

    @property
    def columns(self) -> list[str]:
        return list(self.donors.columns)

    def _numbers(self, column: str, values: pd.Series) -> np.ndarray:
        return numeric_values(values, self.specs.get(column))

    def _ranks(self, column: str, values: pd.Series) -> np.ndarray:
        """Mid-rank in the donors' values, in [0, 1]; missing values at -1 (far from any value)."""
        x, ordered = self._numbers(column, values), self._sorted[column]
        if not len(ordered):
            return np.where(np.isnan(x), -1.0, 0.0)
        rank = (np.searchsorted(ordered, x, "left") + np.searchsorted(ordered, x, "right")) / (2.0 * len(ordered))
        rank = np.where(np.isnan(x), -1.0, rank)
        if not np.isnan(self._numbers(column, self.donors[column])).any():
            rank[np.isnan(x)] = np.nan  # missing where the data never is: unseen, not matched on
        return rank

    def sample(self, given: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
        """(donor rows for each given row with the given values put in, {column: given values never
        seen in training}); rows in the order of `given`. Unseen values keep the donor's value."""
        given = given.reset_index(drop=True)
        discrete = [c for c in given.columns if c not in self.numeric_columns]
        numeric = [c for c in given.columns if c in self.numeric_columns]
        unseen = {}
        candidates = self._discrete_candidates(given, discrete, unseen)
        donor_ranks = {c: self._ranks(c, self.donors[c]) for c in numeric}
        given_ranks = {c: self._ranks(c, given[c]) for c in numeric}
        unseen.update({c: np.isnan(r) for c, r in given_ranks.items() if np.isnan(r).any()})
        chosen = np.empty(len(given), dtype=np.int64)
        for rows, pool in candidates:
            chosen[rows] = self._nearest(rows, pool, donor_ranks, given_ranks, rng)
        out = self.donors.iloc[chosen].reset_index(drop=True)
        for column in given.columns:
            keep = unseen.get(column, np.zeros(len(given), dtype=bool))
            out[column] = given[column].where(~keep, out[column]).to_numpy()
        return out, {c: sorted({repr(v) for v in given.loc[m, c]})[:10] for c, m in unseen.items()}

    def _discrete_candidates(self, given: pd.DataFrame, discrete: list[str], unseen: dict):
        """[(request rows, donor indices)] per distinct combination of given discrete values; the
        masks of values never seen in training go into `unseen`."""
        if not discrete:
            return [(np.arange(len(given)), np.arange(len(self.donors)))]
        donor_codes, given_codes = [], []
        for column in discrete:
            donor, request = self._codes(column, given[column])
            if (request > donor.max(initial=-1)).any():
                unseen[column] = request > donor.max(initial=-1)
            donor_codes.append(donor)
            given_codes.append(request)
        donor_codes, given_codes = np.column_stack(donor_codes), np.column_stack(given_codes)
        donor_keys = pd.Series(np.arange(len(donor_codes))).groupby([donor_codes[:, j] for j in range(len(discrete))]).indices
        groups = pd.Series(np.arange(len(given_codes))).groupby([given_codes[:, j] for j in range(len(discrete))]).indices
        out = []
        for key, rows in groups.items():
            key = key if isinstance(key, tuple) else (key,)
            pool = donor_keys.get(key if len(key) > 1 else key[0])
            if pool is None:  # a combination never seen together: the donors matching most columns
                matches = (donor_codes == np.asarray(key)).sum(axis=1)
                pool = np.flatnonzero(matches == matches.max())
            out.append((rows, np.asarray(pool)))
        return out

    def _codes(self, column: str, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        donors = self.donors[column]
        both = pd.concat([donors.astype(object), values.astype(object)], ignore_index=True)
        codes, _ = pd.factorize(both, use_na_sentinel=False)
        return codes[: len(donors)], codes[len(donors):]

    @staticmethod
    def _nearest(rows, pool, donor_ranks: dict, given_ranks: dict, rng) -> np.ndarray:
        """For each request row, a random donor among the ceil(sqrt(m)) nearest of `pool`."""
        if not donor_ranks:
            return pool[rng.integers(len(pool), size=len(rows))]
        k = int(np.ceil(np.sqrt(len(pool))))
        out = np.empty(len(rows), dtype=np.int64)
        step = max(1, _CHUNK // len(pool))
        for begin in range(0, len(rows), step):
            part = rows[begin: begin + step]
            distance = np.zeros((len(part), len(pool)))
            for column, ranks in given_ranks.items():
                gap = np.abs(ranks[part][:, None] - donor_ranks[column][pool][None, :])
                distance += np.nan_to_num(gap, nan=0.0)  # an unseen value is not matched on
            kth = np.partition(distance, k - 1, axis=1)[:, k - 1: k]
            score = np.where(distance <= kth + 1e-12, rng.random(distance.shape), -1.0)
            out[begin: begin + len(part)] = pool[score.argmax(axis=1)]
        return out
