"""The asset factory: real tables -> fitted synthesizers -> synthetic tables.

    defs = build_synthetic_assets([SynthesizerSpec(...), ...]).to_definitions()

Per spec:
* ``real/<table>`` loader assets for FileSources (AssetSources are the user's own assets);
* GaussianCopula / PAR: one ``synthesizer/<name>`` fit asset;
  IndependentSynthesizer: one ``synthesizer/<name>/<table>`` fit asset per table (separate ops, so
  multiprocess / k8s executors run them in parallel) and a cheap ``synthesizer/<name>`` assemble
  asset that learns cardinality from the key columns and returns one IndependentSynthesizer;
* ``synthetic/<table>`` assets (one multi-asset step for a group, so foreign keys match) that load
  the stored synthesizer and sample (never refit), configured per run by ``SampleConfig``.

Synthesizer code (torch, copulas, evaluation, matplotlib) is imported inside the asset bodies.
(No `from __future__ import annotations` here: Dagster reads the `context` / `config`
annotations of the asset functions at definition time.)
"""

import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Optional

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    Config,
    DailyPartitionsDefinition,
    Definitions,
    Failure,
    Output,
    asset,
    check_dagster_type,
    multi_asset,
)
from pydantic import Field

from synth_assets.dagster.gpu import GPU_POOL, GpuConfig
from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager
from synth_assets.dagster.specs import AssetSource, FileSource, SynthesizerSpec
from synth_assets.dagster.translator import SyntheticAssetProps, SyntheticAssetTranslator
from synth_assets.dagster.types import table_dagster_type

PARQUET_IO_MANAGER_KEY = "synthetic_parquet_io_manager"
MODEL_IO_MANAGER_KEY = "synthesizer_io_manager"
SEED_TAG = "synth_assets/seed"  # a run-level sampling seed (synth_assets.dagster.automation sets it)


class SampleConfig(Config):
    """Run config of a synthetic table asset; unset values fall back to the spec's SampleSpec,
    then to the real data's size. Only the size that fits the synthesizer may be set."""

    num_rows: Optional[int] = Field(default=None, description="Rows to sample (GaussianCopulaSynthesizer).")
    num_sequences: Optional[int] = Field(default=None, description="Sequences to sample (PARSynthesizer).")
    sequence_length: Optional[int] = Field(default=None, description="Fixed length per sequence (PARSynthesizer).")
    scale: Optional[float] = Field(default=None, description="Size relative to the real tables (IndependentSynthesizer).")
    seed: Optional[int] = Field(default=None, description="Sampling seed; partitions derive theirs from it and the key.")


_SIZE_FIELDS = {
    "GaussianCopulaSynthesizer": ("num_rows",),
    "PARSynthesizer": ("num_sequences", "sequence_length"),
    "IndependentSynthesizer": ("scale",),
}


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
    allowed = _SIZE_FIELDS[spec.synthesizer]
    for name in ("num_rows", "num_sequences", "sequence_length", "scale"):
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
    if spec.synthesizer == "GaussianCopulaSynthesizer":
        from synth_assets.single_table import GaussianCopulaSynthesizer

        return GaussianCopulaSynthesizer(spec.metadata, **spec.parameters)
    if spec.synthesizer == "PARSynthesizer":
        from synth_assets.sequential.par import PARSynthesizer

        return PARSynthesizer(spec.metadata, **spec.parameters)
    from synth_assets.multi_table import IndependentSynthesizer

    synthesizer = IndependentSynthesizer(spec.metadata, **spec.parameters)
    for table, entry in spec.table_parameters.items():
        synthesizer.set_table_parameters(table, entry["table_synthesizer"], entry["table_parameters"])
    return synthesizer


