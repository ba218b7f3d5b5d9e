"""The wrapper-free rdt calls in processing/_direct.py give exactly rdt's public results."""

import copy

import numpy as np
import pandas as pd
import pytest
from rdt.transformers import FloatFormatter, LabelEncoder, UniformEncoder, UnixTimestampEncoder

from synth_assets.processing import _direct
from synth_assets.processing._uniform_encoder import VectorizedUniformEncoder

RNG = np.random.default_rng(0)
FLOATS = pd.Series(RNG.normal(50, 20, 300).round(2), name="x")
WITH_NANS = FLOATS.where(RNG.random(300) > 0.2)
INTS = pd.Series(RNG.integers(0, 90, 300), name="x")
DATES = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(RNG.integers(0, 900, 300), unit="D"), name="x")
CATEGORIES = pd.Series(RNG.choice(["a", "b", "c", None], 300), name="x")


def _float(**kwargs):
    return FloatFormatter(missing_value_replacement="mean", missing_value_generation="from_column", **kwargs)


CASES = [
    (_float(), FLOATS),
    (_float(), WITH_NANS),
    (_float(enforce_min_max_values=True, learn_rounding_scheme=True), WITH_NANS),
    (_float(learn_rounding_scheme=True), INTS),
    (_float(enforce_min_max_values=True, learn_rounding_scheme=True), INTS.astype(float).where(INTS > 10)),
    (_float(computer_representation="Int8"), INTS),
    (UnixTimestampEncoder(missing_value_replacement="mean", missing_value_generation="from_column",
                          enforce_min_max_values=True), DATES.where(INTS > 5)),
    (LabelEncoder(missing_value_encoding="new_category"), CATEGORIES),
    (UniformEncoder(missing_value_encoding="new_category"), CATEGORIES),
    (VectorizedUniformEncoder(missing_value_encoding="new_category"), CATEGORIES),
]


@pytest.mark.parametrize("transformer, column", CASES, ids=lambda v: type(v).__name__)
def test_transform_and_reverse_equal_rdt_public_methods(transformer, column):
    transformer.fit(column.to_frame(), "x")
    public = copy.deepcopy(transformer)
    encoded = public.transform(column.to_frame())
    ours = _direct.transform(copy.deepcopy(transformer), column)
    np.testing.assert_array_equal(ours, encoded[transformer.output_columns].to_numpy(dtype=float))
    # Model output: the encoding moved and pushed past the real range, as a model's sample is.
    noisy = encoded.copy()
    first = noisy.columns[0]
    spread = noisy[first].std() if noisy[first].std() > 0 else 1.0
    noisy[first] = noisy[first] + np.random.default_rng(1).normal(0, spread, len(noisy))
    if isinstance(transformer, LabelEncoder):
        noisy[first] = noisy[first].round().clip(0, len(transformer.values_to_categories) - 1).astype("int64")
    if isinstance(transformer, UniformEncoder):
        noisy[first] = noisy[first].clip(0, 1)
    expected = copy.deepcopy(transformer).reverse_transform(noisy.copy())["x"]
    got = _direct.reverse_transform(copy.deepcopy(transformer), noisy.to_numpy(dtype=float), list(noisy.columns))
    pd.testing.assert_series_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_only_transformers_without_random_draws_skip_seeding():
    random_nulls = FloatFormatter(missing_value_replacement="random", missing_value_generation="random")
    random_nulls.fit(WITH_NANS.to_frame(), "x")
    assert _direct.draws_randomness(random_nulls, "reverse_transform")
    assert _direct.draws_randomness(random_nulls, "transform")
    assert not _direct.draws_randomness(_fit(_float(), WITH_NANS), "reverse_transform")
    assert _direct.draws_randomness(_fit(UniformEncoder(), CATEGORIES), "transform")
    assert not _direct.draws_randomness(_fit(UniformEncoder(), CATEGORIES), "reverse_transform")
    assert _direct.draws_randomness(_fit(LabelEncoder(add_noise=True), CATEGORIES), "transform")


def test_random_reverse_goes_through_rdt():
    transformer = _fit(FloatFormatter(missing_value_replacement="mean", missing_value_generation="random"), WITH_NANS)
    encoded = pd.DataFrame({"x": np.zeros(2000)})
    out = _direct.reverse_transform(transformer, encoded.to_numpy(), ["x"])
    assert 0.1 < out.isna().mean() < 0.3  # rdt's random missing values (the real share is ~0.2)


def _fit(transformer, column):
    transformer.fit(column.to_frame(), "x")
    return transformer


@pytest.mark.parametrize("column", [CATEGORIES, pd.Series(RNG.choice([1, 2, 3], 300), name="x"),
                                    pd.Series(RNG.choice(["only"], 300), name="x")], ids=["nan", "int", "one"])
def test_uniform_encoder_reverse_equals_rdt(column):
    encoder = VectorizedUniformEncoder(missing_value_encoding="new_category")
    encoder.fit(column.to_frame(), "x")
    edges = [0.0, 1.0, -0.5, 1.5, *[interval[1] for interval in encoder.intervals.values()]]
    values = pd.Series(np.r_[np.random.default_rng(3).random(500), edges], name="x")
    expected = UniformEncoder._reverse_transform(encoder, values.copy())
    pd.testing.assert_series_equal(encoder._reverse_transform(values.copy()), expected)


@pytest.mark.parametrize("enforce", [True, False])
def test_float_reverse_of_an_all_missing_column_equals_rdt(enforce):
    """An all-missing column learns NaN bounds; rdt's pandas clip treats them as no bound, so a
    model output whose is-null value says 'present' decodes to the value, not NaN."""
    column = pd.Series(np.full(50, np.nan), name="x")
    transformer = _fit(_float(enforce_min_max_values=enforce, learn_rounding_scheme=True), column)
    rng = np.random.default_rng(4)
    noisy = pd.DataFrame({"x": rng.normal(0, 3, 50), "x.is_null": rng.random(50)})
    expected = copy.deepcopy(transformer).reverse_transform(noisy.copy())["x"]
    got = _direct.reverse_transform(copy.deepcopy(transformer), noisy.to_numpy(), list(noisy.columns))
    assert expected.notna().any()  # the case under test: values that are present
    pd.testing.assert_series_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
