"""GaussianCopulaSynthesizer: what it keeps, what each parameter does, its contract, and its quality."""

import numpy as np
import pandas as pd
import pytest

from synth_assets import GaussianCopulaSynthesizer, Metadata
from synth_assets.errors import InvalidDataError

N = 5000


@pytest.fixture(scope="module")
def real():
    rng = np.random.default_rng(42)
    z1, z2 = rng.standard_normal(N), rng.standard_normal(N)
    x = z1
    y = 0.8 * z1 + 0.6 * z2  # corr(x, y) = 0.8
    group = np.where(x + 0.5 * rng.standard_normal(N) > 0.5, "high", np.where(x < -0.5, "low", "mid"))
    days = rng.integers(0, 3 * 365, N)
    return pd.DataFrame(
        {
            "customer_id": np.arange(N),
            "email": [f"customer{i}@shop.example" for i in range(N)],
            "x": np.round(50 + 10 * x, 2),
            "y": np.round(20 + 3 * y, 1),
            "visits": rng.poisson(np.exp(0.5 + 0.6 * y)),  # skewed counts tied to y
            "group": group,
            "member": rng.random(N) < 1 / (1 + np.exp(-2 * y)),
            "joined": (pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "rating": pd.Series(rng.integers(1, 6, N), dtype="Int64").mask(rng.random(N) < 0.1),
        }
    )


@pytest.fixture(scope="module")
def metadata(real):
    metadata = Metadata.detect_from_dataframe(real, table_name="customers")
    columns = metadata.get_table_metadata("customers").columns
    assert columns["customer_id"]["sdtype"] == "id" and columns["email"]["sdtype"] == "email"
    assert columns["joined"] == {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"}
    return metadata


@pytest.fixture(scope="module")
def fitted(real, metadata):
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(real)
    return synthesizer


@pytest.fixture(scope="module")
def synthetic(fitted):
    fitted.set_random_state(7)
    return fitted.sample(N)


def test_sample_keeps_columns_dtypes_ranges_and_rounding(real, synthetic):
    assert list(synthetic.columns) == list(real.columns)
    assert synthetic.dtypes.to_dict() == real.dtypes.to_dict()
    assert len(synthetic) == N
    for column in ("x", "y", "visits", "rating"):
        assert synthetic[column].min() >= real[column].min(), column
        assert synthetic[column].max() <= real[column].max(), column
    assert (synthetic["x"] == synthetic["x"].round(2)).all()
    assert (synthetic["y"] == synthetic["y"].round(1)).all()
    assert (synthetic["y"] != synthetic["y"].round(0)).mean() > 0.5  # the decimal is kept, not dropped
    joined = pd.to_datetime(synthetic["joined"], format="%Y-%m-%d")
    assert joined.min() >= pd.Timestamp("2020-01-01") and joined.max() <= pd.to_datetime(real["joined"]).max()


def test_sample_keeps_category_sets_and_frequencies(real, synthetic):
    assert set(synthetic["group"]) == set(real["group"])
    real_share = real["group"].value_counts(normalize=True)
    synth_share = synthetic["group"].value_counts(normalize=True)
    assert (real_share - synth_share).abs().max() < 0.03
    assert set(synthetic["member"]) == {True, False}
    assert abs(synthetic["member"].mean() - real["member"].mean()) < 0.03
    assert set(synthetic["rating"].dropna()) == {1, 2, 3, 4, 5}
    assert abs(synthetic["rating"].isna().mean() - real["rating"].isna().mean()) < 0.02


def test_sample_keeps_marginal_shapes(real, synthetic):
    from scipy.stats import ks_2samp

    for column in ("x", "y", "visits"):
        assert ks_2samp(real[column], synthetic[column]).statistic < 0.05, column
    assert abs(synthetic["visits"].mean() - real["visits"].mean()) < 0.1 * real["visits"].mean()


def test_sample_keeps_correlations(real, synthetic):
    for method in ("pearson", "spearman"):
        real_corr = real["x"].corr(real["y"], method=method)
        synth_corr = synthetic["x"].corr(synthetic["y"], method=method)
        assert abs(real_corr - synth_corr) < 0.05, (method, real_corr, synth_corr)
    real_counts = real["y"].corr(real["visits"], method="spearman")
    assert abs(real_counts - synthetic["y"].corr(synthetic["visits"], method="spearman")) < 0.05
    # A boolean is monotone in its code: the dependence keeps its direction and most of its size
    # (attenuated, see the xfail below).
    real_rate = real.groupby(real["y"] > 20)["member"].mean()
    synth_rate = synthetic.groupby(synthetic["y"] > 20)["member"].mean()
    assert synth_rate[True] - synth_rate[False] > 0.5 * (real_rate[True] - real_rate[False])


def test_sample_keeps_category_number_dependence(real, synthetic):
    # Categories are laid out by the mean rank of the number they explain best, so the copula
    # sees a monotone link (in order of appearance, ours was 52.6/47.1/50.2 and SDV 2.0's
    # 53.3/47.7/49.7 for real 60.0/50.9/38.4).
    real_means = real.groupby("group")["x"].mean()
    synth_means = synthetic.groupby("group")["x"].mean()
    assert (real_means - synth_means).abs().max() < 3.5  # group means are 10-20 apart
    assert synth_means["low"] < synth_means["mid"] < synth_means["high"]


@pytest.mark.xfail(
    strict=True,
    reason="Known limitation (SDV 2.0 has it too): the uniform noise inside each category's "
    "interval attenuates links between a boolean and a number: P(member | y>20) - "
    "P(member | y<=20) real 0.57, ours 0.32, SDV 0.33. A polyserial correlation would fix it.",
)
def test_sample_keeps_boolean_number_dependence(real, synthetic):
    real_rate = real.groupby(real["y"] > 20)["member"].mean()
    synth_rate = synthetic.groupby(synthetic["y"] > 20)["member"].mean()
    assert (real_rate - synth_rate).abs().max() < 0.05


def test_missing_values_that_occur_together_stay_together():
    # Cancelled flights: both delays are missing together. Correlations on randomly tie-broken
    # ranks made the two null flags nearly independent (both missing: 4% of the rows that had one).
    rng = np.random.default_rng(5)
    n = 4000
    dep = rng.gamma(2, 10, n)
    cancelled = rng.random(n) < 0.05
    zeros = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 20, n))
    frame = pd.DataFrame(
        {
            "dep_delay": np.where(cancelled, np.nan, dep.round()),
            "arr_delay": np.where(cancelled, np.nan, (dep + rng.normal(0, 5, n)).round()),
            "runs": zeros,
            "hits": np.where(zeros == 0, 0, rng.integers(1, 20, n)),  # zero exactly when runs is
        }
    )
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(frame))
    synthesizer.fit(frame)
    synthesizer.set_random_state(0)
    out = synthesizer.sample(n)
    both = (out["dep_delay"].isna() & out["arr_delay"].isna()).mean()
    either = (out["dep_delay"].isna() | out["arr_delay"].isna()).mean()
    assert either == pytest.approx(0.05, abs=0.015)
    assert both / either > 0.9
    assert ((out["runs"] == 0) == (out["hits"] == 0)).mean() > 0.78  # random ties: 0.72