class _RunLogProgress:
    """Stands in for tqdm during a fit: logs epoch, loss and ETA to the Dagster run log about
    ten times per fit instead of drawing a bar on stderr."""

    def __init__(self, log, iterable=None, desc="fit", total=None, unit="it", **_):
        self.log, self.iterable, self.desc, self.unit = log, iterable, desc, unit
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.n = 0
        self.started = time.perf_counter()
        self.every = max(1, (self.total or 10) // 10)

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.n += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n=1):
        self.n += n
        self._maybe_log(self.n, "")

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        values = dict(ordered_dict or {}, **kwargs)
        self._maybe_log(self.n + 1, ", ".join(f"{k} {v}" for k, v in values.items()))

    def set_postfix_str(self, s="", refresh=True):
        self._maybe_log(self.n + 1, s)

    def _maybe_log(self, done, extra):
        if done % self.every and done != self.total:
            return
        elapsed = time.perf_counter() - self.started
        eta = ""
        if self.total:
            eta = f", ETA {elapsed / done * (self.total - done):.1f} s"
        total = f"/{self.total}" if self.total else ""
        self.log.info(f"{self.desc}: {self.unit} {done}{total}{', ' + extra if extra else ''} ({elapsed:.1f} s{eta})")

    def close(self):
        pass

    def refresh(self):
        pass


@contextlib.contextmanager
def run_log_progress(context, synthesizer):
    """Route the synthesizer's tqdm progress (epochs, loss) to the run log while it fits."""
    import tqdm.auto

    had_verbose = hasattr(synthesizer, "verbose")
    previous = getattr(synthesizer, "verbose", None)
    original = tqdm.auto.tqdm
    tqdm.auto.tqdm = lambda *args, **kwargs: _RunLogProgress(context.log, *args, **kwargs)
    if had_verbose:
        synthesizer.verbose = True
    try:
        yield
    finally:
        tqdm.auto.tqdm = original
        if had_verbose:
            synthesizer.verbose = previous


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
    from synth_assets.dagster.checks import holdout_mask

    held_out = holdout_mask(real, spec.metadata.get_table_metadata(table))
    context.log.info(f"Holding out {int(held_out.sum())} of {len(real)} rows of '{table}' for the DCR privacy check.")
    return real[~held_out]


def fit_on_training_rows(context, spec: SynthesizerSpec, table: str, real, fit, what: str, sequences: bool = False):
    """`fit(training rows)`, then keep real PII out of the model's output, store the real table's
    profile for the type check and record fit metadata; returns the fitted model."""
    from synth_assets.dagster.types import profile_sequences, profile_table, store_profiles

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


# -- the result --------------------------------------------------------------------------------
@dataclass
class SyntheticAssets:
    """What the factory built; `to_definitions()` wraps it with default IO managers."""

    specs: list
    assets: list = field(default_factory=list)
    source_assets: list = field(default_factory=list)  # observable file sources (not executable)
    asset_checks: list = field(default_factory=list)
    sensors: list = field(default_factory=list)
    schedules: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    keys: dict = field(default_factory=dict)  # (spec name, role, table or None) -> AssetKey
    io_manager_key: str = PARQUET_IO_MANAGER_KEY
    model_io_manager_key: str = MODEL_IO_MANAGER_KEY
    translator: Optional[SyntheticAssetTranslator] = None

    def asset_key(self, spec_name: str, role: str, table: Optional[str] = None) -> AssetKey:
        return self.keys[(spec_name, role, table)]

    def default_resources(self) -> dict:
        return {self.io_manager_key: SyntheticParquetIOManager(), self.model_io_manager_key: SynthesizerIOManager()}

    def to_definitions(self, resources: Optional[dict] = None, executor=None) -> Definitions:
        return Definitions(
            assets=[*self.assets, *self.source_assets],
            asset_checks=self.asset_checks,
            sensors=self.sensors,
            schedules=self.schedules,
            jobs=self.jobs,
            resources={**self.default_resources(), **(resources or {})},
            executor=executor,
        )


# -- part 2 hooks (checks, automation): optional until they exist --------------------------------
# -- the factory -------------------------------------------------------------------------------
def _asset_kwargs(asset_spec) -> dict:
    kwargs = dict(
        key=asset_spec.key,
        description=asset_spec.description,
        group_name=asset_spec.group_name,
        owners=list(asset_spec.owners) or None,
        tags=dict(asset_spec.tags) or None,
        kinds=set(asset_spec.kinds) or None,
        metadata=dict(asset_spec.metadata) or None,
        code_version=asset_spec.code_version,
    )
    if asset_spec.automation_condition is not None:
        kwargs["automation_condition"] = asset_spec.automation_condition
    return kwargs


