"""Sequential child tables: one sequence per parent row, modelled by PARSynthesizer.

A child whose metadata `sequence_key` is its foreign key to another table (a customer's
transactions, a player's seasons) is a set of sequences. Its PAR model learns the child's own
columns (the sequence key and index included) with the parent row's modelled columns as context
(renamed PARENT_PREFIX + column), so a synthetic parent's sequence length, constant columns and
values depend on that parent. Sampling hands PAR each synthetic parent row as context, keyed by the
parent's synthetic primary key, so every sequence belongs to an existing parent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_assets.errors import InvalidDataError
from synth_assets.metadata import Metadata

PARENT_PREFIX = "__parent__"
SEQUENTIAL_SYNTHESIZER = "PARSynthesizer"


def sequence_relationship(metadata: Metadata, table_name: str) -> dict | None:
    """The relationship whose foreign key is the table's sequence key (to another table), if any."""
    key = metadata.tables[table_name].sequence_key
    for relationship in metadata.get_parents(table_name):
        if relationship["child_foreign_key"] == key and relationship["parent_table_name"] != table_name:
            return relationship
    return None


def parent_context_columns(metadata: Metadata, parent_name: str, parent_keys: list) -> dict:
    """{PARENT_PREFIX + column: spec} for the parent's modelled columns (no keys, no generated PII)."""
    parent = metadata.tables[parent_name]
    return {
        PARENT_PREFIX + column: dict(spec)
        for column, spec in parent.columns.items()
        if column not in parent_keys and not parent.is_generated(column)
    }


def sequence_model_metadata(metadata: Metadata, table_name: str, key_columns: list, parent_keys: list) -> Metadata:
    """The PAR model's single-table metadata: the child's columns but its primary key and other
    foreign keys, plus the parent's context columns."""
    relationship = sequence_relationship(metadata, table_name)
    table = metadata.tables[table_name].copy()
    drop = set(key_columns) - {relationship["child_foreign_key"]}
    context = parent_context_columns(metadata, relationship["parent_table_name"], parent_keys)
    table.columns.update(context)
    out = Metadata()
    out.tables[table_name] = table.select_columns([c for c in table.columns if c not in drop])
    return out


def context_names(model_metadata: Metadata, table_name: str) -> list:
    return [c for c in model_metadata.tables[table_name].columns if c.startswith(PARENT_PREFIX)]


def _parent_context(parent: pd.DataFrame, relationship: dict, context: list) -> pd.DataFrame:
    frame = parent[[c.removeprefix(PARENT_PREFIX) for c in context]].copy()
    frame.columns = context
    frame[relationship["child_foreign_key"]] = parent[relationship["parent_primary_key"]].to_numpy()
    return frame


def training_frame(table_name: str, data: pd.DataFrame, parent_data, relationship: dict, columns: list) -> pd.DataFrame:
    """The child's rows joined with their parent's context columns, for PAR to learn from."""
    parent_name, fk = relationship["parent_table_name"], relationship["child_foreign_key"]
    if not isinstance(parent_data, pd.DataFrame):
        raise InvalidDataError(
            f"table '{table_name}' is modelled as sequences per '{parent_name}' row, so fit_table needs the parent: "
            f"fit_table('{table_name}', data, parent_data=<the '{parent_name}' DataFrame>)."
        )
    context = [c for c in columns if c.startswith(PARENT_PREFIX)]
    missing = [c.removeprefix(PARENT_PREFIX) for c in context if c.removeprefix(PARENT_PREFIX) not in parent_data.columns]
    if missing or relationship["parent_primary_key"] not in parent_data.columns:
        raise InvalidDataError(f"`parent_data` for table '{parent_name}' lacks columns {missing or [relationship['parent_primary_key']]}.")
    if data[fk].isna().any():
        raise InvalidDataError(
            f"table '{table_name}', column '{fk}': {int(data[fk].isna().sum())} rows have no parent, but as the "
            f"sequence key every row needs its '{parent_name}' sequence. Fill the keys, or model the table as "
            f"independent rows: set_table_parameters('{table_name}', 'GaussianCopulaSynthesizer')."
        )
    parent = _parent_context(parent_data, relationship, context)
    own = [c for c in columns if not c.startswith(PARENT_PREFIX)]
    joined = data[own].merge(parent, on=fk, how="left", validate="many_to_one", indicator=True)
    orphans = joined["_merge"] != "both"
    if orphans.any():
        raise InvalidDataError(
            f"table '{table_name}', column '{fk}': {int(orphans.sum())} rows name no '{parent_name}' row "
            f"(e.g. {list(joined.loc[orphans, fk].head(3))}); every sequence needs its parent."
        )
    return joined[columns]


def sample_sequences(model, parent: pd.DataFrame, relationship: dict, childless_share: float, rng) -> tuple:
    """(child rows without the foreign key, parent position of each row): one sequence per
    synthetic parent, except a random `childless_share` of them (parents without children)."""
    table_name = model.table_name
    context = context_names(model.metadata, table_name)
    given = _parent_context(parent.reset_index(drop=True), relationship, context)
    childless = int(round(childless_share * len(given)))
    if childless:
        keep = np.sort(rng.choice(len(given), size=len(given) - childless, replace=False))
        given = given.iloc[keep].reset_index(drop=True)
    fk = relationship["child_foreign_key"]
    rows = model.sample_sequential_columns(context_columns=given)
    positions = pd.Index(parent[relationship["parent_primary_key"]]).get_indexer(rows[fk])
    return rows.drop(columns=[fk, *context]).reset_index(drop=True), positions.astype(np.int64)
