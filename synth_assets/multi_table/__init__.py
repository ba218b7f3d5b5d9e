"""Multi-table synthesis: per-table models wired by learned cardinality."""

from synth_assets.multi_table.cardinality import Cardinality, RelationshipCardinality, learn_cardinality
from synth_assets.multi_table.independent import TABLE_SYNTHESIZERS, IndependentSynthesizer, KeysOnlyTable

__all__ = [
    "TABLE_SYNTHESIZERS",
    "Cardinality",
    "IndependentSynthesizer",
    "KeysOnlyTable",
    "RelationshipCardinality",
    "learn_cardinality",
]
