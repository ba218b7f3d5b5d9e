"""How many rows to sample: `scale`, SDV 2.x's `num_rows` + `main_table_name`, or fixed root sizes.

Only tables without parents can be sized directly; every other table follows its synthetic parents.
"""

from __future__ import annotations

import numpy as np

from synth_assets.errors import SynthesizerInputError
from synth_assets.metadata import Metadata


def check_scale(scale) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) or not np.isfinite(scale) or scale <= 0:
        raise SynthesizerInputError(f"`scale` must be a positive number, got {scale!r}.")
    return float(scale)


def _check_root(metadata: Metadata, table_name, argument: str) -> None:
    if table_name not in metadata.tables:
        raise SynthesizerInputError(
            f"`{argument}` names table {table_name!r}, which is not in the metadata; known tables: {metadata.table_names}."
        )
    if table_name not in metadata.get_root_tables():
        raise SynthesizerInputError(
            f"`{argument}` names table '{table_name}', which has parents: its size follows them. "
            f"Size one of the tables without parents instead: {metadata.get_root_tables()}."
        )


def _check_count(table_name: str, count) -> int:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise SynthesizerInputError(f"`num_rows` for table '{table_name}' must be a positive integer, got {count!r}.")
    return int(count)


def resolve_sizes(metadata: Metadata, real_rows: dict, scale=1.0, num_rows=None, main_table_name=None) -> tuple[float, dict]:
    """(scale for tables not fixed, {root table: exact row count})."""
    scale = check_scale(scale)
    if num_rows is None:
        if main_table_name is not None:
            raise SynthesizerInputError("`main_table_name` needs an integer `num_rows` (rows of that table).")
        return scale, {}
    if isinstance(num_rows, dict):
        if main_table_name is not None:
            raise SynthesizerInputError("`main_table_name` is used only with an integer `num_rows`; a dict names its tables.")
        fixed = {}
        for name, count in num_rows.items():
            _check_root(metadata, name, "num_rows")
            fixed[name] = _check_count(name, count)
        return scale, fixed
    if main_table_name is None:
        roots = metadata.get_root_tables()
        if len(roots) != 1:
            raise SynthesizerInputError(
                f"An integer `num_rows` needs `main_table_name` (one of the tables without parents: {roots})."
            )
        main_table_name = roots[0]
    _check_root(metadata, main_table_name, "main_table_name")
    count = _check_count(main_table_name, num_rows)
    # SDV 2.x: the main table gets num_rows, the others scale with it.
    return count / max(real_rows[main_table_name], 1), {main_table_name: count}
