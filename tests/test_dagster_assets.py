"""The asset factory end to end: specs, graph, materialization, resampling, partitions, demo."""

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, asset, materialize

from synth_assets.dagster import (
    GPU_POOL,
    AssetSource,
    FileSource,
    SampleSpec,
    SynthesizerIOManager,
    SynthesizerSpec,
    SyntheticAssetTranslator,
    SyntheticParquetIOManager,
    build_synthetic_assets,
    derive_seed,
)
from synth_assets.persistence import load_synthesizer

ROOT = Path(__file__).resolve().parents[1]
GAP_METADATA = {
    "columns": {
        "country": {"sdtype": "id"},
        "continent": {"sdtype": "categorical"},
        "year": {"sdtype": "numerical", "computer_representation": "Int64"},
        "lifeExp": {"sdtype": "numerical"},
        "pop": {"sdtype": "numerical", "computer_representation": "Int64"},
        "gdpPercap": {"sdtype": "numerical"},
    }
}


def _resources(store):
    return {
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(store)),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(store)),
    }


def _run(built, store, instance=None, **kwargs):
    return materialize(
        built.assets, resources=_resources(store), instance=instance or DagsterInstance.ephemeral(),
        raise_on_error=False, **kwargs,
    )


def _metadata(result, key):
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey(key)]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _png(markdown):
    match = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match, markdown[:80]
    return base64.b64decode(match.group(1))


# -- GaussianCopula, end to end ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def copula(tmp_path_factory, gapminder):
    base = tmp_path_factory.mktemp("copula")
    gapminder.to_csv(base / "gapminder.csv", index=False)
    spec = SynthesizerSpec(
        name="gap_gc", synthesizer="GaussianCopulaSynthesizer", metadata=GAP_METADATA,
        sources={"gap": FileSource(path=str(base / "gapminder.csv"))},
        owners=["team:data"], group_name="demo", checks=None, sample=SampleSpec(seed=5),
    )
    built = build_synthetic_assets([spec])
    store = base / "store"
    result = _run(built, store)
    assert result.success
    return built, store, result


def test_copula_materializes_with_ui_metadata(copula):
    built, store, result = copula
    real = _metadata(result, ["real", "real_gap"])
    assert real["dagster/row_count"] == 1704
    assert [c.name for c in real["dagster/column_schema"].columns] == list(GAP_METADATA["columns"])

    fit = _metadata(result, ["synthesizer", "gap_gc"])
    assert fit["synth_assets/fit_seconds"] > 0 and fit["synth_assets/rows_per_second"] > 0
    assert fit["synth_assets/device"] == "cpu" and fit["synth_assets/training_rows"] == 1704

    sample = _metadata(result, ["synthetic", "synthetic_gap"])
    assert sample["dagster/row_count"] == 1704 and sample["synth_assets/seed"] == 5
    for key in ("quality_score", "column_shapes_score", "column_pair_trends_score"):
        assert 0.6 < sample[f"synth_assets/{key}"] <= 1.0, key
        assert sample[f"synth_assets/{key}"] == round(sample[f"synth_assets/{key}"], 3), key  # 3 digits in the UI
    assert sample["synth_assets/preview"].count("\n") >= 11  # header, rule, 10 rows
    assert _png(sample["synth_assets/distributions"]).startswith(b"\x89PNG")
    synthetic_spec = _specs_by_key(built)[AssetKey(["synthetic", "synthetic_gap"])]
    lineage = synthetic_spec.metadata["dagster/column_lineage"].deps_by_column
    assert set(lineage) == set(GAP_METADATA["columns"])
    assert lineage["lifeExp"][0].asset_key == AssetKey(["real", "real_gap"]) and lineage["lifeExp"][0].column_name == "lifeExp"

    # Outputs are readable where the IO managers put them.
    synthetic = pd.read_parquet(store / "synthetic" / "synthetic_gap.parquet")
    assert list(synthetic.columns) == list(GAP_METADATA["columns"]) and len(synthetic) == 1704
    assert type(load_synthesizer(store / "synthesizer" / "gap_gc.synth")).__name__ == "GaussianCopulaSynthesizer"


