"""GPU routing: the Kubernetes manifests dagster-k8s renders (offline) for a PAR fit step and for
GPU refit runs carry the GPU limit, the node selector and the tolerations; the deploy/ files are
valid instance config."""

import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import yaml

dg = pytest.importorskip("dagster")
pytest.importorskip("dagster_k8s")

from dagster._core.execution.api import create_execution_plan  # noqa: E402
from dagster._core.storage.dagster_run import DagsterRun  # noqa: E402
from dagster_k8s import K8sRunLauncher, k8s_job_executor  # noqa: E402
from dagster_k8s.container_context import K8sContainerContext  # noqa: E402
from dagster_k8s.executor import K8sStepHandler  # noqa: E402
from dagster_k8s.job import (  # noqa: E402
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)
from kubernetes.client import ApiClient  # noqa: E402

from synth_assets.dagster import automation as A  # noqa: E402
from synth_assets.dagster.assets import build_synthetic_assets  # noqa: E402
from synth_assets.dagster.gpu import GPU_POOL, K8S_CONFIG_TAG, GpuConfig  # noqa: E402
from synth_assets.dagster.specs import FileSource, SynthesizerSpec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "ghcr.io/example/synth-assets:0.1.0"
GPU_NODE = {"nvidia.com/gpu.present": "true"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpu")
    (folder / "panel.csv").write_text("unit,year,region,value\nu0,2000,north,1.0\n")
    (folder / "flat.csv").write_text("x\n1.0\n")
    par = SynthesizerSpec(
        name="panel_par", synthesizer="PARSynthesizer",
        metadata={"columns": {"unit": {"sdtype": "id"}, "year": {"sdtype": "numerical"},
                              "region": {"sdtype": "categorical"}, "value": {"sdtype": "numerical"}},
                  "sequence_key": "unit", "sequence_index": "year"},
        sources={"panel": FileSource(path=str(folder / "panel.csv"))},
        parameters={"context_columns": ["region"]})
    copula = SynthesizerSpec(
        name="flat_copula", synthesizer="GaussianCopulaSynthesizer",
        metadata={"columns": {"x": {"sdtype": "numerical"}}},
        sources={"flat": FileSource(path=str(folder / "flat.csv"))})
    return build_synthetic_assets([par, copula]), folder


def _serialize(job):
    return ApiClient().sanitize_for_serialization(job)


def _pod(manifest):
    spec = manifest["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


@pytest.fixture
def kubeconfig(tmp_path):
    """A kubeconfig that points nowhere: enough for dagster-k8s to build its clients offline."""
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "offline",
        "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "offline", "user": {"token": "none"}}],
        "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
    }))
    return str(path)


def test_par_fit_asset_is_in_the_gpu_pool_with_k8s_op_tags(built):
    synthetic, _ = built
    by_key = {key: a for a in synthetic.assets for key in a.keys}
    fit = by_key[dg.AssetKey(["synthesizer", "panel_par"])]
    assert fit.op.pool == GPU_POOL
    assert json.loads(fit.op.tags[K8S_CONFIG_TAG]) == GpuConfig().op_tags()[K8S_CONFIG_TAG]
    for key in (["synthesizer", "flat_copula"], ["synthetic", "synthetic_panel"], ["real", "real_panel"]):
        assert by_key[dg.AssetKey(key)].op.pool is None
        assert K8S_CONFIG_TAG not in by_key[dg.AssetKey(key)].op.tags


