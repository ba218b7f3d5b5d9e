"""Atomic, integrity-checked IO managers: a failed write never damages the previous output."""

import os
import pickle
import time

import numpy as np
import pandas as pd
import pytest
from dagster import (
    AssetIn,
    AssetKey,
    DagsterInstance,
    DailyPartitionsDefinition,
    asset,
    build_init_resource_context,
    build_input_context,
    materialize,
)

from synth_assets.dagster import (
    FileSource,
    SampleSpec,
    SynthesizerIOManager,
    SynthesizerSpec,
    SyntheticParquetIOManager,
    build_synthetic_assets,
)
from synth_assets.dagster import io_managers
from synth_assets.persistence import ModelFileError, load_synthesizer, read_header


def _frame(version: int) -> pd.DataFrame:
    return pd.DataFrame({
        "n": pd.array([version, 2, None], dtype="Int64"),
        "x": [0.5 * version, 1.5, np.nan],
        "c": pd.Categorical(["a", "b", "a"]),
        "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "s": ["u", "v", "w"],
    })


def _table_asset(version_box):
    @asset(key=["synthetic", "t"], io_manager_key="synthetic_parquet_io_manager")
    def table():
        frame = _frame(version_box[0])
        frame.attrs["synth_assets_profile"] = {"secret": "real min/max"}
        return frame

    return table


def _temps(directory):
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


def _run(assets, base, **kwargs):
    resources = {
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(base)),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(base)),
    }
    return materialize(assets, resources=resources, instance=DagsterInstance.ephemeral(), raise_on_error=False, **kwargs)


def test_parquet_round_trip_keeps_schema_and_drops_attrs(tmp_path):
    assert _run([_table_asset([1])], tmp_path).success
    stored = pd.read_parquet(tmp_path / "synthetic" / "t.parquet")
    pd.testing.assert_frame_equal(stored, _frame(1))
    assert stored.attrs == {}  # the type-check profile never reaches the file
    assert not _temps(tmp_path)


def test_failed_parquet_write_leaves_previous_output(tmp_path, monkeypatch):
    box = [1]
    assert _run([_table_asset(box)], tmp_path).success
    import pyarrow.parquet as pq

    def half_then_fail(table, where, **kwargs):
        where.write(b"PAR1 partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    box[0] = 2
    result = _run([_table_asset(box)], tmp_path)
    assert not result.success
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "synthetic" / "t.parquet"), _frame(1))
    assert not _temps(tmp_path)


@pytest.mark.parametrize("failure", ["mid_write", "interrupt", "rename"])
def test_failed_model_write_leaves_previous_model(tmp_path, monkeypatch, failure):
    box = [{"model": 1}]

    @asset(key=["synthesizer", "m"], io_manager_key="synthesizer_io_manager")
    def model():
        return box[0]

    assert _run([model], tmp_path).success
    path = tmp_path / "synthesizer" / "m.synth"
    before = path.read_bytes()
    if failure == "mid_write":
        def partial(handle, data, chunk=16):
            handle.write(data[:chunk])
            raise OSError("connection reset")

        monkeypatch.setattr(io_managers, "write_chunks", partial)
    elif failure == "interrupt":  # a BaseException, like a kill that Python sees (SIGINT/SIGTERM handlers)
        def interrupted(handle, data, chunk=16):
            handle.write(data[:chunk])
            raise KeyboardInterrupt

        monkeypatch.setattr(io_managers, "write_chunks", interrupted)
    else:
        def no_rename(src, dst):
            raise OSError("rename failed")

        monkeypatch.setattr(io_managers.os, "replace", no_rename)
    box[0] = {"model": 2}
    try:
        assert not _run([model], tmp_path).success
    except KeyboardInterrupt:  # dagster may re-raise an interrupt after ending the run
        assert failure == "interrupt"
    assert path.read_bytes() == before
    # A dict is not a synthesizer, so load_synthesizer refuses it; the payload is the first write's.
    assert pickle.loads(read_header(path.read_bytes())[1]) == {"model": 1}
    assert not _temps(tmp_path)


