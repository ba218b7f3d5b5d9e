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
    "load_synthesizer": "synth_assets.persistence",
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
