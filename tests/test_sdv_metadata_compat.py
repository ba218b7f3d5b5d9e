"""Issue 12 items 2-5: SDV 2.0's metadata, sdtypes, text datetimes, detection and distributions.

Each test compares with what SDV 2.0 writes or does (measured; FACTS.md "SDV 2.0's real API").
"""

import json

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError, InvalidMetadataError
from synth_assets.metadata import Metadata


def _single(columns, **keys):
    return Metadata.load_from_dict({"tables": {"t": {"columns": columns, **keys}}, "relationships": []})


# -- errors: SDV's classes -----------------------------------------------------------------------
def test_metadata_errors_are_invalid_metadata_error():
    metadata = _single({"a": {"sdtype": "numerical"}}, primary_key="nope")
    with pytest.raises(InvalidMetadataError, match=r"table 't'.*primary_key 'nope'"):
        metadata.validate()
    with pytest.raises(InvalidMetadataError, match="'zz' is not in the metadata"):
        metadata.update_column("zz", sdtype="numerical")


@pytest.mark.parametrize(
    "frame, fragment",
    [
        (pd.DataFrame({"b": [1]}), r"missing columns \['a'\]"),
        (pd.DataFrame({"a": ["x"]}), r"column 'a'.*needs numbers"),
    ],
)
def test_data_errors_are_invalid_data_error(frame, fragment):
    metadata = _single({"a": {"sdtype": "numerical"}})
    with pytest.raises(InvalidDataError, match=fragment) as info:
        metadata.validate_data({"t": frame})
    assert not isinstance(info.value, InvalidMetadataError)


def test_orphan_foreign_keys_are_invalid_data_error():
    metadata = Metadata.load_from_dict({
        "tables": {
            "p": {"columns": {"id": {"sdtype": "id"}}, "primary_key": "id"},
            "c": {"columns": {"pid": {"sdtype": "id"}}},
        },
        "relationships": [{"parent_table_name": "p", "parent_primary_key": "id",
                           "child_table_name": "c", "child_foreign_key": "pid"}],
    })
    data = {"p": pd.DataFrame({"id": [1, 2]}), "c": pd.DataFrame({"pid": [1, 3]})}
    with pytest.raises(InvalidDataError, match=r"table 'c', column 'pid'"):
        metadata.validate_data(data)
    with pytest.raises(InvalidDataError, match=r"table 'c', column 'pid'"):
        metadata.validate_keys(data)
