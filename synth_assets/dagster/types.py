"""dagster-pandas DataFrame types for real and synthetic tables, built from table metadata.

Two layers, both run by Dagster's type check at every materialization:

* static, from the metadata: exactly the metadata's columns; a dtype family per sdtype; primary
  and alternate keys non-null and unique; the sequence key non-null;
* a profile of the real table (``synth_assets.profiles``) taken when the synthesizer is fitted (kept inside the stored
  synthesizer, attached to each sampled frame's ``attrs``): numeric / datetime ranges (only when
  the synthesizer enforces min/max values, as a correct one then stays inside them), category
  sets (non-PII categorical and boolean columns), and no missing values where the real column
  had none. Real tables carry no profile, so only the static layer applies to them.

A violation fails the step; the message names the column, the rule and a few offending values.
"""

from __future__ import annotations

import warnings

import pandas as pd
from dagster import DagsterType
from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type
from dagster_pandas.constraints import (
    ColumnConstraint,
    ColumnConstraintViolationException,
    DataFrameConstraint,
    DataFrameConstraintViolationException,
)

from synth_assets.metadata import TableMetadata
from synth_assets.profiles import (  # re-exported: the factory and tests read profiles here too
    PROFILE_ATTR,
    attach_profile,
    profile_sequences,
    profile_table,
    store_profiles,
    stored_profile,
)
from synth_assets.profiles import as_datetime as _as_datetime
from synth_assets.profiles import plain as _plain

__all__ = ["PROFILE_ATTR", "attach_profile", "profile_sequences", "profile_table", "store_profiles",
           "stored_profile", "table_dagster_type"]

# -- constraints -----------------------------------------------------------------------------------
def _examples(values: pd.Series, limit: int = 5) -> list:
    return [_plain(v) for v in pd.unique(values)[:limit]]


class _Violation(ColumnConstraintViolationException):
    def __init__(self, name, column, message):
        super().__init__(constraint_name=name, constraint_description=message, column_name=column)


class DtypeFamilyConstraint(ColumnConstraint):
    """The column's dtype belongs to the family its sdtype allows."""

    _FAMILIES = {
        "numerical": ("numeric (int / float)", lambda d: pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d)),
        "datetime": ("datetime64 or strings", lambda d: pd.api.types.is_datetime64_any_dtype(d) or d == object or pd.api.types.is_string_dtype(d)),
        "boolean": ("bool, boolean or object", lambda d: pd.api.types.is_bool_dtype(d) or d == object or pd.api.types.is_float_dtype(d)),
    }

    def __init__(self, sdtype: str):
        self.sdtype = sdtype
        self.label, self.test = self._FAMILIES[sdtype]
        description = f"dtype must be {self.label} (sdtype '{sdtype}')"
        super().__init__(error_description=description, markdown_description=description)

    def validate(self, dataframe, column_name):
        dtype = dataframe[column_name].dtype
        if not self.test(dtype):
            raise _Violation("DtypeFamilyConstraint", column_name, f"{self.error_description}, got dtype {dtype}.")


class KeyConstraint(ColumnConstraint):
    """Non-null (and unique for primary / alternate keys)."""

    def __init__(self, unique: bool):
        self.unique = unique
        description = "key: no missing values" + (", unique" if unique else "")
        super().__init__(error_description=description, markdown_description=description)

    def validate(self, dataframe, column_name):
        values = dataframe[column_name]
        missing = int(values.isna().sum())
        if missing:
            raise _Violation("KeyConstraint", column_name, f"key column has {missing} missing values.")
        if self.unique:
            duplicated = values[values.duplicated()]
            if len(duplicated):
                raise _Violation(
                    "KeyConstraint", column_name,
                    f"key column has {len(duplicated)} duplicate values, e.g. {_examples(duplicated)}.",
                )


