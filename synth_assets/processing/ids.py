"""Generate id/key values in the real column's format and dtype, without reusing real ids."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from synth_assets.metadata.sdtypes import MODELLED_SDTYPES

_PREFIXED_NUMBER = re.compile(r"^(\D*?)(\d+)$")


def _consecutive(first: int, count: int) -> np.ndarray:
    """first, first + 1, ...: int64 when it fits, else exact Python ints (20-digit ids)."""
    if first + count < np.iinfo(np.int64).max:
        return np.arange(first, first + count, dtype=np.int64)
    return np.arange(count).astype(object) + first


class IdGenerator:
    """Learns the shape of an id column (int, prefix+digits, or regex) and produces unique values."""

    def __init__(self, regex_format: str | None = None):
        self.regex_format = regex_format
        self._kind = "int"
        self._dtype = np.dtype("int64")
        self._prefix = ""
        self._width = 0
        self._offset = 0
        # Regex ids: salted hashes of the real ids, so none is reused and no real id is stored.
        self._hash_key = os.urandom(8).hex()
        self._real_hashes = np.empty(0, dtype=np.uint64)

    def fit(self, values: pd.Series) -> "IdGenerator":
        self._dtype = values.dtype
        non_null = values.dropna()
        if self.regex_format is not None:
            self._kind = "regex"
            self._real_hashes = np.unique(self._hash(non_null))
        elif pd.api.types.is_numeric_dtype(values):
            self._kind = "int"
            # Synthetic ids start past the real ones, so none can be mistaken for a real entity.
            self._offset = int(non_null.max()) + 1 if len(non_null) else 0
        else:
            self._kind = "prefixed"
            text = non_null.astype(str)
            match = text.str.extract(_PREFIXED_NUMBER)
            if len(text) and match[0].notna().all() and match[0].nunique() == 1:
                self._prefix = match[0].iloc[0]
                widths = match[1].str.len()
                # Zero-padded ids keep their width; free-width ids do not need padding.
                self._width = int(widths.iloc[0]) if widths.nunique() == 1 and match[1].str.startswith("0").any() else 0
                # Python ints: a 20-digit id does not fit int64.
                self._offset = max(map(int, match[1].unique())) + 1
            else:
                self._prefix = "id_"
        return self

    def generate(self, num_rows: int, start: int = 0, seed=None) -> pd.Series:
        """`num_rows` unique ids; `start` lets callers draw disjoint id ranges."""
        numbers = _consecutive(self._offset + start, num_rows)
        if self._kind == "int":
            out = pd.Series(numbers)
            if pd.api.types.is_integer_dtype(self._dtype):
                if len(out) and out.iloc[-1] > np.iinfo(self._dtype).max:
                    raise ValueError(
                        f"new ids past the largest real id ({self._offset - 1}) do not fit the column's "
                        f"{self._dtype} dtype; store the key as text or a wider integer type."
                    )
                return out.astype(self._dtype)
            return out.astype("float64")
        if self._kind == "prefixed":
            digits = pd.Series(numbers).astype(str)
            if self._width:
                digits = digits.str.zfill(self._width)
            return (self._prefix + digits).astype(object)
        values = self._generate_regex(num_rows, start, seed)
        if pd.api.types.is_numeric_dtype(self._dtype):
            # A regex on an integer column (e.g. '[1-9][0-9]{4}') must still give numbers.
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.notna().all():
                return numbers.astype(self._dtype)
        return values

    def _hash(self, values: pd.Series) -> np.ndarray:
        return pd.util.hash_pandas_object(values.astype(str), index=False, hash_key=self._hash_key).to_numpy()

    def _generate_regex(self, num_rows: int, start: int, seed) -> pd.Series:
        """The pattern's values in order, real ids skipped; `start` skips earlier draws."""
        from rdt.transformers import RegexGenerator

        generator = RegexGenerator(regex_format=self.regex_format, cardinality_rule="unique")
        generator.fit(pd.DataFrame({"id": ["x"]}), "id")
        wanted = start + num_rows + len(self._real_hashes)
        values = generator.reverse_transform(pd.DataFrame(index=range(wanted)))["id"]
        values = values[~values.duplicated() & ~np.isin(self._hash(values), self._real_hashes)]
        if len(values) < start + num_rows:
            raise ValueError(
                f"regex_format {self.regex_format!r} has too few values for {num_rows} new ids beside "
                f"the {len(self._real_hashes)} real ones; widen the pattern."
            )
        return values.iloc[start : start + num_rows].reset_index(drop=True)


def _numeric_key(values: pd.Series) -> bool:
    """Integer-typed, or text of digits only (e.g. 20-digit account numbers)."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    text = values.dropna()
    return bool(len(text)) and bool(text.astype(str).str.fullmatch(r"\d+").all())


def key_generator(spec: dict, values: pd.Series, locales=("en_US",)):
    """The generator of a key column's new values, in the key's format and never a real value.

    Ids, and PII keys stored as numbers (a phone or account number used as a key), by `IdGenerator`:
    faker's "(555) 010-2345" would change the dtype and break joins. Other PII keys (an email used
    as a key) by faker, unique.
    """
    from synth_assets.processing.pii import PIIGenerator

    sdtype = spec["sdtype"]
    is_pii = sdtype != "id" and sdtype not in MODELLED_SDTYPES and spec.get("pii", True) is not False
    if not is_pii or _numeric_key(values):
        return IdGenerator(regex_format=spec.get("regex_format"))
    return PIIGenerator(sdtype, locales=locales, unique=True)
