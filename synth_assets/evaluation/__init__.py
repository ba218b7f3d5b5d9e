"""Evaluation of synthetic data: quality, sequential, multi-table and privacy metrics.

Metric definitions follow SDMetrics 0.32 (numpy/pandas/scipy only; sdmetrics is not needed).
"""

from synth_assets.evaluation.multi_table import (
    MultiTableQualityReport,
    cardinality_shape_similarity,
    evaluate_multi_table_quality,
    referential_integrity,
)
from synth_assets.evaluation.privacy import (
    dcr_overfitting_protection,
    exact_copy_share,
    pii_leaks,
    real_halves_copy_share,
)
from synth_assets.evaluation.sequential import (
    context_constant_share,
    evaluate_sequential,
    index_ordered_share,
    inter_row_msas,
    sequence_length_similarity,
    statistic_msas,
)
from synth_assets.evaluation.single_table import (
    QualityReport,
    column_pair_trends,
    column_shapes,
    evaluate_quality,
    ks_complement,
    run_diagnostic,
    tv_complement,
)

__all__ = [
    'MultiTableQualityReport',
    'QualityReport',
    'cardinality_shape_similarity',
    'column_pair_trends',
    'column_shapes',
    'context_constant_share',
    'dcr_overfitting_protection',
    'evaluate_multi_table_quality',
    'evaluate_quality',
    'evaluate_sequential',
    'exact_copy_share',
    'index_ordered_share',
    'inter_row_msas',
    'ks_complement',
    'pii_leaks',
    'real_halves_copy_share',
    'referential_integrity',
    'run_diagnostic',
    'sequence_length_similarity',
    'statistic_msas',
    'tv_complement',
]
