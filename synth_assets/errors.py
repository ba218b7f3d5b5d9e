"""Exceptions named as SDV names them, so code that catches SDV's errors ports by changing an import.

Every class subclasses `ValueError` (and the input errors also `TypeError`), so callers that catch
the built-in exceptions keep working. A leaf module: it imports nothing of ours.
"""

from __future__ import annotations


class SynthAssetsError(ValueError):
    """Base class of every error synth_assets raises on purpose."""


class InvalidMetadataError(SynthAssetsError):
    """The metadata is malformed or inconsistent (SDV: `sdv.metadata.errors.InvalidMetadataError`)."""


class InvalidDataError(SynthAssetsError):
    """The data does not fit the metadata or cannot be modelled (SDV: `sdv.errors.InvalidDataError`).

    Accepts one message or a list of messages (SDV passes a list), shown one per line.
    """

    def __init__(self, errors):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class SynthesizerInputError(SynthAssetsError, TypeError):
    """A synthesizer parameter or call argument is invalid (SDV: `sdv.errors.SynthesizerInputError`)."""


class SamplingError(SynthAssetsError):
    """A sample cannot be drawn as requested (SDV: `sdv.errors.SamplingError`)."""


class NotFittedError(SynthAssetsError):
    """The synthesizer must be fitted first (SDV: `sdv.errors.NotFittedError`)."""


class ModelFileError(SynthAssetsError):
    """A model file is corrupt, tampered with, foreign or unsafe to load."""


__all__ = [
    "SynthAssetsError", "InvalidMetadataError", "InvalidDataError", "SynthesizerInputError",
    "SamplingError", "NotFittedError", "ModelFileError",
]
