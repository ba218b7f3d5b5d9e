"""Detection defects found in a new user's trial: name-token PII over real values, reversed camelCase
person names, self-references, text datetime formats, SDV 1.x spec versions, categorical PII on fit."""

import warnings

import numpy as np
import pandas as pd
import pytest

from synth_assets import Metadata
from synth_assets.errors import InvalidDataError, InvalidMetadataError


def _columns(df):
    return Metadata.detect_from_dataframe(df, table_name="t").to_dict()["tables"]["t"]["columns"]


def test_name_token_on_ordinary_values_stays_categorical_with_a_warning():
    n, rng = 200, np.random.default_rng(0)
    df = pd.DataFrame({
        "mobile_os": rng.choice(["iOS", "Android"], n),
        "last_login": pd.date_range("2023-01-01", periods=n, freq="5h").strftime("%Y-%m-%d %H:%M"),
        "shipping_address_type": rng.choice(["home", "office"], n),
        "url_category": rng.choice(["news", "shop"], n),
        "login_count_bucket": rng.choice(["0-5", "6-10"], n),
    })
    with pytest.warns(UserWarning, match="mobile_os") as record:
        cols = _columns(df)
    assert cols["last_login"] == {"sdtype": "datetime", "datetime_format": "%Y-%m-%d %H:%M"}
    for name in ("mobile_os", "shipping_address_type", "url_category", "login_count_bucket"):
        assert cols[name] == {"sdtype": "categorical"}, name
        assert any(name in str(w.message) for w in record), name


def test_name_rules_match_whole_tokens_and_real_pii_is_still_found():
    n, rng = 100, np.random.default_rng(1)
    df = pd.DataFrame({
        "city": rng.choice(["Paris", "Rome", "Oslo"], n),
        "customer_email": [f"u{i}@example.com" for i in range(n)],
        "home_phone": [f"+1 555 010 {i:04d}" for i in range(n)],
        "hotel": rng.choice(["a", "b"], n),          # contains "tel"
        "statement": rng.choice(["x", "y"], n),      # contains "state"
        "zipcode": rng.integers(10000, 99999, n),
    })
    cols = _columns(df)
    assert cols["city"] == {"sdtype": "city", "pii": True}
    assert cols["customer_email"] == {"sdtype": "email", "pii": True}
    assert cols["home_phone"] == {"sdtype": "phone_number", "pii": True}
    assert cols["hotel"] == {"sdtype": "categorical"}
    assert cols["statement"] == {"sdtype": "categorical"}
    assert cols["zipcode"] == {"sdtype": "postcode", "pii": True}


@pytest.mark.parametrize("name,sdtype", [
    ("nameFirst", "first_name"), ("nameLast", "last_name"), ("nameGiven", "first_name"),
    ("givenName", "first_name"), ("forename", "first_name"), ("surname", "last_name"),
    ("name_family", "last_name"),
])
def test_reversed_camel_case_person_names_are_pii(name, sdtype):
    values = [f"Nm{i % 25}" for i in range(300)]  # low cardinality: copied if it were categorical
    assert _columns(pd.DataFrame({name: values}))[name] == {"sdtype": sdtype, "pii": True}


