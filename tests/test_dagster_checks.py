"""Checks of synthetic tables: the outcomes (plain pandas, synth_assets.evaluation.checks) pass on
good synthetic data and fail on planted bad data; in the factory they run in the sampling step, on
the in-memory sample, before anything is written (a failing blocking check writes nothing).
"""

import hashlib

import numpy as np
import pandas as pd
import pytest

dg = pytest.importorskip("dagster")

from synth_assets.dagster import checks as D  # noqa: E402
from synth_assets.dagster.specs import ChecksSpec, FileSource, SynthesizerSpec  # noqa: E402
from synth_assets.evaluation import checks as C  # noqa: E402
from synth_assets.evaluation.checks import CheckInputs  # noqa: E402
from synth_assets.evaluation.holdout import dcr_reference_sets, extreme_rows, holdout_mask  # noqa: E402
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


def _run(spec, real_tables, synthetic_tables, table):
    """{check name: CheckOutcome} of ``table``'s checks, as the sampling step evaluates them."""
    inputs = CheckInputs(real=real_tables.get(table), synthetic=synthetic_tables[table],
                         real_tables=real_tables, synthetic_tables=synthetic_tables)
    return {check.name: check.run(inputs) for check in D.table_checks(spec, table)}


def _value(outcome, key):
    return outcome.metadata[key]


# --------------------------------------------------------------------------- single table
@pytest.fixture(scope="module")
def customers_spec():
    return _spec("customers", CUSTOMERS_METADATA, ["customers"])


def test_check_specs_names_keys_and_blocking(customers_spec):
    key = dg.AssetKey(["synthetic", "synthetic_customers"])
    specs = D.check_specs(customers_spec, "customers", key)
    assert [s.name for s in specs] == ["quality", "no_pii_leak", "exact_copies", "dcr_overfitting", "contract"]
    assert {s.asset_key for s in specs} == {key} and all(s.blocking for s in specs)
    no_privacy = _spec("customers", CUSTOMERS_METADATA, ["customers"],
                       checks=ChecksSpec(privacy=False, contract=False))
    assert [s.name for s in D.check_specs(no_privacy, "customers", key)] == ["quality"]
    assert D.check_specs(_spec("customers", CUSTOMERS_METADATA, ["customers"], checks=None),
                         "customers", key) == []
    with pytest.raises(ValueError, match="orders"):
        D.check_specs(customers_spec, "orders", key)


def test_no_pii_leak_only_where_the_table_has_pii():
    metadata = {"columns": {k: v for k, v in CUSTOMERS_METADATA["columns"].items() if k not in ("name", "email")},
                "primary_key": "customer_id"}
    spec = _spec("plain", metadata, ["plain"])
    names = [s.name for s in D.check_specs(spec, "plain", dg.AssetKey("plain"))]
    assert "no_pii_leak" not in names and "exact_copies" in names


def test_exact_copies_names_the_columns_it_compared(customers_spec, customers, good_customers):
    outcome = _run(customers_spec, {"customers": customers}, {"customers": good_customers}, "customers")["exact_copies"]
    assert "['age', 'income', 'segment']" in outcome.description
    (check,) = [c for c in D.table_checks(customers_spec, "customers") if c.name == "exact_copies"]
    assert "['age', 'income', 'segment']" in check.description


def test_checks_pass_on_good_synthetic_data(customers_spec, customers, good_customers):
    outcomes = _run(customers_spec, {"customers": customers}, {"customers": good_customers}, "customers")
    assert {n: o.passed for n, o in outcomes.items()} == {
        "quality": True, "no_pii_leak": True, "exact_copies": True, "dcr_overfitting": True,
        "contract": True}
    # numbers, not just pass/fail
    assert _value(outcomes["quality"], "score") >= 0.7
    assert _value(outcomes["no_pii_leak"], "leaked_values") == 0
    assert sorted(_value(outcomes["no_pii_leak"], "pii_columns")) == ["email", "name"]
    assert _value(outcomes["exact_copies"], "exact_copy_share") == 0.0
    assert 0.3 < _value(outcomes["dcr_overfitting"], "closer_to_training") <= 0.55
    assert _value(outcomes["contract"], "n_failed") == 0
    assert _value(outcomes["contract"], "n_expectations") >= 15


