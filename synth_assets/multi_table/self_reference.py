"""Self-referencing tables (employees.manager_id -> employees.employee_id) as forests.

Learned from the key columns: each row's depth (0 for a root, whose reference is null), the share
of rows at every depth, and per depth the distribution of children per row (span). Generated:
level sizes from the depth distribution, then each level's rows spread over the rows one level up
by a stratified draw of that level's span distribution, nudged to the level's size. A reference
always points one level up, so it names an existing row, there are no cycles, and roots keep null.

The table's own model learns the other columns together with DEPTH_COLUMN; sampled rows are then
matched to generated positions by depth rank, so columns keep their dependence on depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synth_assets.errors import InvalidDataError
from synth_assets.multi_table.allocation import _adjust_total, _largest_remainder, stratified_draw

DEPTH_COLUMN = "__depth"


def self_relationships(metadata, table_name: str) -> list[dict]:
    return [r for r in metadata.relationships if r["parent_table_name"] == r["child_table_name"] == table_name]


def parent_positions(frame: pd.DataFrame, primary_key: str, foreign_key: str) -> np.ndarray:
    """Row position of each row's parent; -1 for a null reference."""
    references = frame[foreign_key]
    positions = pd.Index(frame[primary_key]).get_indexer(references)
    positions[references.isna().to_numpy()] = -1
    return positions.astype(np.int64)


def row_depths(frame: pd.DataFrame, table_name: str, primary_key: str, foreign_key: str) -> np.ndarray:
    """Depth of every row (roots 0); a reference cycle is refused, naming the table and rows."""
    parents = parent_positions(frame, primary_key, foreign_key)
    depth = np.where(parents < 0, 0, -1)
    for _ in range(len(frame)):
        pending = depth < 0
        ready = pending & (depth[np.maximum(parents, 0)] >= 0) & (parents >= 0)
        if not ready.any():
            break
        depth[ready] = depth[parents[ready]] + 1
    if (depth < 0).any():
        stuck = frame[primary_key].to_numpy()[depth < 0].tolist()  # plain values: no np.int64(1) reprs
        raise InvalidDataError(
            f"table '{table_name}', column '{foreign_key}': the references of {len(stuck)} rows form a cycle "
            f"(or lead into one), e.g. {primary_key} {list(stuck[:5])}; a self-reference must form a forest. "
            "Set the reference of one row per cycle to null."
        )
    return depth.astype(np.int64)


@dataclass
class SelfReference:
    """What was learned about one self-reference of a table."""

    table_name: str
    primary_key: str
    foreign_key: str
    depth_shares: np.ndarray  # share of rows at depth 0, 1, ...
    span_values: list  # per depth: distinct children-per-row counts
    span_shares: list  # per depth: their shares

    @classmethod
    def learn(cls, table_name: str, primary_key: str, foreign_key: str, frame: pd.DataFrame) -> "SelfReference":
        depth = row_depths(frame, table_name, primary_key, foreign_key)
        parents = parent_positions(frame, primary_key, foreign_key)
        spans = np.bincount(parents[parents >= 0], minlength=len(frame))
        levels = int(depth.max()) + 1 if len(depth) else 1
        shares = np.bincount(depth, minlength=levels) / max(len(depth), 1)
        values, value_shares = [], []
        for level in range(levels):
            span_values, counts = np.unique(spans[depth == level], return_counts=True)
            if not len(span_values):
                span_values, counts = np.zeros(1, np.int64), np.ones(1)
            values.append(span_values.astype(np.int64))
            value_shares.append(counts / counts.sum())
        return cls(table_name, primary_key, foreign_key, shares if len(depth) else np.ones(1), values, value_shares)

    def level_sizes(self, num_rows: int, rng) -> np.ndarray:
        """Rows per depth: the learned shares, with at least one root and no empty level in between."""
        sizes = _largest_remainder(self.depth_shares, num_rows, rng)
        if num_rows and sizes[0] == 0:
            sizes[int(np.argmax(sizes))] -= 1
            sizes[0] = 1
        empty = np.flatnonzero(sizes == 0)
        if len(empty):  # a level with no rows cannot parent the levels below it: pull them up
            first = int(empty[0])
            sizes[first - 1] += sizes[first:].sum()
            sizes[first:] = 0
        return sizes

    def generate(self, num_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(parent position, depth) per generated row; rows are ordered by depth, roots first."""
        sizes = self.level_sizes(num_rows, rng)
        parents = [np.full(sizes[0], -1, dtype=np.int64)]
        start = 0
        for level in range(1, len(sizes)):
            if sizes[level] == 0:
                break
            above = sizes[level - 1]
            values, shares = self.span_values[level - 1], self.span_shares[level - 1]
            cap = max(int(values.max()), math.ceil(sizes[level] / above))
            counts = np.minimum(stratified_draw(values, shares, above, rng), cap)
            counts = _adjust_total(counts, int(sizes[level]), cap, rng)
            parents.append(start + np.repeat(np.arange(above), counts))
            start += above
        depth = np.repeat(np.arange(len(sizes)), sizes)
        return np.concatenate(parents), depth


def match_by_depth(rows: pd.DataFrame, depth: np.ndarray, rng) -> pd.DataFrame:
    """Reorder sampled `rows` (with DEPTH_COLUMN) so row i suits target `depth[i]`: both sorted by
    depth (ties at random) and paired by rank; DEPTH_COLUMN is dropped."""
    sampled = rows[DEPTH_COLUMN].to_numpy(dtype=float)
    by_sampled = np.lexsort((rng.random(len(sampled)), sampled))
    by_target = np.lexsort((rng.random(len(depth)), depth))
    order = np.empty(len(depth), dtype=np.int64)
    order[by_target] = by_sampled
    return rows.drop(columns=DEPTH_COLUMN).iloc[order].reset_index(drop=True)
