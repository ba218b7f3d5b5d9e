"""Detect SDV-style metadata from DataFrames: sdtypes, keys and relationships."""

from __future__ import annotations

import re
import warnings

import pandas as pd

from synth_assets.errors import InvalidDataError
from synth_assets.metadata.datetimes import detect_datetime_format, parses_as_mixed_datetimes
from synth_assets.metadata.pii_detection import is_unique_text, pii_sdtype_by_name, pii_sdtype_from_content
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
    """SDV's sdtype for one column; identifiers and PII (by name, then by content) are generated.
    Values that parse as datetimes stay datetimes whatever the name ("last_login")."""
    non_null = values.dropna()
    if pd.api.types.is_bool_dtype(values) or (
        values.dtype == object and len(non_null) and non_null.map(type).eq(bool).all()
    ):
        return {"sdtype": "boolean"}
    if pd.api.types.is_datetime64_any_dtype(values):
        return {"sdtype": "datetime"}
    if pd.api.types.is_timedelta64_dtype(values):
        return _detect_timedelta(name)
    is_numeric = pd.api.types.is_numeric_dtype(values)
    datetime_spec = None if is_numeric else _detect_text_datetime(values)
    if datetime_spec is not None:
        return datetime_spec
    pii, warning = pii_sdtype_by_name(name, non_null)
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=2)
    if pii is not None:  # numbers too (phone, zip code, latitude), as SDV: their quantiles would leak
        return {"sdtype": pii, "pii": True}
    if is_numeric:
        return _detect_number(name, values, non_null)
    if _looks_like_id(name, non_null):
        return {"sdtype": "id"}
    pii = pii_sdtype_from_content(non_null)
    if pii is not None:
        return {"sdtype": pii, "pii": True}
    if is_unique_text(non_null):
        return {"sdtype": "unknown", "pii": True}
    return {"sdtype": "categorical"}


def _detect_text_datetime(values: pd.Series) -> dict | None:
    datetime_format = detect_datetime_format(values)
    if datetime_format is not None:
        return {"sdtype": "datetime", "datetime_format": datetime_format}
    if parses_as_mixed_datetimes(values):
        # Dates, so never PII; but with no one format to read and write them in, they are categories
        # until the user converts them.
        warnings.warn(
            f"column '{values.name}': datetimes in mixed formats or time zones are detected as categorical. "
            f"To model them as datetimes, convert first: pd.to_datetime(df['{values.name}'], format='mixed', "
            "utc=True).",
            UserWarning,
            stacklevel=3,
        )
        return {"sdtype": "categorical"}
    return None


def _detect_timedelta(name: str) -> dict:
    # No sdtype models durations; as categories their real values would be copied.
    warnings.warn(
        f"column '{name}': durations (timedelta) are not modelled, so it is generated as sdtype 'unknown' "
        f"(pii=True). To model it, convert it to numbers first, e.g. df['{name}'].dt.total_seconds().",
        UserWarning,
        stacklevel=3,
    )
    return {"sdtype": "unknown", "pii": True}


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


# Name words of a column that points at another row of its own table.
_SELF_REFERENCE_WORDS = frozenset({
    "manager", "parent", "reports", "supervisor", "boss", "mentor", "referrer", "referred", "sponsor",
    "predecessor", "successor", "previous", "prev", "next", "superior", "head", "lead", "owner", "root",
})


def _names_a_self_reference(column: str) -> bool:
    words = set(_normalise(column).split("_"))
    return bool(words & _SELF_REFERENCE_WORDS)


def _references(child_values: pd.Series, parent_values: pd.Series) -> bool:
    return not child_values.empty and bool(child_values.isin(parent_values).all())


def _is_reference(tables, data, parent: str, child: str, column: str) -> bool:
    """Whether `child.column` points at `parent`'s primary key: named like it (or, within one table,
    like a self-reference: manager_id, parent_id, reports_to) and all its values are in it."""
    pk = tables[parent].primary_key
    if child == parent:  # roots (nulls) are needed: without them every chain of references is a cycle
        named = column != pk and _names_a_self_reference(column) and data[child][column].isna().any()
    else:
        candidates = {_normalise(pk)}
        if _normalise(pk) == "id":
            candidates.add(f"{_normalise(parent)}_id")
        named = _normalise(column) in candidates
    return named and _references(data[child][column].dropna(), data[parent][pk].dropna())


def detect_relationships(tables: dict[str, TableMetadata], data: dict[str, pd.DataFrame]) -> list[dict]:
    """Child column named like a parent's primary key (or `<parent>_id`) whose values it contains;
    within one table, a column named like a self-reference whose values are all primary keys."""
    relationships = []
    for parent, parent_meta in tables.items():
        if parent_meta.primary_key is None:
            continue
        for child, child_meta in tables.items():
            for column in list(child_meta.columns):
                if not _is_reference(tables, data, parent, child, column):
                    continue
                child_meta.columns[column] = {"sdtype": "id"}
                if child_meta.primary_key == column:
                    child_meta.primary_key = None
                relationships.append({
                    "parent_table_name": parent,
                    "parent_primary_key": parent_meta.primary_key,
                    "child_table_name": child,
                    "child_foreign_key": column,
                })
    return relationships
