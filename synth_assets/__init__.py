"""synth_assets: governed, refreshable synthetic data — synthesizers usable alone, and Dagster assets.

The core (metadata, processing, synthesizers, evaluation, persistence) never imports Dagster; the
Dagster building blocks are loaded on first access so `import synth_assets` stays light.
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "Metadata": "synth_assets.metadata",
    "TableMetadata": "synth_assets.metadata",
    "GaussianCopulaSynthesizer": "synth_assets.single_table",
    "CTGANSynthesizer": "synth_assets.single_table",
    "TVAESynthesizer": "synth_assets.single_table",
    "CopulaGANSynthesizer": "synth_assets.single_table",
    "PARSynthesizer": "synth_assets.sequential",
    "IndependentSynthesizer": "synth_assets.multi_table",
    "load_synthesizer": "synth_assets.persistence",
    # Dagster building blocks: loaded on first use, so the core imports without Dagster.
    "build_synthetic_assets": "synth_assets.dagster",
    "SyntheticAssets": "synth_assets.dagster",
    "SampleConfig": "synth_assets.dagster",
    "SynthesizerSpec": "synth_assets.dagster",
    "FileSource": "synth_assets.dagster",
    "AssetSource": "synth_assets.dagster",
    "SampleSpec": "synth_assets.dagster",
    "ChecksSpec": "synth_assets.dagster",
    "GaussianCopulaParameters": "synth_assets.dagster",
    "PARParameters": "synth_assets.dagster",
    "IndependentParameters": "synth_assets.dagster",
    "TableSynthesizerParameters": "synth_assets.dagster",
    "SyntheticAssetTranslator": "synth_assets.dagster",
    "SyntheticAssetProps": "synth_assets.dagster",
    "SyntheticParquetIOManager": "synth_assets.dagster",
    "SynthesizerIOManager": "synth_assets.dagster",
    "GpuConfig": "synth_assets.dagster",
    "GPU_POOL": "synth_assets.dagster",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synth_assets' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
