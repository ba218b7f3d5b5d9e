"""What every synthesizer shares: metadata handling, parameters, fit/sample contract, save."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.errors import NotFittedError, SynthesizerInputError
from synth_assets.metadata import Metadata

# Adam-style optimisers diverge long before a step size of 1 (1e3 trains to losses of 1e10),
# so learning rates outside (0, 1] are refused rather than trained.
LEARNING_RATE_RANGE = (0.0, 1.0)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise SynthesizerInputError(f"`{name}` must be True or False, got {value!r}.")
    return bool(value)


def check_locales(locales) -> list[str]:
    if isinstance(locales, str):
        locales = [locales]
    if not isinstance(locales, (list, tuple)) or not locales or not all(isinstance(x, str) for x in locales):
        raise TypeError(f"`locales` must be a non-empty list of locale strings such as ['en_US'], got {locales!r}.")
    from faker.config import AVAILABLE_LOCALES

    unknown = [x for x in locales if x not in AVAILABLE_LOCALES]
    if unknown:
        raise ValueError(f"`locales` has unknown locales {unknown}; see faker's list of locales.")
    return list(locales)


def check_positive_int(name: str, value, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        bound = "a non-negative" if allow_zero else "a positive"
        raise SynthesizerInputError(f"`{name}` must be {bound} integer, got {value!r}.")
    return int(value)


def check_finite_float(name: str, value, low=None, high=None, *, low_open=False, high_open=False) -> float:
    """`value` as a float, refused unless it is a finite real number within [low, high].

    `low_open` / `high_open` exclude that bound; `None` leaves a side unbounded. The one check every
    synthesizer uses for float parameters, so nan/inf never reach training.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SynthesizerInputError(f"`{name}` must be a number, got {value!r}.")
    value = float(value)
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if not np.isfinite(value) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"{left}{-np.inf if low is None else low:g}, {np.inf if high is None else high:g}{right}"
        raise SynthesizerInputError(f"`{name}` must be a finite number in {bounds}, got {value!r}.")
    return value


def check_learning_rate(name: str, value) -> float:
    low, high = LEARNING_RATE_RANGE
    return check_finite_float(name, value, low, high, low_open=True)


class CopiesInputWarning(UserWarning):
    """The input is too small to learn a distribution from: the synthetic data copies it."""


def warn_if_copies_input(table_name: str, count: int, unit: str = "row") -> None:
    """One row (or one sequence) has no spread to learn, so every synthetic one repeats it."""
    import warnings

    if count == 1:
        warnings.warn(
            f"table '{table_name}' has a single {unit}: the synthetic {unit}s will copy it (values, and "
            f"with them any real information it holds). Fit on more {unit}s to get new data.",
            CopiesInputWarning,
            stacklevel=3,
        )


def check_random_state(random_state, name: str = "random_state"):
    if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
        raise SynthesizerInputError(f"`{name}` must be an int or None, got {random_state!r}.")
    return random_state


def to_metadata(metadata) -> Metadata:
    if isinstance(metadata, Metadata):
        metadata = metadata.copy()
    elif isinstance(metadata, dict):
        metadata = Metadata.load_from_dict(metadata)
    elif hasattr(metadata, "to_dict"):  # e.g. an SDV Metadata object
        metadata = Metadata.load_from_dict(metadata.to_dict())
    else:
        raise TypeError(f"`metadata` must be a synth_assets Metadata (or an SDV metadata dict), got {type(metadata).__name__}.")
    metadata.validate()
    return metadata


def single_table_data(data, table_name: str) -> pd.DataFrame:
    """A DataFrame, or SDV 2.x's one-entry {table_name: DataFrame} dict."""
    if isinstance(data, dict):
        if len(data) != 1:
            raise ValueError(f"A single-table synthesizer takes one table; got tables {list(data)}.")
        (name, frame), = data.items()
        if name != table_name:
            raise ValueError(f"Table '{name}' is not in the metadata; this synthesizer models '{table_name}'.")
        data = frame
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if data.empty:
        raise ValueError(f"The data for table '{table_name}' is empty; fit needs at least one row.")
    return data