def test_generated_columns_are_new(real, synthetic):
    assert synthetic["customer_id"].is_unique
    assert not set(synthetic["email"]) & set(real["email"])
    assert synthetic["email"].str.contains("@").all()


def test_fit_accepts_a_one_entry_dict(real, metadata):
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit({"customers": real})
    synthesizer.set_random_state(7)
    from_dict = synthesizer.sample(50)
    plain = GaussianCopulaSynthesizer(metadata)
    plain.fit(real)
    plain.set_random_state(7)
    pd.testing.assert_frame_equal(from_dict, plain.sample(50))
    with pytest.raises(ValueError, match="Table 'shoppers' is not in the metadata"):
        synthesizer.fit({"shoppers": real})
    with pytest.raises(ValueError, match="one table"):
        synthesizer.fit({"customers": real, "other": real})
    with pytest.raises(TypeError, match="DataFrame"):
        synthesizer.fit(real.to_numpy())
    with pytest.raises(ValueError, match="empty"):
        synthesizer.fit(real.head(0))


def test_fit_validates_data_against_metadata(real, metadata):
    synthesizer = GaussianCopulaSynthesizer(metadata)
    with pytest.raises(InvalidDataError, match=r"table 'customers'.*\['visits'\]"):
        synthesizer.fit(real.drop(columns="visits"))
    duplicated = real.copy()
    duplicated.loc[1, "customer_id"] = 0
    with pytest.raises(InvalidDataError, match="'customer_id' has duplicate values"):
        synthesizer.fit(duplicated)