def test_resampling_never_refits_and_seeds_reproduce(copula):
    built, store, _ = copula
    model = store / "synthesizer" / "gap_gc.synth"
    digest, mtime = _sha(model), model.stat().st_mtime_ns

    def sample(seed):
        run = _run(built, store, selection=["synthetic/synthetic_gap"],
                   run_config={"ops": {"sample_gap_gc": {"config": {"seed": seed, "num_rows": 300}}}})
        assert run.success
        assert [e.asset_key for e in run.get_asset_materialization_events()] == [AssetKey(["synthetic", "synthetic_gap"])]
        return pd.read_parquet(store / "synthetic" / "synthetic_gap.parquet")

    first, again, other = sample(1), sample(1), sample(2)
    assert len(first) == 300
    pd.testing.assert_frame_equal(first, again)
    assert not first.drop(columns="country").equals(other.drop(columns="country"))
    assert _sha(model) == digest and model.stat().st_mtime_ns == mtime


def test_wrong_size_config_names_the_field(copula):
    built, store, _ = copula
    run = _run(built, store, selection=["synthetic/synthetic_gap"],
               run_config={"ops": {"sample_gap_gc": {"config": {"num_sequences": 3}}}})
    assert not run.success
    failure = next(e for e in run.all_events if e.event_type_value == "STEP_FAILURE")
    assert "num_sequences" in str(failure.event_specific_data.error)


def test_daily_partitions_are_fresh_seeded_samples(tmp_path, gapminder):
    gapminder.to_parquet(tmp_path / "gap.parquet")
    spec = SynthesizerSpec(
        name="gap_daily", synthesizer="GaussianCopulaSynthesizer", metadata=GAP_METADATA,
        sources={"gap": str(tmp_path / "gap.parquet")}, checks=None,
        sample=SampleSpec(seed=3, num_rows=200, evaluate=False, partitions="daily", partitions_start_date="2025-01-01"),
    )
    built = build_synthetic_assets([spec])
    store = tmp_path / "store"
    assert _run(built, store, selection=["real/real_gap", "synthesizer/gap_daily"]).success
    frames = {}
    for key in ("2025-01-01", "2025-01-02", "2025-01-01"):
        run = _run(built, store, selection=["synthetic/synthetic_gap"], partition_key=key)
        assert run.success
        assert _metadata(run, ["synthetic", "synthetic_gap"])["synth_assets/seed"] == derive_seed(3, key)
        frames.setdefault(key, []).append(pd.read_parquet(store / "synthetic" / "synthetic_gap" / f"{key}.parquet"))
    day1, day1_again = frames["2025-01-01"]
    pd.testing.assert_frame_equal(day1, day1_again)  # a partition is reproducible
    assert not day1.drop(columns="country").equals(frames["2025-01-02"][0].drop(columns="country"))
    assert derive_seed(3, "2025-01-01") != derive_seed(4, "2025-01-01")


# -- PAR -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def par(tmp_path_factory, gapminder):
    base = tmp_path_factory.mktemp("par")
    countries = gapminder.country.unique()[:40]
    gapminder[gapminder.country.isin(countries)].to_parquet(base / "gap.parquet")
    metadata = {**GAP_METADATA, "sequence_key": "country", "sequence_index": "year"}
    spec = SynthesizerSpec(
        name="gap_par", synthesizer="PARSynthesizer", metadata=metadata,
        sources={"panel": FileSource(path=str(base / "gap.parquet"))},
        parameters={"context_columns": ["continent"], "epochs": 4, "seed": 0},
        sample=SampleSpec(seed=2, num_sequences=12), checks=None,
    )
    built = build_synthetic_assets([spec])
    instance = DagsterInstance.ephemeral()
    result = _run(built, base / "store", instance=instance)
    assert result.success
    return built, base / "store", result, instance