def _render_step(handler, defs, step_key, instance):
    """The step pod manifest as K8sStepHandler.launch_step builds it (without the API call)."""
    job_def = defs.resolve_implicit_global_asset_job_def()
    plan = create_execution_plan(job_def)
    step = plan.get_step_by_key(step_key)
    run = DagsterRun(job_name=job_def.name, run_id="0f3c8ad2-0000-4000-8000-000000000001")
    context = SimpleNamespace(
        execute_step_args=SimpleNamespace(step_keys_to_execute=[step_key]),
        dagster_run=run,
        instance=instance,
        step_tags={step_key: step.tags},
        get_step_context=lambda key: SimpleNamespace(step=SimpleNamespace(op_name=step.op_name)),
    )
    container_context = handler._get_container_context(context)
    job_config = DagsterK8sJobConfig(job_image=IMAGE, dagster_home="/opt/dagster/dagster_home",
                                     instance_config_map="dagster-instance")
    name = f"dagster-step-{step_key.replace('_', '-')}"[:63]
    job = construct_dagster_k8s_job(
        job_config=job_config, args=["dagster", "api", "execute_step"], job_name=name,
        pod_name=name, component="step_worker",
        user_defined_k8s_config=container_context.run_k8s_config,
        labels={"dagster/op": step_key}, env_vars=[])
    return _serialize(job), container_context


def test_k8s_job_executor_renders_a_gpu_pod_for_the_par_fit_step(built, kubeconfig):
    synthetic, _ = built
    defs = synthetic.to_definitions(executor=k8s_job_executor)
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "k8s"
    handler = K8sStepHandler(
        image=IMAGE,
        container_context=K8sContainerContext(
            namespace="synthetic-data",
            run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(
                {"container_config": {"resources": {"requests": {"cpu": "500m"}}}})),
        load_incluster_config=False, kubeconfig_file=kubeconfig,
        k8s_client_batch_api=mock.MagicMock(), k8s_client_core_api=mock.MagicMock())
    instance = SimpleNamespace(run_launcher=None)

    manifest, context = _render_step(handler, defs, "synthesizer__panel_par", instance)
    pod, container = _pod(manifest)
    assert context.namespace == "synthetic-data"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"] == {"cpu": "500m"}  # executor default kept
    assert pod["nodeSelector"] == GPU_NODE
    assert pod["tolerations"] == [GPU_TOLERATION]
    assert container["image"] == IMAGE

    # the sampling step and the copula fit stay on CPU nodes
    for step_key in ("sample_panel_par", "synthesizer__flat_copula"):
        manifest, _ = _render_step(handler, defs, step_key, instance)
        pod, container = _pod(manifest)
        assert "nvidia.com/gpu" not in (container.get("resources") or {}).get("limits", {})
        assert not pod.get("nodeSelector") and not pod.get("tolerations")


def _launcher(kubeconfig):
    return K8sRunLauncher(
        service_account_name="dagster", instance_config_map="dagster-instance",
        dagster_home="/opt/dagster/dagster_home", job_image=IMAGE, load_incluster_config=False,
        kubeconfig_file=kubeconfig, job_namespace="synthetic-data",
        k8s_client_batch_api=mock.MagicMock(), k8s_client_core_api=mock.MagicMock(),
        run_k8s_config={"container_config": {"resources": {"requests": {"cpu": "1"}}}})


def _render_run(launcher, tags):
    """The run pod manifest as K8sRunLauncher._launch_k8s_job_with_args builds it."""
    run = DagsterRun(job_name="synthetic_refit_job",
                     run_id="0f3c8ad2-0000-4000-8000-000000000002", tags=tags)
    context = launcher.get_container_context_for_run(run)
    job_config = context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher)
    job = construct_dagster_k8s_job(
        job_config=job_config, args=["dagster", "api", "execute_run"],
        job_name="dagster-run-0f3c8ad2", pod_name="dagster-run-0f3c8ad2", component="run_worker",
        user_defined_k8s_config=context.run_k8s_config, labels={}, env_vars=[])
    return _pod(_serialize(job))


