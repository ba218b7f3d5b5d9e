"""Multi-table metrics and the multi-table quality report (SDMetrics 0.32 definitions)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synth_assets.evaluation.single_table import (
    COLUMN_PAIR_TRENDS,
    COLUMN_SHAPES,
    DEFAULT_NUM_ROWS_SUBSAMPLE,
    DEFAULT_REAL_ASSOCIATION_THRESHOLD,
    DEFAULT_REAL_CORRELATION_THRESHOLD,
    _check_frames,
    _column_shapes_details,
    _mean_score,
    _pair_trends_details,
    _PropertyReport,
    _row_codes,
    _to_plain_dict,
    _validate_table_dict,
    ks_complement,
)

CARDINALITY = 'Cardinality'
INTERTABLE_TRENDS = 'Intertable Trends'
_RELATIONSHIP_KEYS = ('parent_table_name', 'parent_primary_key', 'child_table_name',
                      'child_foreign_key')


def _multi_metadata_dict(metadata):
    """Normalise SDV multi-table metadata (dict or object with .to_dict()) to a dict."""
    metadata = _to_plain_dict(metadata)
    if 'tables' not in metadata:
        raise ValueError("multi-table metadata needs a 'tables' mapping")
    tables = {
        name: _validate_table_dict(_to_plain_dict(table, f"metadata of table '{name}'"), name)
        for name, table in metadata['tables'].items()
    }
    relationships = list(metadata.get('relationships') or [])
    for rel in relationships:
        missing = [k for k in _RELATIONSHIP_KEYS if k not in rel]
        if missing:
            raise ValueError(f'relationship {rel} lacks {missing}')
        for key in ('parent_table_name', 'child_table_name'):
            if rel[key] not in tables:
                raise ValueError(f"relationship refers to unknown table '{rel[key]}'")
    return {'tables': tables, 'relationships': relationships}


def _as_list(key):
    return list(key) if isinstance(key, (list, tuple)) else [key]


def _check_tables(data, metadata, name, tables=None):
    if not isinstance(data, dict):
        raise TypeError(f'{name} data must be a dict of DataFrames, got {type(data).__name__}')
    for table in tables if tables is not None else metadata['tables']:
        if table not in data:
            raise ValueError(f"{name} data has no table '{table}'")
        if not isinstance(data[table], pd.DataFrame):
            raise TypeError(f"{name} table '{table}' must be a DataFrame")


def _relationship_tables(metadata):
    return sorted({r[k] for r in metadata['relationships']
                   for k in ('parent_table_name', 'child_table_name')})


def _key_frames(data, rel, name):
    parent, child = data[rel['parent_table_name']], data[rel['child_table_name']]
    pk, fk = _as_list(rel['parent_primary_key']), _as_list(rel['child_foreign_key'])
    if len(pk) != len(fk):
        raise ValueError(
            f"relationship {rel['parent_table_name']} -> {rel['child_table_name']}: primary key "
            f'{pk} and foreign key {fk} have different lengths'
        )
    for table, frame, cols in ((rel['parent_table_name'], parent, pk),
                               (rel['child_table_name'], child, fk)):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} table '{table}' lacks key column(s) {missing}")
    parent_keys = parent[pk].set_axis(range(len(pk)), axis=1)
    child_keys = child[fk].set_axis(range(len(fk)), axis=1)
    return parent_keys, child_keys


def _relationship_row(rel, **values):
    return {
        'Parent Table': rel['parent_table_name'],
        'Child Table': rel['child_table_name'],
        'Foreign Key': rel['child_foreign_key'],
        **values,
    }


def _integrity(data, rel, name):
    parent_keys, child_keys = _key_frames(data, rel, name)
    child_keys = child_keys[child_keys.notna().all(axis=1)]
    if len(child_keys) == 0:
        return 1.0
    parent_codes, child_codes = _row_codes([parent_keys, child_keys], list(parent_keys.columns))
    return float(np.isin(child_codes, parent_codes).mean())


def referential_integrity(real, synthetic, metadata):
    """Per relationship: share of non-null child foreign keys found among the parent keys.

    ``real`` may be None; when given, its own integrity is reported as ``Real Score``.
    A child table whose foreign keys are all null scores 1.0.

    Returns:
        DataFrame with ``Parent Table``, ``Child Table``, ``Foreign Key``, ``Score``
        (and ``Real Score``).
    """
    metadata = _multi_metadata_dict(metadata)
    tables = _relationship_tables(metadata)
    _check_tables(synthetic, metadata, 'synthetic', tables)
    if real is not None:
        _check_tables(real, metadata, 'real', tables)
    rows = []
    for rel in metadata['relationships']:
        row = _relationship_row(rel, Score=_integrity(synthetic, rel, 'synthetic'))
        if real is not None:
            row['Real Score'] = _integrity(real, rel, 'real')
        rows.append(row)
    columns = ['Parent Table', 'Child Table', 'Foreign Key', 'Score']
    return pd.DataFrame(rows, columns=columns + (['Real Score'] if real is not None else []))


def _children_per_parent(data, rel, name):
    """Number of child rows for each parent row, zeros included (SDMetrics' cardinality)."""
    parent_keys, child_keys = _key_frames(data, rel, name)
    parent_codes, child_codes = _row_codes([parent_keys, child_keys], list(parent_keys.columns))
    n_codes = int(max(parent_codes.max(initial=-1), child_codes.max(initial=-1))) + 1
    return np.bincount(child_codes, minlength=n_codes)[parent_codes].astype(float)


def cardinality_shape_similarity(real, synthetic, metadata):
    """Per relationship: KS complement of the children-per-parent counts (zeros included).

    Returns:
        DataFrame with ``Parent Table``, ``Child Table``, ``Foreign Key``, ``Metric``, ``Score``.
    """
    metadata = _multi_metadata_dict(metadata)
    tables = _relationship_tables(metadata)
    _check_tables(real, metadata, 'real', tables)
    _check_tables(synthetic, metadata, 'synthetic', tables)
    rows = []
    for rel in metadata['relationships']:
        real_counts = _children_per_parent(real, rel, 'real')
        synthetic_counts = _children_per_parent(synthetic, rel, 'synthetic')
        # counts are integers, so ks_complement's rounding is a no-op (SDMetrics doesn't round)
        score = ks_complement(real_counts, synthetic_counts)
        rows.append(_relationship_row(rel, Metric='CardinalityShapeSimilarity', Score=score))
    return pd.DataFrame(
        rows, columns=['Parent Table', 'Child Table', 'Foreign Key', 'Metric', 'Score']
    )


def _prefixes(rel):
    """Column prefixes of the child and parent sides of a join; a self-reference (parent table
    == child table) names its parent side apart so the columns do not collide."""
    parent, child = rel['parent_table_name'], rel['child_table_name']
    return f'{child}.', (f'parent {parent}.' if parent == child else f'{parent}.')


def _denormalize(data, rel):
    parent, child = rel['parent_table_name'], rel['child_table_name']
    child_prefix, parent_prefix = _prefixes(rel)
    left_on = [f'{child_prefix}{c}' for c in _as_list(rel['child_foreign_key'])]
    right_on = [f'{parent_prefix}{c}' for c in _as_list(rel['parent_primary_key'])]
    try:
        return data[child].add_prefix(child_prefix).merge(
            data[parent].add_prefix(parent_prefix), left_on=left_on, right_on=right_on
        )
    except ValueError as exc:
        raise ValueError(
            f"cannot join '{child}' to '{parent}' on {rel['child_foreign_key']!r}: {exc}"
        ) from exc


def _intertable_details(real, synthetic, metadata, correlation_threshold,
                        association_threshold, num_rows_subsample, seed):
    frames = []
    for rel in metadata['relationships']:
        parent, child = rel['parent_table_name'], rel['child_table_name']
        child_prefix, parent_prefix = _prefixes(rel)
        parent_cols = {f'{parent_prefix}{c}': m for c, m in metadata['tables'][parent]['columns'].items()}
        child_cols = {f'{child_prefix}{c}': m for c, m in metadata['tables'][child]['columns'].items()}
        details = _pair_trends_details(
            _denormalize(real, rel), _denormalize(synthetic, rel), {**child_cols, **parent_cols},
            itertools.product(parent_cols, child_cols), correlation_threshold,
            association_threshold, num_rows_subsample, seed,
        )
        details['Column 1'] = details['Column 1'].str.slice(len(parent_prefix))
        details['Column 2'] = details['Column 2'].str.slice(len(child_prefix))
        details.insert(0, 'Foreign Key', str(rel['child_foreign_key']))
        details.insert(0, 'Child Table', child)
        details.insert(0, 'Parent Table', parent)
        frames.append(details)
    return _concat(frames)


def _concat(frames):
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=['Score'])
    out = pd.concat(frames, ignore_index=True)
    if 'Error' in out:
        if out['Error'].isna().all():
            out = out.drop(columns='Error')
        else:
            out['Error'] = out['Error'].astype(object).where(out['Error'].notna(), None)
    if 'Meets Threshold?' in out:
        out['Meets Threshold?'] = out['Meets Threshold?'].astype('boolean')
    return out