def test_par_materializes_with_sequence_metadata_and_progress(par):
    built, store, result, instance = par
    fit = _metadata(result, ["synthesizer", "gap_par"])
    assert fit["synth_assets/epochs"] == 4 and np.isfinite(fit["synth_assets/final_loss"])
    assert _png(fit["synth_assets/loss_curve"]).startswith(b"\x89PNG")
    sample = _metadata(result, ["synthetic", "synthetic_panel"])
    for key in ("quality_score", "msas_score", "sequence_length_similarity"):
        assert 0.0 <= sample[f"synth_assets/{key}"] <= 1.0
    assert sample["synth_assets/context_constant_share"] == 1.0
    synthetic = pd.read_parquet(store / "synthetic" / "synthetic_panel.parquet")
    assert synthetic.country.nunique() == 12
    assert (synthetic.groupby("country").continent.nunique() == 1).all()
    # Fit progress reached the run log (not only stderr).
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("'gap_par' fit: epoch 4/4" in m and "loss" in m and "ETA" in m for m in messages)


def test_par_fit_runs_in_the_gpu_pool(par):
    built, *_ = par
    fit = next(a for a in built.assets if AssetKey(["synthesizer", "gap_par"]) in a.keys)
    assert fit.op.pool == GPU_POOL
    k8s = fit.op.tags["dagster-k8s/config"]
    assert '"nvidia.com/gpu": "1"' in k8s and "tolerations" in k8s
    assert fit.specs_by_key[AssetKey(["synthesizer", "gap_par"])].kinds == {"pytorch"}


# -- IndependentSynthesizer ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def group(tmp_path_factory):
    base = tmp_path_factory.mktemp("group")
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({
        "customer_id": np.arange(80),
        "name": [f"Person {i}" for i in range(80)],
        "segment": rng.choice(["retail", "pro"], 80),
        "age": rng.integers(18, 90, 80),
    })
    orders = pd.DataFrame({
        "order_id": np.arange(400),
        "customer_id": rng.choice(customers.customer_id, 400),
        "amount": rng.gamma(2.0, 30.0, 400).round(2),
        "channel": rng.choice(["web", "shop", "phone"], 400),
    })
    customers.to_parquet(base / "customers.parquet")
    orders.to_csv(base / "orders.csv", index=False)
    metadata = {
        "tables": {
            "customers": {"primary_key": "customer_id", "columns": {
                "customer_id": {"sdtype": "id"}, "name": {"sdtype": "name"},
                "segment": {"sdtype": "categorical"}, "age": {"sdtype": "numerical"}}},
            "orders": {"primary_key": "order_id", "columns": {
                "order_id": {"sdtype": "id"}, "customer_id": {"sdtype": "id"},
                "amount": {"sdtype": "numerical"}, "channel": {"sdtype": "categorical"}}},
        },
        "relationships": [{"parent_table_name": "customers", "parent_primary_key": "customer_id",
                           "child_table_name": "orders", "child_foreign_key": "customer_id"}],
    }
    spec = SynthesizerSpec(
        name="shop", synthesizer="IndependentSynthesizer", metadata=metadata,
        sources={"customers": str(base / "customers.parquet"), "orders": str(base / "orders.csv")},
        table_parameters={"orders": {"table_synthesizer": "GaussianCopulaSynthesizer",
                                     "table_parameters": {"default_distribution": "norm"}}},
        sample=SampleSpec(seed=4), checks=None, owners=["data@example.com"],
    )
    built = build_synthetic_assets([spec])
    result = _run(built, base / "store")
    assert result.success
    return built, base / "store", result


