"""What the factory's steps do: read a source, fit a synthesizer, sample and check a table.

The factory (``synth_assets.dagster.assets``) wires these into assets. Synthesizer code (torch,
copulas, evaluation, matplotlib) is imported inside the functions, when a step runs.
"""

import hashlib
import secrets
import time
from typing import Optional

from dagster import Config, Failure, Output, check_dagster_type
from pydantic import Field

from synth_assets.dagster import registry
from synth_assets.dagster._constants import SEED_TAG
from synth_assets.dagster.specs import FileSource, SynthesizerSpec
from synth_assets.dagster.types import table_dagster_type



class SampleConfig(Config):
    """Run config of a synthetic table asset; unset values fall back to the spec's SampleSpec,
    then to the real data's size. Only the size that fits the synthesizer may be set."""

    num_rows: Optional[int] = Field(default=None, description="Rows to sample (GaussianCopulaSynthesizer).")
    num_sequences: Optional[int] = Field(default=None, description="Sequences to sample (PARSynthesizer).")
    sequence_length: Optional[int] = Field(default=None, description="Fixed length per sequence (PARSynthesizer).")
    scale: Optional[float] = Field(default=None, description="Size relative to the real tables (IndependentSynthesizer).")
    seed: Optional[int] = Field(default=None, description="Sampling seed; partitions derive theirs from it and the key.")



