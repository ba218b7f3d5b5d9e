"""Issue 12 items 2-5: SDV 2.0's metadata, sdtypes, text datetimes, detection and distributions.

Each test compares with what SDV 2.0 writes or does (measured; FACTS.md "SDV 2.0's real API").
"""

import json

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError, InvalidMetadataError
from synth_assets.metadata import Metadata


def _single(columns, **keys):
    return Metadata.load_from_dict({"tables": {"t": {"columns": columns, **keys}}, "relationships": []})


# -- errors: SDV's classes -----------------------------------------------------------------------
def test_metadata_errors_are_invalid_metadata_error():
    metadata = _single({"a": {"sdtype": "numerical"}}, primary_key="nope")
    with pytest.raises(InvalidMetadataError, match=r"table 't'.*primary_key 'nope'"):
        metadata.validate()
    with pytest.raises(InvalidMetadataError, match="'zz' is not in the metadata"):
        metadata.update_column("zz", sdtype="numerical")


@pytest.mark.parametrize(
    "frame, fragment",
    [
        (pd.DataFrame({"b": [1]}), r"missing columns \['a'\]"),
        (pd.DataFrame({"a": ["x"]}), r"column 'a'.*needs numbers"),
    ],
)
def test_data_errors_are_invalid_data_error(frame, fragment):
    metadata = _single({"a": {"sdtype": "numerical"}})
    with pytest.raises(InvalidDataError, match=fragment) as info:
        metadata.validate_data({"t": frame})
    assert not isinstance(info.value, InvalidMetadataError)


def test_orphan_foreign_keys_are_invalid_data_error():
    metadata = Metadata.load_from_dict({
        "tables": {
            "p": {"columns": {"id": {"sdtype": "id"}}, "primary_key": "id"},
            "c": {"columns": {"pid": {"sdtype": "id"}}},
        },
        "relationships": [{"parent_table_name": "p", "parent_primary_key": "id",
                           "child_table_name": "c", "child_foreign_key": "pid"}],
    })
    data = {"p": pd.DataFrame({"id": [1, 2]}), "c": pd.DataFrame({"pid": [1, 3]})}
    with pytest.raises(InvalidDataError, match=r"table 'c', column 'pid'"):
        metadata.validate_data(data)
    with pytest.raises(InvalidDataError, match=r"table 'c', column 'pid'"):
        metadata.validate_keys(data)


# -- item 2: the sdtype list -----------------------------------------------------------------------
@pytest.mark.parametrize("sdtype", ["seed_instance", "random", "date", "pystr", "roomtype"])
def test_faker_attributes_that_are_not_pii_sdtypes_are_refused(sdtype):
    from synth_assets import GaussianCopulaSynthesizer

    metadata = _single({"a": {"sdtype": "numerical"}, "b": {"sdtype": sdtype}})
    with pytest.raises(InvalidMetadataError, match=rf"table 't', column 'b'.*unknown sdtype '{sdtype}'"):
        metadata.validate()
    with pytest.raises(InvalidMetadataError, match=r"column 'b'"):
        GaussianCopulaSynthesizer(metadata)


def test_every_listed_pii_sdtype_has_a_faker_method():
    from faker import Faker

    from synth_assets.metadata import PII_FAKER_METHODS, SDTYPES

    faker = Faker("en_US")
    missing = [s for s, method in PII_FAKER_METHODS.items() if not callable(getattr(faker, method, None))]
    assert missing == []
    assert {"numerical", "categorical", "boolean", "datetime", "id", "ordinal", "unknown"} <= SDTYPES


