"""The only place that touches Dagster internals (tests/test_dagster_private.py pins them, so
a Dagster upgrade that moves them fails one test, not a run)."""

from __future__ import annotations


def data_version_tag() -> str:
    """The event tag that carries an observation's data version ("dagster/data_version")."""
    from dagster._core.definitions.data_version import DATA_VERSION_TAG

    return DATA_VERSION_TAG


def safe_partition_path(base_path, partition: str):
    """`base_path / partition`, with leading slashes and `..` segments escaped as UPathIOManager does."""
    from dagster._core.storage.upath_io_manager import escape_dotdot_segments, escape_leading_slash

    return base_path / escape_dotdot_segments(escape_leading_slash(partition))
