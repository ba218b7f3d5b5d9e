"""Sequential (multi-sequence) metrics, with SDMetrics 0.32's MSAS definitions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from synth_assets.evaluation.single_table import (
    _check_frames,
    _datetime_to_float,
    _table_metadata_dict,
    evaluate_quality,
    ks_complement,
)

_STATISTICS = ('mean', 'median', 'std', 'min', 'max')


def _require_columns(frame, columns, frame_name):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f'{frame_name} must be a pandas DataFrame, got {type(frame).__name__}')
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f'{frame_name} lacks column(s) {missing}')


def _as_float(series, column):
    """Numeric values as float; datetimes as float nanoseconds."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return pd.Series(_datetime_to_float(series, column, {}), index=series.index)
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise ValueError(f"column '{column}' must be numerical or datetime, got {series.dtype}")
    return pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=series.index)


def _sequence_keys(sequence_key):
    if isinstance(sequence_key, str):
        return [sequence_key]
    if isinstance(sequence_key, (list, tuple)) and sequence_key:
        return list(sequence_key)
    raise ValueError(f'sequence_key must be a column name or a list of them, got {sequence_key!r}')


def sequence_length_similarity(real, synthetic, sequence_key):
    """KS complement of the per-sequence lengths (SDMetrics' SequenceLengthSimilarity)."""
    keys = _sequence_keys(sequence_key)
    _require_columns(real, keys, 'real data')
    _require_columns(synthetic, keys, 'synthetic data')
    return ks_complement(
        real.groupby(keys, sort=False).size().to_numpy(float),
        synthetic.groupby(keys, sort=False).size().to_numpy(float),
    )


