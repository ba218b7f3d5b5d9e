"""TableProcessor: exact round-trip of every sdtype, ids and PII generated (never learned), enforcement."""

import pickle
import re
import time

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError
from synth_assets.metadata import Metadata
from synth_assets.processing import IdGenerator, PIIGenerator, TableProcessor

N = 120


def _nulls(n, every):
    return np.arange(n) % every == 0


@pytest.fixture(scope="module")
def frame():
    """One column per modelled sdtype / dtype, most with missing values."""
    rng = np.random.default_rng(0)
    times = pd.Series(pd.date_range("2013-01-01 05:00", periods=N, freq="7h"))
    return pd.DataFrame(
        {
            "int64": rng.integers(-50, 50, N),
            "int32": rng.integers(0, 10, N).astype("int32"),
            "uint8": rng.integers(0, 200, N).astype("uint8"),
            "Int64_na": pd.Series(rng.integers(18, 90, N), dtype="Int64").mask(_nulls(N, 5)),
            "float_2dp_na": pd.Series(np.round(rng.normal(50, 10, N), 2)).mask(_nulls(N, 7)),
            "float32": rng.random(N).astype("float32"),
            "Float64_na": pd.Series(rng.random(N).round(3), dtype="Float64").mask(_nulls(N, 6)),
            "bool": rng.random(N) < 0.3,
            "bool_obj_na": pd.Series(rng.random(N) < 0.5, dtype=object).mask(_nulls(N, 4)),
            "boolean_na": pd.Series(rng.random(N) < 0.5, dtype="boolean").mask(_nulls(N, 8)),
            "cat": rng.choice(["red", "green", "blue"], N).astype(object),
            "cat_na": pd.Series(rng.choice(["x", "y"], N), dtype=object).mask(_nulls(N, 3)),
            "category_dtype": pd.Categorical(rng.choice(["lo", "mid", "hi"], N)),
            "string_na": pd.Series(rng.choice(["a", "b"], N), dtype="string").mask(_nulls(N, 9)),
            "date_str_na": pd.Series(times.dt.strftime("%d/%m/%Y")).mask(_nulls(N, 10)),
            "iso_z": times.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dt64_nat": times.mask(_nulls(N, 11)),
            "dt64_ms": times.astype("datetime64[ms]"),
            "dt64_tz": times.dt.tz_localize("UTC"),
        }
    )


@pytest.fixture(scope="module")
def table(frame):
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    assert all(not table.is_generated(c) for c in frame.columns)
    return table


@pytest.mark.parametrize("encoding", ["uniform", "label"])
def test_round_trip_every_modelled_sdtype_is_exact(frame, table, encoding):
    processor = TableProcessor(table, categorical_encoding=encoding).fit(frame)
    encoded = processor.transform(frame)
    assert (encoded.dtypes == "float64").all()
    assert not encoded.isna().any().any()
    assert len(encoded) == len(frame)
    restored = processor.reverse_transform(encoded)
    assert list(restored.columns) == list(frame.columns)
    for column in frame.columns:
        assert restored[column].dtype == frame[column].dtype, column
        pd.testing.assert_series_equal(restored[column], frame[column], check_names=False, obj=column)


def test_output_columns_with_label_encoding(frame, table):
    processor = TableProcessor(table, categorical_encoding="label").fit(frame)
    outputs = {c.name: c for c in processor.output_columns}
    assert list(outputs) == list(processor.transform(frame.head(3)).columns)
    assert outputs["cat"].kind == "discrete" and outputs["cat"].n_categories == 3
    assert outputs["cat_na"].n_categories == 3  # NaN is its own category
    assert outputs["bool"].n_categories == 2 and outputs["bool_obj_na"].n_categories == 3
    assert outputs["int64"].kind == "continuous" and "int64.is_null" not in outputs
    assert outputs["float_2dp_na.is_null"].kind == "discrete"
    assert outputs["float_2dp_na.is_null"].n_categories == 2
    assert outputs["float_2dp_na.is_null"].source_column == "float_2dp_na"
    assert outputs["dt64_nat"].kind == "continuous" and "dt64_nat.is_null" in outputs
    codes = processor.transform(frame)["cat_na"]
    assert set(codes.unique()) == {0.0, 1.0, 2.0}
    # Datetimes are encoded as float nanoseconds since the epoch.
    first = processor.transform(frame.head(1))["dt64_ms"].iloc[0]
    assert first == pytest.approx(pd.Timestamp("2013-01-01 05:00").value)


