"""SDV's metadata (spec V1 or V2): tables plus parent -> child relationships, loaded from and saved to
JSON. A file keeps the spec version it was loaded with; new metadata is written as V1, which both
SDV 1.x and 2.x load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from synth_assets.errors import InvalidDataError, InvalidMetadataError
from synth_assets.metadata.detection import detect_relationships, detect_table
from synth_assets.metadata.table import TableMetadata

METADATA_SPEC_VERSION = "V1"
# Spec versions SDV writes -> the multi-table version we keep (single-table files become one table).
# SDV 1.x's MultiTableMetadata wrote MULTI_TABLE_V1; SDV 2.0 loads it, and so do we.
_SPEC_VERSIONS = {
    "V1": "V1", "V2": "V2", "SINGLE_TABLE_V1": "V1", "SINGLE_TABLE_V2": "V2", "MULTI_TABLE_V1": "V1",
}
DEFAULT_TABLE_NAME = "table"
_RELATIONSHIP_KEYS = ("parent_table_name", "parent_primary_key", "child_table_name", "child_foreign_key")


class Metadata:
    def __init__(self):
        self.tables: dict[str, TableMetadata] = {}
        self.relationships: list[dict] = []
        self.spec_version = METADATA_SPEC_VERSION

    # -- load / save -----------------------------------------------------------------------------
    @classmethod
    def load_from_dict(cls, metadata_dict: dict, single_table_name: str | None = None) -> "Metadata":
        if not isinstance(metadata_dict, dict):
            raise TypeError(f"Metadata must be a dict, got {type(metadata_dict).__name__}.")
        metadata = cls()
        metadata.spec_version = _spec_version(metadata_dict)
        if "tables" in metadata_dict:
            for name, table_dict in metadata_dict["tables"].items():
                metadata.tables[name] = TableMetadata.load_from_dict(table_dict)
            for relationship in metadata_dict.get("relationships", []) or []:
                metadata.relationships.append(_check_relationship_shape(relationship))
        elif "columns" in metadata_dict:  # SDV single-table metadata
            name = single_table_name or DEFAULT_TABLE_NAME
            metadata.tables[name] = TableMetadata.load_from_dict(metadata_dict)
        else:
            raise InvalidMetadataError("Metadata dict needs 'tables' (multi-table) or 'columns' (single-table).")
        return metadata

    @classmethod
    def load_from_json(cls, filepath, single_table_name: str | None = None) -> "Metadata":
        path = Path(filepath)
        if not path.exists():
            raise ValueError(f"A file named '{filepath}' does not exist.")
        with path.open() as handle:
            try:
                metadata_dict = json.load(handle)
            except json.JSONDecodeError as error:
                raise InvalidMetadataError(f"'{filepath}' is not valid JSON: {error}") from error
        return cls.load_from_dict(metadata_dict, single_table_name=single_table_name)

    def to_dict(self) -> dict:
        return {
            "tables": {name: table.to_dict() for name, table in self.tables.items()},
            "relationships": [dict(r) for r in self.relationships],
            "METADATA_SPEC_VERSION": self.spec_version,
        }

    def save_to_json(self, filepath, mode: str = "write") -> None:
        path = Path(filepath)
        if mode == "write" and path.exists():
            raise ValueError(f"A file named '{filepath}' already exists; choose another path or mode='overwrite'.")
        if mode not in ("write", "overwrite"):
            raise ValueError(f"mode must be 'write' or 'overwrite', got {mode!r}.")
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=4))
        os.replace(tmp, path)

    def copy(self) -> "Metadata":
        return Metadata.load_from_dict(self.to_dict())

    def __eq__(self, other):
        return isinstance(other, Metadata) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"Metadata({json.dumps(self.to_dict(), indent=2)})"

    # -- detection -------------------------------------------------------------------------------
    @classmethod
    def detect_from_dataframe(cls, data: pd.DataFrame, table_name: str = DEFAULT_TABLE_NAME) -> "Metadata":
        metadata = cls()
        metadata.tables[table_name] = detect_table(data)
        return metadata

    @classmethod
    def detect_from_dataframes(cls, data: dict) -> "Metadata":
        if not isinstance(data, dict) or not data:
            raise TypeError("detect_from_dataframes needs a non-empty {table_name: DataFrame} dict.")
        metadata = cls()
        for name, frame in data.items():
            metadata.tables[name] = detect_table(frame)
        metadata.relationships = detect_relationships(metadata.tables, data)
        return metadata

    # -- queries ---------------------------------------------------------------------------------
    @property
    def table_names(self) -> list[str]:
        return list(self.tables)

    def get_table_metadata(self, table_name: str) -> TableMetadata:
        self._require_table(table_name)
        return self.tables[table_name]

    def get_single_table_name(self) -> str:
        if len(self.tables) != 1:
            raise InvalidMetadataError(
                f"This synthesizer models one table, but the metadata has {len(self.tables)}: "
                f"{self.table_names}. Pass single-table metadata."
            )
        return next(iter(self.tables))

    def get_children(self, table_name: str) -> list[dict]:
        return [r for r in self.relationships if r["parent_table_name"] == table_name]

    def get_parents(self, table_name: str) -> list[dict]:
        return [r for r in self.relationships if r["child_table_name"] == table_name]

    def get_root_tables(self) -> list[str]:
        """Tables without parents (a self-reference does not count as a parent)."""
        children = {r["child_table_name"] for r in self.relationships if r["child_table_name"] != r["parent_table_name"]}
        return [t for t in self.tables if t not in children]

    def topological_order(self) -> list[str]:
        """Tables ordered parents first; raises on a cycle between tables (self-references are allowed)."""
        order, state = [], {}

        def visit(table, path):
            if state.get(table) == "done":
                return
            if state.get(table) == "visiting":
                cycle = " -> ".join([*path, table])
                raise InvalidMetadataError(f"Relationships form a cycle ({cycle}); SDV metadata must be acyclic.")
            state[table] = "visiting"
            for relationship in self.get_parents(table):
                if relationship["parent_table_name"] != table:
                    visit(relationship["parent_table_name"], [*path, table])
            state[table] = "done"
            order.append(table)

        for table in self.tables:
            visit(table, [])
        return order

    def _require_table(self, table_name: str):
        if table_name not in self.tables:
            raise InvalidMetadataError(f"Table '{table_name}' is not in the metadata; known tables: {self.table_names}.")

    # -- edits (SDV method names) ----------------------------------------------------------------
    def _table_arg(self, table_name: str | None) -> TableMetadata:
        if table_name is None:
            table_name = self.get_single_table_name()
        return self.get_table_metadata(table_name)

    def update_column(self, column_name: str, table_name: str | None = None, **kwargs):
        self._table_arg(table_name).update_column(column_name, **kwargs)

    def add_column(self, column_name: str, table_name: str | None = None, **kwargs):
        self._table_arg(table_name).add_column(column_name, **kwargs)

    def set_primary_key(self, column_name: str, table_name: str | None = None):
        table = self._table_arg(table_name)
        _require_column(table, column_name, table_name)
        table.primary_key = column_name

    def set_sequence_key(self, column_name: str, table_name: str | None = None):
        table = self._table_arg(table_name)
        _require_column(table, column_name, table_name)
        table.sequence_key = column_name

    def set_sequence_index(self, column_name: str, table_name: str | None = None):
        table = self._table_arg(table_name)
        _require_column(table, column_name, table_name)
        table.sequence_index = column_name

    def add_alternate_keys(self, column_names: list, table_name: str | None = None):
        table = self._table_arg(table_name)
        for column in column_names:
            _require_column(table, column, table_name)
            if column not in table.alternate_keys:
                table.alternate_keys.append(column)

    def add_table(self, table_name: str):
        if table_name in self.tables:
            raise InvalidMetadataError(f"Table '{table_name}' already exists.")
        self.tables[table_name] = TableMetadata()

    def add_relationship(self, parent_table_name, child_table_name, parent_primary_key, child_foreign_key):
        relationship = {
            "parent_table_name": parent_table_name,
            "parent_primary_key": parent_primary_key,
            "child_table_name": child_table_name,
            "child_foreign_key": child_foreign_key,
        }
        self._validate_relationship(relationship)
        self.relationships.append(relationship)
        try:
            self.topological_order()
        except InvalidMetadataError:
            self.relationships.pop()
            raise

    def remove_relationship(self, parent_table_name, child_table_name):
        self.relationships = [
            r for r in self.relationships
            if not (r["parent_table_name"] == parent_table_name and r["child_table_name"] == child_table_name)
        ]

    # -- validation ------------------------------------------------------------------------------
    def _validate_relationship(self, relationship: dict):
        parent, child = relationship["parent_table_name"], relationship["child_table_name"]
        pk, fk = relationship["parent_primary_key"], relationship["child_foreign_key"]
        for table in (parent, child):
            if table not in self.tables:
                raise InvalidMetadataError(f"Relationship {parent} -> {child}: table '{table}' is not in the metadata.")
        parent_meta = self.tables[parent]
        if pk not in parent_meta.columns:
            raise InvalidMetadataError(f"Relationship {parent} -> {child}: '{pk}' is not a column of table '{parent}'.")
        if parent_meta.primary_key != pk:
            raise InvalidMetadataError(
                f"Relationship {parent} -> {child}: '{pk}' is not the primary key of table '{parent}' "
                f"(primary key: {parent_meta.primary_key!r}); set_primary_key first."
            )
        if fk not in self.tables[child].columns:
            raise InvalidMetadataError(f"Relationship {parent} -> {child}: '{fk}' is not a column of table '{child}'.")

    def validate(self) -> None:
        if not self.tables:
            raise InvalidMetadataError("Metadata has no tables.")
        for name, table in self.tables.items():
            table.validate(name)
        for relationship in self.relationships:
            self._validate_relationship(relationship)
        self.topological_order()

    def validate_data(self, data) -> None:
        """Check data against the metadata; errors name the table and column."""
        self.validate()
        data = self._table_dict(data)
        for name, frame in data.items():
            self.tables[name].validate_data(frame, name)
        self._validate_foreign_keys(data)

    def validate_keys(self, data: dict) -> None:
        """Only what relationships need: every table present, primary keys non-null and unique,
        every non-null foreign key found in its parent. `data` may hold just the key columns."""
        data = self._table_dict(data)
        for name, frame in data.items():
            pk = self.tables[name].primary_key
            if pk is not None and pk not in frame.columns:
                raise InvalidDataError(f"table '{name}': primary key column '{pk}' is missing from the data.")
            errors = self.tables[name].key_value_errors(frame, name)
            if errors:
                raise InvalidDataError(errors)
        self._validate_foreign_keys(data)

    def _table_dict(self, data) -> dict:
        if isinstance(data, pd.DataFrame):
            data = {self.get_single_table_name(): data}
        if not isinstance(data, dict):
            raise TypeError(f"Data must be a DataFrame or a {{table_name: DataFrame}} dict, got {type(data).__name__}.")
        unknown = [t for t in data if t not in self.tables]
        if unknown:
            raise InvalidDataError(f"Tables {unknown} are in the data but not in the metadata (known: {self.table_names}).")
        missing = [t for t in self.tables if t not in data]
        if missing:
            raise InvalidDataError(f"Tables {missing} are in the metadata but missing from the data.")
        for name, frame in data.items():
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"Data for table '{name}' must be a pandas DataFrame, got {type(frame).__name__}.")
        return data

    def _validate_foreign_keys(self, data: dict) -> None:
        for relationship in self.relationships:
            parent, child = relationship["parent_table_name"], relationship["child_table_name"]
            pk, fk = relationship["parent_primary_key"], relationship["child_foreign_key"]
            if fk not in data[child].columns:
                raise InvalidDataError(f"table '{child}': foreign key column '{fk}' is missing from the data.")
            child_values = data[child][fk].dropna()
            orphans = child_values[~child_values.isin(data[parent][pk])].unique()
            if len(orphans):
                raise InvalidDataError(
                    f"table '{child}', column '{fk}': {len(orphans)} foreign key values are not in "
                    f"'{parent}.{pk}', e.g. {list(orphans[:5])}; drop those rows or add the parents."
                )


def _require_column(table: TableMetadata, column: str, table_name):
    if column not in table.columns:
        raise InvalidMetadataError(f"Column '{column}' is not in table '{table_name or DEFAULT_TABLE_NAME}'.")


def _spec_version(metadata_dict: dict) -> str:
    version = metadata_dict.get("METADATA_SPEC_VERSION", METADATA_SPEC_VERSION)
    if version not in _SPEC_VERSIONS:
        raise InvalidMetadataError(
            f"METADATA_SPEC_VERSION {version!r} is not one SDV writes; expected one of {list(_SPEC_VERSIONS)}."
        )
    return _SPEC_VERSIONS[version]


def _check_relationship_shape(relationship) -> dict:
    if not isinstance(relationship, dict) or any(k not in relationship for k in _RELATIONSHIP_KEYS):
        raise InvalidMetadataError(f"Each relationship needs keys {list(_RELATIONSHIP_KEYS)}; got {relationship!r}.")
    return {k: relationship[k] for k in _RELATIONSHIP_KEYS}
