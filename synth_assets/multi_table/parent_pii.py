"""PII columns constant per parent key (an invoice's billing address, one per customer) are
generated once per synthetic parent, keeping the real data's structure (issue 11 item 3).

What is learned is only which columns are constant per which foreign key (names, no values).
"""

from __future__ import annotations

import pandas as pd

from synth_assets.metadata import TableMetadata


def constant_pii_columns(table: TableMetadata, data: pd.DataFrame, foreign_keys: list) -> dict:
    """{PII column: foreign key} for generated (PII) columns that hold one value per parent in
    every real parent with 2+ rows; keys themselves are left out."""
    keys = set(foreign_keys) | {table.primary_key}
    candidates = [c for c in table.columns if c not in keys and table.is_generated(c) and c in data.columns]
    out = {}
    for fk in foreign_keys:
        linked = data[data[fk].notna()]
        sizes = linked.groupby(fk).size()
        if not (sizes > 1).any():
            continue
        values = linked.groupby(fk)[[c for c in candidates if c not in out]].nunique(dropna=False)
        for column in values.columns:
            if values[column][sizes > 1].le(1).all():
                out[column] = fk
    return out


def once_per_parent(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """Every row of a parent takes the first generated value of its parent's rows."""
    for column, fk in columns.items():
        linked = frame[fk].notna()
        if linked.any():
            first = frame.loc[linked].groupby(fk, sort=False)[column].transform("first")
            frame.loc[linked, column] = first
    return frame
