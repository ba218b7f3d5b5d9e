"""The Dagster internals synth_assets relies on live in one module; this pins what they do."""

import pytest

dg = pytest.importorskip("dagster")

from synth_assets.dagster import _private  # noqa: E402


def test_data_version_tag_is_the_one_observations_carry():
    assert _private.data_version_tag() == "dagster/data_version"


def test_safe_partition_path_escapes_traversal(tmp_path):
    from upath import UPath

    base = UPath(tmp_path)
    assert _private.safe_partition_path(base, "2025-01-01") == base / "2025-01-01"
    escaped = _private.safe_partition_path(base, "../../etc/passwd")
    assert str(escaped).startswith(str(tmp_path)) and ".." not in escaped.relative_to(base).parts


def test_no_other_module_imports_dagster_internals():
    import pathlib
    import re

    import synth_assets

    root = pathlib.Path(synth_assets.__file__).parent
    private = re.compile(r"^\s*(from|import)\s+dagster\._", re.M)
    offenders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                 if private.search(p.read_text()) and p.name != "_private.py"]
    assert offenders == []
