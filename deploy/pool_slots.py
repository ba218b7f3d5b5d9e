"""Show who holds a pool's slots, and free the slots of a run that died.

    python deploy/pool_slots.py                      # holders of the "gpu" pool, with run status
    python deploy/pool_slots.py --free RUN_ID        # free the slots of a finished run
    python deploy/pool_slots.py --free RUN_ID --force  # ...of a run stuck in STARTED (marks it failed)

Uses the instance of $DAGSTER_HOME. With run monitoring on (dagster.yaml) the daemon does this by
itself; this is for runs started by `dagster asset materialize` (no daemon), or a daemon that was
down. `dagster instance concurrency get gpu` shows "1 / 1 slots occupied" but not by whom.
"""

from __future__ import annotations

import argparse
import sys

from dagster import DagsterInstance


def holders(instance: DagsterInstance, pool: str) -> list[tuple[str, str, str]]:
    """(run id, step key, run status) of every claimed slot of `pool`."""
    rows = []
    for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        rows.append((slot.run_id, slot.step_key, run.status.value if run else "DELETED"))
    return rows


def free(instance: DagsterInstance, run_id: str, force: bool = False) -> str:
    """Free every slot `run_id` holds; a run not finished is marked failed first, only with force."""
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        if not force:
            raise SystemExit(
                f"run {run_id} is {run.status.value}: if its process is gone (killed, machine "
                "restarted), pass --force to mark it failed and free its slots.")
        instance.report_run_failed(run, "Marked failed by deploy/pool_slots.py: its process was gone.")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return f"freed the slots of run {run_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", default="gpu")
    parser.add_argument("--free", metavar="RUN_ID")
    parser.add_argument("--force", action="store_true", help="also free a run that is not finished")
    args = parser.parse_args(argv)
    with DagsterInstance.get() as instance:
        if args.free:
            print(free(instance, args.free, args.force))
        rows = holders(instance, args.pool)
        print(f"pool {args.pool!r}: {len(rows)} slot(s) claimed")
        for run_id, step, status in rows:
            print(f"  run {run_id}  step {step}  {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
