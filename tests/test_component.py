"""SynthesizerComponent: loads from defs.yaml, builds the factory's assets, materializes."""

import shutil
import warnings

import pandas as pd
import pytest
import yaml

dg = pytest.importorskip("dagster")

from dagster.components.testing import create_defs_folder_sandbox  # noqa: E402

from synth_assets.dagster.component import EXAMPLE_DIR, SynthesizerComponent  # noqa: E402

K = dg.AssetKey
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")


def test_example_defs_yaml_builds_the_expected_assets_and_materializes():
    with create_defs_folder_sandbox() as sandbox:
        target = sandbox.defs_folder_path / "customers"
        shutil.copytree(EXAMPLE_DIR, target)
        with sandbox.load_component_and_build_defs(defs_path=target) as (component, defs):
            assert isinstance(component, SynthesizerComponent)
            assert component.name == "customers_copula"
            keys = set(defs.resolve_asset_graph().get_all_asset_keys())
            assert keys == {K(["real", "real_customers"]), K(["synthesizer", "customers_copula"]),
                            K(["synthetic", "synthetic_customers"]), K(["source", "source_customers"])}
            assert not defs.resolve_asset_graph().get(K(["source", "source_customers"])).is_materializable
            checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
            assert checks == {"quality", "no_pii_leak", "exact_copies", "dcr_overfitting",
                              "contract"}
            assert {s.name for s in defs.sensors} == {
                "synthetic_source_sensor__customers_copula",
                "synthetic_automation_sensor__customers_copula"}
            (schedule,) = defs.schedules
            assert schedule.cron_schedule == "0 3 * * *"
            synthetic = defs.resolve_assets_def(K(["synthetic", "synthetic_customers"]))
            assert synthetic.group_names_by_key[K(["synthetic", "synthetic_customers"])] == "synthetic_customers"

            result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=dg.DagsterInstance.ephemeral())
            assert result.success
            frame = result.output_for_node("sample_customers_copula", "synthetic__synthetic_customers")
            assert len(frame) == 500 and list(frame.columns) == [
                "customer_id", "email", "age", "income", "segment", "joined"]
            assert all(e.passed for e in result.get_asset_check_evaluations())


def test_scaffolded_component_loads_with_detected_metadata(tmp_path):
    data = pd.read_csv(EXAMPLE_DIR / "customers.csv")[["age", "income", "segment"]]
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.scaffold_component(
            component_cls=SynthesizerComponent, defs_path="orders_twin",
            scaffold_params={"name": "orders_twin", "table": "orders", "path": "orders.parquet"})
        written = yaml.safe_load((defs_path / "defs.yaml").read_text())
        assert written["type"] == "synth_assets.dagster.component.SynthesizerComponent"
        assert written["attributes"]["sources"] == {"orders": "orders.parquet"}
        assert "metadata" not in written["attributes"]  # detected from the data
        data.to_parquet(defs_path / "orders.parquet")
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
            keys = set(defs.resolve_asset_graph().get_all_asset_keys())
            assert keys == {K(["real", "real_orders"]), K(["synthesizer", "orders_twin"]),
                            K(["synthetic", "synthetic_orders"]), K(["source", "source_orders"])}
            spec = component.build_spec(defs_path)
            assert spec.sources["orders"].path == str((defs_path / "orders.parquet").resolve())
            assert sorted(spec.metadata.get_table_metadata("orders").columns) == [
                "age", "income", "segment"]


def test_two_components_share_a_project_and_bad_attributes_are_named(tmp_path):
    with create_defs_folder_sandbox() as sandbox:
        for name, table in (("first", "customers"), ("second", "clients")):
            target = sandbox.defs_folder_path / name
            shutil.copytree(EXAMPLE_DIR, target)
            attributes = yaml.safe_load((target / "defs.yaml").read_text())
            attributes["attributes"]["name"] = f"{name}_model"
            if table != "customers":
                metadata = (target / "metadata.json").read_text().replace('"customers"', f'"{table}"')
                (target / "metadata.json").write_text(metadata)
                attributes["attributes"]["sources"] = {table: "customers.csv"}
            (target / "defs.yaml").write_text(yaml.safe_dump(attributes))
        with sandbox.build_all_defs() as defs:
            keys = set(defs.resolve_asset_graph().get_all_asset_keys())
            assert {K(["synthetic", "synthetic_customers"]), K(["synthetic", "synthetic_clients"])} <= keys
            assert {s.name for s in defs.schedules} == {
                "synthetic_refresh_schedule__first_model",
                "synthetic_refresh_schedule__second_model"}

    with pytest.raises(Exception, match="synthesizer"):
        SynthesizerComponent.resolve_from_yaml(
            "name: x\nsynthesizer: NotASynthesizer\nsources: {t: t.csv}\n")
    component = SynthesizerComponent(name="x", sources={"t": {"format": "csv"}},
                                     metadata={"columns": {"a": {"sdtype": "numerical"}}})
    with pytest.raises(ValueError, match="needs 'path' or 'asset_key'"):
        component.build_spec(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        component = SynthesizerComponent(
            name="x", sources={"t": "t.csv"}, parameters={"epochs": 3},
            metadata={"columns": {"a": {"sdtype": "numerical"}}})
        with pytest.raises(ValueError, match="epochs"):
            component.build_spec(tmp_path)
