"""PARSynthesizer on real panels, side by side with SDV 2.0's PAR when installed.

    .venv/bin/python benchmarks/par.py                                  # everything
    .venv/bin/python benchmarks/par.py --datasets gapminder --no-sdv
    .venv/bin/python benchmarks/par.py --only-scale --scale-sequences 50000

Each engine runs in its own fresh process (multiprocessing 'spawn') at default settings (128
epochs) on the same data and metadata; fit s / sample s are wall-clock seconds of `fit` and
`sample` alone. Peak RSS is the child's ru_maxrss after sampling. Scores come from
synth_assets.evaluation (they agree with SDMetrics within 1e-12, see tests/test_evaluation_*):
quality = single-table QualityReport on the flattened rows (overall / shapes / pairs), MSAS avg =
mean of StatisticMSAS (mean, std) and InterRowMSAS (diff 1) over non-context numerical columns,
length = SequenceLengthSimilarity, context = share of sequences whose context columns are constant.
The number of sampled sequences equals the number of real sequences.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    load_gapminder,
    load_lahman,
    load_rdataset,
    machine_description,
    markdown_table,
    run_isolated,
    sdv2_metadata,
)

# name -> (sequence key, sequence index, context columns)
PANELS = {
    "gapminder": ("country", "year", ["continent"]),
    "males": ("nr", "year", ["school", "ethn"]),
    "lahman_careers": ("playerID", "yearID", ["bats"]),
}


def load_panel(name: str) -> pd.DataFrame:
    if name == "gapminder":
        return load_gapminder()
    if name == "males":
        return load_rdataset("Ecdat", "Males")
    if name == "lahman_careers":
        # Variable-length careers: one row per player-season (1 to 20+ seasons), 1,500 players since 1990.
        batting = load_lahman("Batting")
        batting = batting[batting["yearID"] >= 1990]
        seasons = batting.groupby(["playerID", "yearID"], as_index=False)[["G", "AB", "H", "HR", "BB", "SO"]].sum()
        people = load_lahman("People")[["playerID", "bats"]].dropna()
        seasons = seasons.merge(people, on="playerID")
        players = np.random.default_rng(0).choice(seasons["playerID"].unique(), 1500, replace=False)
        return seasons[seasons["playerID"].isin(players)].reset_index(drop=True)
    raise ValueError(f"unknown panel {name!r}; choose from {list(PANELS)}")


def metadata_dict(name: str, real: pd.DataFrame) -> dict:
    from synth_assets import Metadata

    key, index, _ = PANELS[name]
    metadata = Metadata.detect_from_dataframe(real, name)
    metadata.update_column(key, sdtype="id")
    metadata.set_sequence_key(key)
    metadata.set_sequence_index(index)
    return metadata.to_dict()["tables"][name]


def run_ours(name: str, seed: int = 0):
    import synth_assets.sequential.par_model  # noqa: F401  torch loads here, as SDV's does at import
    from synth_assets import Metadata, PARSynthesizer

    real = load_panel(name)
    key, _, context = PANELS[name]
    synthesizer = PARSynthesizer(Metadata.load_from_dict(metadata_dict(name, real)), context_columns=context, seed=seed)
    started = time.perf_counter()
    synthesizer.fit(real)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample(real[key].nunique())
    return synthetic, fit_s, time.perf_counter() - started, synthesizer.device


def run_sdv(name: str, seed: int = 0):
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.sequential import PARSynthesizer as SDVPAR

    warnings.filterwarnings("ignore")
    real = load_panel(name)
    key, _, context = PANELS[name]
    metadata = SDVMetadata.load_from_dict(sdv2_metadata({"tables": {name: metadata_dict(name, real)}, "relationships": []}))
    synthesizer = SDVPAR(metadata, context_columns=context)
    started = time.perf_counter()
    synthesizer.fit({name: real})  # SDV 2.0 takes (and returns) {table: DataFrame}
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample_sequences(real[key].nunique())  # SDV 2.0's name for sample
    if isinstance(synthetic, dict):
        synthetic = synthetic[name]
    return synthetic, fit_s, time.perf_counter() - started, "cpu"


def score(name: str, real: pd.DataFrame, synthetic: pd.DataFrame) -> dict:
    from synth_assets.evaluation import evaluate_sequential

    _, _, context = PANELS[name]
    result = evaluate_sequential(real, synthetic, metadata_dict(name, real), context_columns=context)
    return {
        "quality": result["quality"]["score"],
        "shapes": result["quality"]["column_shapes"],
        "pairs": result["quality"]["column_pair_trends"],
        "msas": result["msas_avg"],
        "length": result["sequence_length_similarity"],
        "context": result["context_constant_share"],
    }


def benchmark_panels(names, with_sdv: bool) -> list[dict]:
    rows = []
    for name in names:
        real = load_panel(name)
        engines = [("synth_assets", run_ours)] + ([("SDV 2.0 PAR", run_sdv)] if with_sdv else [])
        measured = {}
        for engine, runner in engines:
            print(f"[{name}] {engine} ...", flush=True)
            (synthetic, fit_s, sample_s, device), peak = run_isolated(runner, name)
            row = {"dataset": name, "engine": engine, "fit s": fit_s, "sample s": sample_s,
                   "peak RSS MB": peak, "device": device, **score(name, real, synthetic)}
            measured[engine] = row
            rows.append(row)
        if "SDV 2.0 PAR" in measured:
            ours, sdv = measured["synth_assets"], measured["SDV 2.0 PAR"]
            rows.append({"dataset": name, "engine": "ratio SDV/ours (scores: ours-SDV)",
                         "fit s": sdv["fit s"] / ours["fit s"], "sample s": sdv["sample s"] / ours["sample s"],
                         **{k: ours[k] - sdv[k] for k in ("quality", "shapes", "pairs", "msas", "length", "context")}})
    return rows


def scale_panel(num_sequences: int, length: int, seed: int = 0) -> pd.DataFrame:
    """A generated panel: 10 mixed columns (key, index, 2 context, 6 varying), fixed length."""
    rng = np.random.default_rng(seed)
    n = num_sequences * length
    entity = np.repeat(np.arange(num_sequences), length)
    segment = rng.choice(["retail", "corporate", "public"], num_sequences)[entity]
    region = rng.choice([f"R{i}" for i in range(12)], num_sequences)[entity]
    level = rng.lognormal(3, 1, num_sequences)[entity]
    step = np.tile(np.arange(length), num_sequences)
    return pd.DataFrame({
        "entity": entity,
        "day": step,
        "segment": segment,
        "region": region,
        "balance": (level * (1 + 0.01 * step) + rng.normal(0, 1, n)).round(2),
        "spend": rng.gamma(2.0, level / 10).round(2),
        "transactions": rng.poisson(3, n),
        "channel": rng.choice(["web", "app", "branch", "phone"], n, p=[0.4, 0.35, 0.15, 0.1]),
        "flagged": rng.random(n) < 0.02,
        "score": np.where(rng.random(n) < 0.05, np.nan, rng.normal(600, 50, n).round(0)),
    })


def run_scale(num_sequences: int, length: int, epochs: int):
    from synth_assets import Metadata, PARSynthesizer

    real = scale_panel(num_sequences, length)
    metadata = Metadata.detect_from_dataframe(real, "scale")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    metadata.set_sequence_index("day")
    synthesizer = PARSynthesizer(metadata, context_columns=["segment", "region"], epochs=epochs, seed=0)
    started = time.perf_counter()
    synthesizer.fit(real)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample(1000)
    sample_s = time.perf_counter() - started
    return {"rows": len(real), "epochs": epochs, "fit s": fit_s, "rows/s (fit)": len(real) * epochs / fit_s,
            "sample 1000 seq s": sample_s, "device": synthesizer.device, "synthetic rows": len(synthetic)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(PANELS), choices=list(PANELS))
    parser.add_argument("--no-sdv", action="store_true", help="skip SDV's PAR even if installed")
    parser.add_argument("--only-scale", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--scale-sequences", type=int, default=50_000)
    parser.add_argument("--scale-length", type=int, default=45)
    parser.add_argument("--scale-epochs", type=int, default=3)
    args = parser.parse_args()
    try:
        import sdv  # noqa: F401

        with_sdv = not args.no_sdv
    except ImportError:
        with_sdv = False
    print(f"# PAR benchmark — {machine_description()}, {datetime.date.today()}\n")
    if not args.only_scale:
        rows = benchmark_panels(args.datasets, with_sdv)
        columns = ["dataset", "engine", "fit s", "sample s", "peak RSS MB", "quality", "shapes", "pairs",
                   "msas", "length", "context", "device"]
        print(markdown_table(rows, columns))
    if not args.no_scale:
        print(f"\n[scale] {args.scale_sequences} sequences x {args.scale_length} steps ...", flush=True)
        result, peak = run_isolated(run_scale, args.scale_sequences, args.scale_length, args.scale_epochs)
        result["peak RSS MB"] = peak
        print(markdown_table([result], list(result)))


if __name__ == "__main__":
    main()
