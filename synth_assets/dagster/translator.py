"""Asset keys and specs for the factory's assets; subclass the translator to change them.

Like dagster-sling's and dagster-dbt's translators: ``get_asset_spec(props)`` returns the full
``AssetSpec`` of one asset; override it and call ``super().get_asset_spec(props).replace_attributes(...)``
(or ``merge_attributes``) to change keys, groups, owners, tags or descriptions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal, Optional

from dagster import AssetKey, AssetSpec, TableColumn, TableColumnConstraints, TableColumnDep, TableColumnLineage, TableSchema

from synth_assets.dagster.specs import AssetSource, SynthesizerSpec
from synth_assets.metadata import TableMetadata

Role = Literal["real", "table_model", "synthesizer", "synthetic"]

# Bumped when a synthesizer's learned state or sampling changes in a way that should refit models.
MODEL_VERSIONS = {
    "GaussianCopulaSynthesizer": "1",
    "PARSynthesizer": "1",
    "IndependentSynthesizer": "1",
    "CTGANSynthesizer": "1",
    "TVAESynthesizer": "1",
    "CopulaGANSynthesizer": "1",
}

_KINDS = {
    "GaussianCopulaSynthesizer": {"python", "scipy"},
    "PARSynthesizer": {"pytorch"},
    "IndependentSynthesizer": {"python"},
    "CTGANSynthesizer": {"pytorch"},
    "TVAESynthesizer": {"pytorch"},
    "CopulaGANSynthesizer": {"pytorch"},
}
PII_TAG = "pii"


def real_asset_key(spec: SynthesizerSpec, table: str) -> AssetKey:
    source = spec.sources[table]
    if isinstance(source, AssetSource):
        return source.asset_key
    return AssetKey(["real", table])


def synthesizer_asset_key(spec: SynthesizerSpec) -> AssetKey:
    return AssetKey(["synthesizer", spec.name])


def table_model_asset_key(spec: SynthesizerSpec, table: str) -> AssetKey:
    return AssetKey(["synthesizer", spec.name, table])


def synthetic_asset_key(table: str) -> AssetKey:
    return AssetKey(["synthetic", table])


@dataclass(frozen=True)
class SyntheticAssetProps:
    """What the translator knows about one asset the factory builds."""

    role: Role
    spec: SynthesizerSpec
    table: Optional[str] = None  # None for the synthesizer asset

    @property
    def table_metadata(self) -> Optional[TableMetadata]:
        return self.spec.metadata.get_table_metadata(self.table) if self.table else None

    @property
    def source(self):
        return self.spec.sources[self.table] if self.table else None


def default_automation_condition(spec: SynthesizerSpec, role: Role, table: Optional[str]):
    """synth_assets.dagster.automation's condition for the asset (imported here: it imports us)."""
    from synth_assets.dagster.automation import automation_condition

    return automation_condition(spec, role, table)


def pii_columns(table_metadata: TableMetadata) -> list[str]:
    """Columns generated as fake PII (never ids): the reason a table gets the `pii` tag."""
    return [
        name for name, column in table_metadata.columns.items()
        if column.get("sdtype") != "id" and table_metadata.is_generated(name)
    ]


def stable_hash(*parts) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _package_version() -> str:
    from synth_assets import __version__

    return __version__


def synthesizer_code_version(spec: SynthesizerSpec, table: Optional[str] = None) -> str:
    """Changes when the class, its parameters, the metadata, our package or model version change."""
    from synth_assets.persistence import FORMAT_VERSION

    if table is None:
        cls, params = spec.synthesizer, {"parameters": spec.parameters, "table_parameters": spec.table_parameters}
        metadata = spec.metadata.to_dict()
    else:
        cls, params = spec.table_synthesizer(table), spec.table_model_parameters(table)
        metadata = spec.metadata.get_table_metadata(table).to_dict()
    return stable_hash(cls, params, metadata, _package_version(), MODEL_VERSIONS[cls], FORMAT_VERSION)


def expected_dtype(column: dict) -> str:
    sdtype = column.get("sdtype")
    if sdtype == "numerical":
        rep = column.get("computer_representation", "Float")
        return "float" if rep == "Float" else rep.lower()
    return {"datetime": "datetime", "boolean": "bool", "categorical": "category", "id": "id"}.get(sdtype, "string")


