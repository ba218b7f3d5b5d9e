"""Asset checks on synthetic tables: each passes on good synthetic data and fails — blocking what is
downstream in the same run — on planted bad data.

The real and synthetic tables are stand-in assets (plain @asset returning a frame) under the keys
the factory uses, so each case is one in-process run with the checks built by build_checks.
"""

import numpy as np
import pandas as pd
import pytest

dg = pytest.importorskip("dagster")

from synth_assets.dagster import checks as C  # noqa: E402
from synth_assets.dagster.specs import ChecksSpec, FileSource, SynthesizerSpec  # noqa: E402
from synth_assets.dagster.translator import real_asset_key, synthetic_asset_key  # noqa: E402
from synth_assets.metadata import Metadata  # noqa: E402

# --------------------------------------------------------------------------- data
CUSTOMERS_METADATA = {
    "columns": {
        "customer_id": {"sdtype": "id"},
        "name": {"sdtype": "name"},
        "email": {"sdtype": "email"},
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "income": {"sdtype": "numerical"},
        "segment": {"sdtype": "categorical"},
    },
    "primary_key": "customer_id",
}


def _customers(n=400, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "name": [f"Real Person {i}" for i in range(n)],
        "email": [f"real.person{i}@corp-example.test" for i in range(n)],
        "age": age,
        "income": np.round(20_000 + 600 * age + rng.normal(0, 8_000, n), 2),
        "segment": rng.choice(["retail", "smb", "enterprise"], n, p=[0.6, 0.3, 0.1]),
    })


@pytest.fixture(scope="module")
def customers():
    return _customers()


@pytest.fixture(scope="module")
def good_customers(customers):
    """A genuine synthetic table: a Gaussian copula fitted on the real one."""
    from synth_assets.single_table import GaussianCopulaSynthesizer

    synthesizer = GaussianCopulaSynthesizer(Metadata.load_from_dict(CUSTOMERS_METADATA))
    synthesizer.fit(customers)
    synthesizer.set_random_state(7)
    return synthesizer.sample(400)


def _spec(name, metadata, tables, synthesizer="GaussianCopulaSynthesizer", **kwargs):
    return SynthesizerSpec(name=name, synthesizer=synthesizer, metadata=metadata,
                           sources={t: FileSource(path=f"/nonexistent/{t}.parquet") for t in tables},
                           **kwargs)


