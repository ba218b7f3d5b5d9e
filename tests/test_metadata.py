"""Metadata: SDV JSON round-trip, validation errors that name table and column, detection."""

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError
from synth_assets.metadata import Metadata, MetadataError, TableMetadata

FIXTURES = Path(__file__).parent / "fixtures"
MULTI = FIXTURES / "sdv_multi_table_v1.json"
SINGLE = FIXTURES / "sdv_single_table_v1.json"


def _read(path):
    return json.loads(Path(path).read_text())


@pytest.fixture
def multi_dict():
    return _read(MULTI)


@pytest.fixture
def hotel_data():
    """Data that fits sdv_multi_table_v1.json exactly."""
    rng = np.random.default_rng(0)
    hotels = pd.DataFrame(
        {
            "hotel_id": [f"HID_{i:03d}" for i in range(5)],
            "city": ["Boston", "Austin", "Denver", "Miami", "Salem"],
            "state": ["MA", "TX", "CO", "FL", "OR"],
            "rating": [4.1, 3.9, 4.5, 2.8, 5.0],
            "classification": ["luxury", "basic", "luxury", "basic", "boutique"],
            "opened": ["1999-05-01", "2004-01-31", "2010-12-12", "1987-07-04", "2021-03-09"],
        }
    )
    n = 20
    guests = pd.DataFrame(
        {
            "guest_email": [f"guest{i}@example.com" for i in range(n)],
            "hotel_id": rng.choice(hotels["hotel_id"], n),
            "has_rewards": rng.random(n) < 0.5,
            "room_type": rng.choice(["BASIC", "DELUXE", "SUITE"], n),
            "amenities_fee": np.round(rng.uniform(0, 40, n), 2),
            "checkin_date": pd.date_range("2020-01-01", periods=n, freq="3D").strftime("%d %b %Y"),
            "checkout_date": pd.date_range("2020-01-02", periods=n, freq="3D").strftime("%d %b %Y"),
            "room_rate": np.round(rng.uniform(80, 400, n), 2),
            "guest_name": [f"Guest {i}" for i in range(n)],
            "phone": [f"555-01{i:02d}" for i in range(n)],
            "billing_address": [f"{i} Main St" for i in range(n)],
            "credit_card_number": [f"4000000000{i:06d}" for i in range(n)],
        }
    )
    stays = pd.DataFrame(
        {
            "guest_email": np.repeat(guests["guest_email"].to_numpy()[:5], 3),
            "night": np.tile(["2020-01-01", "2020-01-02", "2020-01-03"], 5),
            "minibar_spend": rng.integers(0, 60, 15),
            "room_service": rng.random(15) < 0.3,
        }
    )
    return {"hotels": hotels, "guests": guests, "stays": stays}


# -- load / save ----------------------------------------------------------------------------------


def test_multi_table_json_round_trip_is_exact(tmp_path):
    metadata = Metadata.load_from_json(MULTI)
    assert metadata.table_names == ["hotels", "guests", "stays"]
    guests = metadata.get_table_metadata("guests")
    assert guests.primary_key == "guest_email"
    assert guests.alternate_keys == ["credit_card_number"]
    assert guests.columns["checkin_date"] == {"sdtype": "datetime", "datetime_format": "%d %b %Y"}
    assert guests.columns["guest_email"] == {"sdtype": "email", "pii": True}
    assert metadata.get_table_metadata("hotels").columns["hotel_id"]["regex_format"] == "HID_[0-9]{3}"
    stays = metadata.get_table_metadata("stays")
    assert (stays.sequence_key, stays.sequence_index, stays.primary_key) == ("guest_email", "night", None)
    assert [r["child_table_name"] for r in metadata.relationships] == ["guests", "stays"]
    metadata.validate()

    out = tmp_path / "metadata.json"
    metadata.save_to_json(out)
    assert _read(out) == _read(MULTI)
    assert Metadata.load_from_json(out) == metadata


