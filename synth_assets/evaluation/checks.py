"""Checks on a synthetic table, as plain pandas: each returns a ``CheckOutcome`` (verdict,
description, numbers). ``plan_table_checks`` lists the checks a table gets; the Dagster layer
evaluates them on the in-memory sample before anything is written.

The metrics come from ``synth_assets.evaluation``; this module decides pass/fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synth_assets.evaluation import multi_table as _multi
from synth_assets.evaluation import privacy as _privacy
from synth_assets.evaluation import sequential as _sequential
from synth_assets.evaluation import single_table as _single
from synth_assets.evaluation.single_table import _pii_columns
from synth_assets.evaluation.holdout import (
    HOLDOUT_FRACTION,
    as_list,
    dcr_reference_sets,
    table_dict,
)

# DCR compares every synthetic row with every reference row: cap the synthetic side.
DCR_SYNTHETIC_ROWS = 2000
_MIN_DCR_ROWS = 10
# one-sided z for "synthetic rows copy real rows more often than real halves copy each other"
COPY_Z = 3.0
_STATISTICAL_SDTYPES = ('numerical', 'datetime', 'categorical', 'boolean', 'ordinal')

QUALITY = 'quality'
NO_PII_LEAK = 'no_pii_leak'
EXACT_COPIES = 'exact_copies'
DCR_OVERFITTING = 'dcr_overfitting'
CONTRACT = 'contract'
SEQUENCE_LENGTHS = 'sequence_lengths'
CONTEXT_CONSTANT = 'context_constant'
INDEX_ORDERED = 'index_ordered'


@dataclass
class CheckOutcome:
    """A check's verdict with the numbers behind it (plain Python values)."""

    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def _float(value):
    value = float(value)
    return None if math.isnan(value) else value