def test_self_reference_is_detected_when_named_like_one():
    emp = pd.DataFrame({"employee_id": [f"E{i}" for i in range(30)],
                        "manager_id": [None] + ["E0"] * 10 + ["E5"] * 19, "salary": np.arange(30.)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        md = Metadata.detect_from_dataframes({"employees": emp})
    assert md.relationships == [{"parent_table_name": "employees", "parent_primary_key": "employee_id",
                                 "child_table_name": "employees", "child_foreign_key": "manager_id"}]
    assert md.tables["employees"].columns["manager_id"] == {"sdtype": "id"}
    assert md.tables["employees"].primary_key == "employee_id"


def test_self_reference_needs_the_name_and_the_values():
    ids = [f"N{i}" for i in range(20)]
    frame = pd.DataFrame({"node_id": ids, "parent_id": [None] + ids[:19],
                          "other_code": [None] + ids[:19],  # values fit, name does not
                          "reports_to": [None] + ["X1"] * 19})  # name fits, values do not
    md = Metadata.detect_from_dataframes({"nodes": frame})
    assert [r["child_foreign_key"] for r in md.relationships] == ["parent_id"]


@pytest.mark.parametrize("fmt", ["%b %d, %Y %I:%M %p", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S%z",
                                 "%Y-%m-%dT%H:%M:%S%z", "%d %B %Y"])
def test_text_datetime_formats_are_detected_and_round_trip(fmt):
    from synth_assets import GaussianCopulaSynthesizer
    d = pd.date_range("2021-03-01", periods=100, freq="37h", tz="Asia/Tokyo" if "%z" in fmt else None)
    df = pd.DataFrame({"d": d.strftime(fmt), "v": np.arange(100.0)})
    metadata = Metadata.detect_from_dataframe(df, table_name="t")
    assert metadata.tables["t"].columns["d"] == {"sdtype": "datetime", "datetime_format": fmt}
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(df)
    sampled = pd.to_datetime(synthesizer.sample(50)["d"], format=fmt)  # raises if a value is not in fmt
    assert sampled.between(d.min(), d.max()).all()


def test_tz_aware_text_as_pandas_writes_it_is_datetime():
    col = pd.date_range("2021-03-01", periods=100, freq="h", tz="Asia/Tokyo").astype(str)
    assert _columns(pd.DataFrame({"d": col}))["d"] == {"sdtype": "datetime", "datetime_format": "%Y-%m-%d %H:%M:%S%z"}


def test_mixed_text_datetimes_are_never_pii_and_say_how_to_convert():
    d = pd.date_range("2021-03-01", periods=60, freq="37h")
    mixed = list(d[:30].strftime("%Y-%m-%d")) + list(d[30:].strftime("%B %d, %Y"))
    with pytest.warns(UserWarning, match=r"column 'd'.*pd.to_datetime\(df\['d'\], format='mixed'"):
        col = _columns(pd.DataFrame({"d": mixed}))["d"]
    assert col == {"sdtype": "categorical"}


def test_short_number_ranges_are_not_datetimes():
    rng = np.random.default_rng(2)
    assert _columns(pd.DataFrame({"b": rng.choice(["0-5", "6-10", "11-12"], 50)}))["b"] == {"sdtype": "categorical"}


def test_timedelta_is_not_copied_as_categorical():
    td = pd.to_timedelta(np.random.default_rng(3).integers(0, 1000, 50), unit="s")
    with pytest.warns(UserWarning, match="'td'.*total_seconds"):
        col = _columns(pd.DataFrame({"td": td}))["td"]
    assert col == {"sdtype": "unknown", "pii": True}


@pytest.mark.parametrize("version,expected", [("MULTI_TABLE_V1", "V1"), ("SINGLE_TABLE_V1", "V1")])
def test_sdv_1x_spec_versions_load(version, expected):
    tables = {"t": {"columns": {"a": {"sdtype": "numerical"}}}}
    body = {"tables": tables, "relationships": []} if version.startswith("MULTI") else tables["t"]
    md = Metadata.load_from_dict({"METADATA_SPEC_VERSION": version, **body}, single_table_name="t")
    assert md.spec_version == expected and md.tables["t"].columns == {"a": {"sdtype": "numerical"}}


def test_unknown_spec_version_is_still_refused():
    with pytest.raises(InvalidMetadataError, match="MULTI_TABLE_V9"):
        Metadata.load_from_dict({"METADATA_SPEC_VERSION": "MULTI_TABLE_V9", "tables": {}})


def test_validate_data_warns_on_categorical_pii():
    df = pd.DataFrame({"cid": [f"c{i}" for i in range(150)], "name": [f"Zed Q{i}" for i in range(150)],
                       "kind": ["a", "b", "c"] * 50, "x": np.arange(150.)})
    md = Metadata.load_from_dict({"tables": {"t": {"primary_key": "cid", "columns": {
        "cid": {"sdtype": "id"}, "name": {"sdtype": "categorical"}, "kind": {"sdtype": "categorical"},
        "x": {"sdtype": "numerical"}}}}})
    with pytest.warns(UserWarning) as record:
        md.validate_data({"t": df})
    messages = [str(w.message) for w in record]
    assert any("table 't', column 'name'" in m and "150 distinct values out of 150 rows" in m
               and "pii" in m for m in messages)
    assert not any("'kind'" in m for m in messages)


def test_fit_warns_on_categorical_column_named_like_pii():
    from synth_assets import GaussianCopulaSynthesizer
    df = pd.DataFrame({"email": [f"p{i % 20}@mail.org" for i in range(100)], "x": np.arange(100.)})
    md = Metadata.load_from_dict({"columns": {"email": {"sdtype": "categorical"}, "x": {"sdtype": "numerical"}}},
                                 single_table_name="t")
    with pytest.warns(UserWarning, match="table 't', column 'email'.*'email'"):
        GaussianCopulaSynthesizer(md).fit(df)


def test_update_column_refuses_an_unknown_sdtype_and_keeps_the_column():
    md = Metadata.detect_from_dataframe(pd.DataFrame({"a": [1.0, 2.0]}), table_name="t")
    with pytest.raises(InvalidMetadataError, match="'a'.*numberical"):
        md.update_column("a", table_name="t", sdtype="numberical")
    assert md.tables["t"].columns["a"]["sdtype"] == "numerical"


def test_cycle_error_prints_plain_values():
    from synth_assets.multi_table.self_reference import row_depths
    frame = pd.DataFrame({"employee_id": np.array([1, 2, 3], dtype=np.int64), "manager_id": [2, 3, 1]})
    with pytest.raises(InvalidDataError) as info:
        row_depths(frame, "emp", "employee_id", "manager_id")
    assert "[1, 2, 3]" in str(info.value) and "np.int64" not in str(info.value)


def test_full_person_names_are_pii_by_content_whatever_the_column_name():
    rng = np.random.default_rng(4)
    people = ["Mary Khan", "John Smith", "Linda Garcia", "James Lee", "Patricia Brown", "Robert Ann Jones"]
    cols = _columns(pd.DataFrame({
        "customer": rng.choice(people, 120),
        "product": rng.choice(["Blue Widget", "Red Gadget", "Green Gizmo"], 120),
        "destination": rng.choice(["New York", "San Diego", "Los Angeles", "Salt Lake City"], 120),
    }))
    assert cols["customer"] == {"sdtype": "name", "pii": True}
    assert cols["product"] == {"sdtype": "categorical"}
    assert cols["destination"] == {"sdtype": "categorical"}


def test_add_column_refuses_an_unknown_sdtype():
    md = Metadata.detect_from_dataframe(pd.DataFrame({"a": [1.0, 2.0]}), table_name="t")
    with pytest.raises(InvalidMetadataError, match="'b'.*numberical"):
        md.add_column("b", table_name="t", sdtype="numberical")
    assert "b" not in md.tables["t"].columns