def test_single_table_sdv_json_loads_under_a_table_name(tmp_path):
    metadata = Metadata.load_from_json(SINGLE, single_table_name="visits")
    assert metadata.get_single_table_name() == "visits"
    table = metadata.get_table_metadata("visits")
    expected = _read(SINGLE)
    del expected["METADATA_SPEC_VERSION"]
    assert table.to_dict() == expected
    assert (table.primary_key, table.sequence_key, table.sequence_index) == ("visit_id", "patient_id", "visit_time")
    # pii: False on a PII sdtype is modelled (categorical), pii: True is generated.
    assert not table.is_generated("insurer")
    assert table.is_generated("patient_email") and table.is_generated("visit_id")
    metadata.validate()
    saved = tmp_path / "single.json"
    metadata.save_to_json(saved)
    assert _read(saved) == {
        "METADATA_SPEC_VERSION": "V1",
        "tables": {"visits": expected},
        "relationships": [],
    }
    assert Metadata.load_from_json(SINGLE).get_single_table_name() == "table"


def test_unknown_column_options_survive_round_trip():
    # SDV 2.0 detection writes range/decimal options and sdtype 'unknown'; they must load unchanged.
    table = {
        "columns": {
            "age": {"sdtype": "numerical", "range_min": 18, "range_max": 78, "decimal_places": 0},
            "blob": {"sdtype": "unknown", "pii": True},
        }
    }
    metadata = Metadata.load_from_dict(table)
    metadata.validate()
    assert metadata.to_dict()["tables"]["table"] == table
    assert metadata.get_table_metadata("table").is_generated("blob")


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    metadata = Metadata.load_from_json(MULTI)
    out = tmp_path / "m.json"
    out.write_text("{}")
    with pytest.raises(ValueError, match="already exists"):
        metadata.save_to_json(out)
    assert out.read_text() == "{}"
    metadata.save_to_json(out, mode="overwrite")
    assert _read(out) == _read(MULTI)
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Metadata.load_from_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MetadataError, match="not valid JSON"):
        Metadata.load_from_json(bad)
    with pytest.raises(MetadataError, match="'tables'"):
        Metadata.load_from_dict({"foo": 1})
    with pytest.raises(MetadataError, match="child_foreign_key"):
        Metadata.load_from_dict({"tables": {}, "relationships": [{"parent_table_name": "a"}]})


def test_copy_is_independent():
    metadata = Metadata.load_from_json(MULTI)
    clone = metadata.copy()
    clone.update_column("rating", table_name="hotels", sdtype="categorical")
    assert metadata.get_table_metadata("hotels").columns["rating"]["sdtype"] == "numerical"
    assert clone != metadata


def test_edit_methods_follow_sdv_names():
    metadata = Metadata.load_from_json(SINGLE)
    metadata.update_column("age", sdtype="numerical", computer_representation="Int8")
    assert metadata.tables["table"].columns["age"] == {"sdtype": "numerical", "computer_representation": "Int8"}
    metadata.add_column("notes", sdtype="categorical")
    metadata.set_primary_key("patient_id")
    metadata.add_alternate_keys(["visit_id"])
    assert metadata.tables["table"].primary_key == "patient_id"
    assert metadata.tables["table"].alternate_keys == ["visit_id"]
    with pytest.raises(MetadataError, match="'nope' is not in table 'table'"):
        metadata.set_sequence_index("nope")
    with pytest.raises(MetadataError, match="already exists"):
        metadata.add_column("age", sdtype="numerical")


# -- validate(): each error names its table and column --------------------------------------------


def _expect_error(metadata_dict, *fragments):
    with pytest.raises(MetadataError) as info:
        Metadata.load_from_dict(metadata_dict).validate()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_unknown_sdtype_names_table_and_column(multi_dict):
    multi_dict["tables"]["guests"]["columns"]["room_type"]["sdtype"] = "roomtype"
    _expect_error(multi_dict, "table 'guests', column 'room_type'", "unknown sdtype 'roomtype'")