def _gpu_kwargs(spec: SynthesizerSpec, table: Optional[str]) -> dict:
    if not spec.uses_gpu(table):
        return {}
    return {"pool": GPU_POOL, "op_tags": (spec.gpu_config or GpuConfig()).op_tags()}


def partitions_def(spec: SynthesizerSpec):
    """The synthetic assets' partitions: daily when the spec asks for them."""
    if spec.sample.partitions == "daily":
        return DailyPartitionsDefinition(start_date=spec.sample.partitions_start_date)
    return None


class _Builder:
    def __init__(self, translator, io_manager_key, model_io_manager_key):
        self.translator = translator
        self.io_manager_key = io_manager_key
        self.model_io_manager_key = model_io_manager_key
        self.keys: dict = {}

    def spec_for(self, role, spec, table=None):
        asset_spec = self.translator.get_asset_spec(SyntheticAssetProps(role=role, spec=spec, table=table))
        self.keys[(spec.name, role, table)] = asset_spec.key
        return asset_spec

    # real tables ------------------------------------------------------------------------------
    def real_assets(self, spec: SynthesizerSpec) -> list[AssetsDefinition]:
        built = []
        for table, source in spec.sources.items():
            if isinstance(source, AssetSource):
                self.keys[(spec.name, "real", table)] = source.asset_key
                continue
            built.append(self._loader(spec, table, source, self.spec_for("real", spec, table)))
        return built

    def _loader(self, spec, table, source: FileSource, asset_spec) -> AssetsDefinition:
        table_metadata = spec.metadata.get_table_metadata(table)

        @asset(
            **_asset_kwargs(asset_spec),
            io_manager_key=self.io_manager_key,
            dagster_type=table_dagster_type(table, table_metadata, role="real"),
        )
        def _load(context: AssetExecutionContext):
            from synth_assets.dagster.ui_metadata import table_entries

            frame = read_source(source, table, table_metadata)
            context.add_output_metadata(table_entries(frame, table_metadata))
            return frame

        return _load

    # single-table synthesizers -----------------------------------------------------------------
    def fit_asset(self, spec: SynthesizerSpec) -> AssetsDefinition:
        table = spec.table_names[0]
        asset_spec = self.spec_for("synthesizer", spec)
        real_key = self.keys[(spec.name, "real", table)]

        @asset(
            **_asset_kwargs(asset_spec),
            ins={"real": AssetIn(key=real_key)},
            io_manager_key=self.model_io_manager_key,
            **_gpu_kwargs(spec, None),
        )
        def _fit(context: AssetExecutionContext, real):
            synthesizer = make_synthesizer(spec)

            def fit(training):
                with run_log_progress(context, synthesizer):
                    synthesizer.fit(training)
                return synthesizer

            fit_on_training_rows(context, spec, table, real, fit, f"{spec.synthesizer} '{spec.name}'", sequences=True)
            return synthesizer

        return _fit

    def sample_asset(self, spec: SynthesizerSpec) -> AssetsDefinition:
        table = spec.table_names[0]
        asset_spec = self.spec_for("synthetic", spec, table)
        synthesizer_key = self.keys[(spec.name, "synthesizer", None)]
        real_key = self.keys[(spec.name, "real", table)]
        table_metadata = spec.metadata.get_table_metadata(table)
        evaluate = spec.sample.evaluate
        ins = {"synthesizer": AssetIn(key=synthesizer_key)}
        if evaluate:
            ins["real"] = AssetIn(key=real_key)

        @asset(
            **_asset_kwargs(asset_spec),
            ins=ins,
            deps=None if evaluate else [real_key],
            io_manager_key=self.io_manager_key,
            dagster_type=table_dagster_type(table, table_metadata, role="synthetic"),
            partitions_def=partitions_def(spec),
        )
        def _sample(context: AssetExecutionContext, config: SampleConfig, synthesizer, **inputs):
            from synth_assets.dagster import ui_metadata
            from synth_assets.dagster.types import attach_profile, stored_profile

            _check_sample_config(spec, config)
            seed = sampling_seed(context, spec, config)
            profile = stored_profile(synthesizer, table) or {}
            synthesizer.set_random_state(seed)
            started = time.perf_counter()
            if spec.synthesizer == "PARSynthesizer":
                count = config.num_sequences or spec.sample.num_sequences or profile.get("num_sequences")
                if count is None:
                    raise ValueError(f"spec '{spec.name}': set num_sequences (run config or SampleSpec).")
                frame = synthesizer.sample(num_sequences=int(count), sequence_length=config.sequence_length)
            else:
                count = config.num_rows or spec.sample.num_rows or profile.get("num_rows")
                if count is None:
                    raise ValueError(f"spec '{spec.name}': set num_rows (run config or SampleSpec).")
                frame = synthesizer.sample(int(count))
            seconds = time.perf_counter() - started
            context.log.info(f"Sampled {len(frame)} rows of '{table}' with seed {seed} in {seconds:.2f} s.")
            metadata = {
                **ui_metadata.table_entries(frame, table_metadata),
                **ui_metadata.sample_entries(seconds, len(frame), seed),
                "synth_assets/preview": ui_metadata.preview_markdown(frame),
                "dagster/column_lineage": asset_spec.metadata["dagster/column_lineage"],
            }
            real = inputs.get("real")
            if real is not None:
                metadata.update(_evaluation_metadata(context, spec, table, real, frame, seed))
            context.add_output_metadata(metadata)
            return attach_profile(frame, profile or None)

        return _sample

    # IndependentSynthesizer group --------------------------------------------------------------
    def table_model_assets(self, spec: SynthesizerSpec) -> list[AssetsDefinition]:
        return [self._table_model(spec, table) for table in spec.table_names]

    def _table_model(self, spec: SynthesizerSpec, table: str) -> AssetsDefinition:
        asset_spec = self.spec_for("table_model", spec, table)
        real_key = self.keys[(spec.name, "real", table)]

        @asset(
            **_asset_kwargs(asset_spec),
            ins={"real": AssetIn(key=real_key)},
            io_manager_key=self.model_io_manager_key,
            **_gpu_kwargs(spec, table),
        )
        def _fit_table(context: AssetExecutionContext, real):
            group = make_synthesizer(spec)
            model = fit_on_training_rows(
                context, spec, table, real, lambda training: group.fit_table(table, training),
                f"the model of table '{table}' ({spec.table_synthesizer(table)})",
            )
            return model

        return _fit_table

    def assemble_asset(self, spec: SynthesizerSpec) -> AssetsDefinition:
        asset_spec = self.spec_for("synthesizer", spec)
        ins = {}
        for table in spec.table_names:
            ins[f"model_{table}"] = AssetIn(key=self.keys[(spec.name, "table_model", table)])
            # Cardinality reads only the key columns; the parquet IO manager loads just those.
            keys = _key_columns(spec, table)
            ins[f"real_{table}"] = AssetIn(key=self.keys[(spec.name, "real", table)], metadata={"columns": keys})

        @asset(**_asset_kwargs(asset_spec), ins=ins, io_manager_key=self.model_io_manager_key)
        def _assemble(context: AssetExecutionContext, **inputs):
            from synth_assets.dagster.types import store_profiles, stored_profile

            group = make_synthesizer(spec)
            started = time.perf_counter()
            real = {t: inputs[f"real_{t}"] for t in spec.table_names}
            models = {t: inputs[f"model_{t}"] for t in spec.table_names}
            cardinality = group.learn_cardinality(real)
            group.assemble(models, cardinality)
            store_profiles(group, {t: stored_profile(models[t], t) for t in spec.table_names if stored_profile(models[t], t)})
            seconds = time.perf_counter() - started
            from dagster import MetadataValue

            metadata = {
                "synth_assets/assemble_seconds": MetadataValue.float(round(seconds, 4)),
                "synth_assets/fit_seconds": MetadataValue.float(round(sum(group.table_fit_seconds.values()), 4)),
                "synth_assets/real_rows": MetadataValue.json({t: int(len(real[t])) for t in spec.table_names}),
            }
            try:
                metadata["synth_assets/cardinality"] = MetadataValue.md(cardinality.describe().to_markdown(index=False))
            except Exception:  # describe() is informative only
                pass
            context.add_output_metadata(metadata)
            return group

        return _assemble

    def group_sample_asset(self, spec: SynthesizerSpec) -> AssetsDefinition:
        synthesizer_key = self.keys[(spec.name, "synthesizer", None)]
        evaluate = spec.sample.evaluate
        outs, specs_by_table = {}, {}
        for table in spec.table_names:
            asset_spec = self.spec_for("synthetic", spec, table)
            specs_by_table[table] = asset_spec
            kwargs = _asset_kwargs(asset_spec)
            outs[table] = AssetOut(
                key=kwargs.pop("key"),
                dagster_type=table_dagster_type(table, spec.metadata.get_table_metadata(table), role="synthetic"),
                io_manager_key=self.io_manager_key,
                **kwargs,
            )
        ins = {"synthesizer": AssetIn(key=synthesizer_key)}
        deps = []
        for table in spec.table_names:
            real_key = self.keys[(spec.name, "real", table)]
            if evaluate:
                ins[f"real_{table}"] = AssetIn(key=real_key)
            else:
                deps.append(real_key)

        @multi_asset(
            name=f"sample_{spec.name}",
            outs=outs,
            ins=ins,
            deps=deps or None,
            partitions_def=partitions_def(spec),
            can_subset=False,
        )
        def _sample_group(context: AssetExecutionContext, config: SampleConfig, synthesizer, **real_inputs):
            from synth_assets.dagster import ui_metadata
            from synth_assets.dagster.types import attach_profile, stored_profile

            _check_sample_config(spec, config)
            seed = sampling_seed(context, spec, config)
            scale = config.scale or spec.sample.scale or 1.0
            synthesizer.set_random_state(seed)
            started = time.perf_counter()
            tables = synthesizer.sample(scale=scale)
            seconds = time.perf_counter() - started
            total = sum(len(f) for f in tables.values())
            context.log.info(f"Sampled {total} rows over {len(tables)} tables (scale {scale}, seed {seed}) in {seconds:.2f} s.")
            real = {t: real_inputs[f"real_{t}"] for t in spec.table_names} if evaluate else None
            group_entries = {}
            if real is not None:
                try:
                    group_entries = ui_metadata.multi_table_entries(real, tables, spec.metadata)
                except Exception as error:  # scores are informative; a failure must not lose the sample
                    context.log.warning(f"Multi-table evaluation failed: {error}")
            # Every table is built and type-checked before the first is written: the tables
            # reference each other, so a failure must leave all the previous ones in place.
            outputs = []
            for table in spec.table_names:
                frame = tables[table]
                table_metadata = spec.metadata.get_table_metadata(table)
                metadata = {
                    **ui_metadata.table_entries(frame, table_metadata),
                    **ui_metadata.sample_entries(seconds, total, seed),
                    "synth_assets/preview": ui_metadata.preview_markdown(frame),
                    "dagster/column_lineage": specs_by_table[table].metadata["dagster/column_lineage"],
                    **group_entries,
                }
                if real is not None:
                    metadata.update(_evaluation_metadata(context, spec, table, real[table], frame, seed))
                value = attach_profile(frame, stored_profile(synthesizer, table))
                check = check_dagster_type(table_dagster_type(table, table_metadata, role="synthetic"), value)
                if not check.success:
                    raise Failure(f"Synthetic table '{table}' fails its type check, so no table of "
                                  f"'{spec.name}' was written: {check.description}")
                outputs.append(Output(value, output_name=table, metadata=metadata))
            yield from outputs

        return _sample_group