def statistic_msas(real, synthetic, sequence_key, column, statistic='mean'):
    """KS complement of a per-sequence statistic of ``column`` (SDMetrics' StatisticMSAS).

    ``statistic`` is one of 'mean', 'median', 'std' (ddof=1), 'min', 'max'; sequences whose
    statistic is undefined (e.g. std of one row) are left out.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got '{statistic}'")
    keys = _sequence_keys(sequence_key)
    _require_columns(real, keys + [column], 'real data')
    _require_columns(synthetic, keys + [column], 'synthetic data')

    def per_sequence(frame):
        values = _as_float(frame[column], column)
        return values.groupby([frame[k] for k in keys], sort=False).agg(statistic).to_numpy()

    return ks_complement(per_sequence(real), per_sequence(synthetic))


def _inter_row_differences(frame, keys, column, n_rows_diff, apply_log, sequence_index):
    if sequence_index is not None:
        frame = frame.sort_values(keys + [sequence_index], kind='stable')
    values = _as_float(frame[column], column)
    if apply_log:
        with np.errstate(divide='ignore', invalid='ignore'):
            values = np.log(values)
    grouped = values.groupby([frame[k] for k in keys], sort=False)
    # row r+n minus row r inside each sequence, in row order
    diffs = (values - grouped.shift(n_rows_diff)).to_numpy()
    return diffs[~np.isnan(diffs)]


def inter_row_msas(real, synthetic, sequence_key, column, n_rows_diff=1, apply_log=False,
                   sequence_index=None):
    """KS complement of the within-sequence differences x[r + n] - x[r] (SDMetrics' InterRowMSAS).

    As in SDMetrics 0.32 the differences of all sequences are pooled (not averaged per
    sequence). Rows are taken in their given order unless ``sequence_index`` is named, in
    which case each sequence is sorted by it first.
    """
    if not isinstance(n_rows_diff, (int, np.integer)) or isinstance(n_rows_diff, bool) \
            or n_rows_diff < 1:
        raise ValueError(f'n_rows_diff must be an integer >= 1, got {n_rows_diff!r}')
    if not isinstance(apply_log, bool):
        raise ValueError(f'apply_log must be a boolean, got {apply_log!r}')
    keys = _sequence_keys(sequence_key)
    needed = keys + [column] + ([sequence_index] if sequence_index is not None else [])
    _require_columns(real, needed, 'real data')
    _require_columns(synthetic, needed, 'synthetic data')
    if apply_log:
        for name, frame in (('real', real), ('synthetic', synthetic)):
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                raise TypeError(f"cannot take the log of datetime column '{column}' ({name})")
        n_bad = int((real[column] <= 0).sum() + (synthetic[column] <= 0).sum())
        if n_bad:
            warnings.warn(
                f"{n_bad} non-positive values in column '{column}' cannot be logged",
                stacklevel=2,
            )
    return ks_complement(
        _inter_row_differences(real, keys, column, n_rows_diff, apply_log, sequence_index),
        _inter_row_differences(synthetic, keys, column, n_rows_diff, apply_log, sequence_index),
    )


def context_constant_share(synthetic, sequence_key, context_columns):
    """Share of sequences in which every context column holds a single value (NaN counts)."""
    keys = _sequence_keys(sequence_key)
    context_columns = list(context_columns)
    _require_columns(synthetic, keys + context_columns, 'synthetic data')
    if not context_columns:
        return 1.0
    n_values = synthetic.groupby(keys, sort=False)[context_columns].nunique(dropna=False)
    if len(n_values) == 0:
        return np.nan
    return float((n_values <= 1).all(axis=1).mean())


def index_ordered_share(synthetic, sequence_key, sequence_index, strict=False):
    """Share of sequences whose ``sequence_index`` never decreases in row order.

    With ``strict=True`` repeated index values also count as disorder. Missing index values
    are skipped.
    """
    keys = _sequence_keys(sequence_key)
    _require_columns(synthetic, keys + [sequence_index], 'synthetic data')
    if len(synthetic) == 0:
        return np.nan
    values = _as_float(synthetic[sequence_index], sequence_index)
    values = values[values.notna()]
    group_keys = [synthetic.loc[values.index, k] for k in keys]
    step = values - values.groupby(group_keys, sort=False).shift(1)
    bad = (step <= 0) if strict else (step < 0)
    disordered = bad.groupby(group_keys, sort=False).any()
    n_sequences = synthetic.groupby(keys, sort=False).ngroups
    return float(1.0 - disordered.sum() / n_sequences)


def evaluate_sequential(real, synthetic, metadata, context_columns=()):
    """Bundle of sequential-data scores.

    Returns a dict with:
      * ``quality``: {'score', 'column_shapes', 'column_pair_trends'} of the single-table
        QualityReport on the flattened rows;
      * ``msas``: {column: {'mean', 'std', 'inter_row_diff_1'}} and ``msas_avg`` (their mean)
        over the numerical columns that are neither key, index nor context;
      * ``sequence_length_similarity``, ``context_constant_share`` and
        ``index_ordered_share`` (None without a sequence index).
    """
    table = _table_metadata_dict(metadata)
    sequence_key = table.get('sequence_key')
    if not sequence_key:
        raise ValueError("metadata has no 'sequence_key'; evaluate_sequential needs one")
    sequence_index = table.get('sequence_index')
    columns_meta = table['columns']
    context_columns = list(context_columns)
    unknown = [c for c in context_columns if c not in columns_meta]
    if unknown:
        raise ValueError(f'context_columns {unknown} are not in the metadata')
    _check_frames(real, synthetic, columns_meta)

    report = evaluate_quality(real, synthetic, table)
    keys = set(_sequence_keys(sequence_key))
    excluded = keys | set(context_columns) | {sequence_index}
    msas = {}
    for column, column_meta in columns_meta.items():
        if column_meta['sdtype'] != 'numerical' or column in excluded:
            continue
        msas[column] = {
            'mean': statistic_msas(real, synthetic, sequence_key, column, 'mean'),
            'std': statistic_msas(real, synthetic, sequence_key, column, 'std'),
            'inter_row_diff_1': inter_row_msas(
                real, synthetic, sequence_key, column, 1, sequence_index=sequence_index
            ),
        }
    msas_values = np.array([v for scores in msas.values() for v in scores.values()], float)

    return {
        'quality': {
            'score': report.get_score(),
            'column_shapes': report.column_shapes_score,
            'column_pair_trends': report.column_pair_trends_score,
        },
        'msas': msas,
        'msas_avg': (
            float(np.nanmean(msas_values)) if np.isfinite(msas_values).any() else np.nan
        ),
        'sequence_length_similarity': sequence_length_similarity(real, synthetic, sequence_key),
        'context_constant_share': context_constant_share(
            synthetic, sequence_key, context_columns
        ),
        'index_ordered_share': (
            index_ordered_share(synthetic, sequence_key, sequence_index)
            if sequence_index else None
        ),
    }