def test_group_fits_each_table_in_its_own_step_then_assembles(group):
    built, store, result = group
    ops = {tuple(k.path): a.op.name for a in built.assets for k in a.keys}
    model_ops = {ops[("synthesizer", "shop", "model_customers")], ops[("synthesizer", "shop", "model_orders")]}
    assert len(model_ops) == 2 and ops[("synthesizer", "shop")] not in model_ops
    assert ops[("synthetic", "synthetic_customers")] == ops[("synthetic", "synthetic_orders")]  # one sampling step: keys match
    assembled = load_synthesizer(store / "synthesizer" / "shop.synth")
    assert type(assembled).__name__ == "IndependentSynthesizer"
    assert assembled.get_table_parameters("orders")["synthesizer_parameters"]["default_distribution"] == "norm"
    customers = pd.read_parquet(store / "synthetic" / "synthetic_customers.parquet")
    orders = pd.read_parquet(store / "synthetic" / "synthetic_orders.parquet")
    assert len(customers) == 80 and orders.customer_id.isin(customers.customer_id).all()
    assert not customers.name.isin([f"Person {i}" for i in range(80)]).any()  # PII is generated
    metadata = _metadata(result, ["synthetic", "synthetic_orders"])
    assert metadata["synth_assets/referential_integrity"] == 1.0
    assert 0.0 <= metadata["synth_assets/cardinality_score"] <= 1.0
    assert 0.5 < metadata["synth_assets/quality_score"] <= 1.0


def test_group_scale_config_resamples_without_refit(group):
    built, store, _ = group
    model = store / "synthesizer" / "shop.synth"
    digest = _sha(model)
    run = _run(built, store, selection=["synthetic/synthetic_customers", "synthetic/synthetic_orders"],
               run_config={"ops": {"sample_shop": {"config": {"scale": 0.5, "seed": 9}}}})
    assert run.success
    assert len(pd.read_parquet(store / "synthetic" / "synthetic_customers.parquet")) == 40
    assert _sha(model) == digest


def test_group_sample_that_fails_writes_no_table(group, monkeypatch):
    from synth_assets.multi_table import IndependentSynthesizer

    built, store, _ = group
    paths = [store / "synthetic" / "synthetic_customers.parquet", store / "synthetic" / "synthetic_orders.parquet"]
    before = [_sha(p) for p in paths]
    original = IndependentSynthesizer.sample

    def sample_with_a_bad_child(self, *args, **kwargs):
        tables = original(self, *args, **kwargs)
        tables["orders"].loc[0, "channel"] = "telepathy"  # not a real category: the type check fails
        return tables

    monkeypatch.setattr(IndependentSynthesizer, "sample", sample_with_a_bad_child)
    run = _run(built, store, selection=["synthetic/synthetic_customers", "synthetic/synthetic_orders"],
               run_config={"ops": {"sample_shop": {"config": {"seed": 123}}}})  # a new sample
    assert not run.success
    # customers comes first and is fine, yet it was not written: the two tables stay consistent
    assert [_sha(p) for p in paths] == before