def test_stale_temp_files_are_swept(tmp_path):
    directory = tmp_path / "synthetic"
    directory.mkdir()
    old = directory / ".t.parquet.deadbeef.tmp"
    fresh = directory / ".t.parquet.cafebabe.tmp"
    old.write_bytes(b"left by a killed run")
    fresh.write_bytes(b"a concurrent writer")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    import fcntl

    with open(fresh, "rb") as live:  # a live writer holds a lock on its temp file (persistence.atomic_write)
        fcntl.flock(live.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert _run([_table_asset([1])], tmp_path).success
    assert not old.exists() and fresh.exists()


def test_object_store_path_is_atomic(monkeypatch):
    """memory:// stands in for s3:// / gs://: write a temp key, then move it onto the final key."""
    from upath import UPath

    base = "memory://bucket/synth"
    assert _run([_table_asset([1])], base).success
    final = UPath(f"{base}/synthetic/t.parquet")
    with final.open("rb") as handle:
        pd.testing.assert_frame_equal(pd.read_parquet(handle), _frame(1))
    import pyarrow.parquet as pq

    def fail(table, where, **kwargs):
        where.write(b"partial")
        raise OSError("network down")

    monkeypatch.setattr(pq, "write_table", fail)
    assert not _run([_table_asset([2])], base).success
    with final.open("rb") as handle:
        pd.testing.assert_frame_equal(pd.read_parquet(handle), _frame(1))
    leftovers = [p for p in final.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_partitions_are_one_file_each_and_load_together(tmp_path):
    daily = DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-04")

    @asset(key=["synthetic", "p"], partitions_def=daily, io_manager_key="synthetic_parquet_io_manager")
    def part(context):
        return pd.DataFrame({"day": [context.partition_key]})

    @asset(ins={"p": AssetIn(key=["synthetic", "p"], metadata={"allow_missing_partitions": True})},
           io_manager_key="synthetic_parquet_io_manager",
           key=["downstream"])
    def merged(p):
        assert isinstance(p, dict)
        return pd.concat(p.values(), ignore_index=True)

    for key in ("2025-01-01", "2025-01-02"):
        assert _run([part], tmp_path, partition_key=key).success
    assert (tmp_path / "synthetic" / "p" / "2025-01-02.parquet").exists()
    # An unpartitioned consumer loads every partition as {partition_key: DataFrame}.
    result = _run([part, merged], tmp_path, selection=["downstream"])
    assert result.success
    assert pd.read_parquet(tmp_path / "downstream.parquet").day.tolist() == ["2025-01-01", "2025-01-02"]


def test_column_subset_loading(tmp_path):
    assert _run([_table_asset([1])], tmp_path).success
    manager = SyntheticParquetIOManager(base_dir=str(tmp_path))
    manager.setup_for_execution(build_init_resource_context())
    context = build_input_context(asset_key=AssetKey(["synthetic", "t"]), definition_metadata={"columns": ["x", "s"]})
    loaded = manager.load_input(context)
    assert list(loaded.columns) == ["x", "s"] and len(loaded) == 3


def test_default_base_dir_is_instance_storage(tmp_path):
    instance = DagsterInstance.ephemeral(tempdir=str(tmp_path))
    manager = SyntheticParquetIOManager()
    manager.setup_for_execution(build_init_resource_context(instance=instance))
    assert str(manager._base_path).startswith(instance.storage_directory())


# -- integrity -------------------------------------------------------------------------------------
@pytest.fixture()
def fitted_copula(tmp_path, gapminder):
    path = tmp_path / "gap.csv"
    gapminder.head(300).to_csv(path, index=False)
    spec = SynthesizerSpec(
        name="gap", synthesizer="GaussianCopulaSynthesizer",
        metadata={"columns": {
            "country": {"sdtype": "categorical"}, "continent": {"sdtype": "categorical"},
            "year": {"sdtype": "numerical"}, "lifeExp": {"sdtype": "numerical"},
            "pop": {"sdtype": "numerical"}, "gdpPercap": {"sdtype": "numerical"},
        }},
        sources={"gap": FileSource(path=str(path))}, sample=SampleSpec(seed=0, evaluate=False), checks=None,
    )
    built = build_synthetic_assets([spec])
    store = tmp_path / "store"
    assert _run(built.assets, store).success
    return built, store


def test_tampered_model_fails_the_downstream_run(fitted_copula):
    built, store = fitted_copula
    path = store / "synthesizer" / "gap.synth"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # flip one payload byte
    path.write_bytes(bytes(data))
    result = _run(built.assets, store, selection=["synthetic/synthetic_gap"])
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "SHA-256" in message and "synthesizer/gap" in message and "rematerialize" in message


def test_truncated_or_foreign_model_file_fails_to_load(fitted_copula):
    _, store = fitted_copula
    manager = SynthesizerIOManager(base_dir=str(store))
    manager.setup_for_execution(build_init_resource_context())
    path = store / "synthesizer" / "gap.synth"
    context = build_input_context(asset_key=AssetKey(["synthesizer", "gap"]))
    assert manager.load_input(context).__class__.__name__ == "GaussianCopulaSynthesizer"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated"):
        manager.load_input(context)
    path.write_bytes(b"\x80\x04not ours")
    with pytest.raises(ModelFileError, match="not a synth_assets model file"):
        manager.load_input(context)
