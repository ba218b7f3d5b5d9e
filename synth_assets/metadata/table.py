"""One table's metadata in SDV's single-table format."""

from __future__ import annotations

import copy
import warnings

import pandas as pd

from synth_assets.errors import InvalidDataError, InvalidMetadataError
from synth_assets.metadata.column_options import option_errors, value_errors
from synth_assets.metadata.data_checks import check_data_frame
from synth_assets.metadata.datetimes import parse_datetimes
from synth_assets.metadata.pii_detection import categorical_pii_warning
from synth_assets.metadata.sdtypes import (
    MODELLED_SDTYPES,
    NUMERICAL_REPRESENTATIONS,
    is_generated_column,
    is_known_sdtype,
)

_TABLE_KEYS = ("primary_key", "alternate_keys", "sequence_key", "sequence_index")


# The name this package used before it had SDV's error classes; kept so old imports work.
MetadataError = InvalidMetadataError


class TableMetadata:
    def __init__(
        self,
        columns: dict | None = None,
        primary_key: str | None = None,
        alternate_keys: list | None = None,
        sequence_key: str | None = None,
        sequence_index: str | None = None,
    ):
        self.columns: dict[str, dict] = copy.deepcopy(columns) if columns else {}
        self.primary_key = primary_key
        self.alternate_keys = list(alternate_keys or [])
        self.sequence_key = sequence_key
        self.sequence_index = sequence_index

    # -- SDV dict format -------------------------------------------------------------------------
    @classmethod
    def load_from_dict(cls, table_dict: dict) -> "TableMetadata":
        if not isinstance(table_dict, dict) or not isinstance(table_dict.get("columns", {}), dict):
            raise InvalidMetadataError("Table metadata must be a dict with a 'columns' mapping.")
        return cls(
            columns=table_dict.get("columns", {}),
            primary_key=table_dict.get("primary_key"),
            alternate_keys=table_dict.get("alternate_keys"),
            sequence_key=table_dict.get("sequence_key"),
            sequence_index=table_dict.get("sequence_index"),
        )

    def to_dict(self) -> dict:
        out: dict = {"columns": copy.deepcopy(self.columns)}
        for key in _TABLE_KEYS:
            value = getattr(self, key)
            if value:
                out[key] = copy.deepcopy(value)
        return out

    def copy(self) -> "TableMetadata":
        return TableMetadata.load_from_dict(self.to_dict())

    def __eq__(self, other):
        return isinstance(other, TableMetadata) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"TableMetadata({self.to_dict()!r})"

    # -- queries ---------------------------------------------------------------------------------
    def get_column_names(self, sdtype: str | None = None, **options) -> list[str]:
        names = []
        for name, spec in self.columns.items():
            if sdtype is not None and spec.get("sdtype") != sdtype:
                continue
            if any(spec.get(k) != v for k, v in options.items()):
                continue
            names.append(name)
        return names

    def is_generated(self, column: str) -> bool:
        return is_generated_column(self.columns[column])

    @property
    def key_columns(self) -> list[str]:
        keys = [self.primary_key, *self.alternate_keys, self.sequence_key]
        return [k for k in keys if k]

    def select_columns(self, names) -> "TableMetadata":
        names = list(names)
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise InvalidMetadataError(f"Columns {unknown} are not in the metadata.")
        keep = set(names)
        return TableMetadata(
            columns={n: self.columns[n] for n in names},
            primary_key=self.primary_key if self.primary_key in keep else None,
            alternate_keys=[k for k in self.alternate_keys if k in keep],
            sequence_key=self.sequence_key if self.sequence_key in keep else None,
            sequence_index=self.sequence_index if self.sequence_index in keep else None,
        )

    # -- edits (SDV method names) ----------------------------------------------------------------
    def update_column(self, column_name: str, **kwargs):
        if column_name not in self.columns:
            raise InvalidMetadataError(f"Column '{column_name}' is not in the metadata; add_column first.")
        spec = {"sdtype": kwargs.pop("sdtype")} if "sdtype" in kwargs else dict(self.columns[column_name])
        spec.update(kwargs)
        if "sdtype" in spec:  # refused now, as SDV does, not at fit; the column keeps its spec
            _require_known_sdtype(column_name, spec["sdtype"])
        self.columns[column_name] = spec

    def add_column(self, column_name: str, **kwargs):
        if column_name in self.columns:
            raise InvalidMetadataError(f"Column '{column_name}' already exists; use update_column.")
        if "sdtype" not in kwargs:
            raise InvalidMetadataError(f"Column '{column_name}' needs an 'sdtype'.")
        _require_known_sdtype(column_name, kwargs["sdtype"])
        self.columns[column_name] = dict(kwargs)

    # -- validation ------------------------------------------------------------------------------
    def validate(self, table_name: str = "table") -> None:
        errors = []
        for name, spec in self.columns.items():
            errors += [f"table '{table_name}', column '{name}': {e}" for e in _column_spec_errors(spec)]
        for key in ("primary_key", "sequence_key", "sequence_index"):
            value = getattr(self, key)
            if value is None:
                continue
            if not isinstance(value, str):
                errors.append(f"table '{table_name}': {key} must be a column name, got {value!r}.")
            elif value not in self.columns:
                errors.append(f"table '{table_name}': {key} '{value}' is not a column of the table.")
        for key in self.alternate_keys:
            if key not in self.columns:
                errors.append(f"table '{table_name}': alternate key '{key}' is not a column.")
        index = self.sequence_index
        if index in self.columns:
            if self.columns[index].get("sdtype") not in ("datetime", "numerical"):
                errors.append(
                    f"table '{table_name}': sequence_index '{index}' must be datetime or numerical, "
                    f"not {self.columns[index].get('sdtype')!r}."
                )
            if self.sequence_key is None:
                errors.append(f"table '{table_name}': a sequence_index needs a sequence_key.")
        if index is not None and index == self.sequence_key:
            errors.append(f"table '{table_name}': sequence_key and sequence_index must differ.")
        if errors:
            raise InvalidMetadataError("Invalid metadata:\n  " + "\n  ".join(errors))

    def key_value_errors(self, data: pd.DataFrame, table_name: str = "table") -> list[str]:
        """Primary and alternate keys present in `data` must be non-null and unique."""
        errors = []
        for key in [self.primary_key, *self.alternate_keys]:
            if key and key in data.columns:
                errors.extend(_key_errors(data[key], key, table_name))
        return errors

    def validate_data(self, data: pd.DataFrame, table_name: str = "table") -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"Data for table '{table_name}' must be a pandas DataFrame, got {type(data).__name__}.")
        check_data_frame(data, self, table_name)  # names, container cells, infinities: InvalidDataError
        errors = []
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            errors.append(f"table '{table_name}': data is missing columns {missing}.")
        extra = [c for c in data.columns if c not in self.columns]
        if extra:
            errors.append(
                f"table '{table_name}': columns {extra} are in the data but not in the metadata; "
                "add them to the metadata or drop them."
            )
        errors.extend(self.key_value_errors(data, table_name))
        for name in self.columns:
            if name in data.columns:
                found = [_check_column_values(data[name], self.columns[name])]
                found = [e for e in found if e] or value_errors(data[name], self.columns[name])
                errors += [f"table '{table_name}', column '{name}': {e}" for e in found]
        if errors:
            raise InvalidDataError(errors)
        _warn_categorical_pii(data, self.columns, table_name)