def test_metadata_may_be_an_sdv_dict(real):
    table_dict = Metadata.detect_from_dataframe(real).get_table_metadata("table").to_dict()
    synthesizer = GaussianCopulaSynthesizer(table_dict)
    synthesizer.fit(real)
    assert synthesizer.sample(10).shape == (10, real.shape[1])
    with pytest.raises(ValueError, match="has 2"):
        GaussianCopulaSynthesizer({"tables": {"a": {"columns": {}}, "b": {"columns": {}}}})
    with pytest.raises(TypeError, match="metadata"):
        GaussianCopulaSynthesizer("customers.json")


# -- parameters ------------------------------------------------------------------------------------


def test_parameters_are_reported_as_given(metadata):
    synthesizer = GaussianCopulaSynthesizer(
        metadata,
        enforce_min_max_values=False,
        enforce_rounding=False,
        locales=["fr_FR"],
        numerical_distributions={"x": "norm"},
        default_distribution="beta",
    )
    assert synthesizer.get_parameters() == {
        "enforce_min_max_values": False,
        "enforce_rounding": False,
        "locales": ["fr_FR"],
        "numerical_distributions": {"x": "norm"},
        "default_distribution": "beta",
    }
    params = synthesizer.get_parameters()
    params["numerical_distributions"]["y"] = "beta"
    assert "y" not in synthesizer.numerical_distributions  # a copy
    copy = synthesizer.get_metadata()
    copy.update_column("x", table_name="customers", sdtype="categorical")
    assert synthesizer.get_metadata() == metadata
    assert GaussianCopulaSynthesizer(metadata).get_parameters()["default_distribution"] == "empirical"


def test_distributions_change_what_is_learned(real, metadata):
    default = GaussianCopulaSynthesizer(metadata)
    default.fit(real)
    learned = default.get_learned_distributions()
    # As SDV: every modelled column (not ids, PII or null flags).
    assert set(learned) == {"x", "y", "visits", "group", "member", "joined", "rating"}
    assert {v["distribution"] for v in learned.values()} == {"empirical"}

    custom = GaussianCopulaSynthesizer(
        metadata, numerical_distributions={"x": "norm", "visits": "gamma"}, default_distribution="uniform"
    )
    custom.fit(real)
    learned = custom.get_learned_distributions()
    assert learned["x"]["distribution"] == "norm"
    assert learned["x"]["learned_parameters"]["loc"] == pytest.approx(real["x"].mean(), abs=0.05)
    assert learned["x"]["learned_parameters"]["scale"] == pytest.approx(real["x"].std(), rel=0.02)
    assert learned["visits"]["distribution"] == "gamma"
    assert learned["y"]["distribution"] == "uniform"
    assert learned["y"]["learned_parameters"]["loc"] == pytest.approx(real["y"].min())
    assert learned["rating"]["distribution"] == "uniform"
    # The marginal drives the samples: a uniform y is flat, unlike the real bell shape.
    custom.set_random_state(1)
    flat = custom.sample(N)["y"]
    assert flat.std() > 1.3 * real["y"].std()


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"default_distribution": "gausian"}, ValueError, "'gausian'"),
        ({"numerical_distributions": {"x": "weibull"}}, ValueError, "numerical_distributions['x']"),
        ({"numerical_distributions": {"height": "norm"}}, ValueError, "'height'"),
        ({"numerical_distributions": {"group": "norm"}}, ValueError, "column 'group' is 'categorical'"),
        ({"numerical_distributions": ["x", "norm"]}, TypeError, "numerical_distributions"),
        ({"enforce_min_max_values": "yes"}, TypeError, "enforce_min_max_values"),
        ({"enforce_rounding": 1}, TypeError, "enforce_rounding"),
        ({"locales": "xx_XX"}, ValueError, "xx_XX"),
        ({"locales": [1]}, TypeError, "locales"),
    ],
)
def test_bad_parameters_are_named(metadata, kwargs, error, fragment):
    with pytest.raises(error) as info:
        GaussianCopulaSynthesizer(metadata, **kwargs)
    assert fragment in str(info.value)