def test_group_with_an_orphan_key_writes_no_table_model(group, tmp_path):
    built, store, _ = group
    (spec,) = built.specs
    customers = pd.read_parquet(spec.sources["customers"].path)
    orders = pd.read_csv(spec.sources["orders"].path)
    orders.loc[0, "customer_id"] = 10_000  # refers to no customer: the group cannot assemble
    orders["amount"] *= 2  # and new values, so a refit model would differ from the stored one
    customers["age"] += 1
    customers.to_parquet(tmp_path / "customers.parquet")
    orders.to_csv(tmp_path / "orders.csv", index=False)
    broken = spec.model_copy(update={"sources": {
        "customers": FileSource(path=str(tmp_path / "customers.parquet")),
        "orders": FileSource(path=str(tmp_path / "orders.csv"))}})
    models = [store / "synthesizer" / "shop" / f"model_{t}.synth" for t in ("customers", "orders")]
    models.append(store / "synthesizer" / "shop.synth")
    before = [_sha(p) for p in models]
    run = _run(build_synthetic_assets([broken]), store)
    assert not run.success
    failures = [str(e.event_specific_data.error) for e in run.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and all("10000" in f or "customer_id" in f for f in failures)
    # Neither table's model was replaced: each fit step validated the group's keys first.
    assert [_sha(p) for p in models] == before


# -- specs -----------------------------------------------------------------------------------------------
def _pii_spec(**overrides):
    values = dict(
        name="people_gc", synthesizer="GaussianCopulaSynthesizer",
        metadata={"primary_key": "pid", "columns": {
            "pid": {"sdtype": "id"}, "email": {"sdtype": "email"}, "age": {"sdtype": "numerical"}}},
        sources={"people": "/data/people.parquet"},
        owners=["team:privacy"], group_name="people", tags={"domain": "hr"}, checks=None,
    )
    values.update(overrides)
    return SynthesizerSpec(**values)


def _specs_by_key(built):
    return {key: a.specs_by_key[key] for a in built.assets for key in a.keys}


def test_asset_specs_carry_kinds_tags_owners_and_lineage():
    specs = _specs_by_key(build_synthetic_assets([_pii_spec()]))
    real, model, synthetic = (specs[AssetKey(k)] for k in (["real", "real_people"], ["synthesizer", "people_gc"], ["synthetic", "synthetic_people"]))
    assert real.tags["pii"] == "true" and synthetic.tags["pii"] == "generated" and "pii" not in model.tags
    assert all(s.owners == ["team:privacy"] and s.group_name == "people" and s.tags["domain"] == "hr"
               for s in (real, model, synthetic))
    assert real.kinds == {"pandas", "parquet"} == synthetic.kinds and model.kinds == {"python", "scipy"}
    assert {d.asset_key for d in synthetic.deps} == {AssetKey(["real", "real_people"]), AssetKey(["synthesizer", "people_gc"])}
    lineage = synthetic.metadata["dagster/column_lineage"].deps_by_column
    assert [d.column_name for d in lineage["email"]] == ["email"]
    # PII is worded by role and tagged per column; no raw metadata dump
    real_email = {c.name: c for c in real.metadata["dagster/column_schema"].columns}["email"]
    synthetic_email = {c.name: c for c in synthetic.metadata["dagster/column_schema"].columns}["email"]
    assert "PII; replaced by faker in synthetic `people`" in real_email.description
    assert real_email.tags == {"pii": "true"} and synthetic_email.tags == {"pii": "generated"}
    assert "never learned" not in real_email.description and "faker" in synthetic_email.description
    assert not any(k in s.metadata for s in (real, synthetic) for k in ("synth_assets/table_metadata", "synth_assets/pii_columns"))
    assert "/data/" not in real.description and "`people.parquet`" in real.description
    assert "people_gc" in synthetic.description and real.description.startswith("Real table")


def test_code_version_follows_parameters_and_metadata():
    def version(**overrides):
        built = build_synthetic_assets([_pii_spec(**overrides)])
        return _specs_by_key(built)[AssetKey(["synthesizer", "people_gc"])].code_version

    base = version()
    assert base == version()  # deterministic
    assert version(parameters={"default_distribution": "norm"}) != base
    assert version(parameters={"enforce_rounding": False}) != base
    changed = {"primary_key": "pid", "columns": {
        "pid": {"sdtype": "id"}, "email": {"sdtype": "email"}, "age": {"sdtype": "categorical"}}}
    assert version(metadata=changed) != base
    assert version(owners=["team:other"]) == base  # ownership is not model code


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"synthesizer": "CTGANIsh"}, "unknown synthesizer 'CTGANIsh'"),
        ({"parameters": {"epochs": 10}}, "unknown parameter 'epochs'"),
        ({"parameters": {"default_distribution": "cauchy"}}, "parameter 'default_distribution'"),
        ({"metadata": {"tables": {"people": {"columns": {"age": {"sdtype": "numerical"}}}}},
          "sources": {"persons": "/x.parquet"}}, "table(s) ['people'] of the metadata have no entry"),
        ({"synthesizer": "PARSynthesizer"}, "needs a sequence_key"),
        ({"name": "has space"}, "letters, digits and underscores"),
        ({"parameters": {"numerical_distributions": {"salary": "norm"}}}, "['salary']"),
    ],
)
def test_bad_specs_fail_at_definition_time(overrides, fragment):
    with pytest.raises(ValueError) as error:
        _pii_spec(**overrides)
    assert fragment in str(error.value)


