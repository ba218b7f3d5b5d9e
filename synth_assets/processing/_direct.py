"""rdt transforms called without rdt's per-call wrapper, where that wrapper changes nothing.

rdt's public `transform` / `reverse_transform` copy the whole frame, drop and re-concatenate
columns and swap numpy's global random state in and out on every call: ~0.5 ms a column, about
half the time of sampling a small PAR panel. For transformers that draw no randomness in that
direction (numbers and datetimes with missing values taken from their is-null column, labels
without noise, category intervals back to categories), or draw it from their own state (our
uniform encoder), the result is exactly rdt's body, `_transform` / `_reverse_transform`, on the
column; everything else (and any input rdt would warn about) goes through the public method.
`tests/test_processing_direct.py` checks both paths agree for every transformer we use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rdt.transformers import FloatFormatter, LabelEncoder, UniformEncoder, UnixTimestampEncoder
from rdt.transformers.numerical import INTEGER_BOUNDS

from synth_assets.processing._uniform_encoder import VectorizedUniformEncoder


def draws_randomness(transformer, method: str) -> bool:
    """Whether `method` ('transform' or 'reverse_transform') of the transformer draws random
    numbers (and so needs its random state seeded)."""
    if isinstance(transformer, (FloatFormatter, UnixTimestampEncoder)):
        nulls = getattr(transformer, 'null_transformer', None)
        if nulls is None:  # not fitted: rdt's public method raises its own error
            return True
        replaced_randomly = method == 'transform' and nulls._missing_value_replacement == 'random'
        return replaced_randomly or nulls._missing_value_generation not in ('from_column', None)
    if isinstance(transformer, LabelEncoder):
        return method == 'transform' and transformer.add_noise
    if isinstance(transformer, UniformEncoder):
        return method == 'transform'  # a uniform draw inside the category's interval
    return True


def _direct(transformer, method: str) -> bool:
    """Whether rdt's body can run without the wrapper: no draws, or (our uniform encoder) draws
    from the transformer's own random state rather than numpy's global one."""
    if isinstance(transformer, VectorizedUniformEncoder):
        return True
    return not draws_randomness(transformer, method)


def transform(transformer, column: pd.Series) -> np.ndarray:
    """The values (n, k) of `transformer.transform(column.to_frame())`'s output columns."""
    if not _direct(transformer, 'transform') or list(transformer.columns) != [column.name]:
        return transformer.transform(column.to_frame())[transformer.output_columns].to_numpy(dtype=np.float64)
    if type(transformer) is FloatFormatter and _number(transformer.null_transformer._missing_value_replacement):
        return _float_transform(transformer, column)
    values = transformer._transform(column.copy())
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(column), -1)


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float, np.number)) and not isinstance(value, bool))


def _float_transform(transformer, column: pd.Series) -> np.ndarray:
    """FloatFormatter._transform in numpy (rdt's validation of integer columns kept)."""
    if not transformer.computer_representation.startswith('Float'):
        transformer._validate_values_within_bounds(column)
    values = column.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    null_transformer = transformer.null_transformer
    isna = np.isnan(values)
    replacement = null_transformer._missing_value_replacement
    if replacement is not None and isna.any():
        values[isna] = replacement
    if null_transformer._missing_value_generation == 'from_column':
        return np.column_stack([values, isna.astype(np.float64)])
    return values.reshape(-1, 1)


def reverse_transform(transformer, values: np.ndarray, names: list) -> pd.Series:
    """The column `transformer.reverse_transform(frame)` restores, where `values` (n, k) are its
    output columns `names` (label codes already rounded into range)."""
    name = transformer.columns[0]
    if not _direct(transformer, 'reverse_transform') or len(transformer.columns) != 1 or np.isnan(values).any():
        part = _part(transformer, values, names)
        return transformer.reverse_transform(part)[name].reset_index(drop=True)
    if type(transformer) is FloatFormatter:
        return _float_reverse(transformer, values).rename(name)
    part = _part(transformer, values, names)
    data = part.iloc[:, 0] if part.shape[1] == 1 else part
    result = transformer._reverse_transform(data)
    if isinstance(result, pd.Series):
        return result.reset_index(drop=True).rename(name)
    return pd.Series(result, name=name)


def _part(transformer, values, names) -> pd.DataFrame:
    """The output columns as rdt receives them (label codes as integers)."""
    part = pd.DataFrame(values, columns=list(names))
    if isinstance(transformer, LabelEncoder):
        part[names[0]] = part[names[0]].astype('int64')
    return part


def _float_reverse(transformer, data: np.ndarray) -> pd.Series:
    """FloatFormatter._reverse_transform in numpy: rdt's version clips and rounds a pandas
    Series (~1 ms a column); same steps, same order, same result (tested)."""
    null_transformer = transformer.null_transformer
    nulls = null_transformer.nulls and null_transformer._missing_value_generation == 'from_column'
    isna = data[:, 1] > 0.5 if nulls else None
    values = data[:, 0].copy()
    if transformer.enforce_min_max_values:
        values = _clip(values, transformer._min_value, transformer._max_value)
    elif not transformer.computer_representation.startswith('Float'):
        values = _clip(values, *INTEGER_BOUNDS[transformer.computer_representation])
    dtype = transformer._dtype
    is_integer = pd.api.types.is_integer_dtype(dtype)
    if transformer.learn_rounding_scheme and transformer._rounding_digits is not None:
        values = values.round(transformer._rounding_digits)
    elif is_integer:
        values = values.round(0)
    if isna is not None and isna.any():
        values[isna] = np.nan
        if is_integer and not pd.api.types.is_extension_array_dtype(dtype):
            return pd.Series(values)  # numpy integers cannot hold NaN: float64, as rdt does
    return pd.Series(values).astype(dtype)


def _clip(values: np.ndarray, low, high) -> np.ndarray:
    """pandas' clip, which rdt uses: a missing bound (an all-missing column learns NaN) is no bound."""
    low, high = (None if bound is None or pd.isna(bound) else bound for bound in (low, high))
    return values if low is None and high is None else np.clip(values, low, high)