def test_k8s_run_launcher_gives_gpu_refit_runs_a_gpu_pod(built, kubeconfig):
    synthetic, folder = built
    launcher = _launcher(kubeconfig)
    sensors, _, jobs = A.build_automation(synthetic.specs, synthetic)

    # a refit run requested by the source sensor after the PAR source file changed
    sensor = next(s for s in sensors if s.name == A.SOURCE_SENSOR_NAME)
    instance = dg.DagsterInstance.ephemeral()
    cursor = sensor.evaluate_tick(dg.build_sensor_context(instance=instance)).cursor
    (folder / "panel.csv").write_text("unit,year,region,value\nu0,2000,north,2.0\n")
    (folder / "flat.csv").write_text("x\n2.0\n")
    requests = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor)).run_requests
    by_spec = {r.run_key.split(":")[0]: r for r in requests}
    assert set(by_spec) == {"panel_par", "flat_copula"}
    gpu_tags = by_spec["panel_par"].tags
    assert gpu_tags[A.GPU_RUN_TAG] == "true"

    # ... and runs of the refit job and of the GPU automation sensor
    refit_job = next(j for j in jobs if j.name == A.REFIT_JOB_NAME)
    automation_gpu = next(s for s in sensors if s.name == f"{A.AUTOMATION_SENSOR_NAME}_gpu")
    assert dg.AssetKey(["synthesizer", "panel_par"]) in automation_gpu.asset_selection.resolve(
        synthetic.to_definitions().resolve_asset_graph())
    for tags in (gpu_tags, refit_job.tags, automation_gpu.run_tags):
        tags = {k: v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}
        pod, container = _render_run(launcher, tags)
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert pod["nodeSelector"] == GPU_NODE and pod["tolerations"] == [GPU_TOLERATION]

    # CPU specs' runs (and the refresh schedule's) get a plain pod
    pod, container = _render_run(launcher, by_spec["flat_copula"].tags)
    assert "nvidia.com/gpu" not in (container.get("resources") or {}).get("limits", {})
    assert not pod.get("nodeSelector")
    assert A.GPU_RUN_TAG not in by_spec["flat_copula"].tags


def test_gpu_config_override_reaches_the_manifest(kubeconfig):
    config = GpuConfig(gpus=2, node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"},
                       resources={"requests": {"memory": "24Gi"}})
    pod, container = _render_run(
        _launcher(kubeconfig), {K8S_CONFIG_TAG: json.dumps(config.run_tags()[K8S_CONFIG_TAG])})
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"]["memory"] == "24Gi"
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}


def test_deploy_instance_config_and_helm_values_are_valid():
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(ROOT / "deploy"), "dagster-instance.yaml")
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert process_config(K8sRunLauncher.config_type(), launcher["config"]).success
    assert config["concurrency"]["pools"]["default_limit"] == 1
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": A.GPU_RUN_TAG, "value": "true", "limit": 1} in limits

    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["concurrency"]["pools"]["defaultLimit"] == 1
    assert values["concurrency"]["runs"]["tagConcurrencyLimits"][0]["key"] == A.GPU_RUN_TAG
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--python-file", "deploy/k8s_definitions.py"]
    assert (ROOT / "deploy" / "k8s_definitions.py").exists()


def test_k8s_code_location_wraps_the_demo_with_the_k8s_executor(monkeypatch, tmp_path, kubeconfig):
    import runpy

    monkeypatch.setenv("SYNTH_ASSETS_STORAGE", str(tmp_path))
    try:
        namespace = runpy.run_path(str(ROOT / "deploy" / "k8s_definitions.py"))
    except ModuleNotFoundError as error:  # the demo's data packages are an optional extra
        pytest.skip(f"demo data not installed: {error}")
    defs = namespace["defs"]
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "k8s"
    io_manager = defs.resources["synthetic_parquet_io_manager"]
    assert io_manager.base_dir == str(tmp_path)
    handler = K8sStepHandler(
        image=IMAGE, container_context=K8sContainerContext(namespace="synthetic-data"),
        load_incluster_config=False, kubeconfig_file=kubeconfig,
        k8s_client_batch_api=mock.MagicMock(), k8s_client_core_api=mock.MagicMock())
    manifest, _ = _render_step(handler, defs, "synthesizer__gapminder_par",
                               SimpleNamespace(run_launcher=None))
    pod, container = _pod(manifest)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == GPU_NODE