def test_bad_group_and_duplicate_tables_fail_at_definition_time():
    metadata = {"tables": {"a": {"columns": {"x": {"sdtype": "numerical"}}},
                           "b": {"columns": {"y": {"sdtype": "numerical"}}}}}
    base = dict(name="g", synthesizer="IndependentSynthesizer", metadata=metadata,
                sources={"a": "/a.parquet", "b": "/b.parquet"})
    with pytest.raises(ValueError, match=r"(?s)table_parameters\['b'\].*unknown parameter\(s\) \['epochz'\]"):
        SynthesizerSpec(**base, table_parameters={"b": {"table_synthesizer": "CTGANSynthesizer",
                                                        "table_parameters": {"epochz": 1}}})
    with pytest.raises(ValueError, match="names table 'c'"):
        SynthesizerSpec(**base, table_parameters={"c": {}})
    with pytest.raises(ValueError, match="models one table"):
        SynthesizerSpec(**{**base, "synthesizer": "GaussianCopulaSynthesizer"})
    neural = SynthesizerSpec(**base, table_parameters={"b": {"table_synthesizer": "CTGANSynthesizer",
                                                             "table_parameters": {"epochs": 1}}})
    assert neural.uses_gpu("b") and not neural.uses_gpu("a")
    with pytest.raises(ValueError, match="Table 'people' appears in specs"):
        build_synthetic_assets([_pii_spec(), _pii_spec(name="people_again")])


def test_asset_source_and_custom_translator(tmp_path, gapminder):
    @asset(key=["warehouse", "gapminder"], io_manager_key="synthetic_parquet_io_manager")
    def upstream():
        return gapminder.head(200)

    class Prefixed(SyntheticAssetTranslator):
        def get_asset_spec(self, props):
            spec = super().get_asset_spec(props)
            return spec.replace_attributes(key=spec.key.with_prefix("lab"), group_name="lab")

    spec = SynthesizerSpec(
        name="wh", synthesizer="GaussianCopulaSynthesizer", metadata=GAP_METADATA,
        sources={"gap": AssetSource(asset_key="warehouse/gapminder")},
        sample=SampleSpec(seed=1, evaluate=False), checks=None,
    )
    built = build_synthetic_assets([spec], translator=Prefixed())
    keys = {k.to_user_string() for a in built.assets for k in a.keys}
    assert keys == {"lab/synthesizer/wh", "lab/synthetic/synthetic_gap"}  # no loader for a user's asset
    fit = next(a for a in built.assets if AssetKey(["lab", "synthesizer", "wh"]) in a.keys)
    assert AssetKey(["warehouse", "gapminder"]) in fit.asset_deps[AssetKey(["lab", "synthesizer", "wh"])]
    result = materialize([upstream, *built.assets], resources=_resources(tmp_path), instance=DagsterInstance.ephemeral())
    assert result.success
    assert len(pd.read_parquet(tmp_path / "lab" / "synthetic" / "synthetic_gap.parquet")) == 200