class NoExtraColumnsConstraint(DataFrameConstraint):
    """Only the metadata's columns (missing ones are caught per column)."""

    def __init__(self, columns: list[str]):
        self.columns = list(columns)
        description = f"no columns besides {self.columns}"
        super().__init__(error_description=description, markdown_description=description)

    def validate(self, dataframe):
        extra = [c for c in dataframe.columns if c not in self.columns]
        if extra:
            raise DataFrameConstraintViolationException(
                constraint_name="NoExtraColumnsConstraint",
                constraint_description=f"columns {extra} are not in the table metadata (expected {self.columns}).",
            )


class ProfileConstraint(ColumnConstraint):
    """Range, category set and missing values as profiled on the real table (when attached)."""

    def __init__(self, column: dict):
        self.column = column
        description = "within the real table's profile (range, categories, missing values)"
        super().__init__(error_description=description, markdown_description=description)

    def validate(self, dataframe, column_name):
        profile = (dataframe.attrs.get(PROFILE_ATTR) or {}).get("columns", {}).get(column_name)
        if not profile:
            return
        values = dataframe[column_name]
        missing = values.isna()
        if not profile.get("nullable", True) and missing.any():
            raise _Violation(
                "ProfileConstraint", column_name,
                f"{int(missing.sum())} missing values, but the real column has none.",
            )
        present = values[~missing]
        if "min" in profile and len(present):
            if self.column.get("sdtype") == "datetime":
                stamps = _as_datetime(present, self.column)
                low, high = pd.Timestamp(profile["min"]), pd.Timestamp(profile["max"])
                bad = present[(stamps < low) | (stamps > high)]
            else:
                numbers = pd.to_numeric(present, errors="coerce").astype("float64")
                low, high = profile["min"], profile["max"]
                slack = 1e-9 * max(1.0, abs(low), abs(high))
                bad = present[(numbers < low - slack) | (numbers > high + slack)]
            if len(bad):
                raise _Violation(
                    "ProfileConstraint", column_name,
                    f"{len(bad)} values outside the real range [{low}, {high}], e.g. {_examples(bad)}.",
                )
        if "categories" in profile and len(present):
            bad = present[~present.isin(profile["categories"])]
            if len(bad):  # second look, value by value, for dtype mismatches isin cannot see past
                allowed = set(profile["categories"])
                bad = bad[~bad.map(lambda v: _plain(v) in allowed).astype(bool)]
            if len(bad):
                raise _Violation(
                    "ProfileConstraint", column_name,
                    f"{len(bad)} values not among the real categories, e.g. {_examples(bad)}.",
                )


# -- the dagster type ------------------------------------------------------------------------------
def _pandas_columns(table_metadata: TableMetadata) -> list[PandasColumn]:
    unique_keys = {table_metadata.primary_key, *table_metadata.alternate_keys} - {None}
    columns = []
    for name, column in table_metadata.columns.items():
        constraints = []
        sdtype = column.get("sdtype")
        if sdtype in DtypeFamilyConstraint._FAMILIES and not table_metadata.is_generated(name):
            constraints.append(DtypeFamilyConstraint(sdtype))
        if name in unique_keys:
            constraints.append(KeyConstraint(unique=True))
        elif name == table_metadata.sequence_key:
            constraints.append(KeyConstraint(unique=False))
        constraints.append(ProfileConstraint(column))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dagster-pandas marks PandasColumn beta
            columns.append(PandasColumn(name, constraints=constraints, is_required=True))
    return columns


def table_dagster_type(table: str, table_metadata: TableMetadata, role: str = "synthetic") -> DagsterType:
    """A dagster-pandas DataFrame type for `table` (role 'real' or 'synthetic' names it)."""
    prefix = "Real" if role == "real" else "Synthetic"
    name = f"{prefix}_{table}"
    description = (
        f"{prefix} table `{table}`: the metadata's columns with sdtype-compatible dtypes, non-null "
        "unique keys" + ("; values within the real table's profile (ranges, categories, missing values)." if role != "real" else ".")
    )
    columns = _pandas_columns(table_metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_dagster_pandas_dataframe_type(
            name=name,
            description=description,
            columns=columns,
            dataframe_constraints=[NoExtraColumnsConstraint(list(table_metadata.columns))],
        )