def _key_columns(spec: SynthesizerSpec, table: str) -> list[str]:
    table_metadata = spec.metadata.get_table_metadata(table)
    keys = [table_metadata.primary_key] + [r["child_foreign_key"] for r in spec.metadata.get_parents(table)]
    return list(dict.fromkeys(k for k in keys if k))


def _evaluation_metadata(context, spec: SynthesizerSpec, table: str, real, synthetic, seed: int) -> dict:
    """Quality scores and distribution plots; a failure is logged, never fails the sample."""
    from synth_assets.dagster import ui_metadata

    table_metadata = spec.metadata.get_table_metadata(table)
    entries = {}
    sequential = spec.synthesizer == "PARSynthesizer"
    try:
        entries.update(ui_metadata.quality_entries(
            real, synthetic, table_metadata,
            sequential=sequential,
            context_columns=spec.parameters.get("context_columns", []) if sequential else (),
            max_rows=spec.sample.evaluation_rows,
            seed=seed % 1000,
        ))
    except Exception as error:
        context.log.warning(f"Quality evaluation of '{table}' failed: {error}")
    try:
        plots = ui_metadata.distribution_plots_markdown(real, synthetic, table_metadata)
        if plots is not None:
            entries["synth_assets/distributions"] = plots
    except Exception as error:
        context.log.warning(f"Distribution plots of '{table}' failed: {error}")
    return entries


