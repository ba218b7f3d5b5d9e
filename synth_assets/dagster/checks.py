"""Asset checks on synthetic tables: quality, sequences, multi-table keys, privacy, data contract.

Every check is an ``@asset_check`` on ``synthetic/<table>`` that loads the synthetic table through
the asset's IO manager and the real table through ``additional_ins``; blocking by default, so a
synthetic table that fails with ERROR severity stops what is downstream in the same run (and
``AutomationCondition.all_deps_blocking_checks_passed()`` can gate later runs). Each result
carries the numbers, not just pass/fail.

The metrics come from ``synth_assets.evaluation``; this module only wires them into Dagster and
decides pass/fail. The ``*_outcome`` functions are plain pandas (usable and testable without a
Dagster run).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synth_assets import evaluation as ev

# DCR compares every synthetic row with every reference row: cap both sides to bound the cost.
DCR_SYNTHETIC_ROWS = 2000
DCR_REFERENCE_ROWS = 3000
# Share of real rows (or sequences) held out for the DCR check; SDMetrics recommends a holdout at
# least half the size of the training data.
HOLDOUT_FRACTION = 1 / 3
_HOLDOUT_BUCKETS = 10_000
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


# --------------------------------------------------------------------------- helpers
def _table_dict(table_metadata) -> dict:
    if isinstance(table_metadata, dict):
        return table_metadata
    return table_metadata.to_dict()


def _as_list(key):
    if key is None:
        return []
    return list(key) if isinstance(key, (list, tuple)) else [key]


def _float(value):
    value = float(value)
    return None if math.isnan(value) else value


def _clean(value):
    """Plain JSON-friendly values (NaN -> None) for check metadata."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def statistical_columns(table_metadata) -> list[str]:
    """Modelled columns: statistical sdtypes, neither keys nor PII (what exact copies compare)."""
    table = _table_dict(table_metadata)
    keys = set(_as_list(table.get('primary_key')))
    for key in table.get('alternate_keys') or []:
        keys.update(_as_list(key))
    keys.update(_as_list(table.get('sequence_key')))
    return [c for c, m in table['columns'].items()
            if m.get('sdtype') in _STATISTICAL_SDTYPES and c not in keys and not m.get('pii')]


def extreme_rows(real: pd.DataFrame, table_metadata) -> pd.Index:
    """Index labels of the rows holding a numerical / datetime column's minimum or maximum."""
    table = _table_dict(table_metadata)
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
    table = _table_dict(table_metadata)
    sequence_key = _as_list(table.get('sequence_key'))
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


# --------------------------------------------------------------------------- outcomes
def quality_outcome(real, synthetic, table_metadata, threshold, sequential=False,
                    context_columns=()) -> CheckOutcome:
    """Quality score (SDMetrics' QualityReport definition) at least ``threshold``."""
    table = _table_dict(table_metadata)
    if sequential and table.get('sequence_key'):
        result = ev.evaluate_sequential(real, synthetic, table, context_columns=context_columns)
        score = result['quality']['score']
        metadata = {
            'score': _float(score), 'threshold': threshold,
            'column_shapes': _float(result['quality']['column_shapes']),
            'column_pair_trends': _float(result['quality']['column_pair_trends']),
            'msas_avg': _float(result['msas_avg']),
            'sequence_length_similarity': _float(result['sequence_length_similarity']),
        }
    else:
        report = ev.evaluate_quality(real, synthetic, table)
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
    leaks = ev.pii_leaks(real, synthetic, _table_dict(table_metadata))
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
    baseline = ev.real_halves_copy_share(real, seed=seed, columns=columns)
    n_base = len(real) // 2  # rows of the half looked up in the other half
    rng = np.random.default_rng(seed + 1)
    half = real.iloc[np.sort(rng.choice(len(real), len(real) - n_base, replace=False))]
    share_half = ev.exact_copy_share(half, synthetic, columns)
    share_all = ev.exact_copy_share(real, synthetic, columns)
    n_syn = len(synthetic)
    pooled = (share_half * n_syn + baseline * n_base) / (n_syn + n_base)
    margin = COPY_Z * math.sqrt(pooled * (1 - pooled) * (1 / n_syn + 1 / n_base))
    passed = bool(share_half <= baseline + margin)
    metadata = {'exact_copy_share': _float(share_all), 'exact_copy_share_vs_half': _float(share_half),
                'real_halves_copy_share': _float(baseline), 'margin': round(margin, 6),
                'copied_rows': int(round(share_all * n_syn)), 'synthetic_rows': n_syn,
                'columns': columns}
    return CheckOutcome(
        passed, f'{share_half:.2%} of synthetic rows copy a row of a real half (between real '
                f'halves: {baseline:.2%}, allowed +{margin:.2%}); {share_all:.2%} copy some '
                'real row', metadata)


