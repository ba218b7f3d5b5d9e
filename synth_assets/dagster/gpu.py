"""GPU routing for neural fits: a Dagster concurrency pool plus Kubernetes pod settings.

PAR fit steps run in the `gpu` pool (limit it in dagster.yaml or with
`dagster instance concurrency set gpu 1`) and carry `dagster-k8s/config` op tags that request
`nvidia.com/gpu`, select GPU nodes and tolerate their taint; the k8s executor / run launcher turns
those into the step pod's spec. Outside Kubernetes the tags are inert, and the fit falls back to
the CPU when torch sees no CUDA device.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GPU_POOL = "gpu"
K8S_CONFIG_TAG = "dagster-k8s/config"


class GpuConfig(BaseModel):
    """Kubernetes settings for a step that needs a GPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpus: int = Field(default=1, gt=0)
    node_selector: dict[str, str] = Field(default_factory=lambda: {"nvidia.com/gpu.present": "true"})
    tolerations: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    )
    # Extra container resources, e.g. {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"memory": "16Gi"}}.
    resources: dict[str, dict[str, str]] = Field(default_factory=dict)

    def _k8s_config(self) -> dict:
        requests = dict(self.resources.get("requests", {}))
        limits = dict(self.resources.get("limits", {}))
        limits["nvidia.com/gpu"] = str(self.gpus)  # extended resources: limits are what k8s schedules on
        container_resources: dict = {"limits": limits}
        if requests:
            container_resources["requests"] = requests
        return {
            "container_config": {"resources": container_resources},
            "pod_spec_config": {
                "node_selector": dict(self.node_selector),
                "tolerations": [dict(t) for t in self.tolerations],
            },
        }

    def op_tags(self) -> dict:
        """Tags for the fit op: the k8s executor builds the step pod from them."""
        return {K8S_CONFIG_TAG: self._k8s_config()}

    def run_tags(self) -> dict:
        """Tags for a run whose whole pod needs the GPU (k8s run launcher, in-process executor)."""
        return {K8S_CONFIG_TAG: self._k8s_config()}
