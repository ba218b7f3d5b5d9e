"""Refits on source change (sensor + observable sources), automation conditions, refresh schedule."""

import json
import os
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

dg = pytest.importorskip("dagster")

from synth_assets.dagster import automation as A
from synth_assets.dagster import conditions as C  # noqa: E402
from synth_assets.dagster.assets import build_synthetic_assets  # noqa: E402
from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager  # noqa: E402
from synth_assets.dagster.specs import AssetSource, FileSource, SynthesizerSpec  # noqa: E402
from synth_assets.dagster.translator import SyntheticAssetTranslator  # noqa: E402

K = dg.AssetKey


def _table(seed, n=120):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["a", "b"], n)})


METADATA = {"columns": {"x": {"sdtype": "numerical"}, "kind": {"sdtype": "categorical"}}}
SAMPLE = {"num_rows": 50, "evaluate": False}


def _spec(name, table, source, **kwargs):
    return SynthesizerSpec(name=name, synthesizer="GaussianCopulaSynthesizer",
                           metadata={"tables": {table: METADATA}}, sources={table: source},
                           sample=SAMPLE, checks=None, **kwargs)


def _resources(path):
    return {"synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(path)),
            "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(path))}


class AutomatedTranslator(SyntheticAssetTranslator):
    """Puts automation.automation_condition on every asset (what the factory should apply)."""

    def get_asset_spec(self, props):
        spec = super().get_asset_spec(props)
        condition = C.automation_condition(props.spec, props.role, props.table)
        return spec.replace_attributes(automation_condition=condition) if condition else spec


# --------------------------------------------------------------------------- file sensor
@pytest.fixture
def file_specs(tmp_path):
    paths = {}
    for i, table in enumerate(["alpha", "beta"]):
        paths[table] = tmp_path / f"{table}.csv"
        _table(i).to_csv(paths[table], index=False)
    specs = [_spec(f"{t}_model", t, FileSource(path=str(p))) for t, p in paths.items()]
    return specs, paths


def _tick(sensor, cursor, instance):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = sensor.evaluate_tick(context)
    return result, result.cursor


def test_sensor_refits_only_the_table_whose_file_content_changed(file_specs):
    specs, paths = file_specs
    built = build_synthetic_assets(specs)
    sensor = next(s for s in built.sensors if s.name == A.SOURCE_SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    instance = dg.DagsterInstance.ephemeral()

    # first tick: records the fingerprints, requests nothing, shows the source versions
    result, cursor = _tick(sensor, None, instance)
    assert result.run_requests == []
    state = json.loads(cursor)
    assert set(state) == {"alpha_model/alpha", "beta_model/beta"}
    assert state["beta_model/beta"]["fingerprint"] == A.content_fingerprint(str(paths["beta"]))
    assert {e.asset_key for e in result.asset_events} == {K(["source", "source_alpha"]), K(["source", "source_beta"])}

    # nothing changed -> nothing
    result, cursor = _tick(sensor, cursor, instance)
    assert result.run_requests == [] and result.skip_message
    assert result.asset_events == []

    # touched, and rewritten with the same bytes: new mtime, same content -> nothing
    stamp = time.time() + 100
    os.utime(paths["alpha"], (stamp, stamp))
    paths["beta"].write_bytes(paths["beta"].read_bytes())
    result, cursor = _tick(sensor, cursor, instance)
    assert result.run_requests == []
    assert json.loads(cursor)["alpha_model/alpha"]["stamp"] != state["alpha_model/alpha"]["stamp"]

    # beta's content changes -> one refit run of beta's real -> synthesizer -> synthetic only
    _table(7).to_csv(paths["beta"], index=False)
    result, cursor = _tick(sensor, cursor, instance)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert set(request.asset_selection) == {K(["real", "real_beta"]), K(["synthesizer", "beta_model"]),
                                            K(["synthetic", "synthetic_beta"])}
    assert request.tags[A.REFIT_TAG] == "beta"
    observation = result.asset_events[0]
    assert observation.asset_key == K(["source", "source_beta"])
    assert observation.tags["dagster/data_version"] == A.content_fingerprint(str(paths["beta"]))

    # the same content again -> nothing (idempotent); a replayed tick keeps the same run key
    again, _ = _tick(sensor, cursor, instance)
    assert again.run_requests == []
    replay, _ = _tick(sensor, json.dumps(state), instance)
    assert replay.run_requests[0].run_key == request.run_key


def test_sensor_refits_when_content_returns_to_an_earlier_version(file_specs):
    specs, paths = file_specs
    sensor = next(s for s in build_synthetic_assets(specs).sensors if s.name == A.SOURCE_SENSOR_NAME)
    instance = dg.DagsterInstance.ephemeral()
    _, cursor = _tick(sensor, None, instance)
    original, changed = paths["alpha"].read_bytes(), _table(9).to_csv(index=False).encode()
    keys = []
    for content in (changed, original, changed):  # A -> B -> A -> B
        paths["alpha"].write_bytes(content)
        result, cursor = _tick(sensor, cursor, instance)
        assert len(result.run_requests) == 1
        keys.append(result.run_requests[0].run_key)
    assert len(set(keys)) == 3  # Dagster would drop a repeated run key


def test_sensor_survives_a_missing_file_and_can_refit_on_first_tick(file_specs):
    specs, paths = file_specs
    sensor = A.build_source_sensor(specs, build_synthetic_assets(specs), initial_refit=True)
    instance = dg.DagsterInstance.ephemeral()
    result, cursor = _tick(sensor, None, instance)
    assert len(result.run_requests) == 2
    paths["alpha"].unlink()
    result, cursor = _tick(sensor, cursor, instance)
    assert result.run_requests == [] and "alpha" in result.skip_message
    assert "alpha_model/alpha" in json.loads(cursor)  # the last known state is kept
    asset_specs = [_spec("u", "u", AssetSource(asset_key="raw/u"))]
    assert A.build_source_sensor(asset_specs, build_synthetic_assets(asset_specs)) is None


def test_refit_selection_of_a_group_keeps_other_table_models(tmp_path):
    pytest.importorskip("synth_assets.multi_table")
    metadata = {
        "tables": {
            "parents": {"columns": {"pid": {"sdtype": "id"}, "x": {"sdtype": "numerical"}},
                        "primary_key": "pid"},
            "kids": {"columns": {"kid": {"sdtype": "id"}, "pid": {"sdtype": "id"},
                                 "y": {"sdtype": "numerical"}}, "primary_key": "kid"},
        },
        "relationships": [{"parent_table_name": "parents", "parent_primary_key": "pid",
                           "child_table_name": "kids", "child_foreign_key": "pid"}],
    }
    spec = SynthesizerSpec(name="family", synthesizer="IndependentSynthesizer", metadata=metadata,
                           sources={t: FileSource(path=str(tmp_path / f"{t}.csv"))
                                    for t in ("parents", "kids")}, checks=None)
    built = build_synthetic_assets([spec])
    selection = set(A.refit_selection(spec, ["kids"], built))
    assert selection == {K(["real", "real_kids"]), K(["synthesizer", "family", "model_kids"]),
                         K(["synthesizer", "family"]), K(["synthetic", "synthetic_kids"]),
                         K(["synthetic", "synthetic_parents"])}
    assert K(["synthesizer", "family", "model_parents"]) not in selection


def test_observable_source_asset_data_version_is_the_content_fingerprint(file_specs):
    from dagster._core.definitions.observe import observe

    specs, paths = file_specs
    sources = A.build_source_assets(specs, build_synthetic_assets(specs))
    assert [s.key for s in sources] == [K(["source", "source_alpha"]), K(["source", "source_beta"])]
    instance = dg.DagsterInstance.ephemeral()

    def observed_version():
        observe([sources[0]], instance=instance)
        record = instance.fetch_observations(K(["source", "source_alpha"]), limit=1).records[0]
        return record.asset_observation.tags["dagster/data_version"]

    first = observed_version()
    assert first == A.content_fingerprint(str(paths["alpha"])) and first.startswith("sha256:")
    stamp = time.time() + 50
    os.utime(paths["alpha"], (stamp, stamp))
    assert observed_version() == first
    _table(9).to_csv(paths["alpha"], index=False)
    assert observed_version() != first


def test_fingerprint_reuses_the_hash_while_size_and_mtime_hold(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    first = A.fingerprint_file(str(path))
    fake = {**first, "fingerprint": "sha256:cached"}
    assert A.fingerprint_file(str(path), fake)["fingerprint"] == "sha256:cached"
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "p0.parquet").write_bytes(b"abc")
    before = A.content_fingerprint(str(folder))
    (folder / "p1.parquet").write_bytes(b"def")
    assert A.content_fingerprint(str(folder)) != before


# --------------------------------------------------------------------------- conditions
def test_conditions_by_role_and_source():
    file_spec = _spec("f", "f", FileSource(path="f.csv"))
    asset_spec = _spec("a", "a", AssetSource(asset_key="raw/a"))
    assert C.automation_condition(file_spec, "real") is None
    assert C.automation_condition(file_spec, "synthesizer").get_label() == "refit when the code version changes"
    condition = C.automation_condition(asset_spec, "synthesizer")
    assert [c.get_label() for c in condition.children] == ["eager", "refit when the code version changes"]
    assert condition.children[0] == dg.AutomationCondition.eager()
    assert condition.get_label() == "refit when the upstream asset updates or the code changes"
    with pytest.raises(ValueError, match="role"):
        C.automation_condition(file_spec, "model")


def test_every_automated_asset_has_a_labelled_condition(file_specs):
    specs, _ = file_specs
    built = build_synthetic_assets(specs)
    conditions = {k: a.specs_by_key[k].automation_condition for a in built.assets for k in a.keys}
    labelled = {k.to_user_string(): c.get_label() for k, c in conditions.items() if c is not None}
    assert len(labelled) == len(conditions) - len(specs)  # all but the real tables (sensor-driven)
    assert all(labelled.values()), labelled


def test_automation_refits_after_upstream_asset_changes_and_on_code_version(tmp_path):
    @dg.asset(key=["raw", "gap"])
    def raw_gap():
        return _table(3)

    def defs_for(distribution):
        spec = SynthesizerSpec(
            name="gap", synthesizer="GaussianCopulaSynthesizer",
            metadata={"tables": {"gap": METADATA}},
            sources={"gap": AssetSource(asset_key="raw/gap")}, sample=SAMPLE, checks=None,
            parameters={"default_distribution": distribution})
        built = build_synthetic_assets([spec], translator=AutomatedTranslator())
        return dg.Definitions(assets=[raw_gap, *built.assets], resources=_resources(tmp_path))

    defs = defs_for("norm")
    instance = dg.DagsterInstance.ephemeral()
    synthesizer, synthetic = K(["synthesizer", "gap"]), K(["synthetic", "synthetic_gap"])
    assert defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance).success

    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # nothing changed upstream

    dg.materialize([raw_gap], instance=instance, resources=_resources(tmp_path))
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.get_num_requested(synthesizer) == 1  # refit
    assert result.get_num_requested(synthetic) == 1  # and resample after it
    assert result.get_num_requested(K(["raw", "gap"])) == 0
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # handled: not requested twice

    changed = defs_for("uniform")  # new parameters -> new synthesizer code version
    result = dg.evaluate_automation_conditions(defs=changed, instance=instance, cursor=result.cursor)
    assert result.get_num_requested(synthesizer) == 1


def test_file_source_synthesizer_waits_for_the_sensor_but_refits_on_code_version(tmp_path):
    path = tmp_path / "t.csv"
    _table(0).to_csv(path, index=False)

    def defs_for(distribution):
        spec = _spec("tm", "t", FileSource(path=str(path)),
                     parameters={"default_distribution": distribution})
        built = build_synthetic_assets([spec], translator=AutomatedTranslator())
        return dg.Definitions(assets=built.assets, resources=_resources(tmp_path)), built

    defs, built = defs_for("norm")
    instance = dg.DagsterInstance.ephemeral()
    assert defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance).success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    real = next(a for a in built.assets if K(["real", "real_t"]) in a.keys)
    dg.materialize([real], instance=instance, resources=_resources(tmp_path))
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # file sources are refit by the sensor's runs
    changed, _ = defs_for("uniform")
    result = dg.evaluate_automation_conditions(defs=changed, instance=instance, cursor=result.cursor)
    assert result.get_num_requested(K(["synthesizer", "tm"])) == 1


