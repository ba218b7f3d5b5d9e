"""Reading a real table from a file, with errors that name the file, the table and the fix.

    frame = read_table("data/people.csv", "people")

Parquet, CSV (also ``.csv.gz`` / ``.tsv``) and JSON, from a local path or any fsspec URL
(``s3://...``, ``zip://member::archive.zip``). Whatever goes wrong while reading (a missing or
truncated file, bytes that are not UTF-8, rows with more fields than the header, a file with a
header and no rows) raises `InvalidDataError` naming the path and the table and saying what to do;
the library's own exception stays attached as ``__cause__``. Core module: no Dagster.
"""

from __future__ import annotations

from typing import Any, Optional

from synth_assets.errors import InvalidDataError, SynthesizerInputError

FORMATS = ("parquet", "csv", "json")
_SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".tsv": "csv", ".tsv.gz": "csv",
             ".json": "json", ".jsonl": "json", ".ndjson": "json"}


class SourceNotFoundError(InvalidDataError, FileNotFoundError):
    """The source file does not exist (also a `FileNotFoundError`, for callers that catch that)."""


def infer_format(path: str) -> str:
    """'csv', 'json' or 'parquet' from the file name (the part before ``::`` of a chained URL)."""
    lowered = _base_name(path)
    for suffix, fmt in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return fmt
    return "parquet"


def _base_name(path) -> str:
    return str(path).split("::")[0].lower()


def read_table(path: str, table_name: Optional[str] = None, *, format: Optional[str] = None,
               read_kwargs: Optional[dict[str, Any]] = None, query: Optional[str] = None,
               columns: Optional[list[str]] = None):
    """Read one table; optionally filter it with a pandas ``query`` and keep ``columns`` in order.

    ``read_kwargs`` go to ``pandas.read_csv`` / ``read_parquet`` / ``read_json``.
    Raises `InvalidDataError` (`SourceNotFoundError` for a missing file) naming ``path`` and
    ``table_name``, and `SynthesizerInputError` for an unknown ``format`` or bad ``read_kwargs``.
    """
    fmt = format or infer_format(path)
    where = f"table '{table_name}': source {str(path)!r}" if table_name else f"source {str(path)!r}"
    if fmt not in FORMATS:
        raise SynthesizerInputError(f"{where}: format {fmt!r} is not one of {list(FORMATS)}.")
    kwargs = dict(read_kwargs or {})
    if fmt == "csv" and _base_name(path).endswith((".tsv", ".tsv.gz")) and not {"sep", "delimiter"} & set(kwargs):
        kwargs["sep"] = "\t"
    frame = _parse(path, fmt, kwargs, where)
    _check_shape(frame, path, fmt, kwargs, where)
    if query:
        frame = _apply_query(frame, query, where)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InvalidDataError(
                f"{where}: columns {missing} are in the metadata but not in the file (it has "
                f"{list(frame.columns)}); fix the metadata or the file.")
        frame = frame[list(columns)]
    return frame


def _parse(path, fmt: str, kwargs: dict, where: str):
    import fsspec
    import pandas as pd

    readers = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}
    if fmt == "json" and "lines" not in kwargs:
        kwargs["lines"] = _base_name(path).endswith((".jsonl", ".ndjson"))
    try:
        # compression="infer" unpacks .gz / .bz2 / .zst by name, so "x.csv.gz" reads as CSV.
        compression = None if "compression" in kwargs else "infer"
        with fsspec.open(path, "rb", compression=compression) as handle:
            return readers[fmt](handle, **kwargs)
    except FileNotFoundError as error:
        raise SourceNotFoundError(
            f"{where} does not exist; check the path (a relative path is read from the working "
            f"directory of the process).") from error
    except TypeError as error:
        raise SynthesizerInputError(
            f"{where}: read_kwargs {kwargs!r} were rejected by pandas.read_{fmt}: {error}") from error
    except (ValueError, OSError, EOFError, ImportError) as error:
        raise InvalidDataError(f"{where} could not be read as {fmt}: {_explain(error, fmt)}") from error


