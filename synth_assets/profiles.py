"""A profile of a real table, taken when a synthesizer is fitted and kept inside it: numeric /
datetime ranges (when min/max are enforced), category sets and which columns may be missing.
The Dagster layer's table types check each synthetic sample against it. Plain pandas; no Dagster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.metadata import TableMetadata

PROFILE_ATTR = "synth_assets_profile"
MAX_PROFILE_CATEGORIES = 1000
_PROFILES_ATTRIBUTE = "_synth_assets_profiles"


def as_datetime(values: pd.Series, column: dict) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values, format=column.get("datetime_format"), errors="coerce")


def plain(value):
    return value.item() if isinstance(value, np.generic) else value


def profile_table(data: pd.DataFrame, table_metadata: TableMetadata, enforce_min_max_values: bool = True) -> dict:
    """What a correct synthetic sample of `data` must respect, per column (JSON-friendly)."""
    columns = {}
    for name, column in table_metadata.columns.items():
        if name not in data.columns:
            continue
        values = data[name]
        entry: dict = {"nullable": bool(values.isna().any())}
        sdtype = column.get("sdtype")
        if table_metadata.is_generated(name) or name == table_metadata.sequence_key:
            columns[name] = {"nullable": entry["nullable"]}
            continue
        if sdtype == "numerical" and enforce_min_max_values:
            numbers = pd.to_numeric(values, errors="coerce").dropna()
            if len(numbers):
                entry["min"], entry["max"] = float(numbers.min()), float(numbers.max())
        elif sdtype == "datetime" and enforce_min_max_values:
            stamps = as_datetime(values, column).dropna()
            if len(stamps):
                entry["min"], entry["max"] = stamps.min().isoformat(), stamps.max().isoformat()
        elif sdtype in ("categorical", "boolean") or (sdtype not in ("numerical", "datetime", "id")):
            distinct = pd.unique(values.dropna())
            if len(distinct) <= MAX_PROFILE_CATEGORIES:
                entry["categories"] = [plain(v) for v in distinct]
        columns[name] = entry
    return {"num_rows": int(len(data)), "columns": columns}


def profile_sequences(data: pd.DataFrame, table_metadata: TableMetadata) -> dict:
    key = table_metadata.sequence_key
    return {"num_sequences": int(data[key].nunique())} if key and key in data.columns else {}


def store_profiles(synthesizer, profiles: dict) -> None:
    """Keep {table: profile} inside the fitted synthesizer (pickled with it)."""
    existing = dict(getattr(synthesizer, _PROFILES_ATTRIBUTE, None) or {})
    existing.update(profiles)
    setattr(synthesizer, _PROFILES_ATTRIBUTE, existing)


def stored_profile(synthesizer, table: str) -> dict | None:
    return (getattr(synthesizer, _PROFILES_ATTRIBUTE, None) or {}).get(table)


def attach_profile(frame: pd.DataFrame, profile: dict | None) -> pd.DataFrame:
    if profile is not None:
        frame.attrs[PROFILE_ATTR] = profile
    return frame
