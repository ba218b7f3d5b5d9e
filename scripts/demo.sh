#!/usr/bin/env bash
# Set up (idempotent) and materialize the demo pipeline end to end, headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
.venv/bin/dagster asset materialize -f definitions.py --select '*'
echo
echo "Synthetic tables: $DAGSTER_HOME/storage/synthetic/*.parquet"
echo "Fitted models:    $DAGSTER_HOME/storage/synthesizer/"
echo "Browse the runs:  DAGSTER_HOME=$DAGSTER_HOME .venv/bin/dagster dev -f definitions.py"
