"""Per-table reversible processing on rdt; ids and PII generated, never modelled."""

from synth_assets.processing.ids import IdGenerator, key_generator
from synth_assets.processing.pii import PIIGenerator
from synth_assets.processing.processor import CATEGORICAL_ENCODINGS, OutputColumn, TableProcessor

__all__ = ["CATEGORICAL_ENCODINGS", "IdGenerator", "OutputColumn", "PIIGenerator", "TableProcessor", "key_generator"]