def dcr_outcome(real, synthetic, table_metadata, max_share,
                holdout_fraction=HOLDOUT_FRACTION, seed=0) -> CheckOutcome:
    """DCROverfittingProtection (SDMetrics): share of synthetic rows closer to the training rows
    than to the holdout rows (``holdout_mask``) at most ``max_share``."""
    table = _table_dict(table_metadata)
    training, holdout = dcr_reference_sets(real, table, holdout_fraction, seed=seed)
    metadata = {'max_share': max_share, 'holdout_fraction': round(holdout_fraction, 4),
                'reference_rows': len(holdout)}
    if min(len(holdout), len(synthetic)) < _MIN_DCR_ROWS:
        return CheckOutcome(True, f'skipped: fewer than {_MIN_DCR_ROWS} rows to compare',
                            {**metadata, 'skipped': True})
    if len(synthetic) > DCR_SYNTHETIC_ROWS:
        rng = np.random.default_rng(seed)
        synthetic = synthetic.iloc[np.sort(rng.choice(len(synthetic), DCR_SYNTHETIC_ROWS,
                                                      replace=False))]
    result = ev.dcr_overfitting_protection(training, holdout, synthetic, table)
    closer = result['closer_to_training']
    metadata.update({'closer_to_training': _float(closer), 'score': _float(result['score']),
                     'synthetic_rows': len(synthetic)})
    return CheckOutcome(bool(closer <= max_share),
                        f'{closer:.1%} of synthetic rows are closer to training than to holdout '
                        f'rows (max {max_share:.0%})', metadata)


def contract_outcome(real, synthetic, table_metadata, table_name='table') -> CheckOutcome:
    """The GX contract derived from the real table holds on the synthetic table."""
    from synth_assets.dagster.contracts import derive_contract, validate_contract

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
    keys = _as_list(_table_dict(table_metadata)['sequence_key'])
    score = ev.sequence_length_similarity(real, synthetic, keys)
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
    keys = _as_list(_table_dict(table_metadata)['sequence_key'])
    context_columns = list(context_columns)
    share = ev.context_constant_share(synthetic, keys, context_columns)
    metadata = {'context_columns': context_columns, 'constant_share': _float(share)}
    if context_columns and len(synthetic):
        n_values = synthetic.groupby(keys, sort=False)[context_columns].nunique(dropna=False)
        metadata['varying_sequences_by_column'] = {c: int((n_values[c] > 1).sum())
                                                   for c in context_columns}
    passed = bool(not np.isfinite(share) or share == 1.0)
    return CheckOutcome(passed, f'{share:.1%} of sequences keep their context constant', metadata)


