"""Steps and wall time of the demo: `dagster asset materialize --select '*'` with the default
(multiprocess) executor and with the demo's in_process_executor, each in a fresh DAGSTER_HOME.

    PYTHONPATH=$PWD python benchmarks/dagster_demo.py [--executor default|in_process|both]

Prints one line per executor: materialized assets, steps, check evaluations (failed), wall s.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = {"in_process": ROOT / "definitions.py", "default": ROOT / "benchmarks" / "demo_default_executor.py"}


def run(executor: str) -> dict:
    dagster = Path(sys.executable).with_name("dagster")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DAGSTER_HOME": home, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        out = subprocess.run([str(dagster), "asset", "materialize", "-f", str(FILES[executor]), "--select", "*"],
                             cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        log = out.stdout + out.stderr
        if out.returncode != 0:
            raise SystemExit(f"{executor}: the demo run failed:\n{log[-3000:]}")
    return {
        "executor": executor,
        "assets": log.count("ASSET_MATERIALIZATION - Materialized value"),
        "steps": log.count(" - STEP_START - "),
        "checks": log.count(" - ASSET_CHECK_EVALUATION - "),
        "failed_checks": log.count("ASSET_CHECK_EVALUATION - Asset check") - log.count("' passed."),
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=["default", "in_process", "both"], default="both")
    chosen = ["default", "in_process"] if parser.parse_args().executor == "both" else [parser.parse_args().executor]
    print(f"load {open('/proc/loadavg').read().split()[:3]}" if os.path.exists("/proc/loadavg") else "")
    for executor in chosen:
        print(run(executor))


if __name__ == "__main__":
    main()