def build_synthetic_assets(
    specs: list,
    translator: Optional[SyntheticAssetTranslator] = None,
    io_manager_key: str = PARQUET_IO_MANAGER_KEY,
    model_io_manager_key: str = MODEL_IO_MANAGER_KEY,
    automation_options: Optional[dict] = None,
) -> SyntheticAssets:
    """Build the assets, asset checks, sensors, schedules and jobs for a list of SynthesizerSpecs
    (or their dicts). `automation_options` go to `automation.build_automation` (cron, names, status)."""
    if isinstance(specs, (SynthesizerSpec, dict)):
        specs = [specs]
    specs = [s if isinstance(s, SynthesizerSpec) else SynthesizerSpec.model_validate(s) for s in specs]
    translator = translator or SyntheticAssetTranslator()
    _check_unique(specs)
    builder = _Builder(translator, io_manager_key, model_io_manager_key)
    result = SyntheticAssets(
        specs=specs, io_manager_key=io_manager_key, model_io_manager_key=model_io_manager_key, translator=translator
    )
    for spec in specs:
        result.assets.extend(builder.real_assets(spec))
        if spec.is_multi_table:
            result.assets.extend(builder.table_model_assets(spec))
            result.assets.append(builder.assemble_asset(spec))
            result.assets.append(builder.group_sample_asset(spec))
        else:
            result.assets.append(builder.fit_asset(spec))
            result.assets.append(builder.sample_asset(spec))
    result.keys = dict(builder.keys)
    _check_unique_keys(result)

    from synth_assets.dagster import automation, checks

    for spec in specs:
        if spec.checks is None:
            continue
        for table in spec.table_names:
            result.asset_checks.extend(checks.build_checks(spec, table, translator=translator))
        if spec.is_multi_table:
            result.asset_checks.extend(checks.build_group_checks(spec, translator=translator))
    sensors, schedules, jobs = automation.build_automation(specs, result, **(automation_options or {}))
    result.source_assets.extend(automation.build_source_assets(specs))
    result.sensors.extend(sensors or [])
    result.schedules.extend(schedules or [])
    result.jobs.extend(jobs or [])
    return result


def _check_unique(specs: list[SynthesizerSpec]) -> None:
    names, tables = {}, {}
    for spec in specs:
        if spec.name in names:
            raise ValueError(f"Two SynthesizerSpecs are named '{spec.name}'; spec names must be unique.")
        names[spec.name] = spec
        for table in spec.table_names:
            if table in tables:
                raise ValueError(
                    f"Table '{table}' appears in specs '{tables[table]}' and '{spec.name}'; its synthetic "
                    "asset key would clash. Rename the table in one metadata, or override the translator."
                )
            tables[table] = spec.name


def _check_unique_keys(result: SyntheticAssets) -> None:
    by_name = {spec.name: spec for spec in result.specs}
    seen = {}
    for (spec_name, role, table), key in result.keys.items():
        if role == "real" and isinstance(by_name[spec_name].sources[table], AssetSource):
            continue  # several specs may read the same upstream asset
        if key in seen:
            raise ValueError(f"Asset key {key.to_user_string()} is produced twice: by {seen[key]} and {(spec_name, role, table)}.")
        seen[key] = (spec_name, role, table)
