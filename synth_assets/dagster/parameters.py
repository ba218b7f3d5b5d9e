"""Parameter models of the synthesizers (pydantic): names and types mirror the core synthesizers'
__init__, so a typo in a spec fails when the code location loads, naming the parameter."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth_assets.multi_table import independent as _independent
from synth_assets.single_table import marginals as _marginals

# The core's own lists (cheap imports: neither loads torch), so the config cannot drift from them.
TABLE_SYNTHESIZERS = tuple(_independent.TABLE_SYNTHESIZERS)
DISTRIBUTIONS = _marginals.DISTRIBUTIONS


class _Model(BaseModel):
    # hide_input_in_errors: an error names the bad field, not a dump of the whole spec or metadata
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True, hide_input_in_errors=True)


class _Parameters(_Model):
    enforce_min_max_values: bool = True
    enforce_rounding: bool = True
    locales: list[str] = Field(default_factory=lambda: ["en_US"])


class GaussianCopulaParameters(_Parameters):
    numerical_distributions: dict[str, Literal[DISTRIBUTIONS]] = Field(default_factory=dict)
    default_distribution: Literal[DISTRIBUTIONS] = "empirical"


class PARParameters(_Parameters):
    context_columns: list[str] = Field(default_factory=list)
    segment_size: Optional[int] = Field(default=None, gt=0)
    epochs: Optional[int] = Field(default=None, gt=0)  # None: the engine plans the length
    sample_size: int = Field(default=1, gt=0)
    enable_gpu: bool = True
    verbose: bool = False
    batch_size: Optional[int] = Field(default=None, gt=0)
    learning_rate: float = Field(default=2e-2, gt=0)
    validation_split: float = Field(default=0.0, ge=0, lt=1)
    early_stopping_patience: Optional[int] = Field(default=None, gt=0)
    seed: Optional[int] = None


class IndependentParameters(_Model):
    """The IndependentSynthesizer's own parameters; each table's model is chosen and configured
    in ``table_parameters`` (default: GaussianCopulaSynthesizer with its defaults)."""

    locales: list[str] = Field(default_factory=lambda: ["en_US"])
    n_jobs: Optional[int] = None
    verbose: bool = False


class TableSynthesizerParameters(_Model):
    table_synthesizer: Literal[TABLE_SYNTHESIZERS] = "GaussianCopulaSynthesizer"
    table_parameters: dict[str, Any] = Field(default_factory=dict)


def format_errors(error: ValidationError, model) -> str:
    lines = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "(parameters)"
        if item["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            lines.append(f"unknown parameter '{name}'; known parameters: {known}.")
        else:
            lines.append(f"parameter '{name}': {item['msg']} (got {item.get('input')!r}).")
    return "\n  ".join(lines)


def validate_model(model, parameters: dict, synthesizer: str, where: str) -> dict:
    """The parameters the user set, validated by ``model`` (defaults left to the synthesizer)."""
    try:
        return model.model_validate(parameters).model_dump(exclude_unset=True)
    except ValidationError as error:
        raise ValueError(f"{where}: invalid parameters for {synthesizer}:\n  " + format_errors(error, model)) from None