def test_copied_leaked_and_out_of_range_rows_fail(customers_spec, customers, good_customers):
    bad = good_customers.copy()
    # a copied real row set (training rows, so DCR sees them too), a leaked e-mail, a bad age
    training = customers[~holdout_mask(customers, customers_spec.metadata.get_table_metadata("customers"))]
    copied = training.sample(250, random_state=1)
    bad.iloc[:250, bad.columns.get_indexer(["age", "income", "segment"])] = \
        copied[["age", "income", "segment"]].to_numpy()
    bad.loc[300, "email"] = customers.loc[17, "email"]
    bad["age"] = bad["age"].astype("int64")
    bad.loc[301, "age"] = 140
    outcomes = _run(customers_spec, {"customers": customers}, {"customers": bad}, "customers")
    assert not outcomes["exact_copies"].passed
    assert _value(outcomes["exact_copies"], "copied_rows") >= 250
    assert not outcomes["no_pii_leak"].passed
    assert _value(outcomes["no_pii_leak"], "leaked_values_by_column") == {"name": 0, "email": 1}
    assert not outcomes["dcr_overfitting"].passed
    assert _value(outcomes["dcr_overfitting"], "closer_to_training") > 0.55
    assert not outcomes["contract"].passed
    failed = _value(outcomes["contract"], "failed_expectations")
    assert [(f["expectation"], f["column"]) for f in failed] == [
        ("ExpectColumnValuesToBeBetween", "age")]
    assert failed[0]["unexpected_count"] == 1 and failed[0]["partial_unexpected_list"] == [140]
    assert outcomes["quality"].passed  # one bad age does not sink the score


def test_data_that_does_not_fit_a_check_fails_it_with_the_error(customers_spec, customers):
    outcomes = _run(customers_spec, {"customers": customers}, {"customers": customers.drop(columns="age")}, "customers")
    assert not outcomes["quality"].passed and "age" in outcomes["quality"].description


def test_check_results_round_scores_and_block_only_on_blocking_errors(customers, good_customers):
    bad = good_customers.copy()
    bad.loc[0, "email"] = customers.loc[3, "email"]
    key = dg.AssetKey(["synthetic", "synthetic_customers"])
    inputs = CheckInputs(real=customers, synthetic=bad)
    for checks_spec, writable in ((ChecksSpec(contract=False), False),
                                  (ChecksSpec(severity="WARN", contract=False), True),
                                  (ChecksSpec(blocking=False, contract=False), True)):
        spec = _spec("customers", CUSTOMERS_METADATA, ["customers"], checks=checks_spec)
        results, ok = D.evaluate_checks(spec, "customers", key, inputs)
        by_name = {r.check_name: r for r in results}
        assert not by_name["no_pii_leak"].passed and ok == writable
        assert by_name["no_pii_leak"].severity == dg.AssetCheckSeverity[checks_spec.severity]
        score = by_name["quality"].metadata["score"].value
        assert score == round(score, 3)


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
    mask = holdout_mask(customers, table)
    assert mask.equals(holdout_mask(customers.copy(), table))
    assert 0.25 < mask.mean() < 0.42
    extremes = extreme_rows(customers, table)
    assert not mask[extremes].any()
    training, holdout = dcr_reference_sets(customers, table)
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
    names = [c.name for c in D.table_checks(par_spec, "panel")]
    assert names == ["quality", "contract", "sequence_lengths", "context_constant", "index_ordered"]

    outcomes = _run(par_spec, {"panel": real}, {"panel": synthetic}, "panel")
    assert all(o.passed for o in outcomes.values()), {n: o.description for n, o in outcomes.items()}
    assert _value(outcomes["context_constant"], "constant_share") == 1.0

    bad = synthetic.copy()
    first = bad["unit"] == bad["unit"].iloc[0]
    bad.loc[first[first].index[1], "region"] = "west" if bad.loc[first.idxmax(), "region"] != "west" else "north"
    swap = bad.index[bad["unit"] == "s5"][:2]
    bad.loc[swap, "year"] = bad.loc[swap[::-1], "year"].to_numpy()  # disorder one sequence
    outcomes = _run(par_spec, {"panel": real}, {"panel": bad}, "panel")
    assert not outcomes["context_constant"].passed
    assert _value(outcomes["context_constant"], "varying_sequences_by_column") == {"region": 1}
    assert not outcomes["index_ordered"].passed
    assert _value(outcomes["index_ordered"], "ordered_share") == pytest.approx(79 / 80)
    assert outcomes["sequence_lengths"].passed


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
    assert [c.name for c in D.table_checks(spec, "sales")] == ["quality", "fk_shop_id", "cardinality_shop_id"]
    assert [c.name for c in D.table_checks(spec, "shops")] == ["quality"]

    real, synthetic = _shop_tables(0), _shop_tables(1)
    outcomes = _run(spec, real, synthetic, "sales")
    assert all(o.passed for o in outcomes.values())
    integrity = outcomes["fk_shop_id"]
    assert _value(integrity, "score") == 1.0 and _value(integrity, "orphan_rows") == 0

    broken = dict(synthetic)
    broken["sales"] = synthetic["sales"].copy()
    broken["sales"].loc[:9, "shop_id"] = 10_000  # ten orphans
    broken["sales"].loc[10:, "shop_id"] = 0  # and every other sale in one shop
    outcomes = _run(spec, real, broken, "sales")
    integrity = outcomes["fk_shop_id"]
    assert not integrity.passed and _value(integrity, "orphan_rows") == 10
    assert _value(integrity, "score") == pytest.approx(1 - 10 / len(broken["sales"]))
    cardinality = outcomes["cardinality_shop_id"]
    assert not cardinality.passed and _value(cardinality, "score") < 0.7


