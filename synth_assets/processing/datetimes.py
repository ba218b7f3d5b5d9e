"""Datetime columns as the model sees them and as they come back.

Text datetimes are parsed with their `datetime_format` (or the format every value parses under)
and written back in it, so `%d/%m/%Y` is modelled and sorted as dates, not text. Every datetime
column keeps its real resolution: a column of dates comes back as dates, a tz-aware one in its
time zone without invented times of day.
"""

from __future__ import annotations

import pandas as pd

from synth_assets.metadata.datetimes import detect_datetime_format, is_text_datetime, parse_datetimes

# Coarsest first: the resolution is the coarsest unit every real value is a whole multiple of.
_UNITS = (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3))


def text_format(values: pd.Series, spec: dict) -> str | None:
    """The format to read and write a text datetime column in; None for datetime64 columns."""
    if not is_text_datetime(values):
        return None
    return spec.get("datetime_format") or detect_datetime_format(values)


def learn_resolution(values: pd.Series) -> str | None:
    """The coarsest unit ('D', 'h', 'min', ...) every value is a multiple of, in local wall time."""
    values = values.dropna()
    if values.empty:
        return None
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    nanoseconds = values.dt.as_unit("ns").astype("int64")
    for unit, size in _UNITS:
        if (nanoseconds % size == 0).all():
            return unit
    return None


def apply_resolution(values: pd.Series, unit: str | None) -> pd.Series:
    """Round to `unit` in local wall time, keeping the time zone."""
    if unit is None or not pd.api.types.is_datetime64_any_dtype(values):
        return values
    tz = values.dt.tz
    wall = values.dt.tz_localize(None) if tz is not None else values
    wall = wall.dt.round(unit)
    if tz is None:
        return wall
    return wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")


def to_text(values: pd.Series, datetime_format: str) -> pd.Series:
    """Datetimes back to text in the column's format; missing stays missing."""
    text = values.dt.strftime(datetime_format).astype(object)
    return text.where(values.notna(), None)


def sortable(values: pd.Series, spec: dict) -> pd.Series:
    """Values that sort in time order: text datetimes parsed, anything else unchanged."""
    if spec.get("sdtype") == "datetime" and is_text_datetime(values):
        return parse_datetimes(values, spec.get("datetime_format"))
    return values