def test_enforce_min_max_values(real, metadata):
    # A normal marginal on skewed counts reaches below zero unless the range is enforced.
    kwargs = {"numerical_distributions": {"visits": "norm"}}
    free = GaussianCopulaSynthesizer(metadata, enforce_min_max_values=False, **kwargs)
    free.fit(real)
    free.set_random_state(3)
    assert (free.sample(N)["visits"] < real["visits"].min()).mean() > 0.05
    bounded = GaussianCopulaSynthesizer(metadata, enforce_min_max_values=True, **kwargs)
    bounded.fit(real)
    bounded.set_random_state(3)
    visits = bounded.sample(N)["visits"]
    assert visits.between(real["visits"].min(), real["visits"].max()).all()


def test_enforce_rounding(real, metadata):
    loose = GaussianCopulaSynthesizer(metadata, enforce_rounding=False)
    loose.fit(real)
    loose.set_random_state(3)
    x = loose.sample(1000)["x"]
    assert (x != x.round(2)).mean() > 0.5
    assert loose.sample(1000)["visits"].dtype == np.int64  # integer columns stay integers


def test_locales_reach_pii(real):
    frame = real.rename(columns={"email": "phone_number"}).head(500)
    frame["phone_number"] = [f"+1-202-555-{i:04d}" for i in range(500)]
    metadata = Metadata.detect_from_dataframe(frame)
    synthesizer = GaussianCopulaSynthesizer(metadata, locales=["fr_FR"])
    synthesizer.fit(frame)
    phones = synthesizer.sample(200)["phone_number"]
    assert phones.str.match(r"^(\+33 (\(0\))?|0)[1-9]").all()


# -- contract --------------------------------------------------------------------------------------


def test_set_random_state_makes_sampling_reproducible(fitted):
    fitted.set_random_state(11)
    first = fitted.sample(300)
    second = fitted.sample(300)
    fitted.set_random_state(11)
    pd.testing.assert_frame_equal(fitted.sample(300), first)
    pd.testing.assert_frame_equal(fitted.sample(300), second)
    assert not first["x"].equals(second["x"])
    fitted.set_random_state(12)
    assert not fitted.sample(300)["x"].equals(first["x"])
    fitted.set_random_state(11)
    fitted.sample(10)
    fitted.reset_sampling()
    pd.testing.assert_frame_equal(fitted.sample(300), first)
    with pytest.raises(TypeError, match="random_state"):
        fitted.set_random_state(1.5)


def test_fit_is_deterministic(real, metadata):
    a, b = GaussianCopulaSynthesizer(metadata), GaussianCopulaSynthesizer(metadata)
    a.fit(real)
    b.fit(real.sample(frac=1.0, random_state=0))  # row order must not matter much
    a.set_random_state(5)
    b.set_random_state(5)
    sa, sb = a.sample(2000), b.sample(2000)
    assert abs(sa["x"].corr(sa["y"]) - sb["x"].corr(sb["y"])) < 0.03


