"""What users write to declare synthetic-data assets: sources, synthesizer, sampling, checks.

Everything is a pydantic model validated at definition time, so a typo in a synthesizer name, a
parameter or a table fails when the code location loads, with an error that names it.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Optional, Union

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from synth_assets.dagster.gpu import GpuConfig
from synth_assets.dagster.parameters import TableSynthesizerParameters, _Model, format_errors
from synth_assets.dagster.registry import SYNTHESIZERS, validate_parameters
from synth_assets.dagster.registry import kind as synthesizer_kind
from synth_assets.metadata import Metadata

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _caller_location() -> Optional[tuple]:
    """The first stack frame outside synth_assets, pydantic and dagster: who built the spec."""
    import os
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.split(".")[0] not in ("synth_assets", "pydantic", "pydantic_core", "dagster", "importlib"):
            name = frame.f_code.co_filename
            return (os.path.abspath(name), frame.f_lineno) if not name.startswith("<") else None
        frame = frame.f_back
    return None


def check_name(kind: str, value: str) -> str:
    # Names become asset-key parts and op names, which Dagster restricts to [A-Za-z0-9_].
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{kind} {value!r} must be letters, digits and underscores (not starting with a digit).")
    return value


# -- sources -----------------------------------------------------------------------------------
class FileSource(_Model):
    """A real table in a parquet, CSV or JSON file: a local path or any fsspec URL (``s3://``,
    ``zip://member::archive.zip``...). The loader asset keeps the metadata's columns, in order."""

    path: str
    format: Optional[Literal["parquet", "csv", "json"]] = None  # default: from the file name
    read_kwargs: dict[str, Any] = Field(default_factory=dict)
    query: Optional[str] = None  # a pandas DataFrame.query filter applied after reading

    @property
    def resolved_format(self) -> str:
        if self.format:
            return self.format
        from synth_assets.sources import infer_format

        return infer_format(self.path)


class AssetSource(_Model):
    """A real table that is already a Dagster asset (loaded through that asset's IO manager)."""

    asset_key: Union[str, list[str], Any]

    @field_validator("asset_key")
    @classmethod
    def _key(cls, value):
        from dagster import AssetKey

        if isinstance(value, AssetKey):
            return value
        if isinstance(value, str):
            return AssetKey.from_user_string(value) if "/" in value else AssetKey([value])
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return AssetKey(list(value))
        raise ValueError(f"asset_key must be a string, a list of strings or an AssetKey, got {value!r}.")


Source = Union[FileSource, AssetSource]


# -- sampling and checks -----------------------------------------------------------------------
class SampleSpec(_Model):
    """How the synthetic table assets sample by default (run config can override per run).

    ``num_rows`` (single table), ``num_sequences`` (PAR) and ``scale`` (multi-table) default to
    the real data's size. ``partitions='daily'`` makes the synthetic assets daily-partitioned:
    each partition is a fresh sample whose seed derives from ``seed`` and the partition key.
    ``evaluate`` computes quality scores and plots against the real table at each sample.
    """

    num_rows: Optional[int] = Field(default=None, gt=0)
    num_sequences: Optional[int] = Field(default=None, gt=0)
    scale: Optional[float] = Field(default=None, gt=0)
    seed: Optional[int] = None
    partitions: Optional[Literal["daily"]] = None
    partitions_start_date: str = "2025-01-01"
    evaluate: bool = True
    evaluation_rows: int = Field(default=20_000, gt=0)


class ChecksSpec(_Model):
    """Asset checks on each synthetic table (built by synth_assets.dagster.checks)."""

    quality_threshold: float = Field(default=0.7, ge=0, le=1)
    max_dcr_share: float = Field(default=0.55, ge=0, le=1)
    contract: bool = True
    privacy: bool = True
    blocking: bool = True
    severity: Literal["ERROR", "WARN"] = "ERROR"


# -- the spec ----------------------------------------------------------------------------------
def _validated_table_parameters(table_parameters: dict, tables: list, where: str) -> dict:
    """{table: {table_synthesizer, table_parameters}} of a group, each validated by its kind."""
    validated = {}
    for table, entry in table_parameters.items():
        if table not in tables:
            raise ValueError(f"{where}: `table_parameters` names table '{table}', which is not in the metadata.")
        try:
            entry = TableSynthesizerParameters.model_validate(entry)
        except ValidationError as error:
            raise ValueError(
                f"{where}: table_parameters['{table}']: " + format_errors(error, TableSynthesizerParameters)
            ) from None
        validated[table] = {
            "table_synthesizer": entry.table_synthesizer,
            "table_parameters": validate_parameters(
                entry.table_synthesizer, entry.table_parameters, f"{where}, table_parameters['{table}']"
            ),
        }
    return validated


def _validated(load, path: Optional[str]) -> Metadata:
    """Metadata from `load()`, validated; an error names the JSON file it came from."""
    try:
        metadata = load()
        metadata.validate()
    except ValueError as error:
        raise ValueError(f"metadata file {str(path)!r}: {error}" if path else str(error)) from None
    return metadata


def _check_source_tables(where: str, sources: list, tables: list) -> None:
    """`sources` names exactly the metadata's tables; a typo names both spellings."""
    import difflib

    unknown = [t for t in sources if t not in tables]
    missing = [t for t in tables if t not in sources]
    if not unknown and not missing:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, missing, n=1)
        hints.append(f"'{name}' (did you mean '{close[0]}'?)" if close else f"'{name}'")
    parts = [f"`sources` names table(s) {', '.join(hints)} not in the metadata"] if unknown else []
    if missing:
        parts.append(f"table(s) {missing} of the metadata have no entry in `sources`")
    raise ValueError(f"{where}: " + "; ".join(parts) + f" (metadata tables: {tables}).")