@dataclass
class MultiTableQualityReport(_PropertyReport):
    """Multi-table quality: Column Shapes, Column Pair Trends, Cardinality, Intertable Trends.

    Each property score is the mean over all its rows (columns / pairs / relationships) across
    tables; the overall score is the mean of the non-NaN property scores (as SDMetrics does).
    """

    def get_details(self, property_name, table_name=None):
        details = super().get_details(property_name)
        if table_name is None:
            return details
        if 'Table' in details:
            return details[details['Table'] == table_name]
        if 'Parent Table' in details:
            keep = (details['Parent Table'] == table_name) | (details['Child Table'] == table_name)
            return details[keep]
        return details


def evaluate_multi_table_quality(real, synthetic, metadata,
                                 real_correlation_threshold=DEFAULT_REAL_CORRELATION_THRESHOLD,
                                 real_association_threshold=DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                                 num_rows_subsample=DEFAULT_NUM_ROWS_SUBSAMPLE, seed=0):
    """Multi-table quality report, agreeing with sdmetrics.reports.multi_table.QualityReport.

    * Column Shapes: mean of every column's KS/TV complement over all tables;
    * Column Pair Trends: mean over all tables' pairs that meet the real-data thresholds;
    * Cardinality: mean CardinalityShapeSimilarity over relationships;
    * Intertable Trends: pair trends between each parent column and each child column of the
      child-parent join, mean over pairs meeting the thresholds.
    """
    metadata = _multi_metadata_dict(metadata)
    _check_tables(real, metadata, 'real')
    _check_tables(synthetic, metadata, 'synthetic')
    shapes, trends = [], []
    for name, table in metadata['tables'].items():
        _check_frames(real[name], synthetic[name], table['columns'], name)
        details = _column_shapes_details(real[name], synthetic[name], table['columns'])
        details.insert(0, 'Table', name)
        shapes.append(details)
        details = _pair_trends_details(
            real[name], synthetic[name], table['columns'], None, real_correlation_threshold,
            real_association_threshold, num_rows_subsample, seed,
        )
        details.insert(0, 'Table', name)
        trends.append(details)
    shapes, trends = _concat(shapes), _concat(trends)
    cardinality = cardinality_shape_similarity(real, synthetic, metadata)
    intertable = _intertable_details(
        real, synthetic, metadata, real_correlation_threshold, real_association_threshold,
        num_rows_subsample, seed,
    )
    return MultiTableQualityReport(
        properties={
            COLUMN_SHAPES: _mean_score(shapes),
            COLUMN_PAIR_TRENDS: _mean_score(trends, 'Meets Threshold?'),
            CARDINALITY: _mean_score(cardinality),
            INTERTABLE_TRENDS: _mean_score(intertable, 'Meets Threshold?'),
        },
        details={
            COLUMN_SHAPES: shapes, COLUMN_PAIR_TRENDS: trends,
            CARDINALITY: cardinality, INTERTABLE_TRENDS: intertable,
        },
    )
