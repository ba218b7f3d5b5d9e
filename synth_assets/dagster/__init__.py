"""Dagster building blocks for synthetic data (the only package that imports dagster).

    from synth_assets.dagster import SynthesizerSpec, FileSource, build_synthetic_assets
    defs = build_synthetic_assets([SynthesizerSpec(...)]).to_definitions()

torch, matplotlib, great_expectations and the evaluation code load inside asset bodies only.
"""

from synth_assets.dagster.assets import SyntheticAssets, build_synthetic_assets
from synth_assets.dagster.steps import SampleConfig, derive_seed, read_source
from synth_assets.dagster.gpu import GPU_POOL, GpuConfig
from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager
from synth_assets.dagster.parameters import (
    GaussianCopulaParameters,
    IndependentParameters,
    PARParameters,
    TableSynthesizerParameters,
)
from synth_assets.dagster.specs import AssetSource, ChecksSpec, FileSource, SampleSpec, SynthesizerSpec
from synth_assets.dagster.translator import (
    SyntheticAssetProps,
    SyntheticAssetTranslator,
    real_asset_key,
    synthesizer_asset_key,
    synthetic_asset_key,
    table_model_asset_key,
)
from synth_assets.dagster.types import table_dagster_type

__all__ = [
    "GPU_POOL",
    "AssetSource",
    "ChecksSpec",
    "FileSource",
    "GaussianCopulaParameters",
    "GpuConfig",
    "IndependentParameters",
    "PARParameters",
    "SampleConfig",
    "SampleSpec",
    "SynthesizerIOManager",
    "SynthesizerSpec",
    "SyntheticAssetProps",
    "SyntheticAssetTranslator",
    "SyntheticAssets",
    "SyntheticParquetIOManager",
    "TableSynthesizerParameters",
    "build_synthetic_assets",
    "derive_seed",
    "read_source",
    "real_asset_key",
    "synthesizer_asset_key",
    "synthetic_asset_key",
    "table_dagster_type",
    "table_model_asset_key",
]
