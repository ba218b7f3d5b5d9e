"""Cardinality: how many child rows each parent row has, and the keys that wire synthetic tables.

What is learned (from key columns only, never from other values):
* per relationship, the distribution of the number of child rows per parent row (zeros
  included), its maximum, and the share of child rows whose foreign key is null;
* per child table with several foreign keys, the joint pattern of which of them are null;
* per table, the real row count and the shape of its primary key (IdGenerator).

Sampling (`Cardinality.sample_keys(scale, seed)`), tables parents first:
* a table without parents gets round(rows * scale) rows (at least 1, with a warning);
* a table with parents has one *primary* relationship: the one that pins its size down most
  precisely (lowest std / (mean * sqrt(parents)) of the children-per-parent counts; ties: metadata
  order), e.g. order_items follows orders (many parents, few items each) rather than products
  (few parents, a long tail). A child count is drawn for every synthetic primary parent by
  stratified sampling of the learned distribution (one uniform per 1/n stratum through its
  quantile function), so the shape is kept closely and the total follows `scale` (at an integer
  scale the real counts' multiset comes back exactly; which parent gets which count is random);
  their sum plus the null-FK rows is the table's size;
* every *secondary* foreign key gets a null pattern drawn from the learned joint pattern, then a
  child count per secondary parent drawn the same way, nudged by +-1 until the counts add up to the
  rows that need a parent, never above the largest count seen in real data (relaxed, with a
  warning, only if the synthetic parents are too few to hold the rows otherwise);
* foreign keys are the parents' generated primary keys, so every one points at an existing row;
* a self-reference (parent table == child table) does not size its table: it is wired as a forest
  over the table's rows (self_reference.py), and each row's depth is handed to the table's model.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synth_assets.metadata import Metadata, MetadataError
from synth_assets.multi_table.allocation import _adjust_total, _largest_remainder, stratified_draw
from synth_assets.multi_table.self_reference import DEPTH_COLUMN, SelfReference, self_relationships
from synth_assets.multi_table.sizes import check_scale
from synth_assets.processing import IdGenerator, key_generator


@dataclass
class RelationshipCardinality:
    """What was learned about one parent -> child relationship."""

    parent_table_name: str
    parent_primary_key: str
    child_table_name: str
    child_foreign_key: str
    count_values: np.ndarray  # distinct children-per-parent counts, ascending
    count_probabilities: np.ndarray  # their shares among real parents
    max_count: int
    null_share: float  # share of child rows whose foreign key is null
    num_parents: int
    num_children: int

    @property
    def relationship(self) -> dict:
        return {
            "parent_table_name": self.parent_table_name,
            "parent_primary_key": self.parent_primary_key,
            "child_table_name": self.child_table_name,
            "child_foreign_key": self.child_foreign_key,
        }

    @property
    def total_uncertainty(self) -> float:
        """Relative standard error of the children total when counts are drawn for every parent
        (std / (mean * sqrt(parents))): the lower, the more precisely this relationship pins
        down the child table's size."""
        mean = float((self.count_values * self.count_probabilities).sum())
        if mean <= 0 or self.num_parents == 0:
            return float("inf")
        variance = float((self.count_probabilities * (self.count_values - mean) ** 2).sum())
        return math.sqrt(variance) / (mean * math.sqrt(self.num_parents))

    def distribution(self) -> pd.Series:
        """Share of real parents (index: number of children)."""
        return pd.Series(self.count_probabilities, index=pd.Index(self.count_values, name="children"), name="share")

    def draw_counts(self, num_parents: int, rng: np.random.Generator) -> np.ndarray:
        """Stratified draw: one uniform per stratum of [0, 1), through the empirical quantile function."""
        return stratified_draw(self.count_values, self.count_probabilities, num_parents, rng)


@dataclass
class _TableKeys:
    num_rows: int
    primary_key: str | None
    key_generator: IdGenerator | None
    foreign_keys: list = field(default_factory=list)  # [(column, dtype)] in relationship order
    null_patterns: np.ndarray | None = None  # (patterns, n_fks) bool: True = FK is null
    null_pattern_shares: np.ndarray | None = None
    self_reference: SelfReference | None = None