class SynthesizerSpec(_Model):
    """One synthesizer over one table (GaussianCopula, PAR) or a group of tables (Independent).

    Asset keys (default translator): ``real/real_<table>`` for file sources, ``synthesizer/<name>``,
    ``synthesizer/<name>/model_<table>`` for each table model of an Independent group, and
    ``synthetic/synthetic_<table>`` (the last part names role and table: distinct lineage labels).
    """

    name: str
    synthesizer: str
    metadata: Any
    sources: dict[str, Union[FileSource, AssetSource, str]]
    parameters: dict[str, Any] = Field(default_factory=dict)
    table_parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sample: SampleSpec = Field(default_factory=SampleSpec)
    group_name: Optional[str] = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    description: Optional[str] = None
    checks: Optional[ChecksSpec] = Field(default_factory=ChecksSpec)
    gpu: Optional[bool] = None
    gpu_config: Optional[GpuConfig] = None  # k8s settings for GPU steps; default GpuConfig()
    _defined_at: Optional[tuple] = PrivateAttr(default=None)  # (file, line) of the code that built it

    @model_validator(mode="after")
    def _remember_where(self):
        # The assets' code references point here: the user's spec, not the factory's internals.
        self._defined_at = _caller_location()
        return self

    @property
    def defined_at(self) -> Optional[tuple]:
        """(absolute file, line) where this spec was created, for the assets' code references."""
        return self._defined_at

    @model_validator(mode="before")
    @classmethod
    def _single_table_name(cls, data):
        # SDV single-table metadata has no table name: take it from the only source.
        if isinstance(data, dict) and isinstance(data.get("sources"), dict) and len(data["sources"]) == 1:
            metadata = data.get("metadata")
            (table,) = data["sources"]
            if isinstance(metadata, str) and not metadata.lstrip().startswith("{"):
                import json
                from pathlib import Path

                path = Path(metadata)
                if path.is_file():
                    metadata = json.loads(path.read_text())
            if isinstance(metadata, dict) and "columns" in metadata and "tables" not in metadata:
                where = data["metadata"] if metadata is not data.get("metadata") else None
                metadata = _validated(lambda: Metadata.load_from_dict(metadata, single_table_name=table), where)
                data = {**data, "metadata": metadata}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        return check_name("SynthesizerSpec name", value)

    @field_validator("synthesizer")
    @classmethod
    def _synthesizer(cls, value):
        if value not in SYNTHESIZERS:  # table-model kinds are chosen per table in a group
            raise ValueError(f"unknown synthesizer {value!r}; choose one of {list(SYNTHESIZERS)}.")
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value):
        if isinstance(value, Metadata):
            metadata = value.copy()
        elif isinstance(value, dict):
            metadata = Metadata.load_from_dict(value)
        elif isinstance(value, str):
            return _validated(lambda: Metadata.load_from_json(value), value)
        else:
            raise ValueError(f"metadata must be a Metadata, an SDV metadata dict or a JSON path, got {type(value).__name__}.")
        metadata.validate()
        return metadata

    @field_validator("sources", mode="before")
    @classmethod
    def _sources(cls, value):
        if not isinstance(value, dict) or not value:
            raise ValueError("sources must be a non-empty {table_name: FileSource | AssetSource | path} dict.")
        return {t: FileSource(path=s) if isinstance(s, str) else s for t, s in value.items()}

    @model_validator(mode="after")
    def _consistent(self):
        where = f"SynthesizerSpec '{self.name}'"
        metadata: Metadata = self.metadata
        tables = metadata.table_names
        for table in tables:
            check_name(f"{where}: table name", table)
        _check_source_tables(where, list(self.sources), tables)
        if self.synthesizer != "IndependentSynthesizer" and len(tables) != 1:
            raise ValueError(
                f"{where}: {self.synthesizer} models one table but the metadata has {tables}; "
                "use IndependentSynthesizer for a group of tables."
            )
        params = validate_parameters(self.synthesizer, self.parameters, where)
        object.__setattr__(self, "parameters", params)
        if self.synthesizer == "PARSynthesizer":
            table = metadata.get_table_metadata(tables[0])
            if not table.sequence_key:
                raise ValueError(f"{where}: PARSynthesizer needs a sequence_key in the metadata of table '{tables[0]}'.")
            bad = [c for c in params.get("context_columns", []) if c not in table.columns]
            if bad:
                raise ValueError(f"{where}: parameter 'context_columns' names {bad}, not columns of table '{tables[0]}'.")
        if self.synthesizer == "GaussianCopulaSynthesizer":
            table = metadata.get_table_metadata(tables[0])
            bad = [c for c in params.get("numerical_distributions", {}) if c not in table.columns]
            if bad:
                raise ValueError(f"{where}: parameter 'numerical_distributions' names {bad}, not columns of table '{tables[0]}'.")
        if self.table_parameters and self.synthesizer != "IndependentSynthesizer":
            raise ValueError(f"{where}: `table_parameters` only applies to IndependentSynthesizer.")
        validated = _validated_table_parameters(self.table_parameters, tables, where)
        object.__setattr__(self, "table_parameters", validated)
        if self.gpu is None:
            object.__setattr__(self, "gpu", synthesizer_kind(self.synthesizer).uses_gpu or self.is_multi_table and any(
                synthesizer_kind(self.table_synthesizer(t)).uses_gpu for t in tables))
        if self.group_name is not None:
            check_name(f"{where}: group_name", self.group_name)
        try:  # the core checks the values (ranges, nan, batch_size vs pac): now, not in the fit step
            self.build_synthesizer()
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where}: {error}") from None
        return self

    def build_synthesizer(self):
        """A new, unfitted synthesizer from the spec (imports the synthesizer's module, not torch)."""
        synthesizer = synthesizer_kind(self.synthesizer).load()(self.metadata, **self.parameters)
        for table, entry in self.table_parameters.items():
            synthesizer.set_table_parameters(table, entry["table_synthesizer"], entry["table_parameters"])
        return synthesizer

    # -- helpers the factory and part 2 use ------------------------------------------------------
    @property
    def table_names(self) -> list[str]:
        return self.metadata.table_names

    @property
    def is_multi_table(self) -> bool:
        return self.synthesizer == "IndependentSynthesizer"

    def table_synthesizer(self, table: str) -> str:
        """The class that models `table` (for a group: its table model's class; by default, as
        IndependentSynthesizer chooses, PAR for a sequential child and a Gaussian copula otherwise)."""
        if not self.is_multi_table:
            return self.synthesizer
        entry = self.table_parameters.get(table)
        if entry:
            return entry["table_synthesizer"]
        return "PARSynthesizer" if self.parent_of_sequences(table) else "GaussianCopulaSynthesizer"

    def parent_of_sequences(self, table: str) -> Optional[str]:
        """For a group's sequential child (sequence_key = its foreign key, modelled by PAR): the
        parent table whose real rows are the context of its sequences; else None."""
        from synth_assets.multi_table.sequential_child import sequence_relationship

        if not self.is_multi_table:
            return None
        entry = self.table_parameters.get(table)
        if entry and entry["table_synthesizer"] != "PARSynthesizer":
            return None
        relationship = sequence_relationship(self.metadata, table)
        return relationship["parent_table_name"] if relationship else None

    def table_model_parameters(self, table: str) -> dict:
        """Parameters of the model of `table`: the spec's parameters, or for a group the table's."""
        if not self.is_multi_table:
            return dict(self.parameters)
        entry = self.table_parameters.get(table)
        return dict(entry["table_parameters"]) if entry else {}

    def enforces_min_max(self, table: str) -> bool:
        return bool(self.table_model_parameters(table).get("enforce_min_max_values", True))

    def uses_gpu(self, table: Optional[str] = None) -> bool:
        """Whether the step fitting `table` (None: the whole synthesizer) wants the GPU pool."""
        if not self.gpu:
            return False
        if table is None:
            return not self.is_multi_table and synthesizer_kind(self.synthesizer).uses_gpu
        return synthesizer_kind(self.table_synthesizer(table)).uses_gpu