@pytest.mark.parametrize("key", ["primary_key", "sequence_key", "sequence_index"])
def test_key_not_in_columns(multi_dict, key):
    multi_dict["tables"]["stays"][key] = "ghost"
    _expect_error(multi_dict, "table 'stays'", f"{key} 'ghost' is not a column")


def test_alternate_key_not_in_columns(multi_dict):
    multi_dict["tables"]["guests"]["alternate_keys"] = ["passport"]
    _expect_error(multi_dict, "table 'guests'", "alternate key 'passport'")


def test_circular_relationships(multi_dict):
    multi_dict["tables"]["hotels"]["columns"]["top_guest"] = {"sdtype": "email", "pii": True}
    multi_dict["relationships"].append(
        {
            "parent_table_name": "guests",
            "parent_primary_key": "guest_email",
            "child_table_name": "hotels",
            "child_foreign_key": "top_guest",
        }
    )
    _expect_error(multi_dict, "cycle", "hotels -> guests -> hotels")
    # add_relationship refuses the cycle and leaves the metadata as it was.
    metadata = Metadata.load_from_json(MULTI)
    metadata.add_column("top_guest", table_name="hotels", sdtype="email", pii=True)
    with pytest.raises(MetadataError, match="cycle"):
        metadata.add_relationship("guests", "hotels", "guest_email", "top_guest")
    assert len(metadata.relationships) == 2
    metadata.validate()


def test_sequence_index_must_be_datetime_or_numerical(multi_dict):
    multi_dict["tables"]["stays"]["columns"]["night"] = {"sdtype": "categorical"}
    _expect_error(multi_dict, "table 'stays'", "sequence_index 'night' must be datetime or numerical", "'categorical'")
    single = _read(SINGLE)
    single["columns"]["visit_time"] = {"sdtype": "boolean"}
    _expect_error(single, "table 'table'", "sequence_index 'visit_time'")


def test_relationship_errors_name_tables_and_columns(multi_dict):
    broken = copy.deepcopy(multi_dict)
    broken["relationships"][0]["child_foreign_key"] = "hotel_code"
    _expect_error(broken, "hotels -> guests", "'hotel_code' is not a column of table 'guests'")
    broken = copy.deepcopy(multi_dict)
    broken["relationships"][0]["parent_primary_key"] = "city"
    _expect_error(broken, "'city' is not the primary key of table 'hotels'")
    broken = copy.deepcopy(multi_dict)
    broken["relationships"][0]["parent_table_name"] = "motels"
    _expect_error(broken, "table 'motels' is not in the metadata")


def test_pii_flag_on_modelled_sdtype_is_rejected(multi_dict):
    multi_dict["tables"]["hotels"]["columns"]["rating"]["pii"] = True
    _expect_error(multi_dict, "table 'hotels', column 'rating'", "'pii'")


# -- validate_data() -------------------------------------------------------------------------------


def test_valid_data_passes(hotel_data):
    Metadata.load_from_json(MULTI).validate_data(hotel_data)


def _expect_data_error(data, *fragments, metadata=None):
    metadata = metadata or Metadata.load_from_json(MULTI)
    with pytest.raises(InvalidDataError) as info:
        metadata.validate_data(data)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_data_missing_a_column(hotel_data):
    hotel_data["guests"] = hotel_data["guests"].drop(columns="room_rate")
    _expect_data_error(hotel_data, "table 'guests'", "missing columns ['room_rate']")


def test_data_with_extra_column(hotel_data):
    hotel_data["hotels"]["manager"] = "x"
    _expect_data_error(hotel_data, "table 'hotels'", "['manager']", "not in the metadata")


def test_foreign_keys_absent_from_parent(hotel_data):
    hotel_data["guests"].loc[3, "hotel_id"] = "HID_999"
    _expect_data_error(hotel_data, "table 'guests', column 'hotel_id'", "'hotels.hotel_id'", "HID_999")


def test_duplicate_primary_keys(hotel_data):
    hotel_data["hotels"].loc[4, "hotel_id"] = "HID_000"
    _expect_data_error(hotel_data, "table 'hotels'", "key column 'hotel_id' has duplicate values", "HID_000")


