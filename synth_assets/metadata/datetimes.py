"""Datetime values stored as text or datetime64: parse them as SDV does, by `datetime_format`.

Text in a non-ISO format (`%d/%m/%Y`) must be parsed as dates, never compared as strings;
without a format, the first known format every value parses under is used (month-first before
day-first, as SDV).
"""

from __future__ import annotations

import warnings

import pandas as pd

# Tried in order when a text column has no datetime_format; the first that parses every value wins.
DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S%z",  # str() of tz-aware Timestamps: SDV 2.0 detects this one
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d %b %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%b %d, %Y %I:%M %p",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %d, %Y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y%m%d",
)
_SAMPLE = 1000
MIXED = "mixed"  # pandas' per-value parsing: the fallback when no single format fits
# A date needs a year and a day: short number ranges ("6-10") must not parse as this year's dates.
_DATE_LIKE = r"^(?=(?:\D*\d){6})(?=.*\d{4})"


def detect_datetime_format(values: pd.Series) -> str | None:
    """The first known format every (sampled) non-null text value parses under, else None."""
    sample = values.dropna().astype(str).head(_SAMPLE)
    if sample.empty or not sample.str.contains(r"\d").all():
        return None
    for fmt in DATETIME_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            return fmt
    return None


def parses_as_mixed_datetimes(values: pd.Series) -> bool:
    """Every (sampled) text value is a date pandas can read on its own (mixed formats or zones)."""
    sample = values.dropna().astype(str).head(_SAMPLE)
    if sample.empty or not sample.str.contains(_DATE_LIKE).all():
        return False
    return bool(_to_datetime(sample, MIXED).notna().all())


def is_text_datetime(values: pd.Series) -> bool:
    return not pd.api.types.is_datetime64_any_dtype(values) and not pd.api.types.is_numeric_dtype(values)


def parse_datetimes(values: pd.Series, datetime_format: str | None = None) -> pd.Series:
    """datetime64 values (NaT where a value does not parse); text is read with `datetime_format`,
    or with the format detected from the values, never alphabetically."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if datetime_format is None and is_text_datetime(values):
        datetime_format = detect_datetime_format(values) or MIXED
    return _to_datetime(values, datetime_format)


def _to_datetime(values: pd.Series, datetime_format: str | None) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": we tried ours
        try:
            return pd.to_datetime(values, format=datetime_format, errors="coerce")
        except (TypeError, ValueError):  # mixed time zones
            return pd.to_datetime(values, format=datetime_format, errors="coerce", utc=True)


def parse_datetime_value(value, datetime_format: str | None = None):
    """One value (a range bound) as a Timestamp, or None if it does not parse."""
    parsed = parse_datetimes(pd.Series([value], dtype=object), datetime_format)
    return None if pd.isna(parsed.iloc[0]) else parsed.iloc[0]
