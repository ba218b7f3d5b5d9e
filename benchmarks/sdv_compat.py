"""The same SDV calls on SDV 2.0 (when the `bench` extra is installed) and on synth_assets, side by side.

    .venv/bin/python benchmarks/sdv_compat.py            # both engines; a markdown table on stdout
    .venv/bin/python benchmarks/sdv_compat.py --no-sdv   # synth_assets only

Each row is one call of the seed pages or of SDV 2.0's API (issue 12's defect classes), run on a
small fixed-seed table; a cell is what the call returned (summarised) or the exception it raised.
The README's "SDV compatibility" table says which differences are deliberate.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import markdown_table  # noqa: E402

CASES: list = []


@dataclass
class Case:
    call: str
    run: object


def case(call: str):
    def register(fn):
        CASES.append(Case(call, fn))
        return fn

    return register


def engine(name: str) -> SimpleNamespace:
    if name == "sdv":
        import sdv.errors
        from sdv.metadata import Metadata
        from sdv.metadata.errors import InvalidMetadataError
        from sdv.sequential import PARSynthesizer
        from sdv.single_table import GaussianCopulaSynthesizer

        errors = SimpleNamespace(**vars(sdv.errors), InvalidMetadataError=InvalidMetadataError)
        return SimpleNamespace(name=name, Metadata=Metadata, GC=GaussianCopulaSynthesizer, PAR=PARSynthesizer, errors=errors)
    import synth_assets.errors
    from synth_assets import GaussianCopulaSynthesizer, Metadata, PARSynthesizer

    return SimpleNamespace(name=name, Metadata=Metadata, GC=GaussianCopulaSynthesizer, PAR=PARSynthesizer, errors=synth_assets.errors)


def _table(columns: dict, **keys) -> dict:
    return {"tables": {"t": {"columns": columns, **keys}}, "relationships": [], "METADATA_SPEC_VERSION": "V2"}


def _gc(lib, columns: dict, data: pd.DataFrame, rows: int = 200, **parameters) -> pd.DataFrame:
    synthesizer = lib.GC(lib.Metadata.load_from_dict(_table(columns)), **parameters)
    synthesizer.fit({"t": data})
    synthesizer.set_random_state(0) if hasattr(synthesizer, "set_random_state") else None
    out = synthesizer.sample(rows)
    return out["t"] if isinstance(out, dict) else out


def _people(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "city": rng.choice(["Springfield", "Shelbyville", "Ogdenville"], n),
        "username": [f"user_{rng.integers(10**9)}_{i}" for i in range(n)],
        "stars": rng.integers(1, 6, n),
        "amount": np.round(rng.gamma(2, 30, n), 2),
    })


# -- item 2: metadata SDV writes, the sdtype list ---------------------------------------------------
@case("`update_column('b', sdtype='seed_instance')` then `validate()`")
def _faker_attribute_sdtype(lib):
    metadata = lib.Metadata.load_from_dict(_table({"a": {"sdtype": "numerical"}, "b": {"sdtype": "seed_instance"}}))
    metadata.validate()
    return "accepted"


@case("`detect_from_dataframes` + `save_to_json`, then load and save again")
def _v2_round_trip(lib):
    try:
        from sdv.metadata import Metadata as SDVMetadata
    except ImportError:
        return "(needs SDV to write the file)"

    with tempfile.TemporaryDirectory() as folder:
        first, second = os.path.join(folder, "a.json"), os.path.join(folder, "b.json")
        SDVMetadata.detect_from_dataframes({"t": _people()}).save_to_json(first)
        lib.Metadata.load_from_json(first).save_to_json(second)
        same = open(first).read().replace(" ", "").replace("\n", "") == open(second).read().replace(" ", "").replace("\n", "")
        import json

        return f"version {json.load(open(second))['METADATA_SPEC_VERSION']}, {'identical' if same else 'changed'}"


@case("sdtype `ordinal` with `range_values`: GaussianCopula fit + sample")
def _ordinal(lib):
    data = _people()[["stars", "amount"]]
    out = _gc(lib, {"stars": {"sdtype": "ordinal", "range_values": [1, 2, 3, 4, 5]}, "amount": {"sdtype": "numerical"}}, data)
    return f"values {sorted(set(out['stars']))}"


@case("`range_max` below a real value: `validate_data`")
def _range_max(lib):
    metadata = lib.Metadata.load_from_dict(_table({"amount": {"sdtype": "numerical", "range_max": 50}}))
    metadata.validate_data({"t": _people()[["amount"]]})
    return "accepted"


@case("`decimal_places: 0`: sample")
def _decimal_places(lib):
    data = _people()[["amount"]].round(0)
    out = _gc(lib, {"amount": {"sdtype": "numerical", "decimal_places": 0}}, data)
    return f"whole numbers: {bool((out['amount'] == out['amount'].round()).all())}"


# -- item 3: text datetimes, time zones -------------------------------------------------------------
@case("text `sequence_index` in `%d/%m/%Y`: PAR fit + sample")
def _text_sequence_index(lib):
    rows = [(f"s{s}", (pd.Timestamp("2021-01-25") + pd.Timedelta(days=7 * t + s)).strftime("%d/%m/%Y"), float(t))
            for s in range(8) for t in range(5)]
    data = pd.DataFrame(rows, columns=["sid", "day", "x"])
    columns = {"sid": {"sdtype": "id"}, "day": {"sdtype": "datetime", "datetime_format": "%d/%m/%Y"}, "x": {"sdtype": "numerical"}}
    synthesizer = lib.PAR(lib.Metadata.load_from_dict(_table(columns, sequence_key="sid", sequence_index="day")), epochs=1)
    synthesizer.fit({"t": data})
    out = synthesizer.sample_sequences(2) if hasattr(synthesizer, "sample_sequences") else synthesizer.sample(2)
    out = out["t"] if isinstance(out, dict) else out
    ordered = all(pd.to_datetime(g["day"], format="%d/%m/%Y").is_monotonic_increasing for _, g in out.groupby("sid"))
    return f"in date order: {ordered}"


@case("tz-aware date-only column (Europe/Paris): sample")
def _tz_dates(lib):
    data = pd.DataFrame({"when": pd.date_range("2020-01-25", periods=60, freq="D", tz="Europe/Paris"), "x": np.arange(60.0)})
    out = _gc(lib, {"when": {"sdtype": "datetime"}, "x": {"sdtype": "numerical"}}, data)
    wall = out["when"].dt.tz_localize(None) if getattr(out["when"].dt, "tz", None) is not None else out["when"]
    return f"tz {getattr(out['when'].dt, 'tz', None)}, midnight only: {bool((wall == wall.dt.floor('D')).all())}"


# -- item 4: detection ---------------------------------------------------------------------------------
@case("`detect_from_dataframes` on city + all-unique user names")
def _detect_pii(lib):
    columns = lib.Metadata.detect_from_dataframes({"t": _people()}).to_dict()["tables"]["t"]["columns"]
    return ", ".join(f"{c}: {columns[c]['sdtype']}" for c in ("city", "username"))


@case("fit on detected metadata: real cities / user names in the sample")
def _pii_leak(lib):
    data = _people()
    metadata = lib.Metadata.detect_from_dataframes({"t": data})
    synthesizer = lib.GC(metadata)
    synthesizer.fit({"t": data})
    out = synthesizer.sample(200)
    out = out["t"] if isinstance(out, dict) else out
    return f"{int(out['city'].isin(data['city']).sum())} / {int(out['username'].isin(data['username']).sum())}"


# -- item 5: distributions -----------------------------------------------------------------------------
@case("`numerical_distributions={'checkin_date': 'uniform'}`: `get_learned_distributions`")
def _datetime_distribution(lib):
    rng = np.random.default_rng(1)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, 200), unit="D")
    data = pd.DataFrame({"checkin_date": days.strftime("%Y-%m-%d"), "room": rng.choice(["A", "B"], 200)})
    columns = {"checkin_date": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"}, "room": {"sdtype": "categorical"}}
    synthesizer = lib.GC(lib.Metadata.load_from_dict(_table(columns)), numerical_distributions={"checkin_date": "uniform"})
    synthesizer.fit({"t": data})
    learned = synthesizer.get_learned_distributions()
    return ", ".join(f"{c}: {v['distribution']}" for c, v in learned.items())


# -- errors ---------------------------------------------------------------------------------------------
@case("`validate_data` with a missing column: exception class")
def _data_error(lib):
    metadata = lib.Metadata.load_from_dict(_table({"a": {"sdtype": "numerical"}, "b": {"sdtype": "numerical"}}))
    try:
        metadata.validate_data({"t": pd.DataFrame({"a": [1.0]})})
    except lib.errors.InvalidDataError:
        return "InvalidDataError"
    return "no error"


def outcome(run, lib) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(run(lib))
    except Exception as error:  # a row's result, not a failure of the script
        message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        return f"{type(error).__name__}: {message[:100]}"


def compare(engines: list[str]) -> list[dict]:
    libs = [engine(name) for name in engines]
    rows = []
    for item in CASES:
        row = {"SDV call": item.call}
        for lib in libs:
            row["SDV 2.0" if lib.name == "sdv" else "synth_assets"] = outcome(item.run, lib).replace("|", "/")
        rows.append(row)
    return rows


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-sdv", action="store_true", help="run synth_assets only")
    args = parser.parse_args(argv)
    engines = ["synth_assets"]
    if not args.no_sdv:
        try:
            import sdv  # noqa: F401

            engines.insert(0, "sdv")
        except ImportError:
            print("SDV is not installed (pip install '.[bench]'); synth_assets only.", file=sys.stderr)
    rows = compare(engines)
    columns = ["SDV call"] + (["SDV 2.0"] if "sdv" in engines else []) + ["synth_assets"]
    print(markdown_table(rows, columns))
    return rows


if __name__ == "__main__":
    main()
