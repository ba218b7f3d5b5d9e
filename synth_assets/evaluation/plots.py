"""Real-vs-synthetic distribution plots (matplotlib, imported when a plot is drawn; no Dagster).

Heavy-tailed non-negative columns (sample skewness above ``SKEW_FOR_LOG``) are drawn on a log
axis, so the bulk of the values is not squeezed into one bar by a few large ones.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

MAX_PLOTTED_COLUMNS = 6
MAX_PLOTTED_CATEGORIES = 10
SKEW_FOR_LOG = 2.0


def figure(width: float, height: float):
    # A bare Figure renders with Agg and never touches pyplot's global backend state.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return buffer.getvalue()


def is_skewed(values: pd.Series) -> bool:
    """Non-negative and heavy-tailed: a log axis reads better than a linear one."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(values) > 2 and values.min() >= 0 and values.nunique() > 2 and values.skew() > SKEW_FOR_LOG)


def plotted_columns(table_metadata, limit: int = MAX_PLOTTED_COLUMNS) -> list[str]:
    chosen = []
    for name, column in table_metadata.columns.items():
        if table_metadata.is_generated(name) or name == table_metadata.sequence_key:
            continue  # ids and PII are generated, never learned: nothing to compare
        if column.get("sdtype") in ("numerical", "datetime", "categorical", "boolean"):
            chosen.append(name)
        if len(chosen) == limit:
            break
    return chosen


def _numbers(frame: pd.DataFrame, name: str, column: dict) -> pd.Series:
    if column.get("sdtype") == "datetime":
        dates = pd.to_datetime(frame[name], format=column.get("datetime_format"), errors="coerce").dropna()
        return dates.astype("int64") / 8.64e13  # days since 1970
    return pd.to_numeric(frame[name], errors="coerce").dropna().astype(float)


def _histogram(axis, real: pd.Series, synthetic: pd.Series, log: bool) -> None:
    if not len(real) or not len(synthetic):
        return
    if log:  # log10(1 + x) keeps zeros (counts) on the axis
        real, synthetic = np.log10(1 + real), np.log10(1 + synthetic)
        axis.set_xlabel("log10(1 + value)")
    bins = np.histogram_bin_edges(np.concatenate([real.to_numpy(), synthetic.to_numpy()]), bins=30)
    axis.hist(real, bins=bins, density=True, alpha=0.5, label="real")
    axis.hist(synthetic, bins=bins, density=True, alpha=0.5, label="synthetic")


def _bars(axis, real: pd.Series, synthetic: pd.Series) -> None:
    r = real.astype(str).value_counts(normalize=True)
    s = synthetic.astype(str).value_counts(normalize=True)
    top = r.index[:MAX_PLOTTED_CATEGORIES]
    x = np.arange(len(top))
    axis.bar(x - 0.2, r.reindex(top).fillna(0), width=0.4, label="real")
    axis.bar(x + 0.2, s.reindex(top).fillna(0), width=0.4, label="synthetic")
    axis.set_xticks(x)
    axis.set_xticklabels([str(t)[:12] for t in top], rotation=45, ha="right", fontsize=7)


def distribution_figure(real: pd.DataFrame, synthetic: pd.DataFrame, table_metadata,
                        max_columns: int = MAX_PLOTTED_COLUMNS):
    """(figure, log-scaled columns): real vs synthetic histograms (numbers, dates) and category
    frequencies, one panel per column; (None, []) when no column can be compared."""
    columns = [c for c in plotted_columns(table_metadata, max_columns) if c in real.columns and c in synthetic.columns]
    if not columns:
        return None, []
    per_row = min(3, len(columns))
    fig = figure(4 * per_row, 2.8 * math.ceil(len(columns) / per_row))
    axes = np.atleast_1d(fig.subplots(math.ceil(len(columns) / per_row), per_row)).ravel()
    logged = []
    for axis, name in zip(axes, columns):
        column = table_metadata.columns[name]
        if column.get("sdtype") in ("numerical", "datetime"):
            r, s = _numbers(real, name, column), _numbers(synthetic, name, column)
            log = column.get("sdtype") == "numerical" and is_skewed(r)
            logged += [name] if log else []
            _histogram(axis, r, s, log)
        else:
            _bars(axis, real[name], synthetic[name])
        axis.set_title(name + (" (log)" if name in logged else ""), fontsize=9)
        axis.legend(fontsize=7)
    for axis in axes[len(columns):]:
        axis.set_visible(False)
    fig.tight_layout()
    return fig, logged


def loss_figure(loss: pd.DataFrame, title: str = "Training loss"):
    """Loss per epoch from a frame with an epoch column and one or more loss columns (None if empty)."""
    if loss is None or len(loss) == 0:
        return None
    frame = loss.copy()
    epoch_column = next((c for c in frame.columns if str(c).lower() == "epoch"), None)
    epochs = frame.pop(epoch_column) if epoch_column is not None else pd.Series(np.arange(1, len(frame) + 1))
    fig = figure(6, 3)
    axes = fig.subplots()
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().any():
            axes.plot(epochs, values, label=str(name))
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.legend()
    return fig