@pytest.mark.slow  # importing sdv takes ~10 s
def test_sdv_and_rdt_sdtypes_are_all_accepted():
    single_table = pytest.importorskip("sdv.metadata._single_table")
    from rdt.transformers.pii.anonymization import SDTYPE_ANONYMIZERS

    from synth_assets.metadata import SDTYPES

    sdv_sdtypes = set(single_table._SingleTableMetadata._SDTYPE_KWARGS)
    sdv_sdtypes |= set(single_table._SingleTableMetadata._REFERENCE_TO_SDTYPE.values())
    assert sdv_sdtypes | set(SDTYPE_ANONYMIZERS) <= SDTYPES


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"sdtype": "numerical", "range_min": "low"}, "'range_min' must be a number"),
        ({"sdtype": "numerical", "range_min": 5, "range_max": 1}, "'range_max' is less than 'range_min'"),
        ({"sdtype": "numerical", "decimal_places": -1}, "'decimal_places' must be an integer"),
        ({"sdtype": "ordinal", "range_values": []}, "'range_values' must be a non-empty list"),
        ({"sdtype": "categorical", "range_values": ["a", None]}, "without nulls"),
        ({"sdtype": "boolean", "range_is_nullable": "no"}, "'range_is_nullable' must be True or False"),
        ({"sdtype": "datetime", "datetime_format": "%d/%m/%Y", "range_min": "2020-13-45"}, "'range_min'"),
        ({"sdtype": "datetime", "range_min": "2021-01-01", "range_max": "2020-01-01"}, "before 'range_min'"),
        ({"sdtype": "email", "pii": "yes"}, "'pii' must be True or False"),
    ],
)
def test_bad_column_options_are_refused(spec, fragment):
    with pytest.raises(InvalidMetadataError, match=rf"table 't', column 'x': .*{fragment}"):
        _single({"x": spec}).validate()


# SDV 2.0's detect_from_dataframes + save_to_json, verbatim apart from shortened range_values.
SDV2_WRITTEN = {
    "tables": {
        "people": {
            "columns": {
                "person_id": {"sdtype": "id"},
                "city": {"pii": True, "sdtype": "city", "range_is_nullable": False},
                "stars": {"sdtype": "ordinal", "range_is_nullable": False, "range_values": [1, 4, 2, 5, 3],
                          "high_cardinality": False},
                "amount": {"sdtype": "numerical", "range_is_nullable": True, "range_min": 61.01,
                           "range_max": 140.0, "decimal_places": 2},
                "day": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d", "range_is_nullable": False,
                        "range_min": "2020-01-01", "range_max": "2020-12-31"},
                "size": {"sdtype": "categorical", "range_is_nullable": False, "range_values": ["S", "M", "L"],
                         "high_cardinality": False},
                "notes": {"sdtype": "unknown", "pii": True},
            },
            "primary_key": "person_id",
        }
    },
    "relationships": [],
    "METADATA_SPEC_VERSION": "V2",
}


