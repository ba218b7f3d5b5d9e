"""Single-table quality and diagnostics, with SDMetrics 0.32's metric definitions.

Everything here is numpy/pandas/scipy; sdmetrics is only a test-time referee. Where
SDMetrics has a quirk that changes the number (per-dataset histogram bins, the 1e-6
regularisation in TVComplement, rounding before the KS test, the real-correlation /
real-association thresholds of its QualityReport) we reproduce it so scores agree.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CONTINUOUS_SDTYPES = ('numerical', 'datetime')
DISCRETE_SDTYPES = ('categorical', 'ordinal', 'boolean')
STATISTICAL_SDTYPES = CONTINUOUS_SDTYPES + DISCRETE_SDTYPES
# sdtypes that are never personal data; anything else (email, name, ...) is PII.
NON_PII_SDTYPES = frozenset({'numerical', 'categorical', 'boolean', 'datetime', 'id', 'ordinal'})

DEFAULT_REAL_CORRELATION_THRESHOLD = 0.5
DEFAULT_REAL_ASSOCIATION_THRESHOLD = 0.3
DEFAULT_NUM_ROWS_SUBSAMPLE = 50_000
NUM_DISCRETE_BINS = 10
# SDMetrics' KSComplement rounds to this many decimals before the test.
_KS_DECIMALS = sys.float_info.dig - 1
_NS_PER_UNIT = {'ns': 1.0, 'us': 1e3, 'ms': 1e6, 's': 1e9, 'm': 6e10, 'h': 3.6e12, 'D': 8.64e13}

COLUMN_SHAPES = 'Column Shapes'
COLUMN_PAIR_TRENDS = 'Column Pair Trends'


# --------------------------------------------------------------------------- metadata
def _to_plain_dict(metadata, what='metadata'):
    if not isinstance(metadata, dict) and callable(getattr(metadata, 'to_dict', None)):
        metadata = metadata.to_dict()
    if not isinstance(metadata, dict):
        raise TypeError(
            f'{what} must be a dict or an object with .to_dict(), got {type(metadata).__name__}'
        )
    return metadata


def _validate_table_dict(table, table_name=None):
    where = f" of table '{table_name}'" if table_name else ''
    columns = table.get('columns')
    if not isinstance(columns, dict):
        raise ValueError(f"metadata{where} has no 'columns' mapping")
    for column, column_meta in columns.items():
        if not isinstance(column_meta, dict) or 'sdtype' not in column_meta:
            raise ValueError(f"column '{column}' in the metadata{where} has no 'sdtype'")
    return table


def _table_metadata_dict(metadata, table_name=None):
    """Normalise table metadata (SDV single-table dict or object with .to_dict()) to a dict.

    A multi-table dict with exactly one table (or with ``table_name`` given) is accepted too.
    """
    metadata = _to_plain_dict(metadata)
    if 'tables' in metadata:
        tables = metadata['tables']
        if table_name is None:
            if len(tables) != 1:
                raise ValueError(
                    f'metadata describes {len(tables)} tables; pass single-table metadata '
                    'or use the multi-table functions'
                )
            table_name = next(iter(tables))
        elif table_name not in tables:
            raise ValueError(f"table '{table_name}' is not in the metadata ({sorted(tables)})")
        metadata = _to_plain_dict(tables[table_name], f"metadata of table '{table_name}'")
    return _validate_table_dict(metadata, table_name)


def _check_frames(real, synthetic, columns, table_name=None):
    where = f" of table '{table_name}'" if table_name else ''
    for name, frame in (('real', real), ('synthetic', synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f'{name} data{where} must be a pandas DataFrame, got {type(frame).__name__}'
            )
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f'{name} data{where} lacks metadata column(s) {missing}')


def _key_columns(table):
    """Primary and alternate key column names (flattened)."""
    keys = []
    for key in [table.get('primary_key')] + list(table.get('alternate_keys') or []):
        if key is None:
            continue
        keys.extend(key if isinstance(key, (list, tuple)) else [key])
    return keys


def _pii_columns(columns_meta):
    """Columns generated as fake PII: a PII sdtype, unless marked `pii: False` (then SDV and we
    model it from the real values, so its values are expected to recur)."""
    return [
        c for c, m in columns_meta.items()
        if m.get('pii') is True or (m['sdtype'] not in NON_PII_SDTYPES and m.get('pii', True))
    ]


# --------------------------------------------------------------------------- value prep
def _plain(series):
    """Categorical dtype -> object, so unobserved categories don't create empty cells."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype(object)
    return series


