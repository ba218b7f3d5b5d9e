"""dagster-pandas types built from table metadata, and the real-data profile they enforce."""

import numpy as np
import pandas as pd
import pytest
from dagster import DagsterInstance, check_dagster_type, materialize

from synth_assets.dagster import (
    FileSource,
    SampleSpec,
    SynthesizerIOManager,
    SynthesizerSpec,
    SyntheticParquetIOManager,
    build_synthetic_assets,
    table_dagster_type,
)
from synth_assets.dagster.types import attach_profile, profile_table, stored_profile
from synth_assets.metadata import TableMetadata
from synth_assets.persistence import load_synthesizer

TABLE = TableMetadata.load_from_dict({
    "primary_key": "id",
    "columns": {
        "id": {"sdtype": "id"},
        "email": {"sdtype": "email"},
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "income": {"sdtype": "numerical"},
        "segment": {"sdtype": "categorical"},
        "active": {"sdtype": "boolean"},
        "joined": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
    },
})


@pytest.fixture()
def real():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "id": np.arange(n),
        "email": [f"user{i}@example.com" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50_000, 8_000, n)),
        "segment": rng.choice(["a", "b", "c"], n),
        "active": rng.random(n) < 0.5,
        "joined": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
    })


def _check(frame, profile=None, metadata=TABLE):
    frame = frame.copy()
    if profile is not None:
        attach_profile(frame, profile)
    return check_dagster_type(table_dagster_type("people", metadata), frame)


def test_type_is_built_from_metadata():
    dagster_type = table_dagster_type("people", TABLE)
    assert dagster_type.unique_name == "Synthetic_people"
    assert table_dagster_type("people", TABLE, role="real").unique_name == "Real_people"
    for column in TABLE.columns:
        assert column in dagster_type.description


def test_real_and_correct_sample_pass(real):
    assert _check(real).success  # a real table carries no profile: static rules only
    profile = profile_table(real, TABLE)
    assert profile["num_rows"] == 200
    assert profile["columns"]["age"] == {"nullable": False, "min": real.age.min(), "max": real.age.max()}
    assert profile["columns"]["income"]["nullable"] is True
    assert sorted(profile["columns"]["segment"]["categories"]) == ["a", "b", "c"]
    assert "categories" not in profile["columns"]["email"]  # PII values are never profiled
    # A resampled, shuffled copy with NaN only where the real column has NaN is a valid sample.
    sample = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    sample["id"] = np.arange(1000, 1200)
    assert _check(sample, profile).success


@pytest.mark.parametrize(
    "column, mutate, fragment",
    [
        ("segment", lambda f: f.assign(segment=f.segment.where(f.index != 3, "zzz")), "not among the real categories"),
        ("age", lambda f: f.assign(age=f.age.where(f.index != 5, 500)), "outside the real range"),
        ("age", lambda f: f.assign(age=f.age.astype(float).where(f.index != 5, np.nan)), "missing values"),
        ("joined", lambda f: f.assign(joined=f.joined.where(f.index != 0, "1999-01-01")), "outside the real range"),
        ("id", lambda f: f.assign(id=0), "duplicate values"),
        ("id", lambda f: f.assign(id=f.id.astype(float).where(f.index != 2, np.nan)), "missing values"),
        ("income", lambda f: f.assign(income="lots"), "dtype must be numeric"),
        ("active", lambda f: f.assign(active=f.active.where(f.index != 1, "maybe")), "not among the real categories"),
    ],
)
def test_violations_name_the_column(real, column, mutate, fragment):
    profile = profile_table(real, TABLE)
    result = _check(mutate(real), profile)
    assert not result.success
    assert f'column "{column}"' in result.description
    assert fragment in result.description


def test_missing_and_extra_columns_fail(real):
    missing = _check(real.drop(columns=["segment"]))
    assert not missing.success and "segment" in missing.description
    extra = _check(real.assign(secret=1))
    assert not extra.success and "'secret'" in extra.description


def test_profile_tolerates_what_a_correct_synthesizer_produces(real):
    # Without enforce_min_max_values a synthesizer may leave the real range: no range rule then.
    loose = profile_table(real, TABLE, enforce_min_max_values=False)
    assert "min" not in loose["columns"]["age"]
    assert _check(real.assign(age=real.age + 1000), loose).success
    # NaN is allowed where the real column had NaN, and ranges ignore missing values.
    strict = profile_table(real, TABLE)
    assert _check(real.assign(income=np.nan), strict).success
    # Integers stored as float (what a nullable int column becomes) still match the range.
    assert _check(real.assign(age=real.age.astype(float)), strict).success


@pytest.fixture()
def copula_setup(tmp_path, gapminder):
    path = tmp_path / "gapminder.parquet"
    gapminder.to_parquet(path)
    metadata = {"columns": {
        "country": {"sdtype": "categorical"},
        "continent": {"sdtype": "categorical"},
        "year": {"sdtype": "numerical", "computer_representation": "Int64"},
        "lifeExp": {"sdtype": "numerical"},
        "pop": {"sdtype": "numerical", "computer_representation": "Int64"},
        "gdpPercap": {"sdtype": "numerical"},
    }}
    spec = SynthesizerSpec(
        name="gap", synthesizer="GaussianCopulaSynthesizer", metadata=metadata,
        sources={"gap": FileSource(path=str(path))}, sample=SampleSpec(seed=1, evaluate=False), checks=None,
    )
    built = build_synthetic_assets([spec])
    store = tmp_path / "store"
    resources = {
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(store)),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(store)),
    }
    return built, resources, store


def test_broken_synthetic_table_fails_its_step_naming_the_column(copula_setup, monkeypatch):
    built, resources, store = copula_setup
    assert materialize(built.assets, resources=resources, instance=DagsterInstance.ephemeral()).success
    good = pd.read_parquet(store / "synthetic" / "synthetic_gap.parquet")
    model = load_synthesizer(store / "synthesizer" / "gap.synth")
    assert stored_profile(model, "gap")["columns"]["continent"]["categories"]

    from synth_assets.single_table import GaussianCopulaSynthesizer

    original = GaussianCopulaSynthesizer.sample

    def broken(self, num_rows, output_file_path=None):
        frame = original(self, num_rows)
        frame.loc[0, "continent"] = "Atlantis"
        return frame

    monkeypatch.setattr(GaussianCopulaSynthesizer, "sample", broken)
    result = materialize(
        built.assets, selection=["synthetic/synthetic_gap"], resources=resources,
        instance=DagsterInstance.ephemeral(), raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = str(failures[0].event_specific_data.error)
    assert 'column "continent"' in message and "Atlantis" in message
    # The failed step wrote nothing: the previous good sample is still there.
    pd.testing.assert_frame_equal(pd.read_parquet(store / "synthetic" / "synthetic_gap.parquet"), good)
