"""Privacy checks: exact copies, PII leaks, and SDMetrics 0.32's DCROverfittingProtection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.evaluation.single_table import (
    CONTINUOUS_SDTYPES,
    _check_frames,
    _continuous_values,
    _exact_copy_share,
    _joint_codes,
    _pii_columns,
    _pii_leaks,
    _table_metadata_dict,
)

# DCR uses these sdtypes only (SDMetrics leaves ordinal, id and PII columns out).
_DCR_SDTYPES = ('numerical', 'datetime', 'categorical', 'boolean')
# cells (synthetic rows x reference rows) per distance block: bounds memory to tens of MB
_DCR_BLOCK_CELLS = 2_000_000


def _copy_columns(real, synthetic, columns):
    if columns is None:
        columns = [c for c in synthetic.columns if c in real.columns]
        if not columns:
            raise ValueError('real and synthetic data share no columns')
        return columns
    columns = list(columns)
    for name, frame in (('real', real), ('synthetic', synthetic)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f'{name} data lacks column(s) {missing}')
    if not columns:
        raise ValueError('columns must name at least one column')
    return columns


def exact_copy_share(real, synthetic, columns=None):
    """Share of synthetic rows equal to some real row on ``columns`` (default: shared columns).

    Values compare exactly (1 == 1.0, NaN == NaN); NaN for empty synthetic data.
    """
    for name, frame in (('real', real), ('synthetic', synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f'{name} data must be a pandas DataFrame, got {type(frame).__name__}')
    return _exact_copy_share(real, synthetic, _copy_columns(real, synthetic, columns))


def real_halves_copy_share(real, seed=0, columns=None):
    """Baseline for exact_copy_share: split ``real`` at random into two halves and return the
    share of rows of the first half that exactly copy a row of the second half.
    """
    if not isinstance(real, pd.DataFrame):
        raise TypeError(f'real data must be a pandas DataFrame, got {type(real).__name__}')
    if len(real) < 2:
        raise ValueError(f'real data needs at least 2 rows to be split, got {len(real)}')
    columns = _copy_columns(real, real, columns)
    order = np.random.default_rng(seed).permutation(len(real))
    half = len(real) // 2
    first, second = real.iloc[order[:half]], real.iloc[order[half:]]
    return _exact_copy_share(second, first, columns)


def pii_leaks(real, synthetic, metadata):
    """{PII column: number of distinct real values that appear in the synthetic column}.

    PII columns: ``'pii': True``, or an sdtype outside numerical/categorical/boolean/
    datetime/id (ordinal) not marked ``'pii': False`` (that one is modelled from the real
    values). Values are compared by their string form.
    """
    table = _table_metadata_dict(metadata)
    columns = _pii_columns(table['columns'])
    _check_frames(real, synthetic, columns)
    return _pii_leaks(real, synthetic, columns)


def _dcr_features(data, reference, table):
    """Per column: ('continuous', data, reference, range) or ('discrete', codes, codes)."""
    features = []
    for column, column_meta in table['columns'].items():
        sdtype = column_meta['sdtype']
        if sdtype not in _DCR_SDTYPES:
            continue
        if sdtype in CONTINUOUS_SDTYPES:
            values = _continuous_values(data[column], column, column_meta)
            ref = _continuous_values(reference[column], column, column_meta)
            finite = ref[~np.isnan(ref)]
            # the range comes from the reference set, as in SDMetrics
            span = float(finite.max() - finite.min()) if finite.size else np.nan
            features.append(('continuous', values, ref, span))
        else:
            values, ref = _joint_codes(data[column], reference[column])
            features.append(('discrete', values, ref, None))
    if not features:
        raise ValueError('the metadata has no numerical/datetime/categorical/boolean column')
    return features


def _distance_to_closest_record(data, reference, table):
    """Min over reference rows of the mean per-column distance (SDMetrics' calculate_dcr).

    Numerical/datetime: |a - b| / reference range, capped at 1 (0/1 when the range is 0);
    categorical/boolean: 0 if equal else 1; one value missing -> 1, both missing -> 0.
    """
    features = _dcr_features(data, reference, table)
    n_rows, n_ref = len(data), len(reference)
    out = np.full(n_rows, np.nan)
    if n_rows == 0 or n_ref == 0:
        return out
    block = max(1, _DCR_BLOCK_CELLS // n_ref)
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        total = np.zeros((stop - start, n_ref))
        for kind, values, ref, span in features:
            if kind == 'discrete':
                total += values[start:stop, None] != ref[None, :]
                continue
            diff = np.abs(values[start:stop, None] - ref[None, :])
            with np.errstate(invalid='ignore', divide='ignore'):
                dist = (diff > 0).astype(float) if span == 0 else np.minimum(diff / span, 1.0)
            missing_data = np.isnan(values[start:stop])[:, None]
            missing_ref = np.isnan(ref)[None, :]
            dist[missing_data ^ missing_ref] = 1.0
            dist[missing_data & missing_ref] = 0.0
            total += dist
        out[start:stop] = total.min(axis=1) / len(features)
    return out


def dcr_overfitting_protection(real_training, real_holdout, synthetic, metadata,
                               num_rows_subsample=None, seed=0):
    """SDMetrics' DCROverfittingProtection.

    For every synthetic row, the distance to its closest record (DCR) in the training set and
    in the holdout set is computed (each set's own column ranges normalise numerical
    distances). ``closer_to_training`` is the share of synthetic rows strictly closer to the
    training set; ``score = min(2 * (1 - closer_to_training), 1)``: 1 means no sign of
    overfitting (a generator that never saw the data is closer to training about half the time).

    ``num_rows_subsample`` (seeded) draws that many rows from each of the three frames first.

    Returns:
        {'score', 'closer_to_training', 'closer_to_holdout'}
    """
    table = _table_metadata_dict(metadata)
    dcr_columns = [c for c, m in table['columns'].items() if m['sdtype'] in _DCR_SDTYPES]
    for name, frame in (('real_training', real_training), ('real_holdout', real_holdout),
                        ('synthetic', synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f'{name} must be a pandas DataFrame, got {type(frame).__name__}')
        missing = [c for c in dcr_columns if c not in frame.columns]
        if missing:
            raise ValueError(f'{name} lacks metadata column(s) {missing}')
        if len(frame) == 0:
            raise ValueError(f'{name} is empty')
    if num_rows_subsample is not None:
        if not isinstance(num_rows_subsample, (int, np.integer)) or num_rows_subsample < 1:
            raise ValueError(f'num_rows_subsample must be a positive integer, got '
                             f'{num_rows_subsample!r}')
        rng = np.random.default_rng(seed)

        def sample(frame):
            if len(frame) <= num_rows_subsample:
                return frame
            return frame.iloc[rng.choice(len(frame), num_rows_subsample, replace=False)]

        synthetic, real_training, real_holdout = map(
            sample, (synthetic, real_training, real_holdout)
        )

    dcr_training = _distance_to_closest_record(synthetic, real_training, table)
    dcr_holdout = _distance_to_closest_record(synthetic, real_holdout, table)
    closer = float(np.mean(dcr_training < dcr_holdout))
    return {
        'score': min(2.0 * (1.0 - closer), 1.0),
        'closer_to_training': closer,
        'closer_to_holdout': 1.0 - closer,
    }