def _people(n=120, seed=0):
    rng = np.random.default_rng(seed)
    stars = rng.integers(1, 6, n)
    amount = np.round(60 + 15 * stars + rng.normal(0, 3, n), 2).clip(61.01, 140.0)
    amount[::17] = np.nan
    return pd.DataFrame({
        "person_id": np.arange(n),
        "city": rng.choice(["Paris", "Lyon", "Nice"], n),
        "stars": stars,
        "amount": amount,
        "day": pd.date_range("2020-01-01", "2020-12-31", periods=n).strftime("%Y-%m-%d"),
        "size": np.array(["S", "M", "L"])[np.minimum(stars // 2, 2)],
        "notes": [f"note {i}" for i in range(n)],
    })


def test_v1_and_v2_files_round_trip_unchanged(tmp_path):
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(SDV2_WRITTEN))
    metadata = Metadata.load_from_json(path)
    metadata.validate()
    out = tmp_path / "out.json"
    metadata.save_to_json(out)
    assert json.loads(out.read_text()) == SDV2_WRITTEN
    assert metadata.copy().to_dict()["METADATA_SPEC_VERSION"] == "V2"
    v1 = dict(SDV2_WRITTEN, METADATA_SPEC_VERSION="V1")
    assert Metadata.load_from_dict(v1).to_dict() == v1
    with pytest.raises(InvalidMetadataError, match="METADATA_SPEC_VERSION 'V9'"):
        Metadata.load_from_dict(dict(SDV2_WRITTEN, METADATA_SPEC_VERSION="V9"))


def test_range_options_are_checked_against_the_data():
    metadata = Metadata.load_from_dict(SDV2_WRITTEN)
    people = _people()
    metadata.validate_data({"people": people})
    cases = [
        ("amount", 150.0, r"column 'amount'.*outside range_min=61.01 / range_max=140.0"),
        ("amount", 70.123, r"column 'amount'.*more than decimal_places=2"),
        ("day", "2021-06-01", r"column 'day'.*outside"),
        ("size", "XL", r"column 'size'.*\['XL'\] are not in range_values"),
        ("stars", 9, r"column 'stars'.*\[9\] are not in range_values"),
        ("size", None, r"column 'size'.*range_is_nullable is False"),
    ]
    for column, value, message in cases:
        bad = people.copy()
        bad[column] = bad[column].astype(object)
        bad.loc[3, column] = value
        with pytest.raises(InvalidDataError, match=message):
            metadata.validate_data({"people": bad})


def _synthesizers():
    from synth_assets import CTGANSynthesizer, GaussianCopulaSynthesizer

    return {
        "gaussian_copula": lambda md: GaussianCopulaSynthesizer(md),
        "ctgan": lambda md: CTGANSynthesizer(md, epochs=2, batch_size=40),
    }


@pytest.mark.parametrize("name", ["gaussian_copula", pytest.param("ctgan", marks=pytest.mark.slow)])
def test_sdv2_written_metadata_fits_and_honours_its_options(name):
    pytest.importorskip("ctgan") if name == "ctgan" else None
    synthesizer = _synthesizers()[name](Metadata.load_from_dict(SDV2_WRITTEN))
    people = _people()
    synthesizer.fit({"people": people})
    synthesizer.set_random_state(0)
    synthetic = synthesizer.sample(300)
    assert set(synthetic["stars"]) <= {1, 2, 3, 4, 5}
    assert set(synthetic["size"]) <= {"S", "M", "L"}
    amounts = synthetic["amount"].dropna()
    assert (amounts.round(2) == amounts).all()
    assert not set(synthetic["city"]) & set(people["city"])
    assert not set(synthetic["notes"]) & set(people["notes"])


def test_ordinal_order_is_kept_by_the_copula():
    """Declared order S < M < L, codes laid out in that order: the link to a number stays monotone."""
    from synth_assets import GaussianCopulaSynthesizer

    rng = np.random.default_rng(1)
    n = 600
    size = rng.choice(["S", "M", "L"], n)
    price = pd.Series(size).map({"S": 10.0, "M": 20.0, "L": 30.0}).to_numpy() + rng.normal(0, 2, n)
    metadata = _single({"size": {"sdtype": "ordinal", "range_values": ["S", "M", "L"]},
                        "price": {"sdtype": "numerical"}})
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(pd.DataFrame({"size": size, "price": price}))
    encoder = synthesizer._processor._transformers["size"]
    assert list(encoder.intervals) == ["S", "M", "L"]
    synthesizer.set_random_state(0)
    means = synthesizer.sample(2000).groupby("size")["price"].mean()
    assert means["S"] < means["M"] < means["L"]


def test_ordinal_in_par_and_independent():
    from synth_assets import IndependentSynthesizer, PARSynthesizer

    rng = np.random.default_rng(2)
    panel = pd.DataFrame({
        "sid": np.repeat(np.arange(20), 5),
        "t": np.tile(np.arange(5), 20),
        "level": rng.choice(["low", "mid", "high"], 100),
        "x": rng.normal(size=100),
    })
    columns = {"sid": {"sdtype": "id"}, "t": {"sdtype": "numerical"},
               "level": {"sdtype": "ordinal", "range_values": ["low", "mid", "high"]}, "x": {"sdtype": "numerical"}}
    par = PARSynthesizer(_single(columns, sequence_key="sid", sequence_index="t"), epochs=1, enable_gpu=False)
    par.fit({"t": panel})
    par.set_random_state(0)
    assert set(par.sample(num_sequences=3)["level"]) <= {"low", "mid", "high"}
    independent = IndependentSynthesizer(_single(columns))
    independent.fit({"t": panel})
    assert set(independent.sample(scale=1.0)["t"]["level"]) <= {"low", "mid", "high"}


@pytest.mark.slow  # importing sdv takes ~10 s
def test_metadata_sdv_detects_and_saves_loads_and_fits(tmp_path):
    sdv_metadata = pytest.importorskip("sdv.metadata")
    from synth_assets import GaussianCopulaSynthesizer

    people = _people()
    detected = sdv_metadata.Metadata.detect_from_dataframes({"people": people})
    path = tmp_path / "sdv.json"
    detected.save_to_json(str(path))
    written = json.loads(path.read_text())
    metadata = Metadata.load_from_json(path)
    assert metadata.to_dict() == written
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit({"people": people})
    synthetic = synthesizer.sample(50)
    assert list(synthetic.columns) == list(people.columns)
    assert not set(synthetic["city"]) & set(people["city"])  # SDV marks 'city' as PII by name


# -- item 3: text datetimes and time zones ---------------------------------------------------------
def _weekly_panel(seed=0):
    """12 sequences of 8 weekly visits, stored as '%d/%m/%Y' text, rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(12):
        start = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        rows += [(f"s{s}", (start + pd.Timedelta(days=7 * t)).strftime("%d/%m/%Y"), float(rng.normal())) for t in range(8)]
    return pd.DataFrame(rows, columns=["sid", "day", "x"]).sample(frac=1, random_state=0)


@pytest.mark.parametrize("datetime_format", ["%d/%m/%Y", None])
def test_text_sequence_index_is_sorted_as_dates(datetime_format):
    from synth_assets import PARSynthesizer

    day = {"sdtype": "datetime", **({"datetime_format": datetime_format} if datetime_format else {})}
    metadata = _single({"sid": {"sdtype": "id"}, "day": day, "x": {"sdtype": "numerical"}},
                       sequence_key="sid", sequence_index="day")
    synthesizer = PARSynthesizer(metadata, epochs=2, enable_gpu=False)
    synthesizer.fit({"t": _weekly_panel()})
    synthesizer.set_random_state(0)
    synthetic = synthesizer.sample(num_sequences=4)
    assert synthetic["day"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()
    for _, sequence in synthetic.groupby("sid"):
        days = pd.to_datetime(sequence["day"], format="%d/%m/%Y")
        assert (days.diff().dropna() == pd.Timedelta(days=7)).all(), sequence["day"].tolist()


def test_text_dates_without_format_are_modelled_as_dates():
    from synth_assets import GaussianCopulaSynthesizer

    days = pd.date_range("2020-01-25", periods=80, freq="D")
    metadata = _single({"day": {"sdtype": "datetime"}, "x": {"sdtype": "numerical"}})
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(pd.DataFrame({"day": days.strftime("%d/%m/%Y"), "x": np.arange(80.0)}))
    synthesizer.set_random_state(0)
    parsed = pd.to_datetime(synthesizer.sample(300)["day"], format="%d/%m/%Y")
    assert parsed.min() >= days.min() and parsed.max() <= days.max()
    assert parsed.std() > pd.Timedelta(days=15)  # spread over the whole range, not text order


@pytest.mark.parametrize(
    "values, unit",
    [
        (pd.date_range("2020-01-25", periods=60, freq="D", tz="Europe/Paris"), "D"),
        (pd.date_range("2020-03-01 08:00", periods=60, freq="h", tz="America/New_York"), "h"),
        (pd.date_range("2020-01-25", periods=60, freq="D"), "D"),
    ],
)
def test_datetimes_keep_time_zone_and_resolution(values, unit):
    from synth_assets import GaussianCopulaSynthesizer

    metadata = _single({"when": {"sdtype": "datetime"}, "x": {"sdtype": "numerical"}})
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(pd.DataFrame({"when": values, "x": np.arange(60.0)}))
    synthesizer.set_random_state(0)
    when = synthesizer.sample(200)["when"]
    assert when.dtype == values.dtype
    wall = when.dt.tz_localize(None) if values.tz is not None else when
    assert (wall == wall.dt.floor(unit)).all(), wall[wall != wall.dt.floor(unit)].head().tolist()
    assert when.min() >= values.min() and when.max() <= values.max()


# -- item 4: detection marks identifiers and PII -------------------------------------------------
def _customers(n=200, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": np.arange(n),
        "city": rng.choice(["Springfield", "Shelbyville", "Ogdenville", "Brockway"], n),
        "username": [f"user_{rng.integers(10**9)}_{i}" for i in range(n)],
        "contact": [f"person{i}@mail.example.org" for i in range(n)],  # e-mails under a neutral name
        "site": [f"https://blog.example.net/{i}" for i in range(n)],
        "reach": [f"+44 20 7946 {i:04d}" for i in range(n)],
        "origin": [f"10.0.{i // 250}.{i % 250}" for i in range(n)],
        "remark": [f"Delivered on the {i}th try, left with a neighbour" for i in range(n)],
        "segment": rng.choice(["A", "B", "C"], n),
        "spend": np.round(rng.gamma(2, 30, n), 2),
    })


def test_detection_marks_pii_by_name_and_content():
    columns = Metadata.detect_from_dataframe(_customers(), "c").get_table_metadata("c").columns
    assert columns["city"] == {"sdtype": "city", "pii": True}  # by name, as SDV
    assert columns["username"] == {"sdtype": "username", "pii": True}
    assert columns["contact"] == {"sdtype": "email", "pii": True}  # by content
    assert columns["site"] == {"sdtype": "url", "pii": True}
    assert columns["reach"] == {"sdtype": "phone_number", "pii": True}
    assert columns["origin"] == {"sdtype": "ipv4_address", "pii": True}
    assert columns["remark"] == {"sdtype": "unknown", "pii": True}  # unique free text, as SDV
    assert columns["segment"] == {"sdtype": "categorical"}
    assert columns["customer_id"] == {"sdtype": "id"}


@pytest.mark.parametrize(
    "name, values, sdtype",
    [
        ("home_town", ["Paris", "Lyon"] * 10, "city"),
        ("EmailAddress", ["x"] * 20, "email"),
        ("state_province", ["CA", "NY"] * 10, "administrative_unit"),
        ("login", [f"u{i}" for i in range(20)], "username"),
        ("handle", [f"@someone{i}" for i in range(20)], "unknown"),
        ("product_name", ["Widget", "Gadget"] * 10, "categorical"),
        ("status", ["open", "closed"] * 10, "categorical"),
        ("code", ["0012345", "0012346"] * 10, "categorical"),
    ],
)
def test_detection_cases(name, values, sdtype):
    spec = Metadata.detect_from_dataframe(pd.DataFrame({name: values})).get_table_metadata("table").columns[name]
    assert spec["sdtype"] == sdtype


def test_no_real_identifier_is_sampled_or_stored(tmp_path):
    from synth_assets import GaussianCopulaSynthesizer

    real = _customers()
    metadata = Metadata.detect_from_dataframe(real, "c")
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit(real)
    synthesizer.set_random_state(0)
    synthetic = synthesizer.sample(300)
    path = tmp_path / "model.pkl"
    synthesizer.save(path)
    model_bytes = path.read_bytes()
    for column in ["city", "username", "contact", "site", "reach", "origin", "remark"]:
        assert not set(synthetic[column].astype(str)) & set(real[column]), column
        leaked = [v for v in real[column].unique() if v.encode() in model_bytes]
        assert leaked == [], (column, leaked[:3])
    assert set(synthetic["segment"]) <= {"A", "B", "C"}  # categories are still modelled


# -- item 5: distributions of datetime and categorical columns -------------------------------------
def test_datetime_numerical_distribution_is_honoured():
    """The seed page's own example: numerical_distributions={'checkin_date': 'uniform'}."""
    from synth_assets import GaussianCopulaSynthesizer
    from synth_assets.errors import SynthesizerInputError

    rng = np.random.default_rng(4)
    n = 2000
    checkin = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.minimum(rng.exponential(30, n), 364).astype(int), unit="D")
    real = pd.DataFrame({"checkin_date": checkin.strftime("%Y-%m-%d"), "room": rng.choice(["A", "B"], n),
                         "rate": rng.normal(100, 10, n)})
    metadata = _single({"checkin_date": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
                        "room": {"sdtype": "categorical"}, "rate": {"sdtype": "numerical"}})
    late = checkin.min() + (checkin.max() - checkin.min()) / 2  # the middle of the real range
    shares = {}
    for distributions in (None, {"checkin_date": "uniform"}):
        synthesizer = GaussianCopulaSynthesizer(metadata, numerical_distributions=distributions)
        synthesizer.fit(real)
        learned = synthesizer.get_learned_distributions()
        assert set(learned) == {"checkin_date", "room", "rate"}
        synthesizer.set_random_state(0)
        sampled = pd.to_datetime(synthesizer.sample(2000)["checkin_date"], format="%Y-%m-%d")
        shares[learned["checkin_date"]["distribution"]] = (sampled > late).mean()
    real_share = (checkin > late).mean()
    assert real_share < 0.05
    assert shares["empirical"] < 0.05
    assert 0.4 < shares["uniform"] < 0.6  # flat over the real range, as asked
    with pytest.raises(SynthesizerInputError, match=r"column 'room' is 'categorical'"):
        GaussianCopulaSynthesizer(metadata, numerical_distributions={"room": "uniform"})


