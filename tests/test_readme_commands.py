"""README's commands do what it says (issue 6): the headless demo command from a clean DAGSTER_HOME,
a fast `dagster definitions validate`, and CI running exactly README's test command."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
COMMANDS_HEADING = "## The two commands"


def readme_commands() -> list[str]:
    """The commands in the first fenced block under README's "## The two commands", comments dropped."""
    text = (ROOT / "README.md").read_text()
    assert COMMANDS_HEADING in text, "README has no 'The two commands' section"
    section = text.split(COMMANDS_HEADING, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert block, "no fenced block under 'The two commands'"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def script_commands(path: Path) -> list[str]:
    """A shell script's command lines (no shebang, comments, blank lines or `set`/`cd` preamble)."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith(("set ", "cd ")):
            out.append(line)
    return out


# -- (c) README's commands and CI ----------------------------------------------------------------
def test_ci_runs_exactly_readmes_test_command():
    commands = readme_commands()
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"], commands
    for command in commands:
        script = ROOT / shlex.split(command)[1]
        assert script.is_file(), script
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script
    ci = ROOT / ".ci" / "run"
    assert ci.is_file() and os.access(ci, os.X_OK), ".ci/run must exist and be executable"
    # .ci/run changes to the repository root, then runs README's test command and nothing else.
    assert script_commands(ci) == [commands[1]], script_commands(ci)
    assert 'cd "$(dirname "$0")/.."' in ci.read_text()
    # Both commands set the venv up with README's setup script before doing anything.
    assert script_commands(ROOT / "scripts" / "demo.sh")[0] == "bash scripts/setup.sh demo"
    assert script_commands(ROOT / "scripts" / "test.sh")[0] == "bash scripts/setup.sh dev"


# -- (b) code-location load time -----------------------------------------------------------------
def test_definitions_validate_is_fast(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    # The import of definitions.py alone (in a fresh interpreter): what every code server pays.
    code = "import time, runpy; t = time.perf_counter(); runpy.run_path('definitions.py'); print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    import_seconds = float(out.stdout.strip().splitlines()[-1])

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    out = subprocess.run([str(DAGSTER), "definitions", "validate", "-f", "definitions.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - start
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert "Validation successful" in out.stdout + out.stderr
    # Issue 6's target is < 5 s (about 3 s on an idle 2-core machine, of which ~1.2 s is the import
    # above). A wall-clock bound only means something on an idle machine: on a loaded CI host the
    # same work can take 2-3x longer, so there we only catch gross regressions (a heavy import at
    # module level adds 5-10 s).
    idle = max(load_before, os.getloadavg()[0]) < 1.0
    limit = 5.0 if idle else 15.0
    detail = f"validate {seconds:.2f} s, import {import_seconds:.2f} s, load average {load_before:.2f}"
    assert seconds < limit, detail
    assert import_seconds < limit, detail


# -- (a) README's headless demo command ----------------------------------------------------------
EXPECTED_COLUMNS = {
    "gapminder": ["country", "continent", "year", "lifeExp", "pop", "gdpPercap"],
    "people": ["playerID", "nameFirst", "nameLast", "birthCity", "birthCountry", "birthYear",
               "weight", "height", "bats", "throws"],
    "teams": ["teamID", "lgID", "divID", "W", "L", "R", "HR", "attendance"],
    "batting": ["playerID", "teamID", "stint", "G", "AB", "R", "H", "HR", "RBI", "SB", "BB", "SO"],
    "pitching": ["playerID", "lgID", "W", "L", "G", "GS", "SV", "IPouts", "H", "ER", "HR", "BB", "SO", "ERA"],
}
MODELS = {
    "gapminder_par": "PARSynthesizer",
    "lahman_2019": "IndependentSynthesizer",
    "pitching_copula": "GaussianCopulaSynthesizer",
}


@pytest.mark.slow
def test_readme_demo_command_from_a_clean_dagster_home(tmp_path):
    """`bash scripts/demo.sh` (README's main command: setup.sh demo on .venv, then the whole demo
    headless) into a DAGSTER_HOME that does not exist yet. ~30 s on an idle 2-core machine."""
    from synth_assets import load_synthesizer

    home = tmp_path / "clean_home"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    out = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert (home / "dagster.yaml").read_text() == (ROOT / "dagster.yaml").read_text()
    assert "RUN_SUCCESS" in log
    assert f"Synthetic tables: {home}/storage/synthetic/*.parquet" in out.stdout  # says where outputs went

    storage = home / "storage"
    tables = {}
    for table, columns in EXPECTED_COLUMNS.items():
        path = storage / "synthetic" / f"synthetic_{table}.parquet"
        assert str(path) in log, f"the run log does not say where synthetic/{table} went"
        tables[table] = frame = pd.read_parquet(path)
        real = pd.read_parquet(storage / "real" / f"real_{table}.parquet")
        assert list(frame.columns) == columns, table
        assert list(real.columns) == columns, table
        assert len(frame) > 0 and not frame.isna().all().any(), table
        # same dtype family as the real table, column by column
        for column in columns:
            assert (pd.api.types.is_numeric_dtype(frame[column])
                    == pd.api.types.is_numeric_dtype(real[column])), (table, column)
    # gapminder: PAR samples as many country panels as it saw, each of 12 five-year steps.
    assert tables["gapminder"]["country"].nunique() == 142
    assert set(tables["gapminder"].groupby("country").size()) == {12}
    # Lahman: every foreign key points at a synthetic parent, and generated keys never reuse real ones.
    assert set(tables["batting"]["playerID"]) <= set(tables["people"]["playerID"])
    assert set(tables["batting"]["teamID"]) <= set(tables["teams"]["teamID"])
    real_people = pd.read_parquet(storage / "real" / "real_people.parquet")
    assert not set(tables["people"]["playerID"]) & set(real_people["playerID"])

    for name, cls in MODELS.items():
        path = storage / "synthesizer" / f"{name}.synth"
        assert path.is_file() and path.stat().st_size > 0, path
        assert type(load_synthesizer(str(path))).__name__ == cls  # integrity-checked load
    for table in ("people", "teams", "batting"):  # the per-table fits of the multi-table group
        assert (storage / "synthesizer" / "lahman_2019" / f"model_{table}.synth").is_file(), table
    copula = load_synthesizer(str(storage / "synthesizer" / "pitching_copula.synth"))
    assert list(copula.sample(5).columns) == EXPECTED_COLUMNS["pitching"]
