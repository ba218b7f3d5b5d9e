"""The demo code location with Dagster's default executor (a process per step), for
benchmarks/dagster_demo.py: `definitions.py` itself runs everything in one process."""

from definitions import synthetic

defs = synthetic.to_definitions()