# -- the side-by-side script -------------------------------------------------------------------------
def test_sdv_compat_script_rows_on_synth_assets():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sdv_compat.py"
    spec = importlib.util.spec_from_file_location("sdv_compat", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sdv_compat"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    rows = {row["SDV call"]: row["synth_assets"] for row in module.compare(["synth_assets"])}
    assert len(rows) == len(module.CASES) >= 10
    by_start = lambda start: next(v for k, v in rows.items() if k.startswith(start))  # noqa: E731
    assert by_start("`update_column('b', sdtype='seed_instance')`").startswith("InvalidMetadataError")
    assert by_start("sdtype `ordinal`") == "values [1, 2, 3, 4, 5]"
    assert by_start("`range_max` below").startswith("InvalidDataError: table 't', column 'amount'")
    assert by_start("text `sequence_index`") == "in date order: True"
    assert by_start("tz-aware") == "tz Europe/Paris, midnight only: True"
    assert by_start("`detect_from_dataframes` on city") == "city: city, username: username"
    assert by_start("fit on detected") == "0 / 0"
    assert by_start("`numerical_distributions=") == "checkin_date: uniform, room: empirical"


def test_v1_categorical_order_is_an_ordinal():
    """Spec V1's categorical `order` (SDV 2.0 loads it as sdtype ordinal with range_values)."""
    from synth_assets import GaussianCopulaSynthesizer

    rng = np.random.default_rng(5)
    size = rng.choice(["S", "M", "L", "XL"], 400)
    price = pd.Series(size).map({"S": 1.0, "M": 2.0, "L": 3.0, "XL": 4.0}).to_numpy() + rng.normal(0, 0.3, 400)
    columns = {"size": {"sdtype": "categorical", "order": ["XL", "L", "M", "S"]}, "price": {"sdtype": "numerical"}}
    synthesizer = GaussianCopulaSynthesizer(Metadata.load_from_dict({"columns": columns}))
    synthesizer.fit(pd.DataFrame({"size": size, "price": price}))
    assert list(synthesizer._processor._transformers["size"].intervals) == ["XL", "L", "M", "S"]


def test_numeric_pii_columns_are_generated_not_modelled(tmp_path):
    """A phone number or zip code stored as a number is PII by name (as SDV): modelling it would keep
    its quantiles, i.e. real values, in the model file."""
    from synth_assets import GaussianCopulaSynthesizer

    rng = np.random.default_rng(6)
    real = pd.DataFrame({"phone": 2025550000 + rng.permutation(300), "zipcode": rng.integers(10000, 99999, 300),
                         "amount": np.round(rng.normal(50, 5, 300), 2)})
    columns = Metadata.detect_from_dataframe(real).get_table_metadata("table").columns
    assert columns["phone"] == {"sdtype": "phone_number", "pii": True}
    assert columns["zipcode"] == {"sdtype": "postcode", "pii": True}
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(real))
    synthesizer.fit(real)
    synthesizer.save(tmp_path / "m.pkl")
    model_bytes = (tmp_path / "m.pkl").read_bytes()
    as_bytes = lambda v: (str(v).encode(), np.float64(v).tobytes(), np.int64(v).tobytes())  # noqa: E731
    assert not [v for v in real["phone"] if any(b in model_bytes for b in as_bytes(v))]
    synthetic = synthesizer.sample(300)
    assert not set(synthetic["phone"].astype(str)) & set(real["phone"].astype(str))