def _explain(error: Exception, fmt: str) -> str:
    """What went wrong, in one line, and what to do about it."""
    import pandas as pd

    detail = f"{type(error).__name__}: {str(error).strip()}"
    if isinstance(error, UnicodeDecodeError):
        return (f"its bytes are not {error.encoding} text ({detail}). If it is text in another "
                "encoding, set read_kwargs={'encoding': 'latin-1'} (or the file's encoding); if it is "
                "a parquet file, set format='parquet'.")
    if isinstance(error, pd.errors.EmptyDataError):
        return "the file is empty (not even a header row). Export the table again with its rows."
    if isinstance(error, pd.errors.ParserError):
        return (f"rows have a different number of fields than the header ({detail}). Quote values that "
                "contain the separator, set read_kwargs={'sep': ...} if the separator is not ',', or "
                "repair the rows.")
    if isinstance(error, IsADirectoryError):
        return f"it is a directory ({detail}); point the source at one file."
    if isinstance(error, EOFError):
        return f"the compressed file ends early ({detail}): it is truncated; copy or export it again."
    if fmt == "parquet":
        return (f"it is not a complete parquet file ({detail}). The file may be truncated (an "
                "interrupted copy or write): copy or export it again; if it is CSV or JSON, set "
                "format='csv' or format='json'.")
    return f"{detail}. Check that the file is complete and in {fmt} format, or set `format`."


def _check_shape(frame, path, fmt: str, kwargs: dict, where: str) -> None:
    """Refuse what pandas reads without complaint but cannot be a table to learn from."""
    import pandas as pd

    if fmt == "csv" and "index_col" not in kwargs and not isinstance(frame.index, pd.RangeIndex):
        # Every data row has more fields than the header: pandas silently turns the first
        # column(s) into the index, shifting every value one column to the left.
        raise InvalidDataError(
            f"{where}: the data rows have more fields than the header ({len(frame.columns)} names: "
            f"{list(frame.columns)}), so values would shift columns. Add the missing column names "
            "to the header or remove the extra (often trailing) separators.")
    if fmt == "csv" and _may_have_short_rows(frame, kwargs):
        _check_row_widths(path, kwargs, len(frame.columns), where)
    if len(frame) == 0:
        raise InvalidDataError(
            f"{where} has columns {list(frame.columns)} but no rows; a synthesizer needs real rows "
            "to learn from. Point the source at the file with the data, or export it again.")


# read_csv options that change which lines are rows or how they split: with any of them the line
# scan below could disagree with pandas, so it is skipped.
_ROW_OPTIONS = {"header", "names", "skiprows", "nrows", "comment", "skipfooter", "lineterminator", "quoting",
                "escapechar", "doublequote", "skipinitialspace", "delim_whitespace", "engine", "chunksize",
                "iterator", "usecols", "index_col", "dialect", "compression", "skip_blank_lines"}


def _may_have_short_rows(frame, kwargs: dict) -> bool:
    """pandas fills the missing trailing fields of a short row with NaN without a word; only a
    frame whose last column has a NaN can hold one, so only then is the file scanned."""
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    return (len(frame.columns) > 1 and not _ROW_OPTIONS & set(kwargs) and isinstance(sep, str)
            and len(sep) == 1 and bool(frame.iloc[:, -1].isna().any()))


def _check_row_widths(path, kwargs: dict, width: int, where: str) -> None:
    import csv

    import fsspec

    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    short, last = [], None
    with fsspec.open(path, "rt", compression="infer", encoding=kwargs.get("encoding", "utf-8"),
                     newline="") as handle:
        reader = csv.reader(handle, delimiter=sep, quotechar=kwargs.get("quotechar", '"'))
        next(reader, None)  # the header
        for row in reader:
            last = reader.line_num if row else last
            if row and len(row) < width:
                short.append((reader.line_num, len(row)))
    if short:
        (line, count), more = short[0], len(short) - 1
        if short == [(last, count)]:  # only the last row is short: the file was most likely cut off
            raise InvalidDataError(
                f"{where}: the last line ({line}) has {count} fields but the header has {width}: the "
                "file looks truncated (an interrupted copy or export). Copy or export it again.")
        raise InvalidDataError(
            f"{where}: line {line} has {count} fields but the header has {width}"
            + (f" ({more} more short rows)" if more else "")
            + "; pandas would fill the missing values with NaN. Repair the rows (each needs "
            f"{width - 1} separators {sep!r}) or quote values that contain the separator.")


def _apply_query(frame, query: str, where: str):
    try:
        return frame.query(query).reset_index(drop=True)
    except Exception as error:  # pandas raises many kinds (SyntaxError, UndefinedVariableError...)
        raise SynthesizerInputError(
            f"{where}: query {query!r} failed ({type(error).__name__}: {error}); columns are "
            f"{list(frame.columns)}.") from error


__all__ = ["FORMATS", "SourceNotFoundError", "infer_format", "read_table"]