def test_duplicate_alternate_keys_and_missing_keys(hotel_data):
    guests = hotel_data["guests"]
    guests.loc[1, "credit_card_number"] = guests.loc[0, "credit_card_number"]
    _expect_data_error(hotel_data, "table 'guests'", "'credit_card_number' has duplicate values")
    guests.loc[1, "credit_card_number"] = None
    _expect_data_error(hotel_data, "table 'guests'", "'credit_card_number' has missing values")


def test_bad_column_values(hotel_data):
    hotel_data["hotels"]["rating"] = ["good", "bad", "ok", "meh", "top"]
    _expect_data_error(hotel_data, "table 'hotels', column 'rating'", "needs numbers")
    hotel_data["hotels"]["rating"] = [4.1, 3.9, 4.5, 2.8, 5.0]
    hotel_data["guests"].loc[2, "checkin_date"] = "2020-01-07"
    _expect_data_error(hotel_data, "table 'guests', column 'checkin_date'", "'2020-01-07'", "'%d %b %Y'")


def test_missing_and_unknown_tables(hotel_data):
    _expect_data_error({"hotels": hotel_data["hotels"]}, "['guests', 'stays']", "missing")
    hotel_data["bookings"] = hotel_data["hotels"]
    _expect_data_error(hotel_data, "['bookings']")


def test_single_table_accepts_a_dataframe():
    metadata = Metadata.load_from_dict({"columns": {"a": {"sdtype": "numerical"}}})
    metadata.validate_data(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(InvalidDataError, match=r"table 'table'.*\['b'\]"):
        metadata.validate_data(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    with pytest.raises(TypeError):
        metadata.validate_data([1, 2])


# -- detection -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people():
    rng = np.random.default_rng(1)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 90, n),
            "income": np.round(rng.lognormal(10, 1, n), 2),
            "segment": rng.choice(["A", "B", "C"], n),
            "is_active": rng.random(n) < 0.4,
            "signup_date": pd.date_range("2019-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
            "last_login": pd.date_range("2021-01-01", periods=n, freq="h"),
            "event_time": pd.date_range("2021-01-01", periods=n, freq="min").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "contact": [f"person{i}@mail.example.org" for i in range(n)],
            "phone_number": [f"+1-202-555-{i:04d}" for i in range(n)],
            "first_name": rng.choice(["Ann", "Bob", "Cy"], n),
            "name": [f"Person {i}" for i in range(n)],
            "teamID": rng.choice(["NYA", "BOS", "CHA", "DET", "SFN"], n),
            "yearID": rng.integers(1990, 2000, n),
        }
    )


def test_detect_sdtypes(people):
    metadata = Metadata.detect_from_dataframe(people, table_name="people")
    columns = metadata.get_table_metadata("people").columns
    assert columns["customer_id"] == {"sdtype": "id"}
    assert columns["age"] == {"sdtype": "numerical", "computer_representation": "Int64"}
    assert columns["income"] == {"sdtype": "numerical", "computer_representation": "Float"}
    assert columns["segment"] == {"sdtype": "categorical"}
    assert columns["is_active"] == {"sdtype": "boolean"}
    assert columns["signup_date"] == {"sdtype": "datetime", "datetime_format": "%d/%m/%Y"}
    assert columns["last_login"] == {"sdtype": "datetime"}
    assert columns["event_time"] == {"sdtype": "datetime", "datetime_format": "%Y-%m-%dT%H:%M:%SZ"}
    assert columns["contact"] == {"sdtype": "email", "pii": True}  # by value
    assert columns["phone_number"] == {"sdtype": "phone_number", "pii": True}
    assert columns["first_name"] == {"sdtype": "first_name", "pii": True}
    assert columns["name"] == {"sdtype": "name", "pii": True}
    # Low-cardinality '...ID' columns are categories / numbers, not identifiers.
    assert columns["teamID"] == {"sdtype": "categorical"}
    assert columns["yearID"]["sdtype"] == "numerical"
    assert metadata.get_table_metadata("people").primary_key == "customer_id"
    metadata.validate()
    metadata.validate_data({"people": people})


