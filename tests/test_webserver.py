"""`dagster dev` serves the demo (issue 7): start it on loopback against a temporary DAGSTER_HOME
holding one materialized chain of the demo, and read the assets, kinds, checks, automation
conditions and latest materialization metadata back through the webserver's GraphQL API."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
# The cheapest chain of the demo (a Gaussian copula on 930 rows, ~15 s with its checks).
CHAIN = ("real/real_pitching", "synthesizer/pitching_copula", "synthetic/synthetic_pitching")
READY_SECONDS = 90
STOP_SECONDS = 20
TABLES = ("gapminder", "people", "teams", "batting", "pitching")
PRIVACY_CHECKS = {"quality", "no_pii_leak", "exact_copies", "dcr_overfitting", "contract"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _post(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    payload = _post(url, query, variables)
    assert not payload.get("errors"), payload["errors"]
    return payload["data"]


def _wait_until_loaded(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll /server_info, then the workspace, until the code location is loaded (bounded)."""
    deadline = time.monotonic() + READY_SECONDS
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                json.load(response)
            entries = _post(url, """{ workspaceOrError { __typename ... on Workspace {
                locationEntries { name loadStatus locationOrLoadError { __typename
                ... on PythonError { message } } } } } }""")["data"]["workspaceOrError"]["locationEntries"]
            last = entries
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e["locationOrLoadError"] for e in entries
                          if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                assert not errors, f"definitions.py failed to load in the webserver: {errors}"
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError) as error:
            last = error
        time.sleep(0.5)
    pytest.fail(f"dagster dev not ready after {READY_SECONDS} s (last: {last!r}):\n{_log_tail(log)}")


