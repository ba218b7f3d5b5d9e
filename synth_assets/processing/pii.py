"""PII columns: generated with faker in the requested locales, never learned from real values.

Only salted hashes of the real values are kept, so a fitted model holds no real PII, yet a faker
value that happens to equal a real one (a common name, say) is never emitted.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd

from synth_assets.metadata.sdtypes import PII_FAKER_METHODS

# Faker is called per value; a pool drawn once keeps large samples fast.
_POOL_SIZE = 5000


def _hash_values(values, salt: bytes) -> set[str]:
    return {hashlib.sha256(salt + str(v).encode()).hexdigest() for v in values}


class PIIGenerator:
    def __init__(self, sdtype: str, locales=("en_US",), unique: bool = False):
        self.sdtype = sdtype
        self.locales = list(locales)
        self.unique = unique
        self.function_name = PII_FAKER_METHODS.get(sdtype, sdtype)
        self._salt = os.urandom(16)
        self._real_hashes: set[str] = set()
        self._null_share = 0.0
        self._dtype = np.dtype(object)

    def fit(self, values: pd.Series) -> "PIIGenerator":
        from faker import Faker

        faker = Faker(self.locales)
        if not hasattr(faker, self.function_name):
            raise ValueError(
                f"column '{values.name}': no faker provider '{self.function_name}' for sdtype "
                f"'{self.sdtype}'; use a faker method name as the sdtype."
            )
        self._real_hashes = _hash_values(values.dropna().unique(), self._salt)
        self._null_share = float(values.isna().mean()) if len(values) else 0.0
        self._dtype = values.dtype
        return self

    def exclude(self, values: pd.Series) -> None:
        """Never emit these values either (real rows the model did not see, e.g. a holdout)."""
        self._real_hashes |= _hash_values(values.dropna().unique(), self._salt)

    def _fresh_values(self, faker, count: int) -> list:
        # With several locales faker picks one when the method is looked up: look it up per value
        # so the locales mix (a bound method would keep the first locale for every value).
        pick = (lambda: getattr(faker, self.function_name)) if len(self.locales) > 1 else None
        method = getattr(faker, self.function_name)
        values, seen, attempts = [], set(), 0
        while len(values) < count and attempts < count * 20 + 100:
            attempts += 1
            value = pick()() if pick else method()
            if self.unique and value in seen:
                continue
            if hashlib.sha256(self._salt + str(value).encode()).hexdigest() in self._real_hashes:
                continue
            seen.add(value)
            values.append(value)
        if len(values) < count:
            raise ValueError(
                f"could not generate {count} distinct '{self.sdtype}' values with faker; "
                "the provider has too few values for a unique column."
            )
        return values

    def generate(self, num_rows: int, seed=None) -> pd.Series:
        from faker import Faker

        faker = Faker(self.locales)
        rng = np.random.default_rng(seed)
        faker.seed_instance(int(rng.integers(2**31)))
        if self.unique or num_rows <= _POOL_SIZE:
            values = np.array(self._fresh_values(faker, num_rows), dtype=object)
        else:
            pool = np.array(self._fresh_values(faker, _POOL_SIZE), dtype=object)
            values = pool[rng.integers(0, len(pool), num_rows)]
        if self._null_share and not self.unique:
            values[rng.random(num_rows) < self._null_share] = None
        return pd.Series(values, dtype=object)