def _relationship_name(relationship: dict) -> str:
    return (
        f"{relationship['parent_table_name']}.{relationship['parent_primary_key']} -> "
        f"{relationship['child_table_name']}.{relationship['child_foreign_key']}"
    )


def check_relationships(metadata: Metadata) -> None:
    """A column can be the foreign key of one relationship only."""
    seen = {}
    for relationship in metadata.relationships:
        key = (relationship["child_table_name"], relationship["child_foreign_key"])
        if key in seen:
            raise MetadataError(
                f"table '{key[0]}', column '{key[1]}': it is the foreign key of two relationships "
                f"({_relationship_name(seen[key])} and {_relationship_name(relationship)}); keep one."
            )
        seen[key] = relationship
    for table in metadata.tables:
        own = self_relationships(metadata, table)
        if len(own) > 1:
            raise MetadataError(
                f"table '{table}': {len(own)} self-references ({[r['child_foreign_key'] for r in own]}); "
                "one is supported: model the others as plain columns."
            )


class Cardinality:
    """Learned row counts, children-per-parent distributions and key shapes for a schema."""

    def __init__(self, metadata: Metadata, relationships: list, tables: dict):
        self.metadata = metadata
        self.relationships: list[RelationshipCardinality] = relationships
        self._tables: dict[str, _TableKeys] = tables
        self._order = metadata.topological_order()

    # -- learning --------------------------------------------------------------------------------
    @classmethod
    def learn(cls, metadata: Metadata, data: dict, validate: bool = True) -> "Cardinality":
        metadata = metadata.copy()
        check_relationships(metadata)
        if validate:
            metadata.validate_keys(data)
        relationships = [_learn_relationship(r, data) for r in metadata.relationships]
        tables = {}
        for name, table in metadata.tables.items():
            frame = data[name]
            pk = table.primary_key
            generator = None
            own_fks = [r for r in metadata.get_parents(name) if r["parent_table_name"] != name]
            if pk is not None and pk not in {r["child_foreign_key"] for r in own_fks}:
                # Generated keys follow the real format (an email key stays an email) but never reuse a real value.
                generator = key_generator(table.columns[pk], frame[pk]).fit(frame[pk])
            keys = _TableKeys(
                num_rows=len(frame),
                primary_key=pk,
                key_generator=generator,
                foreign_keys=[(r["child_foreign_key"], frame[r["child_foreign_key"]].dtype) for r in own_fks],
            )
            if own_fks:
                nulls = frame[[r["child_foreign_key"] for r in own_fks]].isna().to_numpy()
                patterns, counts = np.unique(nulls, axis=0, return_counts=True)
                keys.null_patterns = patterns.astype(bool)
                keys.null_pattern_shares = counts / counts.sum()
            for r in self_relationships(metadata, name):
                keys.self_reference = SelfReference.learn(name, pk, r["child_foreign_key"], frame)
            tables[name] = keys
        return cls(metadata, relationships, tables)

    # -- queries ---------------------------------------------------------------------------------
    @property
    def table_rows(self) -> dict:
        """Real row count per table."""
        return {name: keys.num_rows for name, keys in self._tables.items()}

    def get_relationship(self, child_table_name: str, child_foreign_key: str) -> RelationshipCardinality:
        for relationship in self.relationships:
            if (relationship.child_table_name, relationship.child_foreign_key) == (child_table_name, child_foreign_key):
                return relationship
        raise ValueError(f"No relationship has foreign key '{child_foreign_key}' in table '{child_table_name}'.")

    def _parents_of(self, table_name: str) -> list[RelationshipCardinality]:
        """Relationships to other tables (a self-reference does not size its table)."""
        return [r for r in self.relationships if r.child_table_name == table_name and r.parent_table_name != table_name]

    def primary_relationship(self, table_name: str) -> RelationshipCardinality | None:
        """The relationship that sets the table's row count (None for tables without parents, or
        whose foreign keys are all null in the real data)."""
        candidates = [r for r in self._parents_of(table_name) if r.null_share < 1.0 and r.num_children > 0]
        if not candidates:
            return None
        sequence_key = self.metadata.tables[table_name].sequence_key
        for r in candidates:  # a sequential child: one sequence per parent row
            if r.child_foreign_key == sequence_key:
                return r
        return min(candidates, key=lambda r: r.total_uncertainty)  # ties: metadata order

    def describe(self) -> pd.DataFrame:
        """One row per relationship: mean / max children per parent, share of childless parents,
        null foreign keys, and whether it drives the child table's row count."""
        rows = []
        for r in self.relationships:
            mean = float((r.count_values * r.count_probabilities).sum())
            zero = float(r.count_probabilities[r.count_values == 0].sum())
            rows.append({
                "Parent Table": r.parent_table_name, "Child Table": r.child_table_name,
                "Foreign Key": r.child_foreign_key, "Mean Children": mean, "Max Children": r.max_count,
                "Childless Parents": zero, "Null Share": r.null_share,
                "Primary": self.primary_relationship(r.child_table_name) is r,
            })
        return pd.DataFrame(rows)

    # -- sampling --------------------------------------------------------------------------------
    def sample_keys(self, scale: float = 1.0, seed=None, root_rows: dict | None = None) -> dict:
        """{table: DataFrame of its primary and foreign key columns}; its length is the table's size.

        `root_rows` fixes the row count of chosen tables without parents (see sizes.resolve_sizes)."""
        sampler = self.key_sampler(scale, seed, root_rows)
        out = {name: sampler.table(name) for name in self._order}
        return {name: out[name] for name in self.metadata.tables}

    def key_sampler(self, scale: float = 1.0, seed=None, root_rows: dict | None = None) -> "KeySampler":
        """Keys one table at a time, parents first (`sampling_order`), so a caller can decide a
        table's primary-parent links itself (sequential children) between tables."""
        return KeySampler(self, check_scale(scale), np.random.default_rng(seed), root_rows or {})

    @property
    def sampling_order(self) -> list[str]:
        return list(self._order)

    def _table_keys(self, name, scale, root_rows, primary_keys, rng, primary_index=None) -> pd.DataFrame:
        keys = self._tables[name]
        columns = self._wire_foreign_keys(name, keys, scale, primary_keys, rng, primary_index)
        if columns:
            num_rows = len(next(iter(columns.values())))
        else:
            num_rows = root_rows.get(name) or self._root_rows(name, keys, scale)
        if keys.primary_key is not None:
            if keys.key_generator is not None:
                columns[keys.primary_key] = keys.key_generator.generate(num_rows, seed=int(rng.integers(2**31)))
            primary_keys[name] = columns[keys.primary_key].reset_index(drop=True)
        if keys.self_reference is not None:
            columns.update(_wire_self_reference(keys.self_reference, primary_keys[name], rng))
        return pd.DataFrame(columns, index=pd.RangeIndex(num_rows))

    def _root_rows(self, name: str, keys: _TableKeys, scale: float) -> int:
        num_rows = int(round(keys.num_rows * scale))
        if num_rows < 1:
            warnings.warn(
                f"table '{name}': {keys.num_rows} rows x scale {scale} rounds to 0; sampling 1 row.",
                stacklevel=3,
            )
            num_rows = 1
        return num_rows

    def _wire_foreign_keys(self, name, keys, scale, primary_keys, rng, primary_index=None) -> dict:
        parents = self._parents_of(name)
        if not parents:
            return {}
        primary = self.primary_relationship(name)
        fk_names = [fk for fk, _ in keys.foreign_keys]
        if primary is None:  # every foreign key is null in the real data: size it like a root table
            num_rows = self._root_rows(name, keys, scale)
            return {fk: _with_dtype(pd.Series([None] * num_rows, dtype=object), dtype) for fk, dtype in keys.foreign_keys}

        primary_column = fk_names.index(primary.child_foreign_key)
        parent_keys = primary_keys[primary.parent_table_name]
        if primary_index is None:
            parent_index = _draw_primary_links(primary, len(parent_keys), rng)
        else:  # decided by the caller (a sequential child: one sequence per parent)
            parent_index = np.asarray(primary_index, dtype=np.int64)
        linked_mask = parent_index >= 0
        indices = {primary.child_foreign_key: parent_index}

        if len(parents) > 1:
            nulls = self._draw_null_patterns(keys, primary_column, ~linked_mask, rng)
            for column, relationship in enumerate(self._relationships_for(name, fk_names)):
                if relationship is primary:
                    continue
                needs_parent = ~nulls[:, column]
                indices[relationship.child_foreign_key] = self._assign_secondary(
                    relationship, needs_parent, len(primary_keys[relationship.parent_table_name]), scale, rng
                )

        columns = {}
        for relationship in self._relationships_for(name, fk_names):
            fk = relationship.child_foreign_key
            dtype = dict(keys.foreign_keys)[fk]
            columns[fk] = _take_keys(primary_keys[relationship.parent_table_name], indices[fk], dtype)
        return columns

    def _relationships_for(self, name: str, fk_names: list) -> list[RelationshipCardinality]:
        return [self.get_relationship(name, fk) for fk in fk_names]

    def _draw_null_patterns(self, keys: _TableKeys, primary_column: int, primary_null: np.ndarray, rng) -> np.ndarray:
        """Per row, which foreign keys are null: the learned joint pattern, given the primary's."""
        num_rows = len(primary_null)
        out = np.zeros((num_rows, keys.null_patterns.shape[1]), dtype=bool)
        for is_null in (False, True):
            rows = np.flatnonzero(primary_null == is_null)
            if not len(rows):
                continue
            matching = keys.null_patterns[:, primary_column] == is_null
            patterns, shares = keys.null_patterns[matching], keys.null_pattern_shares[matching]
            allocation = _largest_remainder(shares / shares.sum(), len(rows), rng)
            chosen = np.repeat(np.arange(len(patterns)), allocation)
            out[rng.permutation(rows)] = patterns[chosen]
        return out

    def _assign_secondary(self, relationship, needs_parent: np.ndarray, num_parents: int, scale, rng) -> np.ndarray:
        target = int(needs_parent.sum())
        index = np.full(len(needs_parent), -1, dtype=np.int64)
        if target == 0:
            return index
        if num_parents == 0:
            warnings.warn(
                f"table '{relationship.child_table_name}', column '{relationship.child_foreign_key}': "
                f"no synthetic '{relationship.parent_table_name}' rows to point at; leaving {target} keys null.",
                stacklevel=4,
            )
            return index
        cap = relationship.max_count
        if num_parents * cap < target:
            cap = math.ceil(target / num_parents)
            warnings.warn(
                f"table '{relationship.child_table_name}', column '{relationship.child_foreign_key}': "
                f"{num_parents} synthetic '{relationship.parent_table_name}' rows cannot hold {target} children "
                f"at the real maximum of {relationship.max_count} each; allowing up to {cap}.",
                stacklevel=4,
            )
        counts = np.minimum(relationship.draw_counts(num_parents, rng), cap)
        counts = _adjust_total(counts, target, cap, rng)
        index[needs_parent] = rng.permutation(np.repeat(np.arange(num_parents), counts))
        return index