def _column_spec_errors(spec) -> list[str]:
    if not isinstance(spec, dict) or "sdtype" not in spec:
        return ["every column needs an 'sdtype'."]
    sdtype = spec["sdtype"]
    if _sdtype_errors(sdtype):
        return _sdtype_errors(sdtype)
    errors = option_errors(spec)
    rep = spec.get("computer_representation")
    if sdtype == "numerical" and rep is not None and rep not in NUMERICAL_REPRESENTATIONS:
        errors.append(f"unknown computer_representation {rep!r}.")
    if "pii" in spec and sdtype in MODELLED_SDTYPES:
        errors.append(f"'pii' only applies to PII sdtypes, not {sdtype!r}.")
    return errors


def _sdtype_errors(sdtype) -> list[str]:
    if is_known_sdtype(sdtype):
        return []
    return [
        f"unknown sdtype {sdtype!r}; use one of {sorted(MODELLED_SDTYPES | {'id', 'unknown'})} "
        f"or a PII sdtype such as 'email', 'city', 'phone_number' (all: synth_assets.metadata.SDTYPES)."
    ]


def _require_known_sdtype(column_name: str, sdtype) -> None:
    errors = _sdtype_errors(sdtype)
    if errors:
        raise InvalidMetadataError(f"column '{column_name}': {errors[0]}")


def _warn_categorical_pii(data: pd.DataFrame, columns: dict, table_name: str) -> None:
    for name, spec in columns.items():
        if spec.get("sdtype") == "categorical" and name in data.columns:
            reason = categorical_pii_warning(name, data[name])
            if reason:
                warnings.warn(f"table '{table_name}', column '{name}': {reason}", UserWarning, stacklevel=4)


def _key_errors(values: pd.Series, key: str, table_name: str) -> list[str]:
    errors = []
    if values.isna().any():
        errors.append(f"table '{table_name}', column '{key}': key column '{key}' has missing values.")
    duplicated = values[values.duplicated()].dropna().unique()[:5]
    if len(duplicated):
        errors.append(
            f"table '{table_name}', column '{key}': key column '{key}' has duplicate values, "
            f"e.g. {list(duplicated)}; keys must be unique."
        )
    return errors


def _check_column_values(values: pd.Series, spec: dict) -> str | None:
    sdtype = spec.get("sdtype")
    if sdtype == "numerical":
        if pd.api.types.is_bool_dtype(values) or not (
            pd.api.types.is_numeric_dtype(values) or _all_numeric_strings(values)
        ):
            return "sdtype 'numerical' needs numbers; change its sdtype or convert the column."
    elif sdtype == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(values):
            fmt = spec.get("datetime_format")
            parsed = parse_datetimes(values, fmt)
            bad = parsed.isna() & values.notna()
            if bad.any():
                example = values[bad].iloc[0]
                return (
                    f"value {example!r} does not parse as a datetime"
                    + (f" with datetime_format {fmt!r}" if fmt else "")
                    + "; fix the value or the datetime_format."
                )
    return None


def _all_numeric_strings(values: pd.Series) -> bool:
    converted = pd.to_numeric(values, errors="coerce")
    return bool((converted.notna() | values.isna()).all())