def test_sample_zero_rows(fitted, real):
    empty = fitted.sample(0)
    assert empty.shape == (0, real.shape[1])
    assert list(empty.columns) == list(real.columns)
    assert empty.dtypes.to_dict() == real.dtypes.to_dict()


def test_sample_argument_errors(fitted):
    for bad in (-1, 2.5, "10", True):
        with pytest.raises(ValueError, match="num_rows"):
            fitted.sample(bad)


def test_unfitted_sample_is_an_error(metadata):
    synthesizer = GaussianCopulaSynthesizer(metadata)
    with pytest.raises(ValueError, match="has not been fitted"):
        synthesizer.sample(5)
    with pytest.raises(ValueError, match="has not been fitted"):
        synthesizer.get_learned_distributions()


def test_refit_starts_from_scratch(real, metadata):
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(real)
    shifted = real.copy()
    shifted["group"] = shifted["group"].map({"low": "bronze", "mid": "silver", "high": "gold"})
    shifted["x"] = shifted["x"] + 1000
    shifted["y"] = -shifted["y"]
    synthesizer.fit(shifted)
    synthesizer.set_random_state(0)
    again = synthesizer.sample(2000)
    assert set(again["group"]) == {"bronze", "silver", "gold"}
    assert again["x"].min() >= shifted["x"].min()
    assert again["x"].corr(again["y"]) < -0.7  # the new, negative correlation only
    learned = synthesizer.get_learned_distributions()["x"]["learned_parameters"]["quantiles"]
    assert min(learned) == pytest.approx(shifted["x"].min())


def test_sample_writes_output_file(fitted, tmp_path):
    path = tmp_path / "out" / "customers.parquet"
    fitted.set_random_state(2)
    frame = fitted.sample(100, output_file_path=path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert [p.name for p in path.parent.iterdir()] == ["customers.parquet"]


def test_constant_and_all_missing_columns():
    frame = pd.DataFrame({"k": 7, "empty": np.nan, "v": np.arange(100) % 9, "c": ["only"] * 100})
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(frame))
    synthesizer.fit(frame)
    out = synthesizer.sample(50)
    assert (out["k"] == 7).all() and out["empty"].isna().all() and (out["c"] == "only").all()
    assert out["v"].between(0, 8).all()


# -- quality on real data (sdmetrics as an independent referee) -----------------------------------


def _quality(real, synthetic, table_metadata):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the single-table report is deprecated, not changed
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synthetic, table_metadata.to_dict(), verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return report.get_score(), scores["Column Shapes"], scores["Column Pair Trends"]


def test_quality_gapminder(gapminder):
    # Measured (3 seeds): overall 0.807-0.811, shapes 0.963-0.967, pairs 0.651-0.654.
    metadata = Metadata.detect_from_dataframe(gapminder, "gapminder")
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(gapminder)
    synthesizer.set_random_state(0)
    overall, shapes, pairs = _quality(gapminder, synthesizer.sample(len(gapminder)), metadata.get_table_metadata("gapminder"))
    assert shapes >= 0.94
    assert pairs >= 0.62
    assert overall >= 0.78


def test_quality_lahman_batting(lahman_batting):
    # Measured on this 20k sample (3 seeds): overall 0.953-0.954, shapes 0.968, pairs 0.937-0.941.
    # SDV 2.0 on the full table: 0.79 / 0.70 / 0.89 (benchmarks/RESULTS.md).
    real = lahman_batting.drop(columns="playerID").sample(20_000, random_state=0).reset_index(drop=True)
    metadata = Metadata.detect_from_dataframe(real, "batting")
    assert metadata.get_table_metadata("batting").columns["teamID"]["sdtype"] == "categorical"
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(real)
    synthesizer.set_random_state(0)
    overall, shapes, pairs = _quality(real, synthesizer.sample(len(real)), metadata.get_table_metadata("batting"))
    assert shapes >= 0.94
    assert pairs >= 0.91
    assert overall >= 0.93
