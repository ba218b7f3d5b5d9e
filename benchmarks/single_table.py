"""Fit + sample GaussianCopulaSynthesizer on real tables; side by side with SDV 2.0 when installed.

    .venv/bin/python benchmarks/single_table.py                      # all tables, both engines
    .venv/bin/python benchmarks/single_table.py --tables lahman_batting --no-sdv

Each engine runs in its own fresh process (multiprocessing 'spawn') on the same table and the same
metadata (ours, detected from the data; SDV loads it from the same SDV-format dict) and samples as
many rows as the real table has. fit s / sample s are wall-clock seconds of `fit` and `sample`
alone, after a warm-up fit on 200 rows (both engines import lazily; imports and loading are not
timed); a fit + sample under a second is run 5 times and the medians are kept. Peak RSS is the child process's ru_maxrss during fit +
sample (the high-water mark is reset after imports and loading via /proc/self/clear_refs; '*'
marks a platform where it cannot be, so the peak also covers loading); it is the whole
process (interpreter + imports + data + work) and "+x" is its growth over the RSS before fit. Quality is
sdmetrics' single-table QualityReport (overall / Column Shapes / Column Pair Trends, default
thresholds) on a fixed-seed subsample of the real table (the same rows for both engines) against
the same number of synthetic rows. SDV runs with its defaults (default_distribution='beta').
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    current_rss_mb,
    load_gapminder,
    load_lahman,
    load_rdataset,
    machine_description,
    markdown_table,
    peak_rss_mb,
    reset_peak_rss,
    run_isolated,
)

# 10 of the flights columns: delays, times and distances (skewed, with missing values) and three
# categoricals (carrier 16, origin 3, dest 105 values). time_hour is left out on purpose: SDV
# parses datetime strings one value at a time, which would dominate its time here.
FLIGHTS_COLUMNS = ["month", "day", "dep_time", "dep_delay", "arr_time", "arr_delay", "carrier", "origin", "dest", "distance"]


def load_table(name: str):
    if name == "gapminder":
        return load_gapminder()
    if name == "lahman_batting":
        return load_lahman("Batting").drop(columns="playerID")
    if name == "lahman_pitching":
        return load_lahman("Pitching").drop(columns="playerID")
    if name == "nycflights13_flights":
        return load_rdataset("nycflights13", "flights")[FLIGHTS_COLUMNS]
    raise ValueError(f"unknown table {name!r}; choose from {TABLES}")


TABLES = ["gapminder", "lahman_batting", "lahman_pitching", "nycflights13_flights"]


def table_metadata_dict(real) -> dict:
    from synth_assets import Metadata

    return Metadata.detect_from_dataframe(real, "table").get_table_metadata("table").to_dict()


def fit_and_sample(engine: str, table: str, seed: int, keep_rows: int) -> dict:
    """Runs in a fresh process: load, fit, sample len(real) rows; time and memory of fit + sample."""
    warnings.simplefilter("ignore")
    if engine == "ours":
        from synth_assets import GaussianCopulaSynthesizer, Metadata
    else:
        from sdv.metadata import Metadata as SDVMetadata
        from sdv.single_table import GaussianCopulaSynthesizer as SDVGaussianCopula
    real = load_table(table)
    table_dict = table_metadata_dict(real)

    def make():
        if engine == "ours":
            return GaussianCopulaSynthesizer(Metadata.load_from_dict(table_dict, single_table_name=table))
        metadata = SDVMetadata.load_from_dict({"tables": {table: table_dict}, "relationships": [], "METADATA_SPEC_VERSION": "V1"})
        return SDVGaussianCopula(metadata)  # SDV's defaults

    # Warm-up on 200 rows: both engines import lazily inside fit/sample; imports are not timed.
    warm = make()
    warm.fit(real.head(200) if engine == "ours" else {table: real.head(200)})
    warm.sample(10)
    del warm
    base_rss = current_rss_mb()
    peak_is_fit_sample = reset_peak_rss()  # so the peak is fit + sample's, not the CSV parse's
    fits, samples = [], []
    while True:  # one run; runs under a second are repeated (5 in all) and the median is kept
        synthesizer = make()
        started = time.perf_counter()
        synthesizer.fit(real if engine == "ours" else {table: real})
        fits.append(time.perf_counter() - started)
        if engine == "ours":
            synthesizer.set_random_state(seed)
        started = time.perf_counter()
        synthetic = synthesizer.sample(len(real))
        samples.append(time.perf_counter() - started)
        if len(fits) >= 5 or fits[0] + samples[0] >= 1.0:
            break
    if isinstance(synthetic, dict):
        synthetic = synthetic[table]
    fit_s, sample_s = statistics.median(fits), statistics.median(samples)
    return {
        "fit_s": fit_s,
        "sample_s": sample_s,
        "base_rss_mb": base_rss,
        "peak_rss_mb": peak_rss_mb(),
        "peak_is_fit_sample": peak_is_fit_sample,
        "synthetic": synthetic.head(keep_rows).reset_index(drop=True),  # rows are i.i.d.: any rows do
    }


def quality(real, synthetic, table_dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synthetic, table_dict, verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return report, report.get_score(), scores["Column Shapes"], scores["Column Pair Trends"]


def explain_gap(table: str, reports: dict) -> str:
    """Per-column view of where our quality trails SDV's: column shapes, then pair trends by column."""
    ours, sdv = reports["ours"], reports["sdv"]
    shapes = ours.get_details("Column Shapes").merge(sdv.get_details("Column Shapes"), on=["Column", "Metric"], suffixes=("_ours", "_sdv"))
    shapes["diff"] = shapes["Score_ours"] - shapes["Score_sdv"]
    keys = ["Column 1", "Column 2", "Metric"]
    pairs = ours.get_details("Column Pair Trends").merge(sdv.get_details("Column Pair Trends"), on=keys, suffixes=("_ours", "_sdv"))
    pairs["diff"] = pairs["Score_ours"] - pairs["Score_sdv"]
    worst = pairs.dropna(subset=["diff"]).sort_values("diff").head(8)
    by_column = (
        pairs.melt(id_vars=["diff"], value_vars=["Column 1", "Column 2"], value_name="column")
        .groupby("column")["diff"].mean().sort_values().head(6)
    )
    lines = [f"### {table}: where ours trails SDV", "", "Column shapes (ours - SDV), lowest first:", ""]
    lines += [f"- {r.Column} ({r.Metric}): {r.Score_ours:.3f} vs {r.Score_sdv:.3f} ({r.diff:+.3f})" for r in shapes.sort_values("diff").head(6).itertuples()]
    lines += ["", "Column pair trends, mean (ours - SDV) over each column's pairs, lowest first:", ""]
    lines += [f"- {column}: {diff:+.3f}" for column, diff in by_column.items()]
    lines += ["", "Worst pairs:", ""]
    lines += [f"- {r._1} x {r._2} ({r.Metric}): {r.Score_ours:.3f} vs {r.Score_sdv:.3f}" for r in worst.itertuples()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", default=",".join(TABLES), help=f"comma-separated, from {TABLES}")
    parser.add_argument("--no-sdv", action="store_true", help="skip SDV even if it is installed")
    parser.add_argument("--quality-rows", type=int, default=20_000, help="rows in the quality subsample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    for table in tables:
        if table not in TABLES:
            parser.error(f"unknown table {table!r}; choose from {TABLES}")

    import importlib.util

    engines = ["ours"]
    if not args.no_sdv and importlib.util.find_spec("sdv") is not None:
        import importlib.metadata

        engines.append("sdv")
        sdv_version = importlib.metadata.version("sdv")
    print(f"# Single-table benchmark, {datetime.date.today()}, {machine_description()}")
    print("load average (1/5/15 min) at start: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"engines: ours{', SDV ' + sdv_version + ' (defaults)' if 'sdv' in engines else ''}; quality on {args.quality_rows:,}-row subsamples, seed {args.seed}\n", flush=True)

    rows, ratios, notes = [], [], []
    for table in tables:
        real = load_table(table)
        table_dict = table_metadata_dict(real)
        real_sub = real.sample(min(args.quality_rows, len(real)), random_state=args.seed).reset_index(drop=True)
        results, reports = {}, {}
        for engine in engines:
            result, _ = run_isolated(fit_and_sample, engine, table, args.seed, len(real_sub))
            peak = result["peak_rss_mb"]
            report, overall, shapes, pairs = quality(real_sub, result["synthetic"], table_dict)
            reports[engine] = report
            results[engine] = dict(fit=result["fit_s"], sample=result["sample_s"], overall=overall, shapes=shapes, pairs=pairs)
            rows.append(
                {
                    "table": table,
                    "rows x cols": f"{len(real):,} x {real.shape[1]}",
                    "engine": "ours" if engine == "ours" else "SDV",
                    "fit s": result["fit_s"],
                    "sample s": result["sample_s"],
                    "peak RSS MiB": f"{peak:,.0f} (+{peak - result['base_rss_mb']:,.0f})"
                    + ("" if result["peak_is_fit_sample"] else " *"),
                    "quality": overall,
                    "shapes": shapes,
                    "pairs": pairs,
                }
            )
            print(markdown_table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)
        if "sdv" in results:
            ours, sdv = results["ours"], results["sdv"]
            ratios.append(
                {
                    "table": table,
                    "SDV/ours fit": sdv["fit"] / ours["fit"],
                    "SDV/ours sample": sdv["sample"] / ours["sample"],
                    "SDV/ours fit+sample": (sdv["fit"] + sdv["sample"]) / (ours["fit"] + ours["sample"]),
                    "quality ours-SDV": f"{ours['overall'] - sdv['overall']:+.3f}",
                    "shapes ours-SDV": f"{ours['shapes'] - sdv['shapes']:+.3f}",
                    "pairs ours-SDV": f"{ours['pairs'] - sdv['pairs']:+.3f}",
                }
            )
            if min(ours["overall"] - sdv["overall"], ours["shapes"] - sdv["shapes"], ours["pairs"] - sdv["pairs"]) < 0:
                notes.append(explain_gap(table, reports))

    print("\n## Results\n")
    print(markdown_table(rows, ["table", "rows x cols", "engine", "fit s", "sample s", "peak RSS MiB", "quality", "shapes", "pairs"]))
    if ratios:
        print("\n## Ratios (targets: fit+sample >= 5x faster, quality no lower)\n")
        print(markdown_table(ratios, list(ratios[0])))
    for note in notes:
        print("\n" + note)
    print("\nload average (1/5/15 min) at end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
