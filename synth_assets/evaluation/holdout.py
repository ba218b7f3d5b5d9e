"""The holdout split behind the DCR privacy check: which real rows (or whole sequences) a model
never sees, so the check can tell memorising from generalising. Plain pandas; no Dagster."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Share of real rows (or sequences) held out; SDMetrics recommends a holdout at least half the
# size of the training data.
HOLDOUT_FRACTION = 1 / 3
# DCR compares every synthetic row with every reference row: cap the reference sets.
DCR_REFERENCE_ROWS = 3000
_HOLDOUT_BUCKETS = 10_000


def table_dict(table_metadata) -> dict:
    """A table's metadata as a plain dict (TableMetadata or dict in)."""
    if isinstance(table_metadata, dict):
        return table_metadata
    return table_metadata.to_dict()


def as_list(key) -> list:
    """A key (None, a column or a list of columns) as a list of columns."""
    if key is None:
        return []
    return list(key) if isinstance(key, (list, tuple)) else [key]


def extreme_rows(real: pd.DataFrame, table_metadata) -> pd.Index:
    """Index labels of the rows holding a numerical / datetime column's minimum or maximum."""
    table = table_dict(table_metadata)
    labels = []
    for column, meta in table['columns'].items():
        if meta.get('sdtype') not in ('numerical', 'datetime') or column not in real.columns:
            continue
        values = real[column]
        if not (pd.api.types.is_numeric_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values)) or values.notna().sum() == 0:
            continue
        labels += [values.idxmin(), values.idxmax()]
    return pd.Index(list(dict.fromkeys(labels)))


def holdout_mask(real: pd.DataFrame, table_metadata, fraction: float = HOLDOUT_FRACTION):
    """Boolean mask of the real rows held out from fitting, for the DCR check.

    Deterministic and stable as the table grows: a row (or, with a sequence key, a whole
    sequence) is held out when the hash of its content (its key) falls in the first
    ``fraction`` of the hash buckets; identical rows land on the same side. Rows holding a
    column's minimum or maximum always stay in training (min/max enforcement needs the real
    range). Fit the synthesizer on ``real[~mask]`` for the DCR check to measure overfitting.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f'holdout fraction must be in [0, 1), got {fraction!r}')
    table = table_dict(table_metadata)
    sequence_key = as_list(table.get('sequence_key'))
    columns = sequence_key or [c for c in table['columns'] if c in real.columns]
    if not columns:
        raise ValueError('holdout_mask: the real table shares no column with its metadata')
    hashes = pd.util.hash_pandas_object(real[columns], index=False).to_numpy()
    mask = pd.Series((hashes % _HOLDOUT_BUCKETS) < fraction * _HOLDOUT_BUCKETS, index=real.index)
    extremes = extreme_rows(real, table)
    if sequence_key:  # keep the whole sequence of an extreme row in training
        keep = pd.MultiIndex.from_frame(real.loc[extremes, sequence_key])
        mask &= ~pd.MultiIndex.from_frame(real[sequence_key]).isin(keep)
    else:
        mask[extremes] = False
    return mask


def split_holdout(real: pd.DataFrame, table_metadata, fraction: float = HOLDOUT_FRACTION):
    """(training, holdout) frames from ``holdout_mask``."""
    mask = holdout_mask(real, table_metadata, fraction)
    return real[~mask], real[mask]


def dcr_reference_sets(real: pd.DataFrame, table_metadata, fraction: float = HOLDOUT_FRACTION,
                       max_rows: int = DCR_REFERENCE_ROWS, seed: int = 0):
    """Equal-sized (training, holdout) reference sets for DCROverfittingProtection.

    Its 50% baseline holds only for reference sets of one size, and it scales each numerical
    distance by the reference set's own range: so both sets get the same number of sampled
    rows (at most ``max_rows``) plus the rows holding each column's extremes (training rows,
    shared by both), or one heavy-tailed value would make one set look closer.
    """
    training, holdout = split_holdout(real, table_metadata, fraction)
    extremes = extreme_rows(real, table_metadata)
    training = training.drop(index=extremes, errors='ignore')
    n = int(min(len(training), len(holdout), max_rows))
    rng = np.random.default_rng(seed)

    def sample(frame):
        return frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))]

    shared = real.loc[extremes]
    return pd.concat([shared, sample(training)]), pd.concat([shared, sample(holdout)])

