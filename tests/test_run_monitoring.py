"""A run killed while it holds the `gpu` pool slot does not wedge the pool (issue 10, item 5).

The slow test runs the real pieces as `dagster dev` does, against a temporary DAGSTER_HOME that uses
the repository's dagster.yaml: the daemon dequeues two runs in the `gpu` pool, the first is killed
with SIGKILL in the middle of its "fit" (while it holds the only slot), and the second completes
because run monitoring frees the dead run's slot.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus

ROOT = Path(__file__).resolve().parents[1]


def _monitoring(path):
    return yaml.safe_load(Path(path).read_text()).get("run_monitoring") or {}


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster-instance.yaml"])
def test_instance_configs_free_the_slots_of_dead_runs(path):
    settings = _monitoring(ROOT / path)
    assert settings.get("enabled") is True
    assert 0 < settings["free_slots_after_run_end_seconds"] <= 300
    assert settings["max_runtime_seconds"] >= 3600  # a backstop, not a limit on real fits


def test_helm_values_free_the_slots_of_dead_runs():
    values = yaml.safe_load((ROOT / "deploy/helm/values.yaml").read_text())
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["enabled"] is True
    assert 0 < monitoring["freeSlotsAfterRunEndSeconds"] <= 300


DEFS = '''
import os, time
from pathlib import Path
from dagster import Definitions, asset, define_asset_job, in_process_executor
from synth_assets.dagster import GPU_POOL

WORK = Path(os.environ["POOL_TEST_DIR"])

@asset(pool=GPU_POOL)
def slow_fit():
    (WORK / "slow_fit.pid").write_text(str(os.getpid()))
    time.sleep(600)  # a long fit; the test kills this process

@asset(pool=GPU_POOL)
def next_fit():
    return 1

defs = Definitions(assets=[slow_fit, next_fit], jobs=[
    define_asset_job("slow_job", [slow_fit], executor_def=in_process_executor),
    define_asset_job("next_job", [next_fit], executor_def=in_process_executor),
])
'''


def _instance_yaml(home: Path) -> None:
    """The repository's dagster.yaml, polled every second (its other values are kept)."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["run_monitoring"].update(poll_interval_seconds=1, free_slots_after_run_end_seconds=1)
    config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                                 "config": {"dequeue_interval_seconds": 1}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def _wait_for(predicate, what, timeout=150.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")


def _run_of(instance, job):
    runs = instance.get_runs()
    return next((r for r in runs if r.job_name == job), None)


@pytest.mark.slow
def test_a_run_killed_mid_fit_frees_the_gpu_slot_for_the_next_run(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _instance_yaml(home)
    (tmp_path / "defs.py").write_text(textwrap.dedent(DEFS))
    env = {**os.environ, "DAGSTER_HOME": str(home), "POOL_TEST_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    bin_dir = Path(sys.executable).parent
    target = ["-f", str(tmp_path / "defs.py")]
    log = open(tmp_path / "daemon.log", "w")
    with DagsterInstance.from_config(str(home)) as instance:  # creates the databases before the daemon
        daemon = subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", *target], env=env, cwd=tmp_path,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            launch = [str(bin_dir / "dagster"), "job", "launch", *target, "-j"]
            subprocess.run([*launch, "slow_job"], env=env, cwd=tmp_path, check=True, capture_output=True)
            pid_file = tmp_path / "slow_fit.pid"
            _wait_for(pid_file.exists, "slow_fit to start (holding the gpu slot)")
            assert _claimed(instance) == 1
            subprocess.run([*launch, "next_job"], env=env, cwd=tmp_path, check=True, capture_output=True)
            blocked = f"Run {_run_of(instance, 'next_job').run_id} is blocked by global concurrency limits"
            _wait_for(lambda: blocked in (tmp_path / "daemon.log").read_text(), "next_job to wait for the slot")
            os.kill(int(pid_file.read_text()), signal.SIGKILL)

            done = _wait_for(lambda: _finished(instance, "next_job"), "next_job to finish")
            assert done.status == DagsterRunStatus.SUCCESS
            killed = _run_of(instance, "slow_job")
            assert killed.status == DagsterRunStatus.FAILURE
            assert _claimed(instance) == 0
        finally:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
            log.close()


def _claimed(instance) -> int:
    from synth_assets.dagster import GPU_POOL

    info = instance.event_log_storage.get_concurrency_info(GPU_POOL)
    return len([slot for slot in info.claimed_slots])


def _finished(instance, job):
    run = _run_of(instance, job)
    return run if run is not None and run.is_finished else None


# -- freeing a slot by hand (deploy/pool_slots.py) --------------------------------------------------
def _pool_slots():
    import importlib.util

    spec = importlib.util.spec_from_file_location("pool_slots", ROOT / "deploy" / "pool_slots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pool_slots_frees_a_dead_runs_slot_only_when_told_it_is_dead(tmp_path, monkeypatch, capsys):
    from dagster import DagsterRun

    pool_slots = _pool_slots()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    with DagsterInstance.get() as instance:
        run = instance.add_run(DagsterRun(job_name="fit_job", status=DagsterRunStatus.STARTED))
        instance.event_log_storage.initialize_concurrency_limit_to_default("gpu")
        assert instance.event_log_storage.claim_concurrency_slot("gpu", run.run_id, "fit").is_claimed
    assert pool_slots.main([]) == 0
    assert f"run {run.run_id}  step fit  STARTED" in capsys.readouterr().out

    with pytest.raises(SystemExit, match=f"run {run.run_id} is STARTED: if its process is gone.*--force"):
        pool_slots.main(["--free", run.run_id])
    with DagsterInstance.get() as instance:
        assert _claimed(instance) == 1  # refused: nothing freed

    pool_slots.main(["--free", run.run_id, "--force"])
    assert "pool 'gpu': 0 slot(s) claimed" in capsys.readouterr().out
    with DagsterInstance.get() as instance:
        assert _claimed(instance) == 0
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE


@pytest.mark.slow
def test_without_a_daemon_a_waiting_run_says_so_and_stops_on_sigterm(tmp_path, monkeypatch):
    """`dagster asset materialize` has no daemon: a run that waits for a dead run's slot logs why,
    stops on SIGTERM, and runs once the slot is freed by hand (deploy/pool_slots.py)."""
    from dagster import DagsterRun

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    (tmp_path / "defs.py").write_text(textwrap.dedent(DEFS))
    with DagsterInstance.get() as instance:
        dead = instance.add_run(DagsterRun(job_name="slow_job", status=DagsterRunStatus.STARTED))
        instance.event_log_storage.initialize_concurrency_limit_to_default("gpu")
        assert instance.event_log_storage.claim_concurrency_slot("gpu", dead.run_id, "slow_fit").is_claimed
    env = {**os.environ, "POOL_TEST_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-f",
               str(tmp_path / "defs.py"), "--select", "next_fit"]
    log = tmp_path / "materialize.log"
    with open(log, "w") as out:
        waiting = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: "Step blocked by limit for pool gpu" in log.read_text(), "the step to wait for the slot")
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(timeout=120) != 0
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert "RUN_FAILURE" in log.read_text()

    _pool_slots().main(["--free", dead.run_id, "--force"])
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
