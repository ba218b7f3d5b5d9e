"""Detect SDV-style metadata from DataFrames: sdtypes, keys and relationships."""

from __future__ import annotations

import re
import warnings

import pandas as pd

from synth_assets.errors import InvalidDataError
from synth_assets.metadata.datetimes import detect_datetime_format
from synth_assets.metadata.pii_detection import is_unique_text, pii_sdtype_from_content, pii_sdtype_from_name
from synth_assets.metadata.table import TableMetadata


def _normalise(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")


def _looks_like_id_name(name: str) -> bool:
    norm = _normalise(name)
    return norm in ("id", "key", "uuid") or norm.endswith(("_id", "_key", "_uuid"))


def _looks_like_id(name: str, non_null: pd.Series) -> bool:
    # Low-cardinality "...ID" columns (teamID, yearID) are categories, not identifiers;
    # repeated foreign keys become ids when a relationship is detected.
    return _looks_like_id_name(name) and len(non_null) > 0 and non_null.nunique() > 0.5 * len(non_null)


def detect_column(name: str, values: pd.Series) -> dict:
    """SDV's sdtype for one column; identifiers and PII (by name, then by content) are generated."""
    non_null = values.dropna()
    if pd.api.types.is_bool_dtype(values) or (
        values.dtype == object and len(non_null) and non_null.map(type).eq(bool).all()
    ):
        return {"sdtype": "boolean"}
    if pd.api.types.is_datetime64_any_dtype(values):
        return {"sdtype": "datetime"}
    pii = pii_sdtype_from_name(name)
    if pii is not None:  # numbers too (phone, zip code, latitude), as SDV: their quantiles would leak
        return {"sdtype": pii, "pii": True}
    if pd.api.types.is_numeric_dtype(values):
        return _detect_number(name, values, non_null)
    datetime_format = detect_datetime_format(values)
    if datetime_format is not None:
        return {"sdtype": "datetime", "datetime_format": datetime_format}
    if _looks_like_id(name, non_null):
        return {"sdtype": "id"}
    pii = pii_sdtype_from_content(non_null)
    if pii is not None:
        return {"sdtype": pii, "pii": True}
    if is_unique_text(non_null):
        return {"sdtype": "unknown", "pii": True}
    return {"sdtype": "categorical"}


def _detect_number(name: str, values: pd.Series, non_null: pd.Series) -> dict:
    is_integer = pd.api.types.is_integer_dtype(values) or (len(non_null) and (non_null == non_null.round()).all())
    if is_integer and _looks_like_id(name, non_null):
        return {"sdtype": "id"}
    representation = "Int64" if pd.api.types.is_integer_dtype(values) else "Float"
    return {"sdtype": "numerical", "computer_representation": representation}


def detect_table(data: pd.DataFrame) -> TableMetadata:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"detect_from_dataframe needs a pandas DataFrame, got {type(data).__name__}.")
    if data.columns.duplicated().any():
        dupes = list(data.columns[data.columns.duplicated()])
        raise InvalidDataError(f"Column names must be unique; duplicated: {dupes}.")
    table = TableMetadata(columns={str(c): detect_column(str(c), data[c]) for c in data.columns})
    for name, spec in table.columns.items():
        if spec["sdtype"] == "id" and data[name].notna().all() and data[name].is_unique:
            table.primary_key = name
            break
    return table


def detect_relationships(tables: dict[str, TableMetadata], data: dict[str, pd.DataFrame]) -> list[dict]:
    """Child column named like a parent's primary key (or `<parent>_id`) whose values it contains."""
    relationships = []
    for parent, parent_meta in tables.items():
        pk = parent_meta.primary_key
        if pk is None:
            continue
        parent_values = data[parent][pk].dropna()
        candidates = {_normalise(pk)}
        if _normalise(pk) == "id":
            candidates.add(f"{_normalise(parent)}_id")
        for child, child_meta in tables.items():
            for column in child_meta.columns:
                if child == parent and column == pk:
                    continue
                if _normalise(column) not in candidates:
                    continue
                child_values = data[child][column].dropna()
                if child_values.empty or not child_values.isin(parent_values).all():
                    continue
                if child == parent:
                    warnings.warn(
                        f"table '{child}': column '{column}' references its own table; "
                        "self-references are not supported, so it stays a plain column."
                    )
                    continue
                child_meta.columns[column] = {"sdtype": "id"}
                if child_meta.primary_key == column:
                    child_meta.primary_key = None
                relationships.append(
                    {
                        "parent_table_name": parent,
                        "parent_primary_key": pk,
                        "child_table_name": child,
                        "child_foreign_key": column,
                    }
                )
    return relationships
