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

from synth_assets.dagster._constants import PII_TAG, ROLE_TAG
from synth_assets.dagster.conditions import automation_condition
from synth_assets.dagster.specs import AssetSource, SynthesizerSpec
from synth_assets.metadata import TableMetadata

Role = Literal["source", "real", "table_model", "synthesizer", "synthetic"]

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


# Default keys: the first part is the role (a folder in the asset catalog), the last names the
# role and the table, because the lineage graph labels a node by its key's last part: a group
# shows `source_people`, `real_people`, `model_people`, `synthetic_people`, never four `people`.
def source_asset_key(table: str) -> AssetKey:
    return AssetKey(["source", f"source_{table}"])


def real_asset_key(spec: SynthesizerSpec, table: str) -> AssetKey:
    source = spec.sources[table]
    if isinstance(source, AssetSource):
        return source.asset_key
    return AssetKey(["real", f"real_{table}"])


def synthesizer_asset_key(spec: SynthesizerSpec) -> AssetKey:
    return AssetKey(["synthesizer", spec.name])


def table_model_asset_key(spec: SynthesizerSpec, table: str) -> AssetKey:
    return AssetKey(["synthesizer", spec.name, f"model_{table}"])


def synthetic_asset_key(table: str) -> AssetKey:
    return AssetKey(["synthetic", f"synthetic_{table}"])


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


def partitions_def(spec: SynthesizerSpec):
    """The synthetic assets' partitions: daily when the spec asks for them."""
    if spec.sample.partitions == "daily":
        from dagster import DailyPartitionsDefinition

        return DailyPartitionsDefinition(start_date=spec.sample.partitions_start_date)
    return None


def default_automation_condition(spec: SynthesizerSpec, role: Role, table: Optional[str]):
    """The asset's labelled automation condition (synth_assets.dagster.conditions)."""
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


def _pii_note(spec: SynthesizerSpec, table: str, role: str, column: str) -> str:
    if role == "real":
        return f"PII; replaced by faker in synthetic `{table}`"
    return "generated by faker (no real value)"


def declared_column_schema(spec: SynthesizerSpec, table: str, role: str) -> TableSchema:
    """The table's schema as the metadata declares it: sdtype, keys, and PII by role (real:
    the real personal data; synthetic: generated stand-ins), with a `pii` column tag."""
    table_metadata = spec.metadata.get_table_metadata(table)
    keys = {table_metadata.primary_key, *table_metadata.alternate_keys} - {None}
    pii = set(pii_columns(table_metadata))
    columns = []
    for name, column in table_metadata.columns.items():
        notes = [f"sdtype: {column.get('sdtype')}"]
        if name in pii:
            notes.append(_pii_note(spec, table, role, name))
        elif table_metadata.is_generated(name):
            notes.append("id; new values generated" if role == "synthetic" else "id")
        if name == table_metadata.sequence_key:
            notes.append("sequence key")
        if name == table_metadata.sequence_index:
            notes.append("sequence index")
        columns.append(TableColumn(
            name=name, type=expected_dtype(column), description="; ".join(notes),
            constraints=TableColumnConstraints(nullable=name not in keys, unique=name in keys),
            tags={PII_TAG: "true" if role == "real" else "generated"} if name in pii else None,
        ))
    return TableSchema(columns=columns)


def column_lineage(spec: SynthesizerSpec, table: str, real_key: AssetKey) -> TableColumnLineage:
    """Each synthetic column depends on the real column of the same name."""
    columns = spec.metadata.get_table_metadata(table).columns
    return TableColumnLineage(deps_by_column={c: [TableColumnDep(asset_key=real_key, column_name=c)] for c in columns})