# --------------------------------------------------------------------------- with the factory
def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _customer_factory(tmp_path, customers, **checks):
    from synth_assets.dagster.assets import build_synthetic_assets
    from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager

    data = customers[["customer_id", "age", "income", "segment"]]
    path = tmp_path / "customers.parquet"
    data.to_parquet(path)
    metadata = {"columns": {k: v for k, v in CUSTOMERS_METADATA["columns"].items() if k in data},
                "primary_key": "customer_id"}
    spec = SynthesizerSpec(name="customers", synthesizer="GaussianCopulaSynthesizer",
                           metadata=metadata, sources={"customers": FileSource(path=str(path))},
                           sample={"num_rows": 300, "seed": 3, "evaluate": False},
                           checks=ChecksSpec(**checks))
    built = build_synthetic_assets([spec])
    return built.to_definitions(resources={
        "synthetic_parquet_io_manager": SyntheticParquetIOManager(base_dir=str(tmp_path / "store")),
        "synthesizer_io_manager": SynthesizerIOManager(base_dir=str(tmp_path / "store"))})


def test_checks_run_in_the_sampling_step_before_the_write(tmp_path, customers):
    defs = _customer_factory(tmp_path, customers)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n: e.passed for n, e in evaluations.items()} == {
        "quality": True, "exact_copies": True, "dcr_overfitting": True, "contract": True}
    # one step per asset (the source file is observed): no separate check steps
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert steps == {"source__source_customers", "real__real_customers", "synthesizer__customers", "sample_customers"}
    assert all(e.asset_key == dg.AssetKey(["synthetic", "synthetic_customers"]) for e in evaluations.values())

    # Re-sample under a threshold no sample meets: the check fails, the stored table is untouched.
    stored = tmp_path / "store" / "synthetic" / "synthetic_customers.parquet"
    before = _sha(stored)
    strict = _customer_factory(tmp_path, customers, quality_threshold=0.999)
    rerun = dg.materialize(list(strict.assets),
                           selection=["synthetic/synthetic_customers"], instance=dg.DagsterInstance.ephemeral(),
                           resources=strict.resources, raise_on_error=False,
                           run_config={"ops": {"sample_customers": {"config": {"seed": 99}}}})
    assert not rerun.success
    (quality,) = [e for e in rerun.get_asset_check_evaluations() if e.check_name == "quality"]
    assert not quality.passed and quality.metadata["threshold"].value == 0.999
    assert rerun.get_asset_materialization_events() == []
    assert _sha(stored) == before


def test_warn_severity_writes_the_table_and_records_the_failure(tmp_path, customers):
    defs = _customer_factory(tmp_path, customers, quality_threshold=0.999, severity="WARN")
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    (quality,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "quality"]
    assert not quality.passed
    assert (tmp_path / "store" / "synthetic" / "synthetic_customers.parquet").exists()


def test_checks_follow_a_custom_translator(tmp_path):
    from synth_assets.dagster.assets import build_synthetic_assets
    from synth_assets.dagster.translator import SyntheticAssetTranslator

    class Prefixed(SyntheticAssetTranslator):
        def get_asset_spec(self, props):
            spec = super().get_asset_spec(props)
            return spec.replace_attributes(key=spec.key.with_prefix("acme"))

    spec = _spec("shop", SHOP_METADATA, ["shops", "sales"], synthesizer="IndependentSynthesizer")
    built = build_synthetic_assets([spec], translator=Prefixed())
    checked = {s.asset_key for a in built.assets for s in a.check_specs}
    assert checked == {dg.AssetKey(["acme", "synthetic", "synthetic_shops"]),
                       dg.AssetKey(["acme", "synthetic", "synthetic_sales"])}
    sales = next(a.specs_by_key[k] for a in built.assets for k in a.keys if k.path[-1] == "synthetic_sales")
    assert {d.asset_key for d in sales.deps} == {
        dg.AssetKey(["acme", "synthesizer", "shop"]), dg.AssetKey(["acme", "real", "real_sales"]),
        dg.AssetKey(["acme", "synthetic", "synthetic_shops"])}
    # every input of every step resolves to an asset of the factory
    built.to_definitions().resolve_implicit_global_asset_job_def()
