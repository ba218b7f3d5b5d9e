"""One table's reversible processing: real columns <-> a numeric frame a model can learn.

Modelled columns (numerical, categorical, boolean, datetime) go through rdt transformers chosen from
the metadata; ids and PII are generated at sampling time and never reach a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synth_assets.metadata import TableMetadata
from synth_assets.processing import _direct
from synth_assets.metadata.sdtypes import MODELLED_SDTYPES
from synth_assets.processing.category_order import DependenceOrder, declared_order, ordinal_order
from synth_assets.processing.datetimes import apply_resolution, learn_resolution, text_format, to_text
from synth_assets.processing.ids import IdGenerator, key_generator
from synth_assets.processing.pii import PIIGenerator

CATEGORICAL_ENCODINGS = ("uniform", "label")


@dataclass(frozen=True)
class OutputColumn:
    name: str
    kind: str  # 'continuous' or 'discrete'
    n_categories: int | None
    source_column: str


def _modelled_sdtype(spec: dict) -> str:
    sdtype = spec["sdtype"]
    # A PII sdtype marked pii=False is not sensitive: SDV models it as categorical.
    return sdtype if sdtype in MODELLED_SDTYPES else "categorical"


class TableProcessor:
    def __init__(
        self,
        table_metadata: TableMetadata,
        table_name: str = "table",
        locales=("en_US",),
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        categorical_encoding: str = "uniform",
    ):
        if categorical_encoding not in CATEGORICAL_ENCODINGS:
            raise ValueError(f"categorical_encoding must be one of {CATEGORICAL_ENCODINGS}, got {categorical_encoding!r}.")
        self.table_metadata = table_metadata
        self.table_name = table_name
        self.locales = list(locales)
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.categorical_encoding = categorical_encoding
        self.output_columns: list[OutputColumn] = []
        self._transformers: dict = {}
        self._generators: dict = {}
        self._columns: list[str] = []
        self._dtypes: dict = {}
        self._text_formats: dict = {}  # text datetime column -> the format it is read and written in
        self._resolutions: dict = {}  # datetime column -> its real resolution ('D', 'h', ...)
        self._fitted = False

    # -- choosing transformers -------------------------------------------------------------------
    def _make_transformer(self, spec: dict):
        from rdt.transformers import FloatFormatter, LabelEncoder, UnixTimestampEncoder

        sdtype = _modelled_sdtype(spec)
        if sdtype == "numerical":
            return FloatFormatter(
                missing_value_replacement="mean",
                missing_value_generation="from_column",
                learn_rounding_scheme=self.enforce_rounding,
                enforce_min_max_values=self.enforce_min_max_values,
                computer_representation=spec.get("computer_representation", "Float"),
            )
        if sdtype == "datetime":
            return UnixTimestampEncoder(
                missing_value_replacement="mean",
                missing_value_generation="from_column",
                # Text datetimes reach rdt parsed (see _prepare_column) and leave it as datetime64.
                datetime_format=None,
                enforce_min_max_values=self.enforce_min_max_values,
            )
        if self.categorical_encoding == "label":
            return LabelEncoder(missing_value_encoding="new_category")
        from synth_assets.processing._uniform_encoder import VectorizedUniformEncoder

        return VectorizedUniformEncoder(missing_value_encoding="new_category")

    def _make_generator(self, name: str, spec: dict, values: pd.Series):
        if name in self.table_metadata.key_columns:
            return key_generator(spec, values, self.locales)
        if spec["sdtype"] == "id":
            return IdGenerator(regex_format=spec.get("regex_format"))
        return PIIGenerator(spec["sdtype"], locales=self.locales)

    # -- fit / transform -------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, validate: bool = True) -> "TableProcessor":
        """Learn the encoders and generators; `validate=False` only for data the caller has
        already checked against this same table metadata."""
        if validate:
            self.table_metadata.validate_data(data, self.table_name)
        self._columns = list(self.table_metadata.columns)
        self._dtypes = {c: data[c].dtype for c in self._columns}
        self._transformers, self._generators, self.output_columns = {}, {}, []
        self._learn_datetimes(data)
        numbers = {}
        for name in self._columns:
            spec = self.table_metadata.columns[name]
            if self.table_metadata.is_generated(name):
                self._generators[name] = self._make_generator(name, spec, data[name]).fit(data[name])
                continue
            transformer = self._make_transformer(spec)
            column = self._prepare_column(name, data[name])
            try:
                transformer.fit(column.to_frame(), name)
                encoded = transformer.transform(column.to_frame())
            except Exception as error:  # rdt's messages do not say which table
                raise ValueError(f"table '{self.table_name}', column '{name}': cannot be processed: {error}") from error
            self._transformers[name] = transformer
            self.output_columns.extend(self._describe_outputs(name, transformer, encoded))
            if _modelled_sdtype(spec) in ("numerical", "datetime"):
                numbers[name] = encoded[name].to_numpy()
        if self.categorical_encoding == "uniform":
            self._order_categories(data, pd.DataFrame(numbers))
        self._fitted = True
        return self

    def _learn_datetimes(self, data: pd.DataFrame) -> None:
        self._text_formats, self._resolutions = {}, {}
        for name in self._columns:
            spec = self.table_metadata.columns[name]
            if self.table_metadata.is_generated(name) or _modelled_sdtype(spec) != "datetime":
                continue
            datetime_format = text_format(data[name], spec)
            if datetime_format is not None:
                self._text_formats[name] = datetime_format
            values = self._prepare_column(name, data[name])
            if pd.api.types.is_datetime64_any_dtype(values):
                self._resolutions[name] = learn_resolution(values)

    def _order_categories(self, data: pd.DataFrame, numbers: pd.DataFrame) -> None:
        """Lay out each category column's intervals so its link to the numbers is monotone."""
        orderer = None
        for name, transformer in self._transformers.items():
            spec = self.table_metadata.columns[name]
            declared = declared_order(spec)
            if hasattr(transformer, "reorder") and declared is not None:
                # The declared order is the model's order: neighbours in it get nearby intervals.
                transformer.reorder(ordinal_order(list(transformer.intervals), declared))
            elif hasattr(transformer, "reorder"):
                orderer = orderer or DependenceOrder(numbers)
                order = orderer.order(self._prepare_column(name, data[name]))
                if order is not None:
                    transformer.reorder(order)

    def _prepare_column(self, name: str, values: pd.Series) -> pd.Series:
        sdtype = _modelled_sdtype(self.table_metadata.columns[name])
        if sdtype == "numerical" and not pd.api.types.is_numeric_dtype(values):
            values = pd.to_numeric(values, errors="coerce")
        if sdtype == "numerical" and pd.api.types.is_extension_array_dtype(values):
            # Int64/Float64: rdt compares min() with integer bounds, and an all-missing batch's
            # min() is pd.NA, which raises; _restore_dtype casts back.
            values = values.astype("float64")
        if sdtype == "datetime" and name in self._text_formats:
            values = pd.to_datetime(values, format=self._text_formats[name], errors="coerce")
        if sdtype == "datetime" and pd.api.types.is_datetime64_any_dtype(values) and values.dt.unit != "ns":
            # rdt encodes datetime64[ms]/[s]/[us] as integers of that unit but decodes them as
            # nanoseconds (every value comes back near 1970); _restore_dtype casts back.
            values = values.dt.as_unit("ns")
        if sdtype == "boolean":
            # Booleans are encoded as categories; object keeps NaN alongside True/False.
            values = values.astype(object)
        return values.rename(name)

    def _describe_outputs(self, name, transformer, encoded: pd.DataFrame) -> list[OutputColumn]:
        outputs = []
        for column in encoded.columns:
            if column == name and hasattr(transformer, "values_to_categories") and self.categorical_encoding == "label":
                outputs.append(OutputColumn(column, "discrete", len(transformer.values_to_categories), name))
            elif column != name and self.categorical_encoding == "label":
                outputs.append(OutputColumn(column, "discrete", 2, name))  # the is-null indicator
            else:
                outputs.append(OutputColumn(column, "continuous", None, name))
        return outputs

    @property
    def modelled_columns(self) -> list[str]:
        return list(self._transformers)

    @property
    def generated_columns(self) -> list[str]:
        return list(self._generators)

    def _require_fitted(self):
        if not self._fitted:
            raise ValueError(f"The processor for table '{self.table_name}' is not fitted; call fit first.")

    def _seed_transformers(self, seed, method_name: str) -> None:
        """rdt draws noise from per-transformer random states; seeding them makes runs repeatable."""
        if seed is None:
            return
        rng = np.random.default_rng(seed)
        for transformer in self._transformers.values():
            child = int(rng.integers(2**31))  # drawn for every transformer: the others' streams stay put
            if _direct.draws_randomness(transformer, method_name):
                transformer.set_random_state(np.random.RandomState(child), method_name)

    def transform(self, data: pd.DataFrame, seed=None) -> pd.DataFrame:
        self._require_fitted()
        self._seed_transformers(seed, "transform")
        parts, names = [], []
        for name, transformer in self._transformers.items():
            if name not in data.columns:
                raise ValueError(f"table '{self.table_name}': column '{name}' is missing from the data.")
            parts.append(_direct.transform(transformer, self._prepare_column(name, data[name])))
            names.extend(transformer.output_columns)
        if not parts:
            return pd.DataFrame(index=pd.RangeIndex(len(data)))
        return pd.DataFrame(np.column_stack(parts), columns=names)

    # -- reverse ---------------------------------------------------------------------------------
    def reverse_transform(self, encoded: pd.DataFrame, seed=None) -> pd.DataFrame:
        """Model output back to the real table's columns, order and dtypes; ids and PII generated."""
        self._require_fitted()
        self._seed_transformers(seed, "reverse_transform")
        num_rows = len(encoded)
        output_names = {c.source_column: [] for c in self.output_columns}
        for column in self.output_columns:
            output_names[column.source_column].append(column.name)
        position = {name: i for i, name in enumerate(encoded.columns)}
        values = encoded.to_numpy(dtype=np.float64)  # one array: column picks cost no pandas copies
        columns = {}
        for name, transformer in self._transformers.items():
            part = values[:, [position[c] for c in output_names[name]]]
            if self.categorical_encoding == "label" and hasattr(transformer, "values_to_categories"):
                part[:, 0] = np.clip(np.round(part[:, 0]), 0, len(transformer.values_to_categories) - 1)
            reversed_column = _direct.reverse_transform(transformer, part, output_names[name])
            columns[name] = self._restore_dtype(name, self._format_output(name, reversed_column))
        generated = self.generate_columns(num_rows, seed=seed)
        for name in self._generators:
            columns[name] = generated[name]
        return pd.DataFrame({name: columns[name] for name in self._columns})

    def exclude_real_values(self, data: pd.DataFrame) -> None:
        """Add real PII values beyond the fitted rows (e.g. a holdout) to those never generated."""
        self._require_fitted()
        for name, generator in self._generators.items():
            if isinstance(generator, PIIGenerator) and name in data.columns:
                generator.exclude(data[name])

    def generate_columns(self, num_rows: int, seed=None, start: int = 0) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        out = {}
        for name, generator in self._generators.items():
            child_seed = int(rng.integers(2**31))
            if isinstance(generator, IdGenerator):
                out[name] = generator.generate(num_rows, start=start, seed=child_seed)
            else:
                out[name] = generator.generate(num_rows, seed=child_seed)
        return pd.DataFrame(out, index=pd.RangeIndex(num_rows))

    def _format_output(self, name: str, values: pd.Series) -> pd.Series:
        """Datetimes at their real resolution (and in their text format); numbers rounded to
        `decimal_places`, which SDV applies whatever `enforce_rounding` says."""
        spec = self.table_metadata.columns[name]
        if _modelled_sdtype(spec) == "datetime":
            values = apply_resolution(values, getattr(self, "_resolutions", {}).get(name))
            text = getattr(self, "_text_formats", {}).get(name)
            return to_text(values, text) if text and pd.api.types.is_datetime64_any_dtype(values) else values
        places = spec.get("decimal_places")
        if places is None or _modelled_sdtype(spec) != "numerical":
            return values
        return pd.to_numeric(values, errors="coerce").round(int(places))

    def _restore_dtype(self, name: str, values: pd.Series) -> pd.Series:
        dtype = self._dtypes[name]
        values = values.reset_index(drop=True)
        if values.dtype == dtype:
            return values
        try:
            # numpy bool/int cannot hold NaN; nullable extension dtypes (boolean, Int64) can.
            if (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)) and not (
                pd.api.types.is_extension_array_dtype(dtype)
            ):
                if values.isna().any():
                    return values.astype(object if pd.api.types.is_bool_dtype(dtype) else "float64")
            return values.astype(dtype)
        except (TypeError, ValueError):
            return values