def index_ordered_outcome(synthetic, table_metadata) -> CheckOutcome:
    """The sequence index never decreases within a synthetic sequence."""
    table = _table_dict(table_metadata)
    share = ev.index_ordered_share(synthetic, _as_list(table['sequence_key']),
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
    frame = ev.referential_integrity(None, {parent: synthetic_parent, child: synthetic_child},
                                     _relationship_metadata(metadata, rel))
    score = float(frame['Score'].iloc[0])
    fk = _as_list(rel['child_foreign_key'])
    pk = _as_list(rel['parent_primary_key'])
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
    frame = ev.cardinality_shape_similarity(
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


# --------------------------------------------------------------------------- Dagster wiring
_DATA_ERRORS = (ValueError, TypeError, KeyError)


def _metadata_values(metadata: dict) -> dict:
    from dagster import MetadataValue

    out = {}
    for key, value in metadata.items():
        if isinstance(value, tuple) and len(value) == 2 and value[0] == 'md':
            out[key] = MetadataValue.md(value[1])
        elif isinstance(value, (dict, list)):
            out[key] = MetadataValue.json(_clean(value))
        elif value is None:
            out[key] = MetadataValue.null()
        else:
            out[key] = _clean(value)
    return out


def _result(outcome_fn, severity):
    from dagster import AssetCheckResult

    try:
        outcome = outcome_fn()
    except _DATA_ERRORS as error:  # data that does not fit is a failed check, not a crash
        outcome = CheckOutcome(False, f'check could not run: {error}',
                               {'error': f'{type(error).__name__}: {error}'})
    return AssetCheckResult(passed=outcome.passed, severity=severity,
                            description=outcome.description,
                            metadata=_metadata_values(outcome.metadata))


def _partition_kwargs(spec) -> dict:
    """The synthetic asset's partitions (as the factory builds them), so a check reads one
    partition of a daily-partitioned table."""
    from synth_assets.dagster.assets import partitions_def

    partitions = partitions_def(spec)
    return {'partitions_def': partitions} if partitions is not None else {}


@contextlib.contextmanager
def _quiet_preview():
    # partitioned checks (daily-partitioned synthetic tables) are a Dagster preview feature
    from dagster import PreviewWarning

    with warnings.catch_warnings():
        warnings.simplefilter('ignore', PreviewWarning)
        yield


def _keys(spec, table, translator=None):
    """(real key, synthetic key) of ``table``, as the translator names them."""
    from synth_assets.dagster.translator import (
        SyntheticAssetProps,
        real_asset_key,
        synthetic_asset_key,
    )

    if translator is None:
        return real_asset_key(spec, table), synthetic_asset_key(table)
    # the factory keys assets by get_asset_spec(...).key, which a subclass may override alone
    return (translator.get_asset_spec(SyntheticAssetProps('real', spec, table)).key
            if not _is_asset_source(spec, table) else real_asset_key(spec, table),
            translator.get_asset_spec(SyntheticAssetProps('synthetic', spec, table)).key)


def _is_asset_source(spec, table) -> bool:
    from synth_assets.dagster.specs import AssetSource

    return isinstance(spec.sources[table], AssetSource)


def _table_check(spec, table, name, description, compute, with_real=True, translator=None):
    """One @asset_check on synthetic/<table>; compute(real, synthetic) -> CheckOutcome."""
    from dagster import AssetCheckSeverity, AssetIn, asset_check

    checks = spec.checks
    severity = AssetCheckSeverity[checks.severity]
    real_key, synthetic_key = _keys(spec, table, translator)
    common = dict(asset=synthetic_key, name=name, description=description,
                  blocking=checks.blocking, **_partition_kwargs(spec),
                  metadata={'synth_assets/spec': spec.name, 'synth_assets/table': table})
    with _quiet_preview():
        if with_real:
            @asset_check(**common, additional_ins={'real': AssetIn(key=real_key)})
            def _check(synthetic: pd.DataFrame, real: pd.DataFrame):
                return _result(lambda: compute(real, synthetic), severity)
        else:
            @asset_check(**common)
            def _check(synthetic: pd.DataFrame):
                return _result(lambda: compute(None, synthetic), severity)
    return _check


def _context_columns(spec, table) -> list:
    if spec.is_multi_table:
        params = spec.table_model_parameters(table)
    else:
        params = spec.parameters
    return list(params.get('context_columns') or [])


def build_checks(spec, table: str, translator=None) -> list:
    """The asset checks of ``synthetic/<table>`` for ``spec`` (empty when ``spec.checks`` is None).

    Always: quality (score >= ``quality_threshold``). With ``privacy``: no_pii_leak,
    exact_copies, dcr_overfitting (closer-to-training share <= ``max_dcr_share``). With
    ``contract``: the GX contract. For PAR tables: sequence_lengths, plus context_constant
    (when there are context columns) and index_ordered (when there is a sequence index).
    """
    if spec.checks is None:
        return []
    if table not in spec.table_names:
        raise ValueError(f"build_checks: table '{table}' is not in SynthesizerSpec "
                         f"'{spec.name}' (tables: {spec.table_names})")
    checks = spec.checks
    table_metadata = spec.metadata.get_table_metadata(table)
    sequential = spec.table_synthesizer(table) == 'PARSynthesizer' \
        and bool(table_metadata.sequence_key)
    context_columns = _context_columns(spec, table) if sequential else []
    threshold = checks.quality_threshold

    def make(name, description, compute, with_real=True):
        return _table_check(spec, table, name, description, compute, with_real, translator)

    out = [make(QUALITY, f'Quality score of synthetic `{table}` is at least {threshold}.',
                lambda real, syn: quality_outcome(real, syn, table_metadata, threshold,
                                                  sequential, context_columns))]
    if checks.privacy:
        out += [
            make(NO_PII_LEAK, f'No real value of a PII column of `{table}` appears in the '
                 'synthetic table.', lambda real, syn: pii_outcome(real, syn, table_metadata)),
            make(EXACT_COPIES, 'Share of synthetic rows that exactly copy a real row is no higher '
                 'than between two halves of the real table.',
                 lambda real, syn: exact_copy_outcome(real, syn, table_metadata)),
            make(DCR_OVERFITTING, 'DCR overfitting protection: at most '
                 f'{checks.max_dcr_share:.0%} of synthetic rows are closer to the training rows '
                 'than to the holdout rows.',
                 lambda real, syn: dcr_outcome(real, syn, table_metadata, checks.max_dcr_share)),
        ]
    if checks.contract:
        out.append(make(CONTRACT, f'Great Expectations contract derived from real `{table}` '
                        '(columns, types, ranges, categories, nulls, keys).',
                        lambda real, syn: contract_outcome(real, syn, table_metadata, table)))
    if sequential:
        out.append(make(SEQUENCE_LENGTHS, 'Sequence-length distribution is similar to the real '
                        f'one (KS complement >= {threshold}).',
                        lambda real, syn: sequence_lengths_outcome(real, syn, table_metadata,
                                                                   threshold)))
        if context_columns:
            out.append(make(CONTEXT_CONSTANT, f'Context columns {context_columns} are constant '
                            'within each synthetic sequence.',
                            lambda real, syn: context_constant_outcome(syn, table_metadata,
                                                                       context_columns),
                            with_real=False))
        if table_metadata.sequence_index:
            out.append(make(INDEX_ORDERED, f'`{table_metadata.sequence_index}` never decreases '
                            'within a synthetic sequence.',
                            lambda real, syn: index_ordered_outcome(syn, table_metadata),
                            with_real=False))
    return out


def _relationship_suffix(rel) -> str:
    return f"{rel['parent_table_name']}__{'_'.join(_as_list(rel['child_foreign_key']))}"


def build_group_checks(spec, translator=None) -> list:
    """Multi-table checks of an IndependentSynthesizer spec, on each child synthetic table:
    referential integrity (every foreign key has a parent) and cardinality (children per parent
    similar to the real data, >= ``quality_threshold``), one pair per relationship."""
    from dagster import AssetCheckSeverity, AssetIn, asset_check

    if spec.checks is None or not spec.is_multi_table:
        return []
    checks = spec.checks
    severity = AssetCheckSeverity[checks.severity]
    metadata = spec.metadata
    out = []
    for rel in metadata.relationships:
        parent, child = rel['parent_table_name'], rel['child_table_name']
        if parent == child:
            continue  # self-references are not modelled as relationships
        real_parent_key, synthetic_parent_key = _keys(spec, parent, translator)
        real_child_key, synthetic_child_key = _keys(spec, child, translator)
        suffix = _relationship_suffix(rel)
        common = dict(asset=synthetic_child_key, blocking=checks.blocking,
                      **_partition_kwargs(spec),
                      metadata={'synth_assets/spec': spec.name, 'synth_assets/table': child})

        def integrity(rel=rel, common=common, synthetic_parent_key=synthetic_parent_key):
            @asset_check(**common, name=f'referential_integrity__{suffix}',
                         description=f"Every `{child}.{rel['child_foreign_key']}` refers to a "
                                     f'synthetic `{parent}` row.',
                         additional_ins={'synthetic_parent': AssetIn(key=synthetic_parent_key)})
            def _check(synthetic: pd.DataFrame, synthetic_parent: pd.DataFrame):
                return _result(lambda: referential_integrity_outcome(
                    synthetic_parent, synthetic, metadata, rel), severity)
            return _check

        def cardinality(rel=rel, common=common, synthetic_parent_key=synthetic_parent_key,
                        real_parent_key=real_parent_key, real_child_key=real_child_key):
            @asset_check(**common, name=f'cardinality__{suffix}',
                         description=f'Children per `{parent}` row in synthetic `{child}` are '
                                     f'distributed like the real ones (>= '
                                     f'{checks.quality_threshold}).',
                         additional_ins={'synthetic_parent': AssetIn(key=synthetic_parent_key),
                                         'real_parent': AssetIn(key=real_parent_key),
                                         'real_child': AssetIn(key=real_child_key)})
            def _check(synthetic: pd.DataFrame, synthetic_parent: pd.DataFrame,
                       real_parent: pd.DataFrame, real_child: pd.DataFrame):
                return _result(lambda: cardinality_outcome(
                    real_parent, real_child, synthetic_parent, synthetic, metadata, rel,
                    checks.quality_threshold), severity)
            return _check

        with _quiet_preview():
            out += [integrity(), cardinality()]
    return out