def _sigint_default() -> None:
    # A background shell starts children with SIGINT ignored; dagster dev maps SIGTERM onto the
    # SIGINT handler, so restore the default or SIGTERM would be ignored too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets dagster dev shut its webserver, daemon and code server down (and remove its
    temp sockets); whatever is left of its process group after STOP_SECONDS is killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers (the code server's gRPC child)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    # A latest materialization (with its checks) for the UI to show.
    done = subprocess.run([str(DAGSTER), "asset", "materialize", "-f", "definitions.py", "--select", ",".join(CHAIN)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "dagster_dev.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-h", "127.0.0.1", "-p", str(port), "-f", "definitions.py"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_sigint_default,
        )
    try:
        _wait_until_loaded(url, process, log)
        yield {"url": url, "home": home}
    finally:
        _stop(process)


ASSET_NODES = """
{ assetNodes {
    assetKey { path } groupName kinds isMaterializable isObservable
    automationCondition { label expandedLabel }
    assetChecksOrError { __typename ... on AssetChecks { checks {
        name blocking executionForLatestMaterialization { status evaluation { success } } } } }
} }"""


@pytest.fixture(scope="module")
def nodes(ui) -> dict:
    data = graphql(ui["url"], ASSET_NODES)
    return {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}


def test_ui_serves_the_demo_assets(nodes):
    expected = {
        *(f"real/real_{t}" for t in TABLES), *(f"synthetic/synthetic_{t}" for t in TABLES), *(f"source/source_{t}" for t in TABLES),
        "synthesizer/gapminder_par", "synthesizer/pitching_copula", "synthesizer/lahman_2019",
        "synthesizer/lahman_2019/model_people", "synthesizer/lahman_2019/model_teams", "synthesizer/lahman_2019/model_batting",
    }
    assert expected <= set(nodes), sorted(expected - set(nodes))
    assert nodes["synthetic/synthetic_gapminder"]["groupName"] == "gapminder"
    assert nodes["synthetic/synthetic_batting"]["groupName"] == "lahman"
    # source/* are the observable fingerprints of the files; the rest materialize.
    assert all(nodes[f"source/source_{t}"]["isObservable"] and not nodes[f"source/source_{t}"]["isMaterializable"] for t in TABLES)
    assert all(nodes[f"synthetic/synthetic_{t}"]["isMaterializable"] for t in TABLES)


def test_ui_shows_kinds(nodes):
    assert "pytorch" in nodes["synthesizer/gapminder_par"]["kinds"]
    assert "pytorch" not in nodes["synthesizer/pitching_copula"]["kinds"]  # a copula needs no torch
    for table in TABLES:
        assert {"parquet", "pandas"} <= set(nodes[f"synthetic/synthetic_{table}"]["kinds"]), table
        assert {"parquet", "pandas"} <= set(nodes[f"real/real_{table}"]["kinds"]), table


def _checks(node) -> dict:
    result = node["assetChecksOrError"]
    assert result["__typename"] == "AssetChecks", result
    return {c["name"]: c for c in result["checks"]}


def test_ui_shows_blocking_checks_and_their_latest_results(nodes):
    for table in TABLES:
        checks = _checks(nodes[f"synthetic/synthetic_{table}"])
        assert PRIVACY_CHECKS - {"no_pii_leak"} <= set(checks), (table, sorted(checks))
        # no_pii_leak only where the table has PII (people's names and birth cities)
        assert ("no_pii_leak" in checks) == (table == "people"), (table, sorted(checks))
        assert all(c["blocking"] for c in checks.values()), table
    assert {"sequence_lengths", "context_constant", "index_ordered"} <= set(_checks(nodes["synthetic/synthetic_gapminder"]))
    assert {"fk_playerID", "fk_teamID", "cardinality_playerID", "cardinality_teamID"} <= set(_checks(nodes["synthetic/synthetic_batting"]))
    assert not _checks(nodes["real/real_pitching"])
    # The fixture's run evaluated pitching's checks; gapminder was never materialized.
    for name, check in _checks(nodes["synthetic/synthetic_pitching"]).items():
        execution = check["executionForLatestMaterialization"]
        assert execution is not None, name
        assert execution["status"] == "SUCCEEDED" and execution["evaluation"]["success"] is True, (name, execution)
    assert all(c["executionForLatestMaterialization"] is None for c in _checks(nodes["synthetic/synthetic_gapminder"]).values())


def _condition(node) -> str:
    condition = node["automationCondition"]
    return "" if condition is None else " ".join([condition["label"] or "", *condition["expandedLabel"]])


def test_ui_shows_automation_conditions(ui, nodes):
    for table in TABLES:
        text = _condition(nodes[f"synthetic/synthetic_{table}"])
        assert "eager on synthesizer updates" in text and "refit when the code version changes" in text, (table, text)
        assert nodes[f"synthetic/synthetic_{table}"]["automationCondition"]["label"], table
        assert nodes[f"real/real_{table}"]["automationCondition"] is None, table  # file sources: the sensor refits
    for key in ("synthesizer/gapminder_par", "synthesizer/pitching_copula", "synthesizer/lahman_2019/model_people"):
        assert "refit when the code version changes" in _condition(nodes[key]), key
    assert "eager on table_model updates" in _condition(nodes["synthesizer/lahman_2019"])

    # The sensors that evaluate the conditions, and the refresh schedule, are served and start stopped.
    data = graphql(ui["url"], """{ repositoriesOrError { ... on RepositoryConnection { nodes {
        sensors { name sensorState { status } } schedules { name cronSchedule scheduleState { status } } } } } }""")
    repositories = data["repositoriesOrError"]["nodes"]
    sensors = {s["name"]: s["sensorState"]["status"] for r in repositories for s in r["sensors"]}
    schedules = {s["name"]: s["scheduleState"]["status"] for r in repositories for s in r["schedules"]}
    assert {"synthetic_source_sensor", "synthetic_automation_sensor", "synthetic_automation_sensor_gpu"} <= set(sensors), sensors
    assert set(sensors.values()) == {"STOPPED"}, sensors
    assert schedules == {"synthetic_refresh_schedule": "STOPPED"}, schedules


LATEST = """
query Latest($path: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    assetMaterializations(limit: 1) {
      runId
      metadataEntries {
        __typename label
        ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue }
        ... on TextMetadataEntry { text }
        ... on MarkdownMetadataEntry { mdStr }
        ... on TableSchemaMetadataEntry { schema { columns { name type } } }
        ... on TableColumnLineageMetadataEntry { lineage { columnName columnDeps { assetKey { path } columnName } } }
      }
    }
  }
}"""


def _latest(url: str, key: str) -> list[dict]:
    nodes = graphql(url, LATEST, {"path": key.split("/")})["assetNodes"]
    assert len(nodes) == 1, key
    return nodes[0]["assetMaterializations"]


def test_ui_shows_the_latest_materialization_metadata(ui):
    url, home = ui["url"], ui["home"]
    frame = pd.read_parquet(home / "storage" / "synthetic" / "synthetic_pitching.parquet")
    (latest,) = _latest(url, "synthetic/synthetic_pitching")
    entries = {e["label"]: e for e in latest["metadataEntries"]}

    assert entries["dagster/row_count"]["intValue"] == len(frame) > 0
    schema = [c["name"] for c in entries["dagster/column_schema"]["schema"]["columns"]]
    assert schema == list(frame.columns)
    quality = entries["synth_assets/quality_score"]["floatValue"]
    assert 0.7 <= quality <= 1.0  # the quality check's threshold passed in the fixture's run
    for part in ("synth_assets/column_shapes_score", "synth_assets/column_pair_trends_score"):
        assert entries[part]["__typename"] == "FloatMetadataEntry" and 0.0 < entries[part]["floatValue"] <= 1.0
    assert entries["synth_assets/seed"]["intValue"] == 5  # definitions.py: SampleSpec(seed=5)
    assert "|" in entries["synth_assets/preview"]["mdStr"]  # a markdown table of synthetic rows
    assert "data:image/png;base64," in entries["synth_assets/distributions"]["mdStr"]
    lineage = {c["columnName"]: c["columnDeps"] for c in entries["dagster/column_lineage"]["lineage"]}
    assert lineage["ERA"] == [{"assetKey": {"path": ["real", "real_pitching"]}, "columnName": "ERA"}]

    (fit,) = _latest(url, "synthesizer/pitching_copula")
    assert fit["runId"] == latest["runId"]
    fitted = {e["label"]: e for e in fit["metadataEntries"]}
    assert fitted["synth_assets/fit_seconds"]["floatValue"] > 0
    assert fitted["synth_assets/device"]["text"] == "cpu"
    # Only what the instance holds: the rest of the demo was never materialized here.
    assert _latest(url, "synthetic/synthetic_gapminder") == []