def _datetime_to_float(series, column, column_meta):
    """Datetimes as float nanoseconds since the epoch (NaT -> NaN)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_datetime64_any_dtype(series):
        fmt = column_meta.get('datetime_format')
        try:
            series = pd.to_datetime(series, format=fmt)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"datetime column '{column}' could not be parsed"
                + (f" with datetime_format '{fmt}'" if fmt else '') + f': {exc}'
            ) from exc
    if getattr(series.dt, 'tz', None) is not None:
        series = series.dt.tz_convert('UTC').dt.tz_localize(None)
    values = series.to_numpy()
    unit = np.datetime_data(values.dtype)[0]
    out = values.view('int64').astype(float) * _NS_PER_UNIT[unit]
    out[np.isnat(values)] = np.nan
    return out


def _continuous_values(series, column, column_meta):
    """Float array for a numerical or datetime column."""
    if column_meta['sdtype'] == 'datetime' or pd.api.types.is_datetime64_any_dtype(series):
        return _datetime_to_float(series, column, column_meta)
    try:
        if pd.api.types.is_numeric_dtype(series):
            return series.to_numpy(dtype=float, na_value=np.nan)
        return pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"numerical column '{column}' holds non-numeric values: {exc}") from exc


def _joint_codes(real, synthetic):
    """Integer codes shared by both series; missing values get a code of their own."""
    both = pd.concat([_plain(real), _plain(synthetic)], ignore_index=True)
    codes, _ = pd.factorize(both, use_na_sentinel=False)
    return codes[: len(real)], codes[len(real):]


def _row_codes(frames, columns):
    """One integer per row: equal iff the rows are equal on ``columns`` (NaN == NaN)."""
    lengths = [len(f) for f in frames]
    key = np.zeros(sum(lengths), dtype=np.int64)
    for column in columns:
        both = pd.concat([_plain(f[column]) for f in frames], ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=False)
        # re-factorise after each column so the combined key never overflows
        key, _ = pd.factorize(key * max(len(uniques), 1) + codes)
    return np.split(key, np.cumsum(lengths)[:-1])


# --------------------------------------------------------------------------- base metrics
def ks_complement(real, synthetic):
    """1 - Kolmogorov-Smirnov D between two numeric samples (NaN ignored); NaN if one is empty."""
    real = np.asarray(real, dtype=float)
    synthetic = np.asarray(synthetic, dtype=float)
    real = np.sort(np.round(real[~np.isnan(real)], _KS_DECIMALS))
    synthetic = np.sort(np.round(synthetic[~np.isnan(synthetic)], _KS_DECIMALS))
    if real.size == 0 or synthetic.size == 0:
        return np.nan
    grid = np.concatenate([real, synthetic])
    cdf_real = np.searchsorted(real, grid, side='right') / real.size
    cdf_synthetic = np.searchsorted(synthetic, grid, side='right') / synthetic.size
    return float(1.0 - np.max(np.abs(cdf_real - cdf_synthetic)))


def tv_complement(real, synthetic):
    """1 - total variation distance between the category frequencies (NaN ignored)."""
    real = _plain(pd.Series(real)).dropna()
    synthetic = _plain(pd.Series(synthetic)).dropna()
    if len(real) == 0 or len(synthetic) == 0:
        return np.nan
    codes, uniques = pd.factorize(pd.concat([real, synthetic], ignore_index=True))
    n_codes = len(uniques)
    real_counts = np.bincount(codes[: len(real)], minlength=n_codes).astype(float)
    synthetic_counts = np.bincount(codes[len(real):], minlength=n_codes).astype(float)
    # SDMetrics adds 1e-6 to the real count of synthetic-only categories
    real_counts[(real_counts == 0) & (synthetic_counts > 0)] += 1e-6
    diff = synthetic_counts / synthetic_counts.sum() - real_counts / real_counts.sum()
    return float(1.0 - 0.5 * np.abs(diff).sum())


def _pearson(x, y):
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2:
        return np.nan
    with np.errstate(invalid='ignore', over='ignore'):  # inf values -> NaN, as in scipy
        xc, yc = x - x.mean(), y - y.mean()
        denom = np.sqrt(np.dot(xc, xc) * np.dot(yc, yc))
        if not denom > 0:
            return np.nan
        return float(np.clip(np.dot(xc, yc) / denom, -1.0, 1.0))


def _cramers_v(codes_1, codes_2):
    """Cramér's V (no continuity correction) of the observed contingency table, or NaN."""
    n = codes_1.size
    if n == 0:
        return np.nan
    width = int(codes_2.max()) + 1
    cells, counts = np.unique(codes_1.astype(np.int64) * width + codes_2, return_counts=True)
    rows, row_idx = np.unique(cells // width, return_inverse=True)
    cols, col_idx = np.unique(cells % width, return_inverse=True)
    if min(rows.size, cols.size) < 2:
        return np.nan
    row_tot = np.bincount(row_idx, weights=counts)
    col_tot = np.bincount(col_idx, weights=counts)
    # chi2 = n * (sum O^2 / (R C) - 1): only observed cells are needed
    chi2 = n * (np.sum(counts.astype(float) ** 2 / (row_tot[row_idx] * col_tot[col_idx])) - 1.0)
    return float(np.sqrt(max(chi2, 0.0) / n / (min(rows.size, cols.size) - 1)))


def _contingency_score(real_1, real_2, synthetic_1, synthetic_2):
    """1 - TV distance between the joint frequencies of two discrete code arrays."""
    if real_1.size == 0 or synthetic_1.size == 0:
        return np.nan
    width = int(max(real_2.max(), synthetic_2.max())) + 1
    joint = np.concatenate([
        real_1.astype(np.int64) * width + real_2,
        synthetic_1.astype(np.int64) * width + synthetic_2,
    ])
    _, inverse = np.unique(joint, return_inverse=True)
    n_cells = int(inverse.max()) + 1
    p_real = np.bincount(inverse[: real_1.size], minlength=n_cells) / real_1.size
    p_synthetic = np.bincount(inverse[real_1.size:], minlength=n_cells) / synthetic_1.size
    return float(1.0 - 0.5 * np.abs(p_real - p_synthetic).sum())


def _discretize(values):
    """SDMetrics' pair-trends binning: 10 equal-width bins over this sample's own range.

    np.digitize sends NaN (and the maximum) to the last code, as SDMetrics does.
    Returns None when the range is not finite (SDMetrics then scores the pair NaN).
    """
    try:
        edges = np.histogram_bin_edges(values[~np.isnan(values)], bins=NUM_DISCRETE_BINS)
    except ValueError:
        return None
    return np.digitize(values, bins=edges)


# --------------------------------------------------------------------------- properties
def _column_shapes_details(real, synthetic, columns_meta):
    names, metrics, scores = [], [], []
    for column, column_meta in columns_meta.items():
        sdtype = column_meta['sdtype']
        if sdtype in CONTINUOUS_SDTYPES:
            score = ks_complement(
                _continuous_values(real[column], column, column_meta),
                _continuous_values(synthetic[column], column, column_meta),
            )
            metric = 'KSComplement'
        elif sdtype in DISCRETE_SDTYPES:
            score = tv_complement(real[column], synthetic[column])
            metric = 'TVComplement'
        else:
            continue
        names.append(column)
        metrics.append(metric)
        scores.append(score)
    return pd.DataFrame({'Column': names, 'Metric': metrics, 'Score': np.asarray(scores, float)})


def column_shapes(real, synthetic, metadata):
    """Per-column shape similarity: KSComplement (numerical/datetime), TVComplement (discrete).

    Columns of other sdtypes (id, PII, ...) are skipped, as SDMetrics does.

    Returns:
        DataFrame with columns ``Column``, ``Metric``, ``Score``.
    """
    table = _table_metadata_dict(metadata)
    _check_frames(real, synthetic, table['columns'])
    return _column_shapes_details(real, synthetic, table['columns'])


class _PairData:
    """Per-column arrays needed by the pair metrics, built once per table."""

    def __init__(self, real, synthetic, columns_meta):
        self.kind, self.cont, self.disc, self.nunique = {}, {}, {}, {}
        for column, column_meta in columns_meta.items():
            sdtype = column_meta['sdtype']
            if sdtype in CONTINUOUS_SDTYPES:
                r = _continuous_values(real[column], column, column_meta)
                s = _continuous_values(synthetic[column], column, column_meta)
                self.kind[column] = 'continuous'
                self.cont[column] = (r, s)
                self.disc[column] = (_discretize(r), _discretize(s))
                self.nunique[column] = (
                    np.unique(r[~np.isnan(r)]).size, np.unique(s[~np.isnan(s)]).size
                )
            elif sdtype in DISCRETE_SDTYPES:
                self.kind[column] = 'discrete'
                self.disc[column] = _joint_codes(real[column], synthetic[column])


def _pair_trends_details(real, synthetic, columns_meta, column_pairs=None,
                         real_correlation_threshold=DEFAULT_REAL_CORRELATION_THRESHOLD,
                         real_association_threshold=DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                         num_rows_subsample=DEFAULT_NUM_ROWS_SUBSAMPLE, seed=0):
    data = _PairData(real, synthetic, columns_meta)
    if column_pairs is None:
        column_pairs = itertools.combinations(list(columns_meta), 2)

    # SDMetrics subsamples rows for ContingencySimilarity on large tables
    real_rows = synthetic_rows = slice(None)
    if num_rows_subsample and max(len(real), len(synthetic)) > num_rows_subsample:
        rng = np.random.default_rng(seed)
        real_rows = rng.choice(len(real), min(num_rows_subsample, len(real)), replace=False)
        synthetic_rows = rng.choice(
            len(synthetic), min(num_rows_subsample, len(synthetic)), replace=False
        )

    records = []
    for column_1, column_2 in column_pairs:
        if column_1 not in data.kind or column_2 not in data.kind:
            continue
        record = {
            'Column 1': column_1, 'Column 2': column_2, 'Score': np.nan,
            'Real Correlation': np.nan, 'Synthetic Correlation': np.nan,
            'Real Association': np.nan, 'Meets Threshold?': True, 'Error': None,
        }
        if data.kind[column_1] == data.kind[column_2] == 'continuous':
            record['Metric'] = 'CorrelationSimilarity'
            constant = [
                f'{which} {c}' for c in (column_1, column_2)
                for which, count in zip(('real', 'synthetic'), data.nunique[c]) if count == 1
            ]
            if constant:
                record['Error'] = f'ConstantInputError: constant data in {", ".join(constant)}'
                record['Meets Threshold?'] = np.nan
            else:
                (r1, s1), (r2, s2) = data.cont[column_1], data.cont[column_2]
                real_corr = _pearson(r1, r2)
                record['Real Correlation'] = real_corr
                if real_correlation_threshold > 0:
                    record['Meets Threshold?'] = bool(
                        not np.isnan(real_corr) and abs(real_corr) > real_correlation_threshold
                    )
                if real_correlation_threshold <= 0 or record['Meets Threshold?']:
                    synthetic_corr = _pearson(s1, s2)
                    record['Synthetic Correlation'] = synthetic_corr
                    record['Score'] = 1.0 - abs(real_corr - synthetic_corr) / 2.0
        else:
            record['Metric'] = 'ContingencySimilarity'
            (r1, s1), (r2, s2) = data.disc[column_1], data.disc[column_2]
            if any(codes is None for codes in (r1, s1, r2, s2)):
                record['Error'] = 'ValueError: cannot bin a column with infinite values'
                record['Meets Threshold?'] = np.nan
                records.append(record)
                continue
            r1, r2 = r1[real_rows], r2[real_rows]
            s1, s2 = s1[synthetic_rows], s2[synthetic_rows]
            compute = True
            if real_association_threshold > 0:
                association = _cramers_v(r1, r2)
                record['Real Association'] = association
                record['Meets Threshold?'] = bool(
                    not np.isnan(association) and association > real_association_threshold
                )
                compute = record['Meets Threshold?']
            if compute:
                record['Score'] = _contingency_score(r1, r2, s1, s2)
        records.append(record)

    columns = ['Column 1', 'Column 2', 'Metric', 'Score', 'Real Correlation',
               'Synthetic Correlation', 'Real Association', 'Meets Threshold?', 'Error']
    details = pd.DataFrame.from_records(records, columns=columns)
    details['Score'] = details['Score'].astype(float)
    details['Meets Threshold?'] = details['Meets Threshold?'].astype('boolean')
    if details['Error'].isna().all():
        details = details.drop(columns='Error')
    return details


def column_pair_trends(real, synthetic, metadata,
                       real_correlation_threshold=DEFAULT_REAL_CORRELATION_THRESHOLD,
                       real_association_threshold=DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                       num_rows_subsample=DEFAULT_NUM_ROWS_SUBSAMPLE, seed=0):
    """Per-pair trend similarity, as SDMetrics' ColumnPairTrends property computes it.

    Numerical/datetime pairs: CorrelationSimilarity (1 - |pearson_real - pearson_synth| / 2).
    Other pairs: ContingencySimilarity (1 - TV distance of the joint frequencies), where a
    numerical/datetime column is first cut into 10 equal-width bins over *each dataset's own*
    range (SDMetrics' behaviour). Pairs whose real |correlation| is not above
    ``real_correlation_threshold`` (or whose real Cramér's V is not above
    ``real_association_threshold``) get ``Meets Threshold? = False`` and no score; 0 disables.
    Contingency pairs use a seeded subsample of ``num_rows_subsample`` rows on large tables.
    """
    table = _table_metadata_dict(metadata)
    _check_frames(real, synthetic, table['columns'])
    for name, value in (('real_correlation_threshold', real_correlation_threshold),
                        ('real_association_threshold', real_association_threshold)):
        if not 0 <= value <= 1:
            raise ValueError(f'{name} must be between 0 and 1, got {value}')
    return _pair_trends_details(
        real, synthetic, table['columns'], None, real_correlation_threshold,
        real_association_threshold, num_rows_subsample, seed,
    )


def _mean_score(details, threshold_column=None):
    if details is None or len(details) == 0 or 'Score' not in details:
        return np.nan
    scores = details['Score']
    if threshold_column and threshold_column in details:
        scores = scores[details[threshold_column].astype('boolean').fillna(False).to_numpy(bool)]
    return float(scores.mean()) if scores.notna().any() else np.nan


@dataclass
class _PropertyReport:
    """Property scores + details; overall score = mean of the non-NaN property scores."""

    properties: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def get_score(self):
        scores = np.array(list(self.properties.values()), dtype=float)
        return float(np.nanmean(scores)) if np.isfinite(scores).any() else np.nan

    def get_properties(self):
        return pd.DataFrame({
            'Property': list(self.properties), 'Score': list(self.properties.values())
        })

    def get_details(self, property_name):
        if property_name not in self.details:
            raise ValueError(
                f"Invalid property name '{property_name}'. Valid names: {list(self.details)}"
            )
        return self.details[property_name].copy()


@dataclass
class QualityReport(_PropertyReport):
    """Single-table quality: Column Shapes and Column Pair Trends (SDMetrics' definitions)."""

    @property
    def column_shapes_score(self):
        return self.properties[COLUMN_SHAPES]

    @property
    def column_pair_trends_score(self):
        return self.properties[COLUMN_PAIR_TRENDS]


def evaluate_quality(real, synthetic, metadata,
                     real_correlation_threshold=DEFAULT_REAL_CORRELATION_THRESHOLD,
                     real_association_threshold=DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                     num_rows_subsample=DEFAULT_NUM_ROWS_SUBSAMPLE, seed=0):
    """Single-table quality report, agreeing with sdmetrics.reports.single_table.QualityReport.

    Column Shapes = mean column score; Column Pair Trends = mean score of the pairs that
    meet the real-data thresholds; overall = mean of the two (NaN properties skipped).
    """
    shapes = column_shapes(real, synthetic, metadata)
    trends = column_pair_trends(
        real, synthetic, metadata, real_correlation_threshold, real_association_threshold,
        num_rows_subsample, seed,
    )
    return QualityReport(
        properties={
            COLUMN_SHAPES: _mean_score(shapes),
            COLUMN_PAIR_TRENDS: _mean_score(trends, 'Meets Threshold?'),
        },
        details={COLUMN_SHAPES: shapes, COLUMN_PAIR_TRENDS: trends},
    )


# --------------------------------------------------------------------------- diagnostics
def _boundary_adherence(real_values, synthetic_values):
    real_values = real_values[~np.isnan(real_values)]
    synthetic_values = synthetic_values[~np.isnan(synthetic_values)]
    if real_values.size == 0 or synthetic_values.size == 0:
        return np.nan
    low, high = real_values.min(), real_values.max()
    return float(np.mean((synthetic_values >= low) & (synthetic_values <= high)))


def _exact_copy_share(real, synthetic, columns):
    if len(synthetic) == 0:
        return np.nan
    real_keys, synthetic_keys = _row_codes([real, synthetic], columns)
    return float(np.isin(synthetic_keys, real_keys).mean())


def _pii_leaks(real, synthetic, columns):
    leaks = {}
    for column in columns:
        real_values = pd.unique(real[column].dropna().astype(str))
        synthetic_values = pd.unique(synthetic[column].dropna().astype(str))
        leaks[column] = int(np.isin(real_values, synthetic_values).sum())
    return leaks


def run_diagnostic(real, synthetic, metadata):
    """Validity checks of synthetic data against the real table.

    Returns a dict with:
      * ``boundary_adherence``: {column: share of non-null synthetic values inside the real
        [min, max]} for numerical/datetime columns, and ``boundary_adherence_score`` (mean);
      * ``primary_key_uniqueness``: share of synthetic rows whose primary key is non-null and
        unique (None when the table has no primary key);
      * ``exact_copy_share``: share of synthetic rows equal to some real row on the
        statistical (non-key, non-PII) columns;
      * ``pii_leaks``: {PII column: number of distinct real values found in the synthetic
        column}, and ``pii_leak``: whether any is non-zero. PII = ``'pii': True`` or an
        sdtype outside numerical/categorical/boolean/datetime/id (ordinal).
    """
    table = _table_metadata_dict(metadata)
    columns_meta = table['columns']
    _check_frames(real, synthetic, columns_meta)

    boundary = {
        column: _boundary_adherence(
            _continuous_values(real[column], column, meta),
            _continuous_values(synthetic[column], column, meta),
        )
        for column, meta in columns_meta.items() if meta['sdtype'] in CONTINUOUS_SDTYPES
    }
    boundary_values = np.array(list(boundary.values()), dtype=float)

    primary_key = table.get('primary_key')
    key_uniqueness = None
    if primary_key:
        key_cols = list(primary_key) if isinstance(primary_key, (list, tuple)) else [primary_key]
        keys = synthetic[key_cols]
        ok = keys.notna().all(axis=1) & ~keys.duplicated(keep=False)
        key_uniqueness = float(ok.mean()) if len(keys) else np.nan

    keys = set(_key_columns(table))
    statistical = [
        c for c, m in columns_meta.items()
        if m['sdtype'] in STATISTICAL_SDTYPES and c not in keys and not m.get('pii')
    ]
    copy_share = _exact_copy_share(real, synthetic, statistical) if statistical else np.nan
    leaks = _pii_leaks(real, synthetic, _pii_columns(columns_meta))

    return {
        'boundary_adherence': boundary,
        'boundary_adherence_score': (
            float(np.nanmean(boundary_values)) if np.isfinite(boundary_values).any() else np.nan
        ),
        'primary_key_uniqueness': key_uniqueness,
        'exact_copy_share': copy_share,
        'pii_leaks': leaks,
        'pii_leak': any(n > 0 for n in leaks.values()),
    }