# --------------------------------------------------------------------------- schedule
def test_refresh_schedule_resamples_with_a_new_seed_and_never_refits(tmp_path, file_specs):
    specs, _ = file_specs
    built = build_synthetic_assets(specs)
    sensors, schedules, jobs = A.build_automation(specs, built, refresh_cron="0 6 * * *")
    assert [s.name for s in schedules] == [A.REFRESH_SCHEDULE_NAME]
    assert {j.name for j in jobs} == {A.REFRESH_JOB_NAME, A.REFIT_JOB_NAME}
    assert {s.name for s in sensors} == {A.SOURCE_SENSOR_NAME, A.AUTOMATION_SENSOR_NAME}
    schedule = schedules[0]
    assert schedule.cron_schedule == "0 6 * * *"
    defs = built.to_definitions(resources=_resources(tmp_path))
    job = defs.resolve_job_def(A.REFRESH_JOB_NAME)
    assert job.asset_layer.selected_asset_keys == {K(["synthetic", "synthetic_alpha"]), K(["synthetic", "synthetic_beta"])}
    refit = defs.resolve_job_def(A.REFIT_JOB_NAME).asset_layer.selected_asset_keys
    assert K(["synthesizer", "alpha_model"]) in refit and K(["real", "real_beta"]) in refit

    instance = dg.DagsterInstance.ephemeral()
    assert defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance).success
    samples = []
    for day in (1, 2):
        tick = datetime(2026, 3, day, 6, tzinfo=timezone.utc)
        data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance,
                                                                scheduled_execution_time=tick))
        (request,) = data.run_requests
        seed = A.seed_from_time(tick)
        assert request.tags[A.SEED_TAG] == str(seed)
        assert request.run_config == {"ops": {"sample_alpha_model": {"config": {"seed": seed}},
                                              "sample_beta_model": {"config": {"seed": seed}}}}
        run = job.execute_in_process(instance=instance, run_config=request.run_config,
                                     tags=request.tags)
        assert run.success
        materialized = {e.asset_key for e in run.get_asset_materialization_events()}
        assert materialized == {K(["synthetic", "synthetic_alpha"]), K(["synthetic", "synthetic_beta"])}  # no refit
        samples.append(_read_synthetic(tmp_path, "alpha"))
    assert not samples[0].equals(samples[1])  # a new seed, a new sample


def _read_synthetic(root, table):
    matches = sorted(root.rglob(f"synthetic/synthetic_{table}*.parquet"))
    assert matches, list(root.rglob("*"))
    return pd.read_parquet(matches[0])