# -- the demo code location ----------------------------------------------------------------------------
def test_demo_code_location_loads_without_heavy_imports():
    code = (
        "import sys, time, runpy; t = time.perf_counter(); "
        "ns = runpy.run_path('definitions.py'); took = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'matplotlib', 'great_expectations', 'sdmetrics') if m in sys.modules]; "
        "keys = sorted(k.to_user_string() for k in ns['defs'].resolve_all_asset_keys()); "
        "print(heavy, round(took, 2), keys)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    heavy, seconds, keys = out.stdout.strip().split(" ", 2)
    assert heavy == "[]", out.stdout  # (~1.2 s to load on an idle 2-core machine; not asserted)
    for key in ("real/real_gapminder", "synthesizer/gapminder_par", "synthetic/synthetic_gapminder",
                "synthesizer/lahman_2019/model_people", "synthesizer/lahman_2019", "synthetic/synthetic_batting",
                "synthesizer/pitching_copula", "synthetic/synthetic_pitching", "source/source_gapminder",
                "synthesizer/lahman_careers/model_seasons", "synthetic/synthetic_seasons"):
        assert f"'{key}'" in keys




def test_demo_has_one_step_per_asset_and_checks_inside_the_sampling_steps():
    import runpy

    defs = runpy.run_path(str(ROOT / "definitions.py"))["defs"]
    graph = defs.resolve_asset_graph()
    materializable = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    ops = {graph.get(k).assets_def.op.name for k in materializable}
    assert len(materializable) == 23 and len(ops) == 20  # a group samples its tables in one step
    # every check is evaluated by the step that materializes its asset: no check steps
    assert graph.asset_check_keys and all(
        key in graph.get(key.asset_key).assets_def.check_keys for key in graph.asset_check_keys)
    checked = {key.asset_key.to_user_string() for key in graph.asset_check_keys}
    assert checked == {f"synthetic/synthetic_{t}" for t in ("gapminder", "people", "teams", "batting", "players", "seasons", "pitching")}


def test_demo_lineage_reads_every_node_labelled_once_per_group():
    import runpy

    defs = runpy.run_path(str(ROOT / "definitions.py"))["defs"]
    graph = defs.resolve_asset_graph()
    by_group: dict = {}
    for key in graph.get_all_asset_keys():
        by_group.setdefault(graph.get(key).group_name, []).append(key.path[-1])
    for group_name, labels in by_group.items():  # the UI labels a node by its key's last part
        assert len(labels) == len(set(labels)), (group_name, sorted(labels))
    # source -> real: no floating source node
    assert all(graph.get(k).child_keys for k in graph.get_all_asset_keys() if k.path[0] == "source")
    assert graph.get(AssetKey(["real", "real_people"])).parent_keys == {AssetKey(["source", "source_people"])}
    # each synthetic table: its model, its own real table and, for foreign keys, its parents' samples
    parents = {t: graph.get(AssetKey(["synthetic", f"synthetic_{t}"])).parent_keys for t in ("people", "batting")}
    assert parents["people"] == {AssetKey(["synthesizer", "lahman_2019"]), AssetKey(["real", "real_people"])}
    assert parents["batting"] == {
        AssetKey(["synthesizer", "lahman_2019"]), AssetKey(["real", "real_batting"]),
        AssetKey(["synthetic", "synthetic_people"]), AssetKey(["synthetic", "synthetic_teams"])}


def test_assets_reference_the_code_that_declared_their_spec():
    import runpy

    defs = runpy.run_path(str(ROOT / "definitions.py"))["defs"]
    source = (ROOT / "definitions.py").read_text().splitlines()
    for key in (AssetKey(["synthetic", "synthetic_gapminder"]), AssetKey(["real", "real_people"]),
                AssetKey(["synthesizer", "pitching_copula"])):
        spec = defs.resolve_assets_def(key).specs_by_key[key]
        (reference,) = spec.metadata["dagster/code_references"].code_references
        assert reference.file_path == str(ROOT / "definitions.py")
        assert "SynthesizerSpec(" in source[reference.line_number - 1] or "SynthesizerSpec(" in source[reference.line_number - 2]
        assert str(ROOT) not in (spec.description or "")  # no absolute paths in descriptions


def test_readme_lists_every_sensor_and_schedule_of_the_demo():
    import runpy

    defs = runpy.run_path(str(ROOT / "definitions.py"))["defs"]
    readme = (ROOT / "README.md").read_text()
    names = [s.name for s in defs.sensors] + [s.name for s in defs.schedules]
    assert "synthetic_automation_sensor_gpu" in names
    assert [n for n in names if f"`{n}`" not in readme and f"start {n}`" not in readme] == []