class SyntheticAssetTranslator:
    """Default keys, deps, groups, kinds, tags, owners, descriptions, code versions, partitions
    and metadata. Override ``get_asset_spec`` alone: keys and deps everywhere follow it."""

    def get_asset_key(self, props: SyntheticAssetProps) -> AssetKey:
        return self.get_asset_spec(props).key

    def default_asset_key(self, props: SyntheticAssetProps) -> AssetKey:
        if props.role == "source":
            return source_asset_key(props.table)
        if props.role == "real":
            return real_asset_key(props.spec, props.table)
        if props.role == "table_model":
            return table_model_asset_key(props.spec, props.table)
        if props.role == "synthesizer":
            return synthesizer_asset_key(props.spec)
        return synthetic_asset_key(props.table)

    def _key(self, role: Role, spec: SynthesizerSpec, table: Optional[str] = None) -> AssetKey:
        if role == "real" and isinstance(spec.sources[table], AssetSource):
            return spec.sources[table].asset_key
        return self.get_asset_key(SyntheticAssetProps(role, spec, table))

    def get_deps(self, props: SyntheticAssetProps) -> list[AssetKey]:
        """Upstream keys: source -> real -> model(s) -> synthetic; a synthetic table also depends on
        its own real table (checks, scores) and on its parents' synthetic tables (foreign keys)."""
        spec, table = props.spec, props.table
        if props.role == "source":
            return []
        if props.role == "real":
            return [self._key("source", spec, table)]
        if props.role == "table_model":  # the group's keys are validated before each table fit
            return [self._key("real", spec, t) for t in [table, *[t for t in spec.table_names if t != table]]]
        if props.role == "synthesizer":
            models = [self._key("table_model", spec, t) for t in spec.table_names] if spec.is_multi_table else []
            return models + [self._key("real", spec, t) for t in spec.table_names]
        parents = [r["parent_table_name"] for r in spec.metadata.get_parents(table) if r["parent_table_name"] != table]
        return [self._key("synthesizer", spec), self._key("real", spec, table),
                *[self._key("synthetic", spec, p) for p in dict.fromkeys(parents)]]

    def get_asset_spec(self, props: SyntheticAssetProps) -> AssetSpec:
        """The whole AssetSpec of one asset; the factory passes it to Dagster as it is."""
        spec = props.spec
        description, kinds, metadata, code_version = getattr(self, f"_{props.role}_attributes")(props)
        tags = {**spec.tags, ROLE_TAG: props.role}
        if props.table and props.role in ("real", "synthetic") and pii_columns(props.table_metadata):
            # Real tables hold real personal data; synthetic ones hold generated stand-ins.
            tags[PII_TAG] = "true" if props.role == "real" else "generated"
        return AssetSpec(
            key=self.default_asset_key(props),
            deps=self.get_deps(props),
            partitions_def=partitions_def(spec) if props.role == "synthetic" else None,
            description=description,
            group_name=spec.group_name,
            owners=list(spec.owners),
            tags=tags,
            kinds=kinds,
            metadata=metadata,
            code_version=code_version,
            automation_condition=default_automation_condition(spec, props.role, props.table),
        )

    def _source_attributes(self, props: SyntheticAssetProps) -> tuple:
        source = props.source
        description = (f"The file behind real `{props.table}` ({source_label(source.path)}); its data "
                       "version is the SHA-256 of the file content.")
        return description, set(), {"synth_assets/path": source.path}, None

    def _real_attributes(self, props: SyntheticAssetProps) -> tuple:
        source, table = props.source, props.table
        description = f"Real table `{table}` read from {source_label(source.path)} ({source.resolved_format})."
        if source.query:
            description += f" Rows kept: `{source.query}`."
        metadata = {"dagster/column_schema": declared_column_schema(props.spec, table, "real"),
                    "synth_assets/source": source.path}
        code_version = stable_hash(source.model_dump(), props.table_metadata.to_dict())
        return description, {"pandas", "parquet"}, metadata, code_version

    def _table_model_attributes(self, props: SyntheticAssetProps) -> tuple:
        spec, table = props.spec, props.table
        cls = spec.table_synthesizer(table)
        description = (
            f"{cls} model of table `{table}` in the IndependentSynthesizer group `{spec.name}` "
            "(fitted in its own step so executors can run the tables in parallel)."
        )
        metadata = {"synth_assets/synthesizer": cls, "synth_assets/parameters": spec.table_model_parameters(table)}
        return description, set(_KINDS[cls]), metadata, synthesizer_code_version(spec, table)

    def _synthesizer_attributes(self, props: SyntheticAssetProps) -> tuple:
        spec = props.spec
        kinds = set(_KINDS[spec.synthesizer])
        if spec.is_multi_table and any("pytorch" in _KINDS[spec.table_synthesizer(t)] for t in spec.table_names):
            kinds.add("pytorch")
        description = spec.description or (
            f"Fitted {spec.synthesizer} over {', '.join(f'`{t}`' for t in spec.table_names)}."
        )
        metadata = {"synth_assets/synthesizer": spec.synthesizer, "synth_assets/parameters": spec.parameters}
        if spec.table_parameters:
            metadata["synth_assets/table_parameters"] = spec.table_parameters
        return description, kinds, metadata, synthesizer_code_version(spec)

    def _synthetic_attributes(self, props: SyntheticAssetProps) -> tuple:
        spec, table = props.spec, props.table
        description = (
            f"Synthetic `{table}` sampled from the stored {spec.synthesizer} `{spec.name}` and checked "
            "before it is written (sampling never refits; set num_rows / num_sequences / scale and "
            "seed per run)."
        )
        metadata = {"dagster/column_schema": declared_column_schema(spec, table, "synthetic"),
                    "dagster/column_lineage": column_lineage(spec, table, self._key("real", spec, table))}
        code_version = stable_hash(spec.sample.model_dump(), _package_version())
        return description, {"pandas", "parquet"}, metadata, code_version


def source_label(path: str) -> str:
    """A file named without its absolute location: `gapminder.csv`, `People.csv in _source.zip`."""
    import posixpath

    parts = [posixpath.basename(p.split("://")[-1].rstrip("/")) for p in path.split("::")]
    return f"`{parts[0]}` in `{parts[-1]}`" if len(parts) > 1 else f"`{parts[0]}`"
