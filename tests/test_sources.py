"""Reading real tables: every way a file can be unreadable names the file, the table and the fix."""

import gzip
import re

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from synth_assets.errors import InvalidDataError, SynthesizerInputError
from synth_assets.sources import SourceNotFoundError, infer_format, read_table

FRAME = pd.DataFrame({"id": range(20), "x": np.linspace(0.0, 1.0, 20), "c": list("ab") * 10})


def _parquet(path):
    FRAME.to_parquet(path)
    return path


def _write(path, content):
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


def _gzip_csv():
    return gzip.compress(("id,x\n" + "".join(f"{i},{i * 2.5}\n" for i in range(2000))).encode())


BAD_FILES = {
    # name: (file name, content or writer, fragment of the explanation that says what to do)
    "truncated parquet": ("t.parquet", lambda p: p.write_bytes(_parquet(p).read_bytes()[:-40]),
                          "truncated"),
    "empty parquet": ("e.parquet", b"", "truncated"),
    "csv named parquet": ("c.parquet", "id,x\n1,2\n", "format='csv'"),
    "binary csv": ("b.csv", b"id,x\n\xff\xfe\x00\x01,\x80\x81\n", "encoding"),
    "ragged csv (one long row)": ("r.csv", "id,x,c\n1,0.5,a\n2,0.7,b,EXTRA\n", "line 3"),
    "ragged csv (every row long)": ("a.csv", "id,x\n1,0.5,a\n2,0.7,b\n", "more fields than the header"),
    "ragged csv (one short row)": ("s.csv", "id,x,c\n1,0.5,a\n2,0.7\n3,0.9,b\n", "line 3 has 2 fields"),
    "ragged tsv (short rows)": ("s.tsv", "id\tx\tc\n1\t0.5\n2\t0.7\n", "line 2 has 2 fields but the header has 3 (1 more"),
    "header-only csv": ("h.csv", "id,x,c\n", "no rows"),
    "empty csv": ("z.csv", "", "empty"),
    "zero-row parquet": ("0.parquet", lambda p: FRAME.iloc[:0].to_parquet(p), "no rows"),
    "broken json": ("j.json", '{"id": [1, 2', "json"),
    "truncated gzip csv": ("g.csv.gz", lambda p: p.write_bytes(_gzip_csv()[:-200]), "truncated"),
    "directory": ("dir.parquet", lambda p: p.mkdir(), "directory"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_unreadable_file_names_the_path_and_the_table(tmp_path, case):
    name, content, fix = BAD_FILES[case]
    path = tmp_path / name
    content(path) if callable(content) else _write(path, content)
    with pytest.raises(InvalidDataError) as raised:
        read_table(str(path), "people")
    message = str(raised.value)
    assert "table 'people'" in message and str(path) in message, message
    assert fix.lower() in message.lower(), message
    assert raised.value.__cause__ is not None or "rows" in message or "fields" in message


def test_missing_file_is_also_a_file_not_found_error(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError) as raised:
        read_table(str(path), "people")
    assert isinstance(raised.value, SourceNotFoundError) and isinstance(raised.value, InvalidDataError)
    assert "table 'people'" in str(raised.value) and "does not exist" in str(raised.value)


def test_without_a_table_name_the_path_is_still_named(tmp_path):
    path = _write(tmp_path / "h.csv", "id,x\n")
    with pytest.raises(InvalidDataError, match=re.escape(f"source '{path}' has columns ['id', 'x'] but no rows")):
        read_table(str(path))


@pytest.mark.parametrize("name, fmt, kwargs", [
    ("t.parquet", "parquet", {}), ("t.csv", "csv", {"index": False}), ("t.csv.gz", "csv", {"index": False}),
    ("t.tsv", "csv", {"index": False, "sep": "\t"}), ("t.jsonl", "json", {"orient": "records", "lines": True}),
    ("t.json", "json", {}),
])
def test_good_files_read_back_equal(tmp_path, name, fmt, kwargs):
    path = tmp_path / name
    writer = {"parquet": FRAME.to_parquet, "csv": FRAME.to_csv, "json": FRAME.to_json}[fmt]
    writer(path, **kwargs)
    assert infer_format(str(path)) == fmt
    pd.testing.assert_frame_equal(read_table(str(path), "t"), FRAME, check_dtype=False)


def test_query_and_columns_keep_their_meaning(tmp_path):
    path = _parquet(tmp_path / "t.parquet")
    frame = read_table(str(path), "t", query="id >= 15", columns=["c", "id"])
    assert list(frame.columns) == ["c", "id"] and frame["id"].tolist() == [15, 16, 17, 18, 19]
    assert list(frame.index) == list(range(5))
    with pytest.raises(InvalidDataError, match=r"table 't'.*\['missing'\] are in the metadata but not in the file"):
        read_table(str(path), "t", columns=["id", "missing"])
    with pytest.raises(SynthesizerInputError, match=r"table 't'.*query 'nope > 1' failed"):
        read_table(str(path), "t", query="nope > 1")


def test_bad_read_kwargs_and_format_name_the_parameter(tmp_path):
    path = _parquet(tmp_path / "t.parquet")
    with pytest.raises(SynthesizerInputError, match=r"table 't'.*read_kwargs \{'colour': 1\}"):
        read_table(str(path), "t", read_kwargs={"colour": 1})
    with pytest.raises(SynthesizerInputError, match=r"format 'xlsx' is not one of"):
        read_table(str(path), "t", format="xlsx")


# -- through the Dagster layer -------------------------------------------------------------------
@pytest.mark.parametrize("name, content, fix", [
    ("people.parquet", lambda p: p.write_bytes(_parquet(p).read_bytes()[:-40]), "truncated"),
    ("people.csv", b"id,x,c\n1,0.5,\xff\xfe\n", "encoding"),
    ("people.csv", "id,x,c\n", "no rows"),
    ("people.csv", "id,x,c\n1,0.5,a\n2,0.7,b,EXTRA\n", "line 3"),
])
def test_materializing_a_real_table_from_a_bad_file_names_it(tmp_path, name, content, fix):
    from synth_assets.dagster import FileSource, SynthesizerSpec, build_synthetic_assets
    from synth_assets.dagster import SynthesizerIOManager, SyntheticParquetIOManager

    path = tmp_path / name
    content(path) if callable(content) else _write(path, content)
    metadata = {"columns": {"id": {"sdtype": "id"}, "x": {"sdtype": "numerical"}, "c": {"sdtype": "categorical"}}}
    spec = SynthesizerSpec(name="people_gc", synthesizer="GaussianCopulaSynthesizer", metadata=metadata,
                           sources={"people": FileSource(path=str(path))}, checks=None)
    built = build_synthetic_assets([spec])
    store = str(tmp_path / "store")
    result = materialize(
        built.assets, selection=[AssetKey(["real", "real_people"])], raise_on_error=False,
        instance=DagsterInstance.ephemeral(),
        resources={"synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=store),
                   "synthesizer_io_manager": SynthesizerIOManager(base_dir=store)},
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    text = error.message + "".join(c.message for c in _causes(error))
    assert "InvalidDataError" in text and "table 'people'" in text and str(path) in text, text
    assert fix.lower() in text.lower(), text


def _causes(error):
    while error.cause is not None:
        error = error.cause
        yield error
