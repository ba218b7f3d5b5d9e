#!/usr/bin/env bash
# Set up (idempotent) and materialize the demo pipeline end to end, headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
exec .venv/bin/dagster asset materialize -f definitions.py --select '*'