def jsonable(value):
    """Plain JSON-friendly values (NaN -> None) for check metadata."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def statistical_columns(table_metadata) -> list[str]:
    """Modelled columns: statistical sdtypes, neither keys nor PII (what exact copies compare)."""
    table = table_dict(table_metadata)
    keys = set(as_list(table.get('primary_key')))
    for key in table.get('alternate_keys') or []:
        keys.update(as_list(key))
    keys.update(as_list(table.get('sequence_key')))
    return [c for c, m in table['columns'].items()
            if m.get('sdtype') in _STATISTICAL_SDTYPES and c not in keys and not m.get('pii')]


# --------------------------------------------------------------------------- outcomes
def quality_outcome(real, synthetic, table_metadata, threshold, sequential=False,
                    context_columns=()) -> CheckOutcome:
    """Quality score (SDMetrics' QualityReport definition) at least ``threshold``."""
    table = table_dict(table_metadata)
    if sequential and table.get('sequence_key'):
        result = _sequential.evaluate_sequential(real, synthetic, table, context_columns=context_columns)
        score = result['quality']['score']
        metadata = {
            'score': _float(score), 'threshold': threshold,
            'column_shapes': _float(result['quality']['column_shapes']),
            'column_pair_trends': _float(result['quality']['column_pair_trends']),
            'msas_avg': _float(result['msas_avg']),
            'sequence_length_similarity': _float(result['sequence_length_similarity']),
        }
    else:
        report = _single.evaluate_quality(real, synthetic, table)
        score = report.get_score()
        metadata = {'score': _float(score), 'threshold': threshold,
                    'column_shapes': _float(report.column_shapes_score),
                    'column_pair_trends': _float(report.column_pair_trends_score)}
        shapes = report.get_details('Column Shapes')
        if len(shapes):
            metadata['column_shapes_by_column'] = {
                str(r['Column']): _float(r['Score']) for _, r in shapes.iterrows()}
    passed = bool(np.isfinite(score) and score >= threshold)
    return CheckOutcome(passed, f'quality score {score:.3f} (threshold {threshold})', metadata)


def pii_outcome(real, synthetic, table_metadata) -> CheckOutcome:
    """No real value of a PII column appears in the synthetic PII column."""
    leaks = _privacy.pii_leaks(real, synthetic, table_dict(table_metadata))
    leaked = {c: n for c, n in leaks.items() if n}
    metadata = {'pii_columns': sorted(leaks), 'leaked_values_by_column': leaks,
                'leaked_values': int(sum(leaks.values()))}
    if not leaks:
        return CheckOutcome(True, 'the table has no PII column', metadata)
    if leaked:
        return CheckOutcome(False, f'real PII values found in synthetic columns {sorted(leaked)}',
                            metadata)
    return CheckOutcome(True, f'no real value in PII columns {sorted(leaks)}', metadata)


def exact_copy_outcome(real, synthetic, table_metadata, seed=0) -> CheckOutcome:
    """Share of synthetic rows equal to a real row no higher than between two real halves.

    Like for like: the baseline (``real_halves_copy_share``) looks rows of one half up in the
    other half, so synthetic rows are looked up in a random half of the same size too (a
    reference twice as large finds more chance matches in discrete data). The shares are
    compared with a one-sided two-proportion test (pooled standard error, ``COPY_Z`` = 3): a
    handful of chance collisions in discrete data passes, a copied row set fails.
    """
    columns = statistical_columns(table_metadata)
    if not columns or len(real) < 2 or len(synthetic) == 0:
        return CheckOutcome(True, 'no modelled column or too few rows to compare',
                            {'columns': columns})
    baseline = _privacy.real_halves_copy_share(real, seed=seed, columns=columns)
    n_base = len(real) // 2  # rows of the half looked up in the other half
    rng = np.random.default_rng(seed + 1)
    half = real.iloc[np.sort(rng.choice(len(real), len(real) - n_base, replace=False))]
    share_half = _privacy.exact_copy_share(half, synthetic, columns)
    share_all = _privacy.exact_copy_share(real, synthetic, columns)
    n_syn = len(synthetic)
    pooled = (share_half * n_syn + baseline * n_base) / (n_syn + n_base)
    margin = COPY_Z * math.sqrt(pooled * (1 - pooled) * (1 / n_syn + 1 / n_base))
    passed = bool(share_half <= baseline + margin)
    metadata = {'exact_copy_share': _float(share_all), 'exact_copy_share_vs_half': _float(share_half),
                'real_halves_copy_share': _float(baseline), 'margin': round(margin, 6),
                'copied_rows': int(round(share_all * n_syn)), 'synthetic_rows': n_syn,
                'columns': columns}
    return CheckOutcome(
        passed, f'compared on {columns}: {share_half:.2%} of synthetic rows copy a row of a '
                f'real half (between real halves: {baseline:.2%}, allowed +{margin:.2%}); '
                f'{share_all:.2%} copy some real row', metadata)


def dcr_outcome(real, synthetic, table_metadata, max_share,
                holdout_fraction=HOLDOUT_FRACTION, seed=0) -> CheckOutcome:
    """DCROverfittingProtection (SDMetrics): share of synthetic rows closer to the training rows
    than to the holdout rows (``holdout_mask``) at most ``max_share``.

    A small holdout cannot tell ``max_share`` from sampling noise (an honest model lands near 50%
    +- 1/(2 sqrt(n)) with n reference rows), so the bound is widened to 50% + 1/sqrt(n), two
    standard errors, when that is larger; from 400 reference rows on it is ``max_share`` itself.
    """
    table = table_dict(table_metadata)
    training, holdout = dcr_reference_sets(real, table, holdout_fraction, seed=seed)
    allowed = max(max_share, 0.5 + 1 / np.sqrt(max(len(holdout), 1)))
    metadata = {'max_share': max_share, 'allowed_share': _float(allowed),
                'holdout_fraction': round(holdout_fraction, 4), 'reference_rows': len(holdout)}
    if min(len(holdout), len(synthetic)) < _MIN_DCR_ROWS:
        return CheckOutcome(True, f'skipped: fewer than {_MIN_DCR_ROWS} rows to compare',
                            {**metadata, 'skipped': True})
    if len(synthetic) > DCR_SYNTHETIC_ROWS:
        rng = np.random.default_rng(seed)
        synthetic = synthetic.iloc[np.sort(rng.choice(len(synthetic), DCR_SYNTHETIC_ROWS,
                                                      replace=False))]
    result = _privacy.dcr_overfitting_protection(training, holdout, synthetic, table)
    closer = result['closer_to_training']
    metadata.update({'closer_to_training': _float(closer), 'score': _float(result['score']),
                     'synthetic_rows': len(synthetic)})
    widened = f', widened from {max_share:.0%} for {len(holdout)} reference rows' if allowed > max_share else ''
    return CheckOutcome(bool(closer <= allowed),
                        f'{closer:.1%} of synthetic rows are closer to training than to holdout '
                        f'rows (max {allowed:.1%}{widened})', metadata)


def contract_outcome(real, synthetic, table_metadata, table_name='table') -> CheckOutcome:
    """The GX contract derived from the real table holds on the synthetic table."""
    from synth_assets.evaluation.contracts import derive_contract, validate_contract

    contract = derive_contract(real, table_metadata, table_name)
    result = validate_contract(synthetic, contract)
    metadata = {'n_expectations': result.n_expectations, 'n_failed': result.n_failed,
                'failed_expectations': result.failures,
                'failed_summary': [f"{f['expectation']}"
                                   + (f"[{f['column']}]" if f.get('column') else '')
                                   for f in result.failures],
                'report': ('md', result.to_markdown())}
    if result.success:
        return CheckOutcome(True, f'all {result.n_expectations} expectations met', metadata)
    return CheckOutcome(False, f'{result.n_failed} of {result.n_expectations} expectations failed: '
                        + ', '.join(metadata['failed_summary'][:5]), metadata)


def _lengths(frame, keys):
    return frame.groupby(keys, sort=False).size()


def sequence_lengths_outcome(real, synthetic, table_metadata, threshold) -> CheckOutcome:
    """Sequence-length distribution (KS complement) at least ``threshold``."""
    keys = as_list(table_dict(table_metadata)['sequence_key'])
    score = _sequential.sequence_length_similarity(real, synthetic, keys)
    real_l, synth_l = _lengths(real, keys), _lengths(synthetic, keys)
    metadata = {'score': _float(score), 'threshold': threshold,
                'real_sequences': len(real_l), 'synthetic_sequences': len(synth_l)}
    for name, lengths in (('real', real_l), ('synthetic', synth_l)):
        if len(lengths):
            metadata[f'{name}_length'] = {'min': int(lengths.min()), 'mean': float(lengths.mean()),
                                          'max': int(lengths.max())}
    passed = bool(np.isfinite(score) and score >= threshold)
    return CheckOutcome(passed, f'sequence-length similarity {score:.3f} (threshold {threshold})',
                        metadata)


def context_constant_outcome(synthetic, table_metadata, context_columns) -> CheckOutcome:
    """Every context column holds one value within each synthetic sequence."""
    keys = as_list(table_dict(table_metadata)['sequence_key'])
    context_columns = list(context_columns)
    share = _sequential.context_constant_share(synthetic, keys, context_columns)
    metadata = {'context_columns': context_columns, 'constant_share': _float(share)}
    if context_columns and len(synthetic):
        n_values = synthetic.groupby(keys, sort=False)[context_columns].nunique(dropna=False)
        metadata['varying_sequences_by_column'] = {c: int((n_values[c] > 1).sum())
                                                   for c in context_columns}
    passed = bool(not np.isfinite(share) or share == 1.0)
    return CheckOutcome(passed, f'{share:.1%} of sequences keep their context constant', metadata)


def index_ordered_outcome(synthetic, table_metadata) -> CheckOutcome:
    """The sequence index never decreases within a synthetic sequence."""
    table = table_dict(table_metadata)
    share = _sequential.index_ordered_share(synthetic, as_list(table['sequence_key']),
                                   table['sequence_index'])
    passed = bool(not np.isfinite(share) or share == 1.0)
    return CheckOutcome(passed, f'{share:.1%} of sequences have an ordered index',
                        {'ordered_share': _float(share), 'sequence_index': table['sequence_index']})


def _relationship_metadata(metadata, rel):
    tables = metadata.to_dict()['tables'] if not isinstance(metadata, dict) else metadata['tables']
    names = {rel['parent_table_name'], rel['child_table_name']}
    return {'tables': {t: tables[t] for t in names}, 'relationships': [rel]}


def referential_integrity_outcome(synthetic_parent, synthetic_child, metadata,
                                  rel) -> CheckOutcome:
    """Every non-null synthetic foreign key refers to a synthetic parent row."""
    parent, child = rel['parent_table_name'], rel['child_table_name']
    frame = _multi.referential_integrity(None, {parent: synthetic_parent, child: synthetic_child},
                                     _relationship_metadata(metadata, rel))
    score = float(frame['Score'].iloc[0])
    fk = as_list(rel['child_foreign_key'])
    pk = as_list(rel['parent_primary_key'])
    child_keys = synthetic_child[fk].dropna()
    orphans = int(len(child_keys) - child_keys.merge(
        synthetic_parent[pk].drop_duplicates().set_axis(fk, axis=1), on=fk).shape[0])
    metadata_out = {'score': _float(score), 'orphan_rows': orphans, 'parent_table': parent,
                    'child_table': child, 'foreign_key': fk, 'parent_primary_key': pk}
    return CheckOutcome(bool(score == 1.0),
                        f'{score:.2%} of {child}.{"/".join(fk)} values exist in {parent}',
                        metadata_out)


def cardinality_outcome(real_parent, real_child, synthetic_parent, synthetic_child, metadata,
                        rel, threshold) -> CheckOutcome:
    """Children-per-parent distribution (CardinalityShapeSimilarity) at least ``threshold``."""
    parent, child = rel['parent_table_name'], rel['child_table_name']
    frame = _multi.cardinality_shape_similarity(
        {parent: real_parent, child: real_child},
        {parent: synthetic_parent, child: synthetic_child},
        _relationship_metadata(metadata, rel))
    score = float(frame['Score'].iloc[0])
    passed = bool(np.isfinite(score) and score >= threshold)
    return CheckOutcome(passed, f'cardinality similarity {score:.3f} (threshold {threshold})',
                        {'score': _float(score), 'threshold': threshold, 'parent_table': parent,
                         'child_table': child,
                         'real_children_per_parent': _float(len(real_child) / max(len(real_parent), 1)),
                         'synthetic_children_per_parent': _float(
                             len(synthetic_child) / max(len(synthetic_parent), 1))})




# --------------------------------------------------------------------------- plan
_DATA_ERRORS = (ValueError, TypeError, KeyError)


@dataclass
class CheckInputs:
    """What a check reads: the real and synthetic table, and for a group every table (a child's
    foreign-key checks read its parents' synthetic rows)."""

    real: pd.DataFrame | None
    synthetic: pd.DataFrame
    real_tables: dict = field(default_factory=dict)
    synthetic_tables: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TableCheck:
    """One named check of one table; ``run(inputs)`` gives its outcome."""

    name: str
    description: str
    compute: object  # CheckInputs -> CheckOutcome

    def run(self, inputs: CheckInputs) -> CheckOutcome:
        """The outcome; data that does not fit the check fails it (with the error) instead of
        crashing the step."""
        try:
            return self.compute(inputs)
        except _DATA_ERRORS as error:
            return CheckOutcome(False, f'check could not run: {error}',
                                {'error': f'{type(error).__name__}: {error}'})


@dataclass(frozen=True)
class CheckSettings:
    """Which checks run and their thresholds (mirrors the Dagster layer's ChecksSpec)."""

    quality_threshold: float = 0.7
    max_dcr_share: float = 0.55
    privacy: bool = True
    contract: bool = True


def plan_table_checks(table: str, table_metadata, settings: CheckSettings, *,
                      sequential: bool = False, context_columns=(),
                      relationships=(), metadata=None) -> list[TableCheck]:
    """The checks of synthetic ``table``, in order.

    Always quality; with ``privacy``: no_pii_leak (only when the table has a PII column),
    exact_copies and dcr_overfitting; with ``contract``: the GX contract; for sequences:
    sequence_lengths, context_constant (with context columns), index_ordered (with an index);
    per relationship where ``table`` is the child: fk_<column> and cardinality_<column>.
    """
    plan = [_quality_check(table, table_metadata, settings, sequential, context_columns)]
    if settings.privacy:
        plan += _privacy_checks(table, table_metadata, settings)
    if settings.contract:
        plan.append(TableCheck(CONTRACT, f'Great Expectations contract derived from real `{table}` '
                               '(columns, types, ranges, categories, nulls, keys).',
                               lambda i: contract_outcome(i.real, i.synthetic, table_metadata, table)))
    if sequential:
        plan += _sequence_checks(table_metadata, settings, context_columns)
    for rel in relationships:
        if rel['child_table_name'] == table and rel['parent_table_name'] != table:
            plan += _relationship_checks(rel, metadata, settings)
    return plan


def _quality_check(table, table_metadata, settings, sequential, context_columns) -> TableCheck:
    threshold = settings.quality_threshold
    return TableCheck(QUALITY, f'Quality score of synthetic `{table}` is at least {threshold}.',
                      lambda i: quality_outcome(i.real, i.synthetic, table_metadata, threshold,
                                                sequential, context_columns))


def _privacy_checks(table, table_metadata, settings) -> list[TableCheck]:
    out = []
    pii = _pii_columns(table_dict(table_metadata)['columns'])
    if pii:
        out.append(TableCheck(NO_PII_LEAK, f'No real value of PII columns {pii} appears in the '
                              'synthetic table.',
                              lambda i: pii_outcome(i.real, i.synthetic, table_metadata)))
    compared = statistical_columns(table_metadata)
    out.append(TableCheck(EXACT_COPIES, f'Share of synthetic rows equal to a real row on {compared} '
                          'is no higher than between two halves of the real table.',
                          lambda i: exact_copy_outcome(i.real, i.synthetic, table_metadata)))
    share = settings.max_dcr_share
    out.append(TableCheck(DCR_OVERFITTING, f'DCR overfitting protection: at most {share:.0%} of '
                          'synthetic rows are closer to the training rows than to the holdout rows.',
                          lambda i: dcr_outcome(i.real, i.synthetic, table_metadata, share)))
    return out


def _sequence_checks(table_metadata, settings, context_columns) -> list[TableCheck]:
    threshold = settings.quality_threshold
    out = [TableCheck(SEQUENCE_LENGTHS, 'Sequence-length distribution is similar to the real one '
                      f'(KS complement >= {threshold}).',
                      lambda i: sequence_lengths_outcome(i.real, i.synthetic, table_metadata, threshold))]
    context_columns = list(context_columns)
    if context_columns:
        out.append(TableCheck(CONTEXT_CONSTANT, f'Context columns {context_columns} are constant '
                              'within each synthetic sequence.',
                              lambda i: context_constant_outcome(i.synthetic, table_metadata,
                                                                 context_columns)))
    index = table_dict(table_metadata).get('sequence_index')
    if index:
        out.append(TableCheck(INDEX_ORDERED, f'`{index}` never decreases within a synthetic sequence.',
                              lambda i: index_ordered_outcome(i.synthetic, table_metadata)))
    return out


def relationship_suffix(rel) -> str:
    """The foreign-key column(s) of a relationship, as a check-name suffix."""
    return '_'.join(as_list(rel['child_foreign_key']))


def _relationship_checks(rel, metadata, settings) -> list[TableCheck]:
    parent, child = rel['parent_table_name'], rel['child_table_name']
    fk, suffix = '/'.join(as_list(rel['child_foreign_key'])), relationship_suffix(rel)
    threshold = settings.quality_threshold

    def integrity(i):
        return referential_integrity_outcome(i.synthetic_tables[parent], i.synthetic, metadata, rel)

    def cardinality(i):
        return cardinality_outcome(i.real_tables[parent], i.real, i.synthetic_tables[parent],
                                   i.synthetic, metadata, rel, threshold)

    return [
        TableCheck(f'fk_{suffix}', f'Every `{child}.{fk}` refers to a synthetic `{parent}` row.',
                   integrity),
        TableCheck(f'cardinality_{suffix}', f'Children per `{parent}` row in synthetic `{child}` '
                   f'(by `{fk}`) are distributed like the real ones (>= {threshold}).', cardinality),
    ]