def declared_column_schema(table_metadata: TableMetadata) -> TableSchema:
    """The table's schema as the metadata declares it (sdtype in each column's description)."""
    keys = {table_metadata.primary_key, *table_metadata.alternate_keys} - {None}
    columns = []
    for name, column in table_metadata.columns.items():
        sdtype = column.get("sdtype")
        notes = [f"sdtype: {sdtype}"]
        if table_metadata.is_generated(name):
            notes.append("generated (never learned from real values)")
        if name == table_metadata.sequence_key:
            notes.append("sequence key")
        if name == table_metadata.sequence_index:
            notes.append("sequence index")
        columns.append(TableColumn(
            name=name,
            type=expected_dtype(column),
            description="; ".join(notes),
            constraints=TableColumnConstraints(nullable=name not in keys, unique=name in keys),
        ))
    return TableSchema(columns=columns)


def column_lineage(spec: SynthesizerSpec, table: str, real_key: AssetKey) -> TableColumnLineage:
    """Each synthetic column depends on the real column of the same name."""
    columns = spec.metadata.get_table_metadata(table).columns
    return TableColumnLineage(deps_by_column={c: [TableColumnDep(asset_key=real_key, column_name=c)] for c in columns})


class SyntheticAssetTranslator:
    """Default keys, groups, kinds, tags, owners, descriptions, code versions and metadata."""

    def get_asset_key(self, props: SyntheticAssetProps) -> AssetKey:
        if props.role == "real":
            return real_asset_key(props.spec, props.table)
        if props.role == "table_model":
            return table_model_asset_key(props.spec, props.table)
        if props.role == "synthesizer":
            return synthesizer_asset_key(props.spec)
        return synthetic_asset_key(props.table)

    def get_asset_spec(self, props: SyntheticAssetProps) -> AssetSpec:
        spec = props.spec
        tags = dict(spec.tags)
        tags["synth_assets/role"] = props.role
        kinds: set[str]
        metadata: dict = {}
        if props.role in ("real", "synthetic"):
            table_metadata = props.table_metadata
            pii = pii_columns(table_metadata)
            if pii:
                # Real tables hold real personal data; synthetic ones hold generated stand-ins.
                tags[PII_TAG] = "true" if props.role == "real" else "generated"
            kinds = {"pandas", "parquet"}
            metadata["dagster/column_schema"] = declared_column_schema(table_metadata)
            metadata["synth_assets/table_metadata"] = table_metadata.to_dict()
            if pii:
                metadata["synth_assets/pii_columns"] = pii
        if props.role == "real":
            source = props.source
            description = f"Real table `{props.table}` loaded from `{source.path}` (format {source.resolved_format})."
            if source.query:
                description += f" Rows kept: `{source.query}`."
            code_version = stable_hash(source.model_dump(), props.table_metadata.to_dict())
            metadata["synth_assets/source"] = source.path
        elif props.role == "table_model":
            cls = spec.table_synthesizer(props.table)
            kinds = set(_KINDS[cls])
            description = (
                f"{cls} model of table `{props.table}` in the IndependentSynthesizer group `{spec.name}` "
                "(fitted in its own step so executors can run the tables in parallel)."
            )
            code_version = synthesizer_code_version(spec, props.table)
            metadata["synth_assets/synthesizer"] = cls
            metadata["synth_assets/parameters"] = spec.table_model_parameters(props.table)
        elif props.role == "synthesizer":
            kinds = set(_KINDS[spec.synthesizer])
            if spec.is_multi_table and any("pytorch" in _KINDS[spec.table_synthesizer(t)] for t in spec.table_names):
                kinds.add("pytorch")
            description = spec.description or (
                f"Fitted {spec.synthesizer} over {', '.join(f'`{t}`' for t in spec.table_names)}."
            )
            code_version = synthesizer_code_version(spec)
            metadata["synth_assets/synthesizer"] = spec.synthesizer
            metadata["synth_assets/parameters"] = spec.parameters
            if spec.table_parameters:
                metadata["synth_assets/table_parameters"] = spec.table_parameters
        else:
            real_key = real_asset_key(spec, props.table)
            description = (
                f"Synthetic `{props.table}` sampled from the stored {spec.synthesizer} `{spec.name}` "
                "(sampling never refits; configure num_rows / num_sequences / scale and seed per run)."
            )
            code_version = stable_hash(spec.sample.model_dump(), _package_version())
            metadata["dagster/column_lineage"] = column_lineage(spec, props.table, real_key)
        return AssetSpec(
            key=self.get_asset_key(props),
            description=description,
            group_name=spec.group_name,
            owners=list(spec.owners),
            tags=tags,
            kinds=kinds,
            metadata=metadata,
            code_version=code_version,
            automation_condition=default_automation_condition(spec, props.role, props.table),
        )