def derive_seed(base: Optional[int], partition_key: Optional[str]) -> int:
    """The sampling seed: `base` as given; per partition, a hash of base and key (stable across
    runs and machines); with neither, a fresh random seed (recorded in the metadata)."""
    if partition_key is None:
        return int(base) if base is not None else secrets.randbelow(2**31)
    digest = hashlib.sha256(f"{0 if base is None else int(base)}:{partition_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def sampling_seed(context, spec: SynthesizerSpec, config: SampleConfig) -> int:
    """Run config seed, else the run's SEED_TAG, else the spec's; partitions derive from it."""
    base = config.seed
    if base is None:
        tag = context.run.tags.get(SEED_TAG) if context.run is not None else None
        if tag is not None:
            try:
                base = int(tag)
            except ValueError:
                raise ValueError(f"Run tag {SEED_TAG}={tag!r} is not an integer seed.") from None
    if base is None:
        base = spec.sample.seed
    partition_key = context.partition_key if context.has_partition_key else None
    return derive_seed(base, partition_key)


def _check_sample_config(spec: SynthesizerSpec, config: SampleConfig) -> None:
    allowed = registry.kind(spec.synthesizer).size_fields
    for name in registry.SIZE_FIELDS:
        value = getattr(config, name)
        if value is None:
            continue
        if name not in allowed:
            raise ValueError(
                f"Run config `{name}` does not apply to {spec.synthesizer} (spec '{spec.name}'); "
                f"use {' / '.join(allowed)}."
            )
        if value <= 0:
            raise ValueError(f"Run config `{name}` must be positive, got {value!r}.")


# -- reading sources ---------------------------------------------------------------------------
def read_source(source: FileSource, table: str, table_metadata):
    """Read a FileSource, apply its query, keep the metadata's columns in metadata order
    (`synth_assets.sources.read_table`: read errors name the file and the table)."""
    from synth_assets.sources import read_table

    return read_table(source.path, table, format=source.resolved_format, read_kwargs=source.read_kwargs,
                      query=source.query, columns=list(table_metadata.columns))


# -- synthesizers ------------------------------------------------------------------------------
def make_synthesizer(spec: SynthesizerSpec):
    """A new, unfitted synthesizer from the spec (imports the synthesizer's module now)."""
    return spec.build_synthesizer()


class RunLogProgress:
    """A progress callback (``synth_assets.progress.ProgressCallback``) that writes epoch, loss
    and ETA to the Dagster run log about ten times per fit."""

    def __init__(self, log, what: str = "fit"):
        self.log, self.what, self.started = log, what, time.perf_counter()

    def __call__(self, total=None, completed=None, advance=None, message=None, **_):
        every = max(1, (total or 10) // 10)
        if completed is None or (completed % every and completed != total):
            return
        elapsed = time.perf_counter() - self.started
        message = dict(message or {})
        eta = message.pop("eta_seconds", None)
        shown = "".join(f", {k} {v:.4g}" if isinstance(v, float) else f", {k} {v}"
                        for k, v in message.items() if k not in ("stage", "epoch"))
        shown += f", ETA {eta:.1f} s" if isinstance(eta, (int, float)) else ""
        of = f"/{total}" if total else ""
        self.log.info(f"{self.what} fit: epoch {completed}{of}{shown} ({elapsed:.1f} s elapsed)")


def fit_with_progress(context, synthesizer, data, what: str):
    """``synthesizer.fit(data)``, passing a run-log progress callback where the fit takes one."""
    import inspect

    if "progress_callback" in inspect.signature(synthesizer.fit).parameters:
        return synthesizer.fit(data, progress_callback=RunLogProgress(context.log, what))
    return synthesizer.fit(data)


def _loss_frame(model):
    if not hasattr(model, "get_loss_values"):
        return None
    try:
        return model.get_loss_values()
    except (ValueError, AttributeError, TypeError):
        return None


def training_rows(context, spec: SynthesizerSpec, table: str, real):
    """The real rows a model learns from: with privacy checks on, a holdout (whole sequences for
    PAR) is kept out so the DCR check can tell memorising from generalising."""
    if spec.checks is None or not spec.checks.privacy:
        return real
    from synth_assets.evaluation.holdout import holdout_mask

    held_out = holdout_mask(real, spec.metadata.get_table_metadata(table))
    context.log.info(f"Holding out {int(held_out.sum())} of {len(real)} rows of '{table}' for the DCR privacy check.")
    return real[~held_out]


def fit_on_training_rows(context, spec: SynthesizerSpec, table: str, real, fit, what: str, sequences: bool = False):
    """`fit(training rows)`, then keep real PII out of the model's output, store the real table's
    profile for the type check and record fit metadata; returns the fitted model."""
    from synth_assets.profiles import profile_sequences, profile_table, store_profiles

    training = training_rows(context, spec, table, real)
    context.log.info(f"Fitting {what} on {len(training)} rows of '{table}'.")
    started = time.perf_counter()
    model = fit(training)
    seconds = time.perf_counter() - started
    model.exclude_real_values(real)
    table_metadata = spec.metadata.get_table_metadata(table)
    profile = profile_table(real, table_metadata, spec.enforces_min_max(table))
    if sequences:
        profile.update(profile_sequences(real, table_metadata))
    store_profiles(model, {table: profile})
    context.add_output_metadata(_fit_metadata(model, seconds, len(training)))
    return model


def _fit_metadata(model, fit_seconds: float, num_rows: int) -> dict:
    from synth_assets.dagster.ui_metadata import fit_entries

    loss = _loss_frame(model)
    epochs = len(loss) if loss is not None and len(loss) else getattr(model, "epochs", None)
    device = getattr(model, "device", None) or "cpu"
    return fit_entries(fit_seconds, num_rows, device=device, epochs=epochs, loss=loss)




# -- sampling ------------------------------------------------------------------------------------
def sample_tables(context, spec: SynthesizerSpec, config: SampleConfig, synthesizer) -> tuple:
    """({table: frame}, seconds, seed): the stored synthesizer's sample, sized by run config, then
    the spec's SampleSpec, then the real data's size."""
    from synth_assets.profiles import stored_profile

    _check_sample_config(spec, config)
    seed = sampling_seed(context, spec, config)
    synthesizer.set_random_state(seed)
    started = time.perf_counter()
    if spec.is_multi_table:
        scale = config.scale or spec.sample.scale or 1.0
        tables = synthesizer.sample(scale=scale)
    else:
        table = spec.table_names[0]
        tables = {table: _sample_one(spec, config, synthesizer, stored_profile(synthesizer, table) or {})}
    seconds = time.perf_counter() - started
    total = sum(len(f) for f in tables.values())
    context.log.info(f"Sampled {total} rows over {len(tables)} table(s) with seed {seed} in {seconds:.2f} s.")
    return tables, seconds, seed


def _sample_one(spec: SynthesizerSpec, config: SampleConfig, synthesizer, profile: dict):
    if spec.synthesizer == "PARSynthesizer":
        count = config.num_sequences or spec.sample.num_sequences or profile.get("num_sequences")
        if count is None:
            raise ValueError(f"spec '{spec.name}': set num_sequences (run config or SampleSpec).")
        return synthesizer.sample(num_sequences=int(count), sequence_length=config.sequence_length)
    count = config.num_rows or spec.sample.num_rows or profile.get("num_rows")
    if count is None:
        raise ValueError(f"spec '{spec.name}': set num_rows (run config or SampleSpec).")
    return synthesizer.sample(int(count))


def type_checked(spec: SynthesizerSpec, table: str, frame, synthesizer):
    """The sample with its real profile attached, after the table's Dagster type check passed
    (a failure names the column and writes nothing)."""
    from synth_assets.profiles import attach_profile, stored_profile

    value = attach_profile(frame, stored_profile(synthesizer, table))
    dagster_type = table_dagster_type(table, spec.metadata.get_table_metadata(table), role="synthetic")
    check = check_dagster_type(dagster_type, value)
    if not check.success:
        raise Failure(f"Synthetic table '{table}' fails its type check, so no table of "
                      f"'{spec.name}' was written: {check.description}")
    return value


def checked_outputs(context, spec, synthesizer, tables, real, sampled: tuple, keys: dict):
    """Yields each table's check results, then (only when every blocking check passed) one Output
    per table, in `spec.table_names` order. `keys`: {table: asset key}; `real`: {table: frame} or
    None; `sampled`: (seconds, seed)."""
    from synth_assets.dagster.checks import evaluate_checks
    from synth_assets.evaluation.checks import CheckInputs

    outputs, failed = [], []
    group = group_metadata(context, spec, tables, real)
    for table in spec.table_names:
        value = type_checked(spec, table, tables[table], synthesizer)
        inputs = CheckInputs(real=(real or {}).get(table), synthetic=tables[table],
                             real_tables=real or {}, synthetic_tables=tables)
        results, ok = evaluate_checks(spec, table, keys[table], inputs)
        yield from results
        failed += [] if ok else [r for r in results if not r.passed]
        metadata = {**sample_metadata(context, spec, table, tables, real, sampled), **group}
        lineage = context.assets_def.specs_by_key[keys[table]].metadata.get("dagster/column_lineage")
        if lineage is not None:  # on the materialization too, where the UI reads it
            metadata["dagster/column_lineage"] = lineage
        output_name = context.assets_def.get_output_name_for_asset_key(keys[table])
        outputs.append(Output(value, output_name=output_name, metadata=metadata))
    if not failed:
        yield from outputs
    else:
        context.log.error(blocked_message(spec, failed))


def blocked_message(spec, failed: list) -> str:
    """Which blocking checks failed, with their numbers, and the settings that decide them."""
    lines = "".join(f"\n- {r.asset_key.to_user_string()}: {r.check_name}: {r.description}" for r in failed)
    return (f"A blocking check failed: no table of '{spec.name}' was written; the previous synthetic "
            f"tables stay as they were.{lines}\nImprove the model (more data, other parameters), or "
            "change the spec's ChecksSpec (quality_threshold, max_dcr_share, privacy, contract), or set "
            "ChecksSpec(severity='WARN') to record failures without blocking the write.")


def group_metadata(context, spec, tables: dict, real) -> dict:
    """Multi-table scores shown on every table of a group (informative: a failure is logged)."""
    from synth_assets.dagster import ui_metadata

    if not spec.is_multi_table or real is None or not spec.sample.evaluate:
        return {}
    try:
        return ui_metadata.multi_table_entries(real, tables, spec.metadata)
    except Exception as error:
        context.log.warning(f"Multi-table evaluation failed: {error}")
        return {}


def sample_metadata(context, spec, table: str, tables: dict, real, sampled: tuple) -> dict:
    """UI metadata of a sampled table: columns, row count, timing, seed, preview, scores, plots."""
    from synth_assets.dagster import ui_metadata

    seconds, seed = sampled
    frame = tables[table]
    table_metadata = spec.metadata.get_table_metadata(table)
    total = sum(len(f) for f in tables.values())
    metadata = {
        **ui_metadata.table_entries(frame, table_metadata),
        **ui_metadata.sample_entries(seconds, total, seed),
        "synth_assets/preview": ui_metadata.preview_markdown(frame),
    }
    if real is not None and spec.sample.evaluate:
        metadata.update(evaluation_metadata(context, spec, table, real[table], frame, seed))
    return metadata


def evaluation_metadata(context, spec: SynthesizerSpec, table: str, real, synthetic, seed: int) -> dict:
    """Quality scores and distribution plots; a failure is logged, never fails the sample."""
    from synth_assets.dagster import ui_metadata

    table_metadata = spec.metadata.get_table_metadata(table)
    sequential = spec.table_synthesizer(table) == "PARSynthesizer" and bool(table_metadata.sequence_key)
    entries = {}
    try:
        entries.update(ui_metadata.quality_entries(
            real, synthetic, table_metadata, sequential=sequential,
            context_columns=spec.table_model_parameters(table).get("context_columns") or [] if sequential else (),
            max_rows=spec.sample.evaluation_rows, seed=seed % 1000))
    except Exception as error:
        context.log.warning(f"Quality evaluation of '{table}' failed: {error}")
    try:
        plots = ui_metadata.distribution_plots_markdown(real, synthetic, table_metadata)
        if plots is not None:
            entries["synth_assets/distributions"] = plots
    except Exception as error:
        context.log.warning(f"Distribution plots of '{table}' failed: {error}")
    return entries


def check_real(table: str, table_metadata, frame) -> None:
    """The real table's Dagster type check, before it is stored (a failure names the column)."""
    check = check_dagster_type(table_dagster_type(table, table_metadata, role="real"), frame)
    if not check.success:
        raise Failure(f"Real table '{table}' does not match its metadata: {check.description}")
