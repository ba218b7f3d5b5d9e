"""One entry per synthesizer kind, read by everything that needs to know about one: the spec's
validation (names, parameter model), the factory (class, GPU pool), the translator (kinds, model
version), run config (size fields) and the Component (its `synthesizer` literal)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Optional

from synth_assets.dagster.parameters import (
    TABLE_SYNTHESIZERS,
    GaussianCopulaParameters,
    IndependentParameters,
    PARParameters,
    validate_model,
)


@dataclass(frozen=True)
class SynthesizerKind:
    name: str
    module: str  # where the class lives (imported when a step builds one)
    kinds: frozenset  # Dagster kinds shown on the model assets
    size_fields: tuple = ()  # run-config fields that size a sample (SampleConfig)
    parameter_model: Optional[type] = None  # None: parameters checked against __init__'s signature
    uses_gpu: bool = False  # fits in the `gpu` pool when the spec allows the GPU
    top_level: bool = False  # a SynthesizerSpec.synthesizer (else only a group's table model)
    model_version: str = "1"  # bump when learned state or sampling changes: refits models

    @property
    def table_model(self) -> bool:
        return self.name in TABLE_SYNTHESIZERS

    def load(self) -> type:
        return getattr(import_module(self.module), self.name)


REGISTRY = {kind.name: kind for kind in (
    SynthesizerKind("GaussianCopulaSynthesizer", "synth_assets.single_table.gaussian_copula",
                    frozenset({"python", "scipy"}), ("num_rows",), GaussianCopulaParameters, top_level=True),
    SynthesizerKind("PARSynthesizer", "synth_assets.sequential.par", frozenset({"pytorch"}),
                    ("num_sequences", "sequence_length"), PARParameters, uses_gpu=True, top_level=True),
    SynthesizerKind("IndependentSynthesizer", "synth_assets.multi_table.independent", frozenset({"python"}),
                    ("scale",), IndependentParameters, top_level=True),
    SynthesizerKind("CTGANSynthesizer", "synth_assets.single_table.ctgan", frozenset({"pytorch"}), uses_gpu=True),
    SynthesizerKind("TVAESynthesizer", "synth_assets.single_table.ctgan", frozenset({"pytorch"}), uses_gpu=True),
    SynthesizerKind("CopulaGANSynthesizer", "synth_assets.single_table.ctgan", frozenset({"pytorch"}), uses_gpu=True),
)}
SYNTHESIZERS = tuple(name for name, kind in REGISTRY.items() if kind.top_level)
SIZE_FIELDS = tuple(dict.fromkeys(f for kind in REGISTRY.values() for f in kind.size_fields))


def kind(name: str) -> SynthesizerKind:
    if name not in REGISTRY:
        raise ValueError(f"unknown synthesizer {name!r}; choose one of {list(SYNTHESIZERS)}.")
    return REGISTRY[name]


def _signature_parameters(entry: SynthesizerKind) -> list[str]:
    # The ctgan module imports torch only inside fit/sample, so reading its signatures is cheap.
    import inspect

    return [p for p in inspect.signature(entry.load().__init__).parameters if p not in ("self", "metadata")]


def validate_parameters(synthesizer: str, parameters: dict, where: str) -> dict:
    """The parameters the user set, validated; a ValueError naming each bad parameter.

    Defaults are left to the synthesizer (so a table model inherits the group's locales)."""
    if not isinstance(parameters, dict):
        raise TypeError(f"{where}: parameters must be a dict, got {type(parameters).__name__}.")
    entry = kind(synthesizer)
    if entry.parameter_model is not None:
        return validate_model(entry.parameter_model, parameters, synthesizer, where)
    known = _signature_parameters(entry)
    unknown = [p for p in parameters if p not in known]
    if unknown:
        raise ValueError(
            f"{where}: invalid parameters for {synthesizer}:\n  unknown parameter(s) {unknown}; "
            f"known parameters: {', '.join(known)}."
        )
    return dict(parameters)  # values are checked by the synthesizer when its step builds it