def test_uniform_encoding_is_all_continuous(frame, table):
    processor = TableProcessor(table).fit(frame)
    assert {c.kind for c in processor.output_columns} == {"continuous"}
    encoded = processor.transform(frame)
    assert encoded["cat"].between(0, 1).all()


def test_enforce_min_max_and_rounding():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "price": np.round(rng.uniform(1, 10, 80), 2),
            "count": rng.integers(0, 50, 80),
            "day": pd.date_range("2021-01-01", periods=80, freq="D").strftime("%Y-%m-%d"),
        }
    )
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    lo, hi = frame["price"].min(), frame["price"].max()
    results = {}
    for enforce_range in (True, False):
        for enforce_rounding in (True, False):
            processor = TableProcessor(table, enforce_min_max_values=enforce_range, enforce_rounding=enforce_rounding)
            processor.fit(frame)
            encoded = processor.transform(frame.head(3)).copy()
            day_max = encoded["day"].max()
            encoded["price"] = [123.456789, -5.123, 3.14159]
            encoded["count"] = [77.7, -3.3, 2.6]
            encoded["day"] = [day_max + 200 * 86400e9, encoded["day"].min() - 200 * 86400e9, encoded["day"].iloc[2]]
            results[enforce_range, enforce_rounding] = processor.reverse_transform(encoded)
    on = results[True, True]
    assert on["price"].tolist() == [hi, lo, 3.14]
    assert on["count"].tolist() == [frame["count"].max(), 0, 3]
    assert on["day"].tolist() == ["2021-03-21", "2021-01-01", "2021-01-03"]
    assert results[True, False]["price"].tolist() == [hi, lo, 3.14159]
    assert results[False, True]["price"].tolist() == [123.46, -5.12, 3.14]
    off = results[False, False]
    assert off["price"].tolist() == [123.456789, -5.123, 3.14159]
    assert off["count"].tolist() == [78, -3, 3]  # an int64 column stays integer
    assert off["day"].iloc[0] > "2021-03-21" and off["day"].iloc[1] < "2021-01-01"
    assert off["count"].dtype == np.int64


def test_transform_tolerates_a_shuffled_index(frame, table):
    processor = TableProcessor(table).fit(frame)
    shuffled = frame.sample(frac=1.0, random_state=1)
    restored = processor.reverse_transform(processor.transform(shuffled))
    pd.testing.assert_frame_equal(restored, shuffled.reset_index(drop=True))


def test_processor_errors(frame, table):
    processor = TableProcessor(table, table_name="people")
    with pytest.raises(ValueError, match="table 'people' is not fitted"):
        processor.transform(frame)
    with pytest.raises(ValueError, match="categorical_encoding"):
        TableProcessor(table, categorical_encoding="onehot")
    with pytest.raises(InvalidDataError, match=r"table 'people'.*missing columns \['cat'\]"):
        processor.fit(frame.drop(columns="cat"))
    processor.fit(frame)
    with pytest.raises(ValueError, match="table 'people': column 'cat' is missing"):
        processor.transform(frame.drop(columns="cat"))


def test_processing_is_vectorized():
    # SDV parses datetimes one value at a time (~0.3 ms a row: ~15 s per pass here).
    n = 50_000
    rng = np.random.default_rng(0)
    seconds = pd.to_timedelta(rng.integers(0, 10**9, n), unit="s")
    frame = pd.DataFrame(
        {
            "when": (pd.Timestamp("2000-01-01") + seconds).strftime("%d %b %Y %H:%M"),
            "kind": rng.choice(list("abcdefgh"), n),
            "x": rng.normal(size=n).round(3),
        }
    )
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    table.update_column("when", sdtype="datetime", datetime_format="%d %b %Y %H:%M")
    started = time.perf_counter()
    processor = TableProcessor(table).fit(frame)
    restored = processor.reverse_transform(processor.transform(frame))
    assert time.perf_counter() - started < 6.0
    pd.testing.assert_frame_equal(restored, frame)


