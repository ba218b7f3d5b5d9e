"""Materialization metadata that makes the Dagster UI useful for synthetic data.

Numbers are float/int metadata (Dagster plots them across materializations); images are PNGs
embedded as base64 in markdown (Dagster has no image metadata type). matplotlib and the
evaluation code are imported inside the functions that use them, never at module import.
"""

from __future__ import annotations

import base64
import math
from typing import Optional

import pandas as pd
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from synth_assets.metadata import TableMetadata

PREVIEW_ROWS = 10


def _finite(value) -> Optional[float]:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _floats(entries: dict) -> dict:
    """Float metadata for the finite values only (a NaN score means 'not applicable'), rounded to
    3 decimals: scores read 0.873, not 0.8731226458310243."""
    out = {}
    for key, value in entries.items():
        number = _finite(value)
        if number is not None:
            out[key] = MetadataValue.float(round(number, 3))
    return out


# -- tables ----------------------------------------------------------------------------------------
def column_schema(frame: pd.DataFrame, table_metadata: Optional[TableMetadata] = None) -> TableSchema:
    keys = set()
    if table_metadata is not None:
        keys = {table_metadata.primary_key, *table_metadata.alternate_keys} - {None}
    columns = []
    for name, dtype in frame.dtypes.items():
        description = None
        if table_metadata is not None and name in table_metadata.columns:
            description = f"sdtype: {table_metadata.columns[name].get('sdtype')}"
        columns.append(TableColumn(
            name=str(name),
            type=str(dtype),
            description=description,
            constraints=TableColumnConstraints(nullable=bool(frame[name].isna().any()), unique=name in keys),
        ))
    return TableSchema(columns=columns)


def table_entries(frame: pd.DataFrame, table_metadata: Optional[TableMetadata] = None) -> dict:
    return {
        "dagster/row_count": MetadataValue.int(int(len(frame))),
        "dagster/column_schema": MetadataValue.table_schema(column_schema(frame, table_metadata)),
    }


def preview_markdown(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> MetadataValue:
    """First rows as a markdown table (for synthetic tables only: never preview real rows)."""
    head = frame.head(rows).copy()
    for name in head.columns:
        if pd.api.types.is_float_dtype(head[name]):
            head[name] = head[name].round(4)
    try:
        text = head.to_markdown(index=False)
    except ImportError:  # tabulate missing
        text = "```\n" + head.to_string(index=False) + "\n```"
    return MetadataValue.md(text)


# -- fitting ---------------------------------------------------------------------------------------
def _png_markdown(figure, title: str) -> MetadataValue:
    from synth_assets.evaluation.plots import png_bytes

    encoded = base64.b64encode(png_bytes(figure)).decode()
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def loss_curve_markdown(loss: pd.DataFrame, title: str = "Training loss") -> Optional[MetadataValue]:
    """A loss-per-epoch PNG (synth_assets.evaluation.plots.loss_figure) as markdown."""
    from synth_assets.evaluation.plots import loss_figure

    figure = loss_figure(loss, title)
    return None if figure is None else _png_markdown(figure, title)


def fit_entries(
    fit_seconds: float,
    num_rows: int,
    device: str = "cpu",
    epochs: Optional[int] = None,
    loss: Optional[pd.DataFrame] = None,
) -> dict:
    entries = {
        "synth_assets/fit_seconds": MetadataValue.float(round(float(fit_seconds), 4)),
        "synth_assets/training_rows": MetadataValue.int(int(num_rows)),
        "synth_assets/device": MetadataValue.text(str(device)),
    }
    if fit_seconds > 0:
        entries["synth_assets/rows_per_second"] = MetadataValue.float(round(num_rows / fit_seconds, 2))
    if epochs is not None:
        entries["synth_assets/epochs"] = MetadataValue.int(int(epochs))
    if loss is not None and len(loss):
        numeric = loss.drop(columns=[c for c in loss.columns if str(c).lower() == "epoch"])
        if len(numeric.columns):
            last = _finite(pd.to_numeric(numeric.iloc[-1, 0], errors="coerce"))
            if last is not None:
                entries["synth_assets/final_loss"] = MetadataValue.float(round(last, 4))
        curve = loss_curve_markdown(loss)
        if curve is not None:
            entries["synth_assets/loss_curve"] = curve
    return entries


def sample_entries(seconds: float, num_rows: int, seed: Optional[int]) -> dict:
    entries = {"synth_assets/sample_seconds": MetadataValue.float(round(float(seconds), 4))}
    if seconds > 0:
        entries["synth_assets/sampled_rows_per_second"] = MetadataValue.float(round(num_rows / seconds, 2))
    if seed is not None:
        entries["synth_assets/seed"] = MetadataValue.int(int(seed))
    return entries


# -- quality (computed by synth_assets.evaluation.summary) -------------------------------------------
def _prefixed(summary: dict) -> dict:
    return _floats({f"synth_assets/{name}": value for name, value in summary.items()})


def quality_entries(real: pd.DataFrame, synthetic: pd.DataFrame, table_metadata: TableMetadata, sequential: bool = False,
                    context_columns=(), max_rows: int = 20_000, seed: int = 0) -> dict:
    """Quality scores (overall, column shapes, column pair trends; sequence scores for PAR)."""
    from synth_assets.evaluation.summary import quality_summary

    return _prefixed(quality_summary(real, synthetic, table_metadata, sequential, context_columns, max_rows, seed))


def multi_table_entries(real: dict, synthetic: dict, metadata) -> dict:
    """Group-level scores: multi-table quality, cardinality, intertable trends, referential integrity."""
    from synth_assets.evaluation.summary import multi_table_summary

    return _prefixed(multi_table_summary(real, synthetic, metadata))


def distribution_plots_markdown(real: pd.DataFrame, synthetic: pd.DataFrame, table_metadata: TableMetadata) -> Optional[MetadataValue]:
    """Real vs synthetic distributions (synth_assets.evaluation.plots) as an embedded PNG."""
    from synth_assets.evaluation.plots import distribution_figure

    figure, _ = distribution_figure(real, synthetic, table_metadata)
    return None if figure is None else _png_markdown(figure, "real vs synthetic distributions")
