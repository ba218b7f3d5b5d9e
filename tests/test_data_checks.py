"""Data no synthesizer can model is refused by one rule, the same in every synthesizer, naming the
table, the column, the count and what to do; the caller's data is left untouched."""

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError
from synth_assets.metadata import Metadata


def _table(n=50):
    rng = np.random.default_rng(0)
    values = rng.normal(size=n)
    values[:10] = np.inf
    values[10:13] = -np.inf
    return pd.DataFrame({"x": values, "c": rng.choice(["a", "b"], n), "y": rng.normal(size=n)})


def _panel():
    rows = [{"entity": f"E{e}", "t": s, "v": float(s) if (e, s) != (3, 1) else np.inf, "k": "a"}
            for e in range(8) for s in range(4)]
    return pd.DataFrame(rows)


def _single(kind):
    from synth_assets import single_table

    frame = _table()
    metadata = Metadata.detect_from_dataframe(frame, "readings")
    return (lambda: getattr(single_table, kind)(metadata).fit(frame)), frame


def _par():
    from synth_assets.sequential import PARSynthesizer

    panel = _panel()
    metadata = Metadata.detect_from_dataframe(panel, "readings")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    metadata.set_sequence_index("t")
    return (lambda: PARSynthesizer(metadata, epochs=1, enable_gpu=False).fit(panel)), panel


def _multi():
    from synth_assets.multi_table import IndependentSynthesizer
    from multi_table_demo import make_demo_data

    data, metadata = make_demo_data(num_users=20, seed=1)
    data["orders"].loc[data["orders"].index[:2], "amount"] = [np.inf, -np.inf]
    return (lambda: IndependentSynthesizer(metadata).fit(data)), data["orders"]


CASES = {
    "copula": (lambda: _single("GaussianCopulaSynthesizer"), "readings", "x", "13 of 50 values are infinite (10 +inf, 3 -inf)"),
    "ctgan": (lambda: _single("CTGANSynthesizer"), "readings", "x", "13 of 50 values are infinite"),
    "tvae": (lambda: _single("TVAESynthesizer"), "readings", "x", "13 of 50"),
    "copulagan": (lambda: _single("CopulaGANSynthesizer"), "readings", "x", "13 of 50"),
    "par": (_par, "readings", "v", "1 of 32 values are infinite (1 +inf, 0 -inf)"),
    "multi_table": (_multi, "orders", "amount", "2 of "),
}


@pytest.mark.parametrize("case", list(CASES))
def test_infinity_is_refused_the_same_way_everywhere(case):
    build, table, column, count = CASES[case]
    fit, frame = build()
    before = frame.copy()
    with pytest.raises(InvalidDataError) as info:
        fit()
    assert f"table '{table}', column '{column}': {count}" in str(info.value)
    assert "values are infinite" in str(info.value) and "Replace them with NaN" in str(info.value)
    pd.testing.assert_frame_equal(frame, before)  # nothing lost or changed


def test_infinity_as_text_and_in_float32_is_counted():
    frame = pd.DataFrame({"x": ["1.5", "inf", "-inf", "2"], "f": np.array([1, np.inf, 2, 3], dtype=np.float32)})
    metadata = Metadata.load_from_dict({"tables": {"t": {"columns": {"x": {"sdtype": "numerical"}, "f": {"sdtype": "numerical"}}}}})
    with pytest.raises(InvalidDataError) as info:
        metadata.validate_data({"t": frame})
    assert "column 'x': 2 of 4 values are infinite" in str(info.value)
    assert "column 'f': 1 of 4 values are infinite" in str(info.value)


def test_nan_is_still_a_missing_value_not_an_error():
    from synth_assets import GaussianCopulaSynthesizer

    frame = _table().replace([np.inf, -np.inf], np.nan)
    model = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(frame, "readings"))
    model.fit(frame)
    model.set_random_state(0)
    share = model.sample(2000)["x"].isna().mean()
    assert share == pytest.approx(13 / 50, abs=0.05)


# -- column names and cells ------------------------------------------------------------------------------
def _fit_copula(frame, metadata_frame=None):
    from synth_assets import GaussianCopulaSynthesizer

    metadata = Metadata.detect_from_dataframe(metadata_frame if metadata_frame is not None else frame, "people")
    GaussianCopulaSynthesizer(metadata).fit(frame)


def test_duplicate_column_names_are_named():
    good = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    bad = pd.concat([good, good[["a"]]], axis=1)
    with pytest.raises(InvalidDataError, match=r"table 'people': duplicate column names \['a'\]"):
        _fit_copula(bad, good)


def test_non_string_column_names_are_named():
    good = pd.DataFrame({"a": [1.0, 2.0, 3.0], "0": ["x", "y", "z"]})
    bad = good.rename(columns={"0": 0})
    with pytest.raises(InvalidDataError, match=r"table 'people': column names must be strings, got \[0\]"):
        _fit_copula(bad, good)


@pytest.mark.parametrize("cell", [[1, 2], {"k": 1}, {1, 2}, (1, 2), np.array([1, 2])])
def test_container_cells_are_named(cell):
    good = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "tags": ["x", "y", "z", "x"]})
    bad = good.copy()
    bad["tags"] = pd.Series(["x", cell, "z", "x"], dtype=object)
    with pytest.raises(InvalidDataError, match=f"table 'people', column 'tags': 1 cells hold a {type(cell).__name__}"):
        _fit_copula(bad, good)


def test_container_cells_in_par_name_the_column():
    from synth_assets.sequential import PARSynthesizer

    panel = _panel().replace([np.inf], 1.0)
    metadata = Metadata.detect_from_dataframe(panel, "readings")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    panel["k"] = pd.Series([["a"]] * len(panel), dtype=object)
    with pytest.raises(InvalidDataError, match="table 'readings', column 'k': 32 cells hold a list"):
        PARSynthesizer(metadata, epochs=1, enable_gpu=False).fit(panel)


# -- tiny inputs fit, with a warning that the output copies them -------------------------------------------
def test_one_row_table_fits_with_a_copy_warning():
    from synth_assets import GaussianCopulaSynthesizer
    from synth_assets.single_table.base import CopiesInputWarning

    frame = pd.DataFrame({"x": [3.5], "c": ["a"]})
    model = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(frame, "tiny"))
    with pytest.warns(CopiesInputWarning, match="table 'tiny' has a single row: the synthetic rows will copy it"):
        model.fit(frame)
    sample = model.sample(5)
    assert (sample["x"] == 3.5).all() and (sample["c"] == "a").all()  # what the warning says


def test_two_rows_fit_without_the_warning():
    import warnings

    from synth_assets import GaussianCopulaSynthesizer
    from synth_assets.single_table.base import CopiesInputWarning

    frame = pd.DataFrame({"x": [3.5, 4.0], "c": ["a", "b"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CopiesInputWarning)
        GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(frame, "tiny")).fit(frame)


def test_one_sequence_panel_fits_with_one_sequence_warning():
    import warnings

    from synth_assets.sequential import PARSynthesizer
    from synth_assets.single_table.base import CopiesInputWarning

    panel = pd.DataFrame({"entity": ["E1"] * 6, "t": range(6), "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    metadata = Metadata.detect_from_dataframe(panel, "panel")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    metadata.set_sequence_index("t")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PARSynthesizer(metadata, epochs=1, enable_gpu=False).fit(panel)
    copies = [str(w.message) for w in caught if issubclass(w.category, CopiesInputWarning)]
    assert len(copies) == 1 and "table 'panel' has a single sequence" in copies[0]
