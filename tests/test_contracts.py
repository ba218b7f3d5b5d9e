"""The great-expectations 1.x data contract derived from a real table."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from synth_assets.evaluation.contracts import (
    DataContract,
    Expectation,
    derive_contract,
    validate_contract,
)

METADATA = {
    "columns": {
        "id": {"sdtype": "id"},
        "email": {"sdtype": "email"},
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "score": {"sdtype": "numerical"},
        "plan": {"sdtype": "categorical"},
        "active": {"sdtype": "boolean"},
        "joined": {"sdtype": "datetime"},
        "note": {"sdtype": "categorical"},
    },
    "primary_key": "id",
}


@pytest.fixture(scope="module")
def real():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "id": np.arange(n),
        "email": [f"user{i}@example.test" for i in range(n)],
        "age": rng.integers(18, 70, n),
        "score": rng.normal(0.5, 0.1, n),
        "plan": rng.choice(["free", "pro", "team"], n),
        "active": rng.random(n) < 0.7,
        "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        "note": rng.choice(["a", None], n),
    })


@pytest.fixture(scope="module")
def contract(real):
    return derive_contract(real, METADATA, "users")


def _by(contract, kind):
    return {e.column: e.kwargs for e in contract.expectations if e.type == kind}


def test_contract_covers_columns_types_ranges_categories_nulls_and_keys(real, contract):
    assert contract.table_name == "users"
    columns = _by(contract, "ExpectTableColumnsToMatchSet")[None]
    assert columns == {"column_set": list(real.columns), "exact_match": True}
    types = {c: k["type_list"] for c, k in _by(contract, "ExpectColumnValuesToBeInTypeList").items()}
    assert types["age"] == ["int64"] and types["score"] == ["float64"]
    assert types["active"] == ["bool"] and types["plan"] == ["str"]
    assert "datetime64[ns]" in types["joined"] and "datetime64[us]" in types["joined"]
    ranges = _by(contract, "ExpectColumnValuesToBeBetween")
    assert set(ranges) == {"age", "score", "joined"}  # never on ids / PII
    assert ranges["age"] == {"column": "age", "min_value": int(real["age"].min()),
                             "max_value": int(real["age"].max())}
    assert ranges["joined"]["min_value"] == real["joined"].min().isoformat()
    sets = _by(contract, "ExpectColumnValuesToBeInSet")
    assert sets["plan"]["value_set"] == ["free", "pro", "team"]
    assert sets["active"]["value_set"] == [False, True]
    assert sets["note"]["value_set"] == ["a"]
    not_null = set(_by(contract, "ExpectColumnValuesToNotBeNull"))
    assert not_null == set(real.columns) - {"note"}
    assert _by(contract, "ExpectColumnValuesToBeUnique") == {"id": {"column": "id"}}
    # plain data: survives a round trip through a dict
    assert DataContract.from_dict(contract.to_dict()) == contract


def test_real_table_meets_its_own_contract(real, contract):
    result = validate_contract(real, contract)
    assert result.success and result.failures == []
    assert result.n_expectations == len(contract) > 20


def test_failing_expectations_are_named_with_counts(real, contract, capfd):
    bad = real.copy()
    bad.loc[:2, "age"] = 150  # out of range
    bad.loc[5, "plan"] = "enterprise"  # unknown category
    bad.loc[6, "score"] = np.nan  # null where the real table has none
    bad.loc[7, "id"] = bad.loc[8, "id"]  # duplicate key
    bad = bad.drop(columns="email").assign(extra=1)  # missing / unexpected column
    capfd.readouterr()
    result = validate_contract(bad, contract)
    captured = capfd.readouterr()
    assert "%|" not in captured.err and "Calculating Metrics" not in captured.err  # no bars

    assert not result.success
    failed = {(f["expectation"], f["column"]): f for f in result.failures}
    assert failed[("ExpectColumnValuesToBeBetween", "age")]["unexpected_count"] == 3
    assert failed[("ExpectColumnValuesToBeBetween", "age")]["partial_unexpected_list"] == [150] * 3
    assert failed[("ExpectColumnValuesToBeInSet", "plan")]["partial_unexpected_list"] == ["enterprise"]
    assert failed[("ExpectColumnValuesToNotBeNull", "score")]["unexpected_count"] == 1
    assert failed[("ExpectColumnValuesToBeUnique", "id")]["unexpected_count"] == 2
    assert ("ExpectTableColumnsToMatchSet", None) in failed
    assert ("ExpectColumnValuesToBeInSet", "active") not in failed
    markdown = result.to_markdown()
    assert "ExpectColumnValuesToBeBetween | age | 3" in markdown


def test_wrong_dtype_fails_the_type_expectation(real, contract):
    bad = real.assign(age=real["age"].astype(float))
    failed = {(f["expectation"], f["column"]) for f in validate_contract(bad, contract).failures}
    assert failed == {("ExpectColumnValuesToBeInTypeList", "age")}


def test_contract_without_metadata_and_bad_input(real):
    contract = derive_contract(real[["age", "plan"]])
    kinds = sorted({e.type for e in contract.expectations})
    assert "ExpectColumnValuesToBeBetween" in kinds and "ExpectColumnValuesToBeInSet" in kinds
    with pytest.raises(TypeError, match="users"):
        derive_contract([1, 2], None, "users")
    with pytest.raises(ValueError, match="lacks metadata column"):
        derive_contract(real[["age"]], METADATA, "users")
    with pytest.raises(ValueError, match="unknown great-expectations"):
        validate_contract(real, DataContract("t", [Expectation("ExpectNothing", {})]))
    assert validate_contract(real, DataContract("t", [])).success


def test_dagster_layer_imports_no_great_expectations_or_torch():
    code = (
        "import sys\n"
        "import synth_assets.dagster.checks, synth_assets.evaluation.contracts\n"
        "import synth_assets.dagster.automation, synth_assets.dagster.component\n"
        "heavy = [m for m in ('great_expectations', 'torch', 'sdmetrics', 'matplotlib') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
