"""IO managers for tables (parquet) and fitted synthesizers (integrity-checked model files).

Both build on Dagster's UPathIOManager (local paths by default; ``s3://``, ``gs://``, ``az://``...
when the fsspec driver is installed) and partitioned assets (one file per partition). Unlike
Dagster's own UPath IO managers, which write the final path in place, every write here is atomic:

* local filesystem: write ``.<name>.<random>.tmp`` in the target directory, fsync, then
  ``os.replace`` onto the final name (atomic on POSIX), then fsync the directory;
* object stores: write the temporary key, then ``fs.mv`` it onto the final key. On S3/GCS/Azure
  a move is a server-side copy plus delete; each PUT/copy of an object is atomic, so readers
  see the old object or the whole new one, never a partial write.

A write that raises (or is interrupted) removes its temporary file; a process killed with
SIGKILL can leave one behind, which the next write to the same path sweeps once it is an hour
old. Temporary names start with a dot, so they never collide with asset paths.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Optional

from dagster import ConfigurableIOManager, InitResourceContext, InputContext, MetadataValue, OutputContext, UPathIOManager
from pydantic import Field, PrivateAttr

from synth_assets.persistence import atomic_write as atomic_write_file

if TYPE_CHECKING:
    from upath import UPath

_STALE_TEMP_SECONDS = 3600


def _is_local(path: "UPath") -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(path.fs, LocalFileSystem)


def _local_name(path: "UPath") -> str:
    return path.path if getattr(path, "protocol", "") else str(path)


def temp_path_for(path: "UPath") -> "UPath":
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def _sweep_stale_temps(path: "UPath") -> None:
    if not _is_local(path):
        return
    directory = os.path.dirname(_local_name(path))
    prefix = f".{path.name}."
    now = time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            full = os.path.join(directory, name)
            try:
                if now - os.path.getmtime(full) > _STALE_TEMP_SECONDS:
                    os.unlink(full)
            except OSError:
                pass


def write_chunks(handle, data: bytes, chunk: int = 1 << 20) -> None:
    for start in range(0, len(data), chunk):
        handle.write(data[start : start + chunk])


def atomic_write(path: "UPath", write: Callable[[Any], None]) -> None:
    """Call ``write(binary_file)`` on a temporary sibling, then move it onto ``path`` atomically."""
    _sweep_stale_temps(path)
    if _is_local(path):
        atomic_write_file(_local_name(path), write)
        return
    tmp = temp_path_for(path)
    try:
        with tmp.open("wb") as handle:
            write(handle)
        path.fs.mv(tmp.path, path.path)
    except BaseException:
        try:
            if tmp.exists():
                tmp.unlink()
        except (OSError, FileNotFoundError):
            pass
        raise


class _AtomicUPathIOManager(ConfigurableIOManager, UPathIOManager):
    base_dir: Optional[str] = Field(
        default=None,
        description="Root path or URL for the files; defaults to the instance's storage directory "
        "($DAGSTER_HOME/storage), or ./storage without an instance.",
    )
    fs_options: Optional[dict[str, Any]] = Field(default=None, description="fsspec storage options for base_dir.")

    _base_path: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        from upath import UPath

        if self.base_dir is not None:
            self._base_path = UPath(self.base_dir, **(self.fs_options or {}))
        elif context.instance is not None:
            self._base_path = UPath(context.instance.storage_directory())
        else:
            self._base_path = UPath("storage").absolute()

    def make_safe_partition_path(self, base_path, partition: str):
        from synth_assets.dagster._private import safe_partition_path

        return safe_partition_path(base_path, partition)


class SyntheticParquetIOManager(_AtomicUPathIOManager):
    """pandas DataFrames as parquet (pyarrow; dtypes and the pandas schema kept), written atomically.

    ``DataFrame.attrs`` are not written (the factory keeps a privacy-relevant profile of the real
    table there for the type check).
    """

    extension: ClassVar[str] = ".parquet"

    def dump_to_path(self, context: OutputContext, obj, path: "UPath") -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"SyntheticParquetIOManager stores pandas DataFrames; asset {context.asset_key.to_user_string()} "
                f"returned {type(obj).__name__}."
            )
        # pyarrow would store DataFrame.attrs in the file; the type-check profile must not leak there.
        frame = obj.copy(deep=False)
        frame.attrs = {}
        table = pa.Table.from_pandas(frame)
        atomic_write(path, lambda handle: pq.write_table(table, handle))

    def load_from_path(self, context: InputContext, path: "UPath"):
        import pyarrow.parquet as pq

        columns = input_columns(context)
        if _is_local(path):
            if not os.path.exists(_local_name(path)):
                raise FileNotFoundError(f"No stored table at {path}; materialize {context.asset_key.to_user_string()} first.")
            table = pq.read_table(_local_name(path), columns=columns)
        else:
            with path.open("rb") as handle:
                table = pq.read_table(handle, columns=columns)
        return table.to_pandas()



COLUMNS_TAG_PREFIX = "synth_assets/columns/"


def input_columns(context: InputContext):
    """The columns an input asks for: AssetIn(metadata={"columns": [...]}) (dagster-polars'
    convention), or the op tag `synth_assets/columns/<input name>` (a JSON list) that the factory
    sets where an AssetIn may carry no metadata; None: every column."""
    columns = (context.definition_metadata or {}).get("columns")
    if columns is None and context.op_def is not None:
        tagged = (context.op_def.tags or {}).get(COLUMNS_TAG_PREFIX + context.name)
        columns = json.loads(tagged) if tagged else None
    return columns


class SynthesizerIOManager(_AtomicUPathIOManager):
    """Fitted synthesizers as synth_assets model files (SHA-256 envelope, optional HMAC signature
    via SYNTH_ASSETS_SIGNING_KEY), written atomically; a file that fails its check never unpickles."""

    extension: ClassVar[str] = ".synth"
    _last_size: Optional[int] = PrivateAttr(default=None)

    def dump_to_path(self, context: OutputContext, obj, path: "UPath") -> None:
        from synth_assets.persistence import dumps

        data = dumps(obj)
        atomic_write(path, lambda handle: write_chunks(handle, data))
        self._last_size = len(data)

    def load_from_path(self, context: InputContext, path: "UPath"):
        from synth_assets.persistence import ModelFileError, loads

        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"No model file at {path}; materialize {context.asset_key.to_user_string()} first."
            ) from None
        try:
            return loads(data, source=f"model file {path}")
        except ModelFileError as error:
            raise ModelFileError(
                f"{error} Asset {context.asset_key.to_user_string()} cannot be used; rematerialize it to refit."
            ) from None

    def get_metadata(self, context: OutputContext, obj) -> dict:
        size = self._last_size
        return {"synth_assets/model_bytes": MetadataValue.int(size)} if size is not None else {}
