"""Score summaries of a synthetic table (or group) against the real one, as plain floats keyed by
name: what the Dagster layer shows as materialization metadata. No Dagster."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd


def _subsample(frame: pd.DataFrame, rows: int, seed: int, sequence_key: Optional[str] = None) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame
    if sequence_key and sequence_key in frame.columns:
        # Whole sequences, so sequence statistics stay meaningful.
        keys = pd.unique(frame[sequence_key])
        share = rows / len(frame)
        chosen = np.random.default_rng(seed).choice(keys, size=max(1, int(len(keys) * share)), replace=False)
        return frame[frame[sequence_key].isin(chosen)].reset_index(drop=True)
    return frame.sample(n=rows, random_state=seed).reset_index(drop=True)


def quality_summary(real: pd.DataFrame, synthetic: pd.DataFrame, table_metadata, sequential: bool = False,
                    context_columns=(), max_rows: int = 20_000, seed: int = 0) -> dict:
    """Quality scores (overall, column shapes, column pair trends; sequence scores for PAR), on
    at most ``max_rows`` rows (whole sequences) of each side."""
    from synth_assets import evaluation

    metadata = table_metadata.to_dict()
    key = table_metadata.sequence_key if sequential else None
    real = _subsample(real, max_rows, seed, key)
    synthetic = _subsample(synthetic, max_rows, seed + 1, key)
    if sequential:
        result = evaluation.evaluate_sequential(real, synthetic, metadata, context_columns=list(context_columns))
        return {
            "quality_score": result["quality"]["score"],
            "column_shapes_score": result["quality"]["column_shapes"],
            "column_pair_trends_score": result["quality"]["column_pair_trends"],
            "msas_score": result["msas_avg"],
            "sequence_length_similarity": result["sequence_length_similarity"],
            "context_constant_share": result["context_constant_share"],
            "index_ordered_share": result["index_ordered_share"],
        }
    report = evaluation.evaluate_quality(real, synthetic, metadata)
    return {"quality_score": report.get_score(), "column_shapes_score": report.column_shapes_score,
            "column_pair_trends_score": report.column_pair_trends_score}


def multi_table_summary(real: dict, synthetic: dict, metadata) -> dict:
    """Group-level scores: multi-table quality, cardinality, intertable trends, referential integrity."""
    from synth_assets import evaluation

    metadata_dict = metadata.to_dict() if hasattr(metadata, "to_dict") else metadata
    report = evaluation.evaluate_multi_table_quality(real, synthetic, metadata_dict)
    summary = {
        "multi_table_quality_score": report.get_score(),
        "cardinality_score": report.properties.get("Cardinality"),
        "intertable_trends_score": report.properties.get("Intertable Trends"),
    }
    if metadata_dict.get("relationships"):
        integrity = evaluation.referential_integrity(None, synthetic, metadata_dict)
        summary["referential_integrity"] = float(integrity["Score"].min()) if len(integrity) else None
    return summary