def test_uniform_encoding_is_vectorized_and_exact():
    # rdt's UniformEncoder maps each value through a Python function: ~1.2 s for these 300k values.
    n = 300_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"kind": pd.Series(rng.choice(list("abcdefghij"), n), dtype=object).mask(rng.random(n) < 0.05)})
    processor = TableProcessor(Metadata.detect_from_dataframe(frame).get_table_metadata("table")).fit(frame)
    started = time.perf_counter()
    encoded = processor.transform(frame, seed=1)
    assert time.perf_counter() - started < 0.6
    intervals = processor._transformers["kind"].intervals
    lows = frame["kind"].map(lambda v: intervals[None if pd.isna(v) else v][0])
    highs = frame["kind"].map(lambda v: intervals[None if pd.isna(v) else v][1])
    assert ((encoded["kind"] >= lows) & (encoded["kind"] <= highs)).all()
    assert encoded["kind"].nunique() > 0.99 * n  # drawn uniformly inside the interval, not a constant
    pd.testing.assert_frame_equal(processor.transform(frame, seed=1), encoded)
    pd.testing.assert_frame_equal(processor.reverse_transform(encoded), frame)


def test_uniform_encoding_is_reproducible_in_threads():
    # rdt draws from numpy's global generator, swapped in and out per call: threads raced for it.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(1)
    frames = [pd.DataFrame({"c": rng.choice(list("abcde"), 20_000), "v": rng.random(20_000)}) for _ in range(4)]
    processors = [TableProcessor(Metadata.detect_from_dataframe(f).get_table_metadata("table")).fit(f) for f in frames]
    expected = [p.transform(f, seed=3) for p, f in zip(processors, frames)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            results = list(pool.map(lambda pair: pair[0].transform(pair[1], seed=3), zip(processors, frames)))
            for result, want in zip(results, expected):
                pd.testing.assert_frame_equal(result, want)


def test_unseen_categories_keep_rdts_fallback(frame, table):
    processor = TableProcessor(table).fit(frame)
    unseen = frame.head(20).copy()
    unseen["cat"] = "purple"
    with pytest.warns(UserWarning, match="new categories"):
        encoded = processor.transform(unseen)
    assert encoded["cat"].between(0, 1).all()
    assert set(processor.reverse_transform(encoded)["cat"]) <= {"red", "green", "blue"}


# -- generated columns: ids ------------------------------------------------------------------------


def test_ids_are_unique_and_keep_their_format():
    frame = pd.DataFrame(
        {
            "user_id": np.arange(500, 560),
            "order_id": [f"ORD{i:05d}" for i in range(60)],
            "ticket_id": [f"TK-{i}" for i in range(60)],
            "code": [f"{c}{i:03d}" for c, i in zip("ABCDEFGHIJ" * 6, range(60))],
            "zip_id": np.arange(10000, 10060),
            "v": np.arange(60) % 7,
        }
    )
    table = Metadata.load_from_dict(
        {
            "columns": {
                "user_id": {"sdtype": "id"},
                "order_id": {"sdtype": "id"},
                "ticket_id": {"sdtype": "id"},
                "code": {"sdtype": "id", "regex_format": "[A-Z]{2}[0-9]{3}"},
                "zip_id": {"sdtype": "id", "regex_format": "[1-9][0-9]{4}"},
                "v": {"sdtype": "numerical"},
            },
            "primary_key": "user_id",
            "alternate_keys": ["order_id", "code"],
        }
    ).get_table_metadata("table")
    processor = TableProcessor(table).fit(frame)
    assert processor.generated_columns == ["user_id", "order_id", "ticket_id", "code", "zip_id"]
    assert processor.modelled_columns == ["v"]
    assert [c.source_column for c in processor.output_columns] == ["v"]
    synthetic = processor.reverse_transform(processor.transform(frame).head(0).reindex(range(300)).fillna(1.0))
    assert len(synthetic) == 300
    for column in processor.generated_columns:
        assert synthetic[column].is_unique, column
        assert synthetic[column].dtype == frame[column].dtype, column
    for column in ("user_id", "order_id", "ticket_id"):
        assert not set(synthetic[column]) & set(frame[column]), column
    assert synthetic["order_id"].str.fullmatch(r"ORD\d{5}").all()
    assert synthetic["ticket_id"].str.fullmatch(r"TK-\d+").all()
    assert synthetic["code"].str.fullmatch(r"[A-Z]{2}[0-9]{3}").all()
    assert synthetic["zip_id"].between(10000, 99999).all()  # regex on an int column: still ints


def test_id_generator_start_gives_disjoint_ranges():
    for generator in (
        IdGenerator().fit(pd.Series([1, 2, 3])),
        IdGenerator().fit(pd.Series(["P001", "P002"])),
        IdGenerator("[A-Z]{3}_[0-9]{2}").fit(pd.Series(["ABC_01"])),
    ):
        first = generator.generate(20, start=0, seed=1)
        second = generator.generate(20, start=20, seed=2)
        assert first.is_unique and second.is_unique
        assert not set(first) & set(second)
    generator = IdGenerator().fit(pd.Series(["P001", "P002"]))
    assert generator.generate(2, start=7).tolist() == generator.generate(9).tolist()[7:]
    assert generator.generate(2, start=7).str.fullmatch(r"P\d{3}").all()


def test_generate_columns_only_generated(frame):
    extended = frame[["cat"]].assign(customer_id=np.arange(N), email=[f"c{i}@corp.example" for i in range(N)])
    table = Metadata.detect_from_dataframe(extended).get_table_metadata("table")
    processor = TableProcessor(table).fit(extended)
    generated = processor.generate_columns(25, seed=4, start=100)
    assert list(generated.columns) == ["customer_id", "email"]
    first = processor.generate_columns(125, seed=4)["customer_id"]
    assert generated["customer_id"].tolist() == first.tolist()[100:]
    assert not set(generated["customer_id"]) & set(extended["customer_id"])  # real ids not reused
    assert generated["email"].str.contains("@").all()
    pd.testing.assert_frame_equal(generated, processor.generate_columns(25, seed=4, start=100))


# -- generated columns: PII ------------------------------------------------------------------------

_FR_PHONE = re.compile(r"^(\+33 (\(0\))?|0)[1-9]")


def test_pii_honours_locales():
    def phones(locales, n=60):
        return PIIGenerator("phone_number", locales).fit(pd.Series(["x"])).generate(n, seed=1)

    french, american = phones(["fr_FR"]), phones(["en_US"])
    assert french.map(lambda v: bool(_FR_PHONE.match(v))).all(), french.tolist()
    assert not american.str.contains(r"\+33").any()
    mixed = phones(["en_US", "fr_FR"], n=200)
    share_french = mixed.str.contains(r"\+33|^0[1-9]", regex=True).mean()
    assert 0.1 < share_french < 0.9

    def names(locale):
        return set(PIIGenerator("name", [locale]).fit(pd.Series(["x"])).generate(300, seed=2))

    assert len(names("fr_FR") & names("en_US")) < 10


def test_pii_is_reproducible_with_a_seed():
    generator = PIIGenerator("email").fit(pd.Series(["a@b.co"]))
    assert generator.generate(30, seed=5).tolist() == generator.generate(30, seed=5).tolist()
    assert generator.generate(30, seed=5).tolist() != generator.generate(30, seed=6).tolist()


def test_real_pii_value_is_never_emitted():
    # Plant, as "real" data, exactly the values faker produces for this seed.
    planted = PIIGenerator("name").fit(pd.Series(["nobody"])).generate(8, seed=1).tolist()
    generator = PIIGenerator("name").fit(pd.Series(planted[:3]))
    produced = generator.generate(8, seed=1).tolist()
    assert not set(produced) & set(planted[:3])
    assert produced[:5] == planted[3:]  # same faker stream, real values skipped


def test_pii_key_unique_and_nulls_kept():
    real = pd.Series([f"p{i}@x.example" for i in range(40)] + [None] * 10)
    unique = PIIGenerator("email", unique=True).fit(real.dropna()).generate(400, seed=0)
    assert unique.is_unique and unique.notna().all()
    loose = PIIGenerator("email").fit(real).generate(2000, seed=0)
    assert loose.isna().mean() == pytest.approx(0.2, abs=0.03)


def test_pii_unknown_provider_is_a_clear_error():
    with pytest.raises(ValueError, match="column 'secret'.*'not_a_faker_method'"):
        PIIGenerator("not_a_faker_method").fit(pd.Series(["x"], name="secret"))


def test_fitted_processor_holds_no_real_pii():
    emails = [f"jane.doe{i}@private-corp.example" for i in range(50)]
    frame = pd.DataFrame({"email": emails, "phone": [f"+44 7700 900{i:03d}" for i in range(50)], "v": np.arange(50)})
    table = Metadata.detect_from_dataframe(frame).get_table_metadata("table")
    assert table.columns["phone"]["sdtype"] == "phone_number"
    processor = TableProcessor(table, locales=["fr_FR"]).fit(frame)
    blob = pickle.dumps(processor)
    assert b"private-corp" not in blob and b"7700 900" not in blob
    synthetic = processor.reverse_transform(processor.transform(frame))
    assert not set(synthetic["email"]) & set(emails)
    assert synthetic["phone"].map(lambda v: bool(_FR_PHONE.match(v))).all()
    assert synthetic["v"].tolist() == list(range(50))


def test_regex_ids_never_reuse_real_ids():
    from synth_assets.processing import IdGenerator

    real = pd.Series([f"ID_{i:03d}" for i in range(0, 100, 2)])  # even numbers taken
    generator = IdGenerator(regex_format="ID_[0-9]{3}").fit(real)
    first, later = generator.generate(30), generator.generate(10, start=30)
    assert not first.isin(real).any() and not later.isin(real).any()
    assert first.str.fullmatch(r"ID_\d{3}").all()
    assert not set(first) & set(later) and first.is_unique


# -- keys in the key's format (issue 11 item 3) -----------------------------------------------------------
def test_twenty_digit_id_strings_do_not_overflow():
    from synth_assets.processing import IdGenerator

    real = pd.Series(["12345678901234567890", "98765432109876543210", "55555555555555555555"])
    generated = IdGenerator().fit(real).generate(4, start=2)
    assert generated.tolist() == [str(98765432109876543210 + 1 + i) for i in range(2, 6)]
    assert generated.str.fullmatch(r"\d{20}").all() and not generated.isin(real).any()


def test_ids_past_the_dtype_are_refused_not_wrapped():
    from synth_assets.processing import IdGenerator

    generator = IdGenerator().fit(pd.Series([np.iinfo(np.int64).max - 1], dtype="int64"))
    assert generator.generate(1).tolist() == [np.iinfo(np.int64).max]
    with pytest.raises(ValueError, match="do not fit the column's int64 dtype"):
        generator.generate(2)
    wide = IdGenerator().fit(pd.Series([2**63 + 5], dtype="uint64")).generate(2)
    assert wide.dtype == np.uint64 and wide.tolist() == [2**63 + 6, 2**63 + 7]


@pytest.mark.parametrize("real", [
    pd.Series(np.arange(5550000, 5550040), dtype="int64"),  # a phone number stored as an integer key
    pd.Series([f"{5550000 + i}" for i in range(40)]),  # ... or as digits in text
])
def test_pii_key_stored_as_numbers_keeps_the_key_format(real):
    from synth_assets import GaussianCopulaSynthesizer

    frame = pd.DataFrame({"phone": real, "x": np.linspace(0, 1, len(real))})
    metadata = Metadata.load_from_dict({"tables": {"t": {"primary_key": "phone", "columns": {
        "phone": {"sdtype": "phone_number", "pii": True}, "x": {"sdtype": "numerical"}}}}})
    model = GaussianCopulaSynthesizer(metadata)
    model.fit(frame)
    keys = model.sample(100)["phone"]
    assert keys.dtype == real.dtype and keys.is_unique and not keys.isin(real).any()
    assert keys.astype(str).str.fullmatch(r"\d{7}").all()


def test_pii_key_in_multi_table_is_generated_as_that_pii():
    from synth_assets.multi_table import IndependentSynthesizer

    users = pd.DataFrame({"email": [f"user{i}@corp.example" for i in range(30)], "age": np.arange(30) % 50 + 20})
    orders = pd.DataFrame({"order_id": np.arange(60), "email": users["email"].repeat(2).to_numpy(), "amount": np.arange(60) * 1.5})
    metadata = {"tables": {
        "users": {"primary_key": "email", "columns": {"email": {"sdtype": "email", "pii": True}, "age": {"sdtype": "numerical"}}},
        "orders": {"primary_key": "order_id", "columns": {
            "order_id": {"sdtype": "id"}, "email": {"sdtype": "email", "pii": True}, "amount": {"sdtype": "numerical"}}},
    }, "relationships": [{"parent_table_name": "users", "parent_primary_key": "email",
                          "child_table_name": "orders", "child_foreign_key": "email"}]}
    model = IndependentSynthesizer(metadata)
    model.fit({"users": users, "orders": orders})
    synthetic = model.sample()
    keys = synthetic["users"]["email"]
    assert keys.str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+").all() and keys.is_unique
    assert not keys.isin(users["email"]).any()
    assert synthetic["orders"]["email"].isin(keys).all()