def _draw_primary_links(primary: RelationshipCardinality, num_parents: int, rng) -> np.ndarray:
    """Parent position per child row (-1: null key): a drawn count per parent, rows grouped by
    parent (like real child tables), null-key rows interleaved at random."""
    counts = primary.draw_counts(num_parents, rng)
    num_linked = int(counts.sum())
    q = primary.null_share
    num_null = int(round(num_linked * q / (1.0 - q))) if q > 0 else 0
    num_rows = num_linked + num_null
    parent_index = np.full(num_rows, -1, dtype=np.int64)
    null_rows = np.sort(rng.choice(num_rows, size=num_null, replace=False)) if num_null else np.zeros(0, np.int64)
    linked_mask = np.ones(num_rows, dtype=bool)
    linked_mask[null_rows] = False
    parent_index[linked_mask] = np.repeat(np.arange(num_parents), counts)
    return parent_index


def _wire_self_reference(reference: SelfReference, primary_keys: pd.Series, rng) -> dict:
    """The self-referencing foreign key (a forest over the table's rows, in random positions) and
    each row's depth (DEPTH_COLUMN, for the table's model to match its rows to)."""
    parents, depth = reference.generate(len(primary_keys), rng)
    row_of_node = rng.permutation(len(primary_keys))
    index = np.full(len(primary_keys), -1, dtype=np.int64)
    linked = parents >= 0
    index[row_of_node[linked]] = row_of_node[parents[linked]]
    row_depth = np.empty(len(primary_keys), dtype=np.int64)
    row_depth[row_of_node] = depth
    return {reference.foreign_key: _take_keys(primary_keys, index, primary_keys.dtype), DEPTH_COLUMN: row_depth}


