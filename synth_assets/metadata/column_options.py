"""SDV's per-column options: `range_min`/`range_max`, `decimal_places`, `range_values`,
`range_is_nullable`, `datetime_format`, `regex_format`, `pii`.

`option_errors` checks the options themselves (as SDV's metadata validation does);
`value_errors` checks data against them (as SDV's `validate_data` does).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from synth_assets.metadata.datetimes import parse_datetime_value, parse_datetimes

_BOOL_OPTIONS = ("range_is_nullable", "pii", "high_cardinality")


def option_errors(spec: dict) -> list[str]:
    sdtype = spec.get("sdtype")
    errors = [f"'{k}' must be True or False, got {spec[k]!r}." for k in _BOOL_OPTIONS if k in spec and not isinstance(spec[k], bool)]
    if sdtype == "numerical":
        errors += _numerical_option_errors(spec)
    elif sdtype == "datetime":
        errors += _datetime_option_errors(spec)
    elif sdtype in ("categorical", "ordinal") and "range_values" in spec:
        values = spec["range_values"]
        if not isinstance(values, list) or not values or any(pd.isna(v) for v in values):
            errors.append("'range_values' must be a non-empty list without nulls (use range_is_nullable for nulls).")
    elif sdtype == "id" and spec.get("regex_format") is not None:
        try:
            re.compile(spec["regex_format"])
        except (re.error, TypeError):
            errors.append(f"invalid regex_format {spec['regex_format']!r}.")
    return errors


def _numerical_option_errors(spec: dict) -> list[str]:
    errors = []
    bounds = {k: spec[k] for k in ("range_min", "range_max") if k in spec}
    bad = [k for k, v in bounds.items() if isinstance(v, bool) or not pd.api.types.is_number(v)]
    errors += [f"'{k}' must be a number, got {bounds[k]!r}." for k in bad]
    if not bad and len(bounds) == 2 and bounds["range_max"] < bounds["range_min"]:
        errors.append("'range_max' is less than 'range_min'.")
    places = spec.get("decimal_places")
    if "decimal_places" in spec and (isinstance(places, bool) or not isinstance(places, (int, np.integer)) or places < 0):
        errors.append(f"'decimal_places' must be an integer >= 0, got {places!r}.")
    return errors


def _datetime_option_errors(spec: dict) -> list[str]:
    fmt = spec.get("datetime_format")
    if fmt is not None:
        try:
            rendered = datetime(2001, 2, 3, 4, 5, 6).strftime(fmt)
        except (TypeError, ValueError):
            rendered = "%"
        if not isinstance(fmt, str) or re.search("%", rendered):
            return [f"invalid datetime_format {fmt!r}."]
    errors = []
    bounds = {}
    for key in ("range_min", "range_max"):
        if key in spec:
            bounds[key] = parse_datetime_value(spec[key], fmt)
            if bounds[key] is None:
                errors.append(f"'{key}' {spec[key]!r} is not a datetime" + (f" in datetime_format {fmt!r}." if fmt else "."))
    if not errors and len(bounds) == 2 and _less(bounds["range_max"], bounds["range_min"]):
        errors.append("'range_max' is before 'range_min'.")
    return errors


def _less(a, b) -> bool:
    try:
        return bool(a < b)
    except TypeError:  # tz-aware against naive: not comparable, nothing to say
        return False


def value_errors(values: pd.Series, spec: dict) -> list[str]:
    """Data that breaks the column's declared ranges, decimal places or nullability."""
    errors = []
    sdtype = spec.get("sdtype")
    if spec.get("range_is_nullable") is False and values.isna().any():
        errors.append("has missing values but range_is_nullable is False.")
    non_null = values.dropna()
    if sdtype in ("numerical", "datetime"):
        errors += _out_of_range(non_null, spec)
    if sdtype == "numerical" and spec.get("decimal_places") is not None and len(non_null):
        from rdt.transformers.utils import learn_rounding_digits

        digits = learn_rounding_digits(pd.to_numeric(non_null, errors="coerce").astype(float))
        if digits is not None and digits > spec["decimal_places"]:
            errors.append(f"values have more than decimal_places={spec['decimal_places']} decimals.")
    if sdtype in ("categorical", "ordinal") and isinstance(spec.get("range_values"), list):
        unknown = non_null[~non_null.isin(spec["range_values"])].drop_duplicates().head(3).tolist()
        if unknown:
            errors.append(f"values {unknown} are not in range_values; add them or fix the data.")
    return errors


def _out_of_range(values: pd.Series, spec: dict) -> list[str]:
    low, high = spec.get("range_min"), spec.get("range_max")
    if (low is None and high is None) or values.empty:
        return []
    if spec.get("sdtype") == "datetime":
        fmt = spec.get("datetime_format")
        values = parse_datetimes(values, fmt).dropna()
        low = parse_datetime_value(low, fmt) if low is not None else None
        high = parse_datetime_value(high, fmt) if high is not None else None
    else:
        values = pd.to_numeric(values, errors="coerce").dropna()
    try:
        outside = values[(values < low if low is not None else False) | (values > high if high is not None else False)]
    except TypeError:  # tz-aware values against a naive bound
        return []
    if outside.empty:
        return []
    examples = [str(v) for v in outside.drop_duplicates().head(3).tolist()]
    return [f"values {examples} are outside range_min={spec.get('range_min')!r} / range_max={spec.get('range_max')!r}."]