def _run(spec, real_tables, synthetic_tables, checks, downstream_of=None):
    """Materialize stand-ins for real/<t> and synthetic/<t>, one downstream asset, and `checks`.

    Returns (check evaluations by name, set of materialized keys)."""
    def constant(key, frame, deps=None):
        @dg.asset(key=key, deps=deps)
        def _asset():
            return frame
        return _asset

    assets = [constant(real_asset_key(spec, t), f) for t, f in real_tables.items()]
    assets += [constant(synthetic_asset_key(t), f) for t, f in synthetic_tables.items()]
    downstream_key = dg.AssetKey(["downstream", downstream_of])
    assets.append(constant(downstream_key, 1, deps=[synthetic_asset_key(downstream_of)]))
    result = dg.materialize([*assets, *checks], instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    return evaluations, materialized, downstream_key


def _value(evaluation, key):
    return evaluation.metadata[key].value


# --------------------------------------------------------------------------- single table
@pytest.fixture(scope="module")
def customers_spec():
    return _spec("customers", CUSTOMERS_METADATA, ["customers"])


def test_build_checks_names_keys_and_blocking(customers_spec):
    checks = C.build_checks(customers_spec, "customers")
    specs = [s for c in checks for s in c.check_specs]
    assert sorted(s.name for s in specs) == sorted(
        ["quality", "no_pii_leak", "exact_copies", "dcr_overfitting", "contract"])
    assert {s.asset_key for s in specs} == {dg.AssetKey(["synthetic", "customers"])}
    assert all(s.blocking for s in specs)
    # the real table comes in through additional_ins
    assert all(dg.AssetKey(["real", "customers"]) in {d.asset_key for d in s.additional_deps}
               for s in specs)
    no_privacy = _spec("customers", CUSTOMERS_METADATA, ["customers"],
                       checks=ChecksSpec(privacy=False, contract=False))
    assert [s.name for c in C.build_checks(no_privacy, "customers") for s in c.check_specs] == ["quality"]
    assert C.build_checks(_spec("customers", CUSTOMERS_METADATA, ["customers"], checks=None),
                          "customers") == []
    with pytest.raises(ValueError, match="orders"):
        C.build_checks(customers_spec, "orders")


def test_checks_pass_on_good_synthetic_data(customers_spec, customers, good_customers):
    evaluations, materialized, downstream = _run(
        customers_spec, {"customers": customers}, {"customers": good_customers},
        C.build_checks(customers_spec, "customers"), "customers")
    assert {n: e.passed for n, e in evaluations.items()} == {
        "quality": True, "no_pii_leak": True, "exact_copies": True, "dcr_overfitting": True,
        "contract": True}
    assert downstream in materialized
    # numbers, not just pass/fail
    assert _value(evaluations["quality"], "score") >= 0.7
    assert _value(evaluations["no_pii_leak"], "leaked_values") == 0
    assert sorted(_value(evaluations["no_pii_leak"], "pii_columns")) == ["email", "name"]
    assert _value(evaluations["exact_copies"], "exact_copy_share") == 0.0
    assert 0.3 < _value(evaluations["dcr_overfitting"], "closer_to_training") <= 0.55
    assert _value(evaluations["contract"], "n_failed") == 0
    assert _value(evaluations["contract"], "n_expectations") >= 15


def test_copied_leaked_and_out_of_range_rows_fail_and_block(customers_spec, customers,
                                                            good_customers):
    bad = good_customers.copy()
    # a copied real row set (training rows, so DCR sees them too), a leaked e-mail, a bad age
    training = customers[~C.holdout_mask(customers, customers_spec.metadata.get_table_metadata("customers"))]
    copied = training.sample(250, random_state=1)
    bad.iloc[:250, bad.columns.get_indexer(["age", "income", "segment"])] = \
        copied[["age", "income", "segment"]].to_numpy()
    bad.loc[300, "email"] = customers.loc[17, "email"]
    bad["age"] = bad["age"].astype("int64")
    bad.loc[301, "age"] = 140
    evaluations, materialized, downstream = _run(
        customers_spec, {"customers": customers}, {"customers": bad},
        C.build_checks(customers_spec, "customers"), "customers")
    assert downstream not in materialized  # blocked
    assert dg.AssetKey(["synthetic", "customers"]) in materialized
    assert not evaluations["exact_copies"].passed
    assert _value(evaluations["exact_copies"], "copied_rows") >= 250
    assert not evaluations["no_pii_leak"].passed
    assert _value(evaluations["no_pii_leak"], "leaked_values_by_column") == {"name": 0, "email": 1}
    assert not evaluations["dcr_overfitting"].passed
    assert _value(evaluations["dcr_overfitting"], "closer_to_training") > 0.55
    assert not evaluations["contract"].passed
    failed = _value(evaluations["contract"], "failed_expectations")
    assert [(f["expectation"], f["column"]) for f in failed] == [
        ("ExpectColumnValuesToBeBetween", "age")]
    assert failed[0]["unexpected_count"] == 1 and failed[0]["partial_unexpected_list"] == [140]
    assert evaluations["quality"].passed  # one bad age does not sink the score


def test_warn_severity_and_non_blocking_do_not_stop_downstream(customers, good_customers):
    bad = good_customers.copy()
    bad.loc[0, "email"] = customers.loc[3, "email"]
    for checks_spec in (ChecksSpec(severity="WARN", contract=False),
                        ChecksSpec(blocking=False, contract=False)):
        spec = _spec("customers", CUSTOMERS_METADATA, ["customers"], checks=checks_spec)
        evaluations, materialized, downstream = _run(
            spec, {"customers": customers}, {"customers": bad},
            C.build_checks(spec, "customers"), "customers")
        assert not evaluations["no_pii_leak"].passed
        assert evaluations["no_pii_leak"].severity == dg.AssetCheckSeverity[checks_spec.severity]
        assert downstream in materialized


def test_quality_threshold_is_configurable(customers, good_customers):
    table = Metadata.load_from_dict(CUSTOMERS_METADATA).get_table_metadata("table")
    low = C.quality_outcome(customers, good_customers, table, 0.5)
    high = C.quality_outcome(customers, good_customers, table, 0.999)
    assert low.passed and not high.passed
    assert low.metadata["score"] == high.metadata["score"]
    # a synthetic table from another distribution scores low
    skewed = good_customers.assign(income=good_customers["income"] * 5,
                                   segment="enterprise")
    assert not C.quality_outcome(customers, skewed, table, 0.7).passed


def test_exact_copies_baseline_tolerates_discrete_tables():
    # all-categorical data: real halves share most rows, so an honest sample must pass
    rng = np.random.default_rng(3)
    real = pd.DataFrame({"a": rng.choice(list("xyz"), 600), "b": rng.choice(list("pq"), 600)})
    table = {"columns": {"a": {"sdtype": "categorical"}, "b": {"sdtype": "categorical"}}}
    honest = pd.DataFrame({"a": rng.choice(list("xyz"), 600), "b": rng.choice(list("pq"), 600)})
    outcome = C.exact_copy_outcome(real, honest, table)
    assert outcome.metadata["real_halves_copy_share"] == 1.0 and outcome.passed
    # continuous data: halves share no row; a chance match or two is within sampling error,
    # a tenth of the rows copied is not
    real = pd.DataFrame({"x": rng.normal(size=1000)})
    table = {"columns": {"x": {"sdtype": "numerical"}}}
    synthetic = pd.DataFrame({"x": rng.normal(size=1000)})
    synthetic.loc[:1, "x"] = real["x"].iloc[:2].to_numpy()
    few = C.exact_copy_outcome(real, synthetic, table)
    assert few.passed and few.metadata["copied_rows"] == 2
    synthetic.loc[:99, "x"] = real["x"].iloc[:100].to_numpy()
    many = C.exact_copy_outcome(real, synthetic, table)
    assert not many.passed and many.metadata["copied_rows"] == 100


def test_holdout_mask_is_deterministic_and_keeps_extremes(customers):
    table = Metadata.load_from_dict(CUSTOMERS_METADATA).get_table_metadata("table")
    mask = C.holdout_mask(customers, table)
    assert mask.equals(C.holdout_mask(customers.copy(), table))
    assert 0.25 < mask.mean() < 0.42
    extremes = C.extreme_rows(customers, table)
    assert not mask[extremes].any()
    training, holdout = C.dcr_reference_sets(customers, table)
    assert len(training) == len(holdout)
    for column in ("age", "income"):  # both reference sets share each column's range
        assert training[column].min() == holdout[column].min() == customers[column].min()
        assert training[column].max() == holdout[column].max() == customers[column].max()


# --------------------------------------------------------------------------- PAR sequences
PANEL_METADATA = {
    "columns": {
        "unit": {"sdtype": "id"},
        "year": {"sdtype": "numerical", "computer_representation": "Int64"},
        "region": {"sdtype": "categorical"},
        "value": {"sdtype": "numerical"},
    },
    "sequence_key": "unit",
    "sequence_index": "year",
}


def _panel(n_units, seed, prefix="u"):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        length = int(rng.integers(4, 9))
        region = rng.choice(["north", "south", "east"])
        level = rng.normal(10, 3)
        for t in range(length):
            rows.append((f"{prefix}{u}", 2000 + t, region, level + 0.5 * t + rng.normal(0, 0.3)))
    return pd.DataFrame(rows, columns=["unit", "year", "region", "value"])


@pytest.fixture(scope="module")
def par_spec():
    return _spec("panel", PANEL_METADATA, ["panel"], synthesizer="PARSynthesizer",
                 parameters={"context_columns": ["region"]}, checks=ChecksSpec(privacy=False))


def test_par_sequence_checks_pass_then_fail_on_varying_context(par_spec):
    real, synthetic = _panel(80, 0), _panel(80, 1, prefix="s")
    checks = C.build_checks(par_spec, "panel")
    names = [s.name for c in checks for s in c.check_specs]
    assert names == ["quality", "contract", "sequence_lengths", "context_constant", "index_ordered"]

    evaluations, materialized, downstream = _run(
        par_spec, {"panel": real}, {"panel": synthetic}, checks, "panel")
    assert all(e.passed for e in evaluations.values()), {
        n: e.description for n, e in evaluations.items()}
    assert downstream in materialized
    assert _value(evaluations["context_constant"], "constant_share") == 1.0

    bad = synthetic.copy()
    first = bad["unit"] == bad["unit"].iloc[0]
    bad.loc[first[first].index[1], "region"] = "west" if bad.loc[first.idxmax(), "region"] != "west" else "north"
    swap = bad.index[bad["unit"] == "s5"][:2]
    bad.loc[swap, "year"] = bad.loc[swap[::-1], "year"].to_numpy()  # disorder one sequence
    evaluations, materialized, downstream = _run(
        par_spec, {"panel": real}, {"panel": bad}, checks, "panel")
    assert downstream not in materialized
    assert not evaluations["context_constant"].passed
    assert _value(evaluations["context_constant"], "varying_sequences_by_column") == {"region": 1}
    assert not evaluations["index_ordered"].passed
    assert _value(evaluations["index_ordered"], "ordered_share") == pytest.approx(79 / 80)
    assert evaluations["sequence_lengths"].passed


def test_sequence_lengths_fail_when_lengths_differ():
    real = _panel(60, 0)
    short = real.groupby("unit").head(2)  # every synthetic sequence has 2 rows
    table = Metadata.load_from_dict(PANEL_METADATA).get_table_metadata("table")
    outcome = C.sequence_lengths_outcome(real, short, table, 0.7)
    assert not outcome.passed
    assert outcome.metadata["synthetic_length"] == {"min": 2, "mean": 2.0, "max": 2}


# --------------------------------------------------------------------------- multi-table
SHOP_METADATA = {
    "tables": {
        "shops": {"columns": {"shop_id": {"sdtype": "id"}, "size": {"sdtype": "numerical"}},
                  "primary_key": "shop_id"},
        "sales": {"columns": {"sale_id": {"sdtype": "id"}, "shop_id": {"sdtype": "id"},
                              "amount": {"sdtype": "numerical"}},
                  "primary_key": "sale_id"},
    },
    "relationships": [{"parent_table_name": "shops", "parent_primary_key": "shop_id",
                       "child_table_name": "sales", "child_foreign_key": "shop_id"}],
}


def _shop_tables(seed, n_shops=60):
    rng = np.random.default_rng(seed)
    shops = pd.DataFrame({"shop_id": np.arange(n_shops), "size": rng.gamma(2, 50, n_shops)})
    counts = rng.poisson(5, n_shops)
    sales = pd.DataFrame({"sale_id": np.arange(counts.sum()),
                          "shop_id": np.repeat(shops["shop_id"].to_numpy(), counts),
                          "amount": rng.lognormal(3, 0.5, counts.sum())})
    return {"shops": shops, "sales": sales}


def test_group_checks_referential_integrity_and_cardinality():
    spec = _spec("shop", SHOP_METADATA, ["shops", "sales"], synthesizer="IndependentSynthesizer",
                 checks=ChecksSpec(privacy=False, contract=False))
    group = C.build_group_checks(spec)
    names = sorted(s.name for c in group for s in c.check_specs)
    assert names == ["cardinality__shops__shop_id", "referential_integrity__shops__shop_id"]
    assert {s.asset_key for c in group for s in c.check_specs} == {dg.AssetKey(["synthetic", "sales"])}
    assert C.build_group_checks(_spec("customers", CUSTOMERS_METADATA, ["customers"])) == []

    real, synthetic = _shop_tables(0), _shop_tables(1)
    evaluations, materialized, downstream = _run(spec, real, synthetic, group, "sales")
    assert all(e.passed for e in evaluations.values())
    assert downstream in materialized
    integrity = evaluations["referential_integrity__shops__shop_id"]
    assert _value(integrity, "score") == 1.0 and _value(integrity, "orphan_rows") == 0

    broken = dict(synthetic)
    broken["sales"] = synthetic["sales"].copy()
    broken["sales"].loc[:9, "shop_id"] = 10_000  # ten orphans
    broken["sales"].loc[10:, "shop_id"] = 0  # and every other sale in one shop
    evaluations, materialized, downstream = _run(spec, real, broken, group, "sales")
    assert downstream not in materialized
    integrity = evaluations["referential_integrity__shops__shop_id"]
    assert not integrity.passed and _value(integrity, "orphan_rows") == 10
    assert _value(integrity, "score") == pytest.approx(1 - 10 / len(broken["sales"]))
    cardinality = evaluations["cardinality__shops__shop_id"]
    assert not cardinality.passed and _value(cardinality, "score") < 0.7


# --------------------------------------------------------------------------- with the factory
def test_factory_wires_checks_that_load_real_and_synthetic_through_io_managers(tmp_path, customers):
    from synth_assets.dagster.assets import build_synthetic_assets

    data = customers[["customer_id", "age", "income", "segment"]]
    path = tmp_path / "customers.parquet"
    data.to_parquet(path)
    metadata = {"columns": {k: v for k, v in CUSTOMERS_METADATA["columns"].items() if k in data},
                "primary_key": "customer_id"}
    spec = SynthesizerSpec(name="customers", synthesizer="GaussianCopulaSynthesizer",
                           metadata=metadata, sources={"customers": FileSource(path=str(path))},
                           sample={"num_rows": 300, "seed": 3, "evaluate": False})
    built = build_synthetic_assets([spec])
    assert {s.name for c in built.asset_checks for s in c.check_specs} == {
        "quality", "no_pii_leak", "exact_copies", "dcr_overfitting", "contract"}
    from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager

    defs = built.to_definitions(resources={
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(tmp_path)),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(tmp_path))})
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n: e.passed for n, e in evaluations.items()} == {
        "quality": True, "no_pii_leak": True, "exact_copies": True, "dcr_overfitting": True,
        "contract": True}
    assert result.success


def test_checks_follow_a_custom_translator(tmp_path):
    from synth_assets.dagster.assets import build_synthetic_assets
    from synth_assets.dagster.translator import SyntheticAssetTranslator

    class Prefixed(SyntheticAssetTranslator):
        def get_asset_spec(self, props):
            spec = super().get_asset_spec(props)
            return spec.replace_attributes(key=spec.key.with_prefix("acme"))

    spec = _spec("shop", SHOP_METADATA, ["shops", "sales"], synthesizer="IndependentSynthesizer")
    built = build_synthetic_assets([spec], translator=Prefixed())
    checked = {s.asset_key for c in built.asset_checks for s in c.check_specs}
    assert checked == {dg.AssetKey(["acme", "synthetic", "shops"]),
                       dg.AssetKey(["acme", "synthetic", "sales"])}
    deps = {d.asset_key for c in built.asset_checks for s in c.check_specs for d in s.additional_deps}
    assert dg.AssetKey(["acme", "real", "sales"]) in deps
    # every input of every check resolves to an asset of the factory
    built.to_definitions().resolve_implicit_global_asset_job_def()
