"""The demo code location for Kubernetes: every step in its own pod (k8s_job_executor).

Step pods share no disk, so tables and model files go to an object store: set
SYNTH_ASSETS_STORAGE (e.g. s3://my-bucket/synthetic, needs the fsspec driver such as s3fs in the
image). PAR fit steps carry the GPU `dagster-k8s/config` op tags and run in the `gpu` pool.

    dagster api grpc --python-file deploy/k8s_definitions.py   (what the Helm values start)
"""

import os
import sys

from dagster_k8s import k8s_job_executor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from definitions import synthetic  # noqa: E402  (the demo specs, repository root)

from synth_assets.dagster import SynthesizerIOManager, SyntheticParquetIOManager  # noqa: E402

STORAGE = os.environ.get("SYNTH_ASSETS_STORAGE")

resources = None
if STORAGE:
    resources = {
        synthetic.io_manager_key: SyntheticParquetIOManager(base_dir=STORAGE),
        synthetic.model_io_manager_key: SynthesizerIOManager(base_dir=STORAGE),
    }

defs = synthetic.to_definitions(
    resources=resources,
    executor=k8s_job_executor.configured(
        {
            "job_namespace": os.environ.get("SYNTH_ASSETS_NAMESPACE", "synthetic-data"),
            "max_concurrent": 4,
            "env_config_maps": ["synth-assets-env"],
            "env_secrets": ["synth-assets-secrets"],
            # CPU defaults for every step pod; the PAR fit step adds the GPU through its op tags.
            "step_k8s_config": {
                "container_config": {
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                  "limits": {"memory": "4Gi"}},
                },
            },
        }
    ),
)