class BaseSynthesizer:
    """Shared by the single-table and sequential synthesizers."""

    _parameter_names: tuple[str, ...] = ("enforce_min_max_values", "enforce_rounding", "locales")

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True, locales=("en_US",)):
        self.metadata = to_metadata(metadata)
        self.table_name = self.metadata.get_single_table_name()
        self.enforce_min_max_values = check_bool("enforce_min_max_values", enforce_min_max_values)
        self.enforce_rounding = check_bool("enforce_rounding", enforce_rounding)
        self.locales = check_locales(locales)
        self._fitted = False
        self._random_state = None
        self._rng = np.random.default_rng()

    @property
    def table_metadata(self):
        return self.metadata.get_table_metadata(self.table_name)

    def get_parameters(self) -> dict:
        """The parameters given at creation (defaults included); a copy."""
        import copy

        return {name: copy.deepcopy(getattr(self, name)) for name in self._parameter_names}

    def get_metadata(self) -> Metadata:
        return self.metadata.copy()

    def set_random_state(self, random_state) -> None:
        """Make sampling reproducible: the same seed gives the same rows."""
        self._random_state = check_random_state(random_state)
        self._rng = np.random.default_rng(random_state)

    def reset_sampling(self) -> None:
        self._rng = np.random.default_rng(self._random_state)

    def _require_fitted(self):
        if not self._fitted:
            raise NotFittedError(f"This {type(self).__name__} has not been fitted; call fit(data) first.")

    def _next_seed(self) -> int:
        return int(self._rng.integers(2**31))

    def _processors(self) -> list:
        """The fitted processors that generate this synthesizer's PII columns."""
        return [self._processor]

    def exclude_real_values(self, data: pd.DataFrame) -> None:
        """Never emit the PII values of `data` (real rows that were not fitted, e.g. a holdout)."""
        self._require_fitted()
        for processor in self._processors():
            processor.exclude_real_values(data)

    def save(self, filepath) -> None:
        from synth_assets.persistence import save_synthesizer

        save_synthesizer(self, filepath)

    @classmethod
    def load(cls, filepath):
        from synth_assets.persistence import load_synthesizer

        return load_synthesizer(filepath, expected_type=cls)


class SingleTableSynthesizer(BaseSynthesizer):
    """fit = process the table, then `_fit_encoded`; sample = `_sample_encoded`, then reverse.

    Subclasses implement `_fit_encoded(encoded, processor)` (assign state only once the model is
    fitted, so a failed refit keeps the previous model) and `_sample_encoded(num_rows)`.
    """

    _categorical_encoding = "uniform"

    def fit(self, data) -> None:
        """Learn from `data` (a DataFrame or {table_name: DataFrame}); refitting starts from scratch."""
        self._fit(data, validate=True)

    def _fit(self, data, validate: bool) -> None:
        """`fit`; `validate=False` skips the metadata check for data a multi-table fit already checked."""
        import time

        from synth_assets.processing import TableProcessor

        data = single_table_data(data, self.table_name)
        warn_if_copies_input(self.table_name, len(data))
        started = time.perf_counter()
        processor = TableProcessor(
            self.table_metadata,
            self.table_name,
            locales=self.locales,
            enforce_min_max_values=self.enforce_min_max_values,
            enforce_rounding=self.enforce_rounding,
            categorical_encoding=self._categorical_encoding,
        ).fit(data, validate=validate)
        self._fit_encoded(processor.transform(data, seed=0), processor)
        self._processor = processor
        self._fitted = True
        self.reset_sampling()
        self.fit_seconds = time.perf_counter() - started

    def sample(self, num_rows: int, output_file_path=None) -> pd.DataFrame:
        """`num_rows` synthetic rows; also written atomically to `output_file_path` when given."""
        self._require_fitted()
        num_rows = check_positive_int("num_rows", num_rows, allow_zero=True)
        synthetic = self._processor.reverse_transform(self._sample_encoded(num_rows), seed=self._next_seed())
        if output_file_path is not None:
            from synth_assets.persistence import atomic_write_dataframe

            atomic_write_dataframe(synthetic, output_file_path)
        return synthetic
