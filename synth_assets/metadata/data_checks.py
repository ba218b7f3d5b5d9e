"""Data no synthesizer can model, refused up front with the table, the column and what to do.

Called first by `TableMetadata.validate_data`, which every synthesizer (single-table, PAR,
multi-table) runs before fitting, so the rules hold everywhere:
- column names must be unique strings (pandas otherwise fails deep inside with a confusing error);
- cells must be scalars: a list, dict, set, tuple or array in a cell cannot be a category or a number;
- numerical columns must not hold ±inf. Infinity is refused, not modelled: it has no place on a
  quantile grid or in a network's input, and turning it into a missing value silently changes the
  data. Replace it with NaN (then modelled as a missing value) or a finite cap before fitting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.errors import InvalidDataError

_CONTAINERS = (list, dict, set, frozenset, tuple, np.ndarray)
# pandas' inferred kinds that cannot hide a container cell.
_SCALAR_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "decimal", "boolean",
                 "datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period", "bytes"}


def check_data_frame(data: pd.DataFrame, table_metadata, table_name: str) -> None:
    """Raise `InvalidDataError` for odd column names, container cells and infinite numbers."""
    _check_column_names(data, table_name)
    errors = []
    for name, spec in table_metadata.columns.items():
        if name not in data.columns:
            continue  # validate_data reports missing columns
        error = _container_cell_error(data[name]) or (
            _infinity_error(data[name]) if spec.get("sdtype") == "numerical" else None
        )
        if error:
            errors.append(f"table '{table_name}', column '{name}': {error}")
    if errors:
        raise InvalidDataError(errors)


def _check_column_names(data: pd.DataFrame, table_name: str) -> None:
    names = list(data.columns)
    not_strings = [name for name in names if not isinstance(name, str)]
    if not_strings:
        raise InvalidDataError(
            f"table '{table_name}': column names must be strings, got {not_strings[:5]}; "
            "rename them, e.g. data.columns = data.columns.map(str)."
        )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InvalidDataError(
            f"table '{table_name}': duplicate column names {duplicated}; each column must have one name, rename or drop the copies."
        )


def _container_cell_error(values: pd.Series) -> str | None:
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _SCALAR_KINDS:
        return None
    is_container = values.map(lambda value: isinstance(value, _CONTAINERS))
    if not is_container.any():
        return None
    example = values[is_container].iloc[0]
    return (
        f"{int(is_container.sum())} cells hold a {type(example).__name__} (e.g. {str(example)[:60]}); "
        "cells must be single values: flatten the column (e.g. one column per field, or a string) before fitting."
    )


def _infinity_error(values: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(values):
        return None
    if not pd.api.types.is_numeric_dtype(values):
        values = pd.to_numeric(values, errors="coerce")  # numbers stored as text: "inf" counts too
    numbers = pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(numbers)
    if not infinite.any():
        return None
    positive, negative = int((numbers == np.inf).sum()), int((numbers == -np.inf).sum())
    return (
        f"{int(infinite.sum())} of {len(numbers)} values are infinite ({positive} +inf, {negative} -inf); "
        "synthesizers do not model infinity. Replace them with NaN (modelled as missing values) or clip "
        "them to a finite bound, e.g. data[column].replace([np.inf, -np.inf], np.nan)."
    )
