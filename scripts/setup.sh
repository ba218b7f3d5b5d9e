#!/usr/bin/env bash
# Create .venv and install synth_assets with its extras. torch==2.13.0 (CPU) goes in first via
# constraints.txt so pyproject's torch range is met without pulling a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-dev}"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -c constraints.txt "torch==2.13.0"
.venv/bin/pip install -q -c constraints.txt -e ".[${EXTRAS}]"