def test_detect_month_first_dates_and_no_key():
    frame = pd.DataFrame({"day": ["01/31/2020", "02/15/2020", "12/01/2021"], "v": [1.5, 2.5, 3.5]})
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    assert table.columns["day"] == {"sdtype": "datetime", "datetime_format": "%m/%d/%Y"}
    assert table.primary_key is None


def test_detect_string_ids_become_primary_key():
    frame = pd.DataFrame({"order_id": [f"ORD{i:05d}" for i in range(50)], "qty": np.arange(50) % 4})
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    assert table.columns["order_id"] == {"sdtype": "id"}
    assert table.primary_key == "order_id"


def test_detect_relationships_by_name_and_containment():
    rng = np.random.default_rng(2)
    users = pd.DataFrame({"user_id": np.arange(40), "age": rng.integers(18, 80, 40)})
    orders = pd.DataFrame(
        {
            "order_id": np.arange(120),
            "user_id": rng.integers(0, 40, 120),  # repeated: detected as a number, then as a foreign key
            "amount": np.round(rng.random(120) * 100, 2),
        }
    )
    stores = pd.DataFrame({"id": np.arange(6), "city": list("abcdef")})
    sales = pd.DataFrame(
        {
            "sale_id": np.arange(60),
            "stores_id": rng.integers(0, 6, 60),  # '<parent>_id' for a parent key named 'id'
            "user_id": rng.integers(100, 200, 60),  # right name, values not in users: no relationship
        }
    )
    metadata = Metadata.detect_from_dataframes({"users": users, "orders": orders, "stores": stores, "sales": sales})
    pairs = {(r["parent_table_name"], r["parent_primary_key"], r["child_table_name"], r["child_foreign_key"]) for r in metadata.relationships}
    assert pairs == {("users", "user_id", "orders", "user_id"), ("stores", "id", "sales", "stores_id")}
    assert metadata.get_table_metadata("orders").columns["user_id"] == {"sdtype": "id"}
    assert metadata.get_table_metadata("orders").primary_key == "order_id"
    assert metadata.get_table_metadata("sales").primary_key == "sale_id"
    assert metadata.topological_order().index("users") < metadata.topological_order().index("orders")
    assert metadata.get_children("users")[0]["child_table_name"] == "orders"
    assert metadata.get_parents("sales")[0]["parent_table_name"] == "stores"
    assert set(metadata.get_root_tables()) == {"users", "stores"}
    metadata.validate()
    metadata.validate_data({"users": users, "orders": orders, "stores": stores, "sales": sales})


def test_self_reference_without_roots_stays_a_plain_column():
    # Every row points at a row (no null roots): that is a cycle, never a valid self-reference.
    employees = pd.DataFrame({"id": np.arange(10), "manager_id": [0, 0, 0, 1, 1, 1, 2, 2, 2, 0]})
    metadata = Metadata.detect_from_dataframes({"employees": employees})
    assert metadata.relationships == []
    assert metadata.get_table_metadata("employees").primary_key == "id"
    assert metadata.get_table_metadata("employees").columns["manager_id"]["sdtype"] == "numerical"


def test_detect_rejects_duplicate_column_names():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="duplicated"):
        Metadata.detect_from_dataframe(frame)


def test_table_metadata_select_columns_drops_unkept_keys():
    table = Metadata.load_from_json(SINGLE).get_table_metadata("table")
    subset = table.select_columns(["patient_id", "age"])
    assert isinstance(subset, TableMetadata)
    assert list(subset.columns) == ["patient_id", "age"]
    assert (subset.primary_key, subset.sequence_key, subset.sequence_index) == (None, "patient_id", None)
    assert table.get_column_names(sdtype="id") == ["visit_id", "patient_id"]
    with pytest.raises(MetadataError, match="nope"):
        table.select_columns(["nope"])


def test_get_single_table_name_refuses_multi_table():
    with pytest.raises(ValueError, match="has 3"):
        Metadata.load_from_json(MULTI).get_single_table_name()
