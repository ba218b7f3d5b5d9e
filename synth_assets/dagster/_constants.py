"""Names shared across the Dagster layer: tags and IO-manager keys (a leaf: imports nothing)."""

PARQUET_IO_MANAGER_KEY = "synthetic_parquet_io_manager"
MODEL_IO_MANAGER_KEY = "synthesizer_io_manager"
SEED_TAG = "synth_assets/seed"  # a run-level sampling seed (the refresh schedule sets it)
ROLE_TAG = "synth_assets/role"  # set by the translator on every asset the factory builds
PII_TAG = "pii"
REFIT_TAG = "synth_assets/refit"  # tables whose source change triggered the run
GPU_RUN_TAG = "synth_assets/gpu"  # 'true' on runs whose pod needs a GPU (run-queue limits)
