"""The Dagster layer is only wiring: the pandas/plot/GX code it calls lives in the core and works
without Dagster; no function of the layer is over ~50 lines; test helpers are not shipped."""

import ast
import importlib.util
import pathlib
import subprocess
import sys

import synth_assets

PACKAGE = pathlib.Path(synth_assets.__file__).parent


def test_core_checks_holdout_and_contracts_import_and_run_without_dagster():
    code = (
        "import sys; sys.modules['dagster'] = None\n"  # any `import dagster` now fails
        "import pandas as pd\n"
        "from synth_assets.evaluation.checks import CheckInputs, CheckSettings, plan_table_checks\n"
        "from synth_assets.evaluation.holdout import holdout_mask\n"
        "from synth_assets.evaluation.contracts import derive_contract\n"
        "from synth_assets.fingerprints import content_fingerprint\n"
        "from synth_assets.profiles import profile_table\n"
        "from synth_assets.evaluation.plots import distribution_figure, loss_figure\n"
        "from synth_assets.evaluation.summary import quality_summary\n"
        "real = pd.DataFrame({'a': range(60), 'b': ['x', 'y'] * 30})\n"
        "table = {'columns': {'a': {'sdtype': 'numerical'}, 'b': {'sdtype': 'categorical'}}}\n"
        "plan = plan_table_checks('t', table, CheckSettings(contract=False))\n"
        "outcomes = {c.name: c.run(CheckInputs(real=real, synthetic=real.sample(frac=1, random_state=0))) for c in plan}\n"
        "print(sorted(outcomes), int(holdout_mask(real, table).sum()) > 0, len(derive_contract(real, table)) > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['dcr_overfitting', 'exact_copies', 'quality'] True True"


def test_no_function_of_the_dagster_layer_is_over_50_lines():
    long = []
    for path in sorted((PACKAGE / "dagster").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 50:
                long.append(f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == []


def test_test_helpers_are_not_shipped_in_the_package():
    assert importlib.util.find_spec("synth_assets.multi_table.demo") is None
    from synth_assets.dagster.io_managers import SyntheticParquetIOManager

    assert not hasattr(SyntheticParquetIOManager, "path_for")


def test_skewed_columns_are_plotted_on_a_log_axis():
    import numpy as np
    import pandas as pd

    from synth_assets.evaluation.plots import distribution_figure, is_skewed
    from synth_assets.metadata import Metadata

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"income": rng.lognormal(10, 1.5, 500), "age": rng.normal(40, 10, 500),
                         "steals": rng.poisson(0.3, 500) * rng.integers(1, 30, 500)})
    metadata = Metadata.load_from_dict({"columns": {c: {"sdtype": "numerical"} for c in real}})
    figure, logged = distribution_figure(real, real.sample(frac=1, random_state=1), metadata.get_table_metadata("table"))
    assert logged == ["income", "steals"]  # heavy tails (with zeros too); the normal column stays linear
    assert [a.get_title() for a in figure.axes if a.get_visible()] == ["income (log)", "age", "steals (log)"]
    assert not is_skewed(pd.Series([-5.0, 1.0, 2.0, 1000.0]))  # negative values: no log axis