class KeySampler:
    """Draws keys table by table, parents first, remembering each table's primary keys."""

    def __init__(self, cardinality: Cardinality, scale: float, rng, root_rows: dict):
        self.cardinality, self.scale, self.rng, self.root_rows = cardinality, scale, rng, root_rows
        self.primary_keys: dict[str, pd.Series] = {}

    def table(self, name: str, primary_index=None) -> pd.DataFrame:
        """Key columns of `name`; `primary_index` (parent position per row, -1: null) fixes its
        primary relationship's links, and so its size, instead of a drawn count per parent."""
        return self.cardinality._table_keys(name, self.scale, self.root_rows, self.primary_keys, self.rng, primary_index)


def _learn_relationship(relationship: dict, data: dict) -> RelationshipCardinality:
    parent = data[relationship["parent_table_name"]][relationship["parent_primary_key"]]
    child = data[relationship["child_table_name"]][relationship["child_foreign_key"]]
    linked = child.dropna()
    position = pd.Index(parent).get_indexer(linked)
    counts = np.bincount(position[position >= 0], minlength=len(parent))
    if len(counts):
        values, frequencies = np.unique(counts, return_counts=True)
    else:  # a parent table with no rows: nothing to learn, keep a valid distribution
        values, frequencies = np.zeros(1, dtype=np.int64), np.ones(1)
    return RelationshipCardinality(
        **{k: relationship[k] for k in ("parent_table_name", "parent_primary_key", "child_table_name", "child_foreign_key")},
        count_values=values.astype(np.int64),
        count_probabilities=frequencies / frequencies.sum(),
        max_count=int(values.max()),
        null_share=float(child.isna().mean()) if len(child) else 0.0,
        num_parents=len(parent),
        num_children=len(linked),
    )


def _take_keys(parent_keys: pd.Series, index: np.ndarray, dtype) -> pd.Series:
    """Foreign keys = parents' primary keys at `index`; -1 means null. Keeps the real FK dtype."""
    values = parent_keys.to_numpy()
    linked = index >= 0
    if linked.all():
        return _with_dtype(pd.Series(values[index]), dtype)
    out = pd.Series([None] * len(index), dtype=object)
    out[linked] = values[index[linked]]
    return _with_dtype(out, dtype)


def _with_dtype(values: pd.Series, dtype) -> pd.Series:
    has_null = values.isna().any()
    try:
        if has_null and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_extension_array_dtype(dtype):
            return values.astype("float64")  # what pandas itself does to an int column with nulls
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def learn_cardinality(metadata: Metadata, data: dict) -> Cardinality:
    """Learn children-per-parent distributions and key shapes from `data` (key columns suffice)."""
    return Cardinality.learn(metadata, data)
