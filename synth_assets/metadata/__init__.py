"""SDV-format metadata: load/save JSON, detect from data, validate."""

from synth_assets.metadata.metadata import METADATA_SPEC_VERSION, Metadata
from synth_assets.metadata.sdtypes import MODELLED_SDTYPES, PII_FAKER_METHODS, SDTYPES, is_generated_column
from synth_assets.metadata.table import MetadataError, TableMetadata

__all__ = [
    "METADATA_SPEC_VERSION",
    "MODELLED_SDTYPES",
    "PII_FAKER_METHODS",
    "SDTYPES",
    "Metadata",
    "MetadataError",
    "TableMetadata",
    "is_generated_column",
]
