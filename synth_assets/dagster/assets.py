"""The asset factory: real tables -> fitted synthesizers -> checked synthetic tables.

    defs = build_synthetic_assets([SynthesizerSpec(...), ...]).to_definitions()

The translator's ``get_asset_spec`` decides every key and attribute (deps, partitions, kinds...);
the factory passes those AssetSpecs whole to ``multi_asset(specs=...)`` (as dagster-sling does)
and only adds the IO manager and the step body (``synth_assets.dagster.steps``). Per spec:

* ``real/real_<table>`` loader assets for FileSources (AssetSources are the user's own assets);
* GaussianCopula / PAR: one ``synthesizer/<name>`` fit asset;
  IndependentSynthesizer: one ``synthesizer/<name>/model_<table>`` fit asset per table (separate ops, so
  multiprocess / k8s executors run them in parallel; each validates the group's keys before it
  fits, so no model is written for a group that cannot assemble) and a cheap ``synthesizer/<name>``
  assemble asset that learns cardinality and returns one IndependentSynthesizer;
* ``synthetic/synthetic_<table>`` assets (one step for a group, so foreign keys match) that sample the stored
  synthesizer and evaluate the table's checks on the sample before anything is written.

(No `from __future__ import annotations` here: Dagster reads the `context` / `config`
annotations of the step functions at definition time.)
"""

import json
import time
from dataclasses import dataclass, field
from typing import Optional

from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    Definitions,
    MetadataValue,
    multi_asset,
)

from synth_assets.dagster import steps
from synth_assets.dagster.checks import check_specs
from synth_assets.dagster.gpu import GPU_POOL, GpuConfig
from synth_assets.dagster.io_managers import COLUMNS_TAG_PREFIX, SynthesizerIOManager, SyntheticParquetIOManager
from synth_assets.dagster.specs import AssetSource, FileSource, SynthesizerSpec
from synth_assets.dagster._constants import MODEL_IO_MANAGER_KEY, PARQUET_IO_MANAGER_KEY
from synth_assets.dagster.steps import SampleConfig
from synth_assets.dagster.translator import SyntheticAssetProps, SyntheticAssetTranslator


@dataclass
class SyntheticAssets:
    """What the factory built; `to_definitions()` wraps it with default IO managers."""

    specs: list
    assets: list = field(default_factory=list)
    source_assets: list = field(default_factory=list)  # observable file sources (not executable)
    asset_checks: list = field(default_factory=list)  # extra checks of yours; ours run in the sampling steps
    sensors: list = field(default_factory=list)
    schedules: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    keys: dict = field(default_factory=dict)  # (spec name, role, table or None) -> AssetKey, as built
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


def _gpu_kwargs(spec: SynthesizerSpec, table: Optional[str]) -> dict:
    if not spec.uses_gpu(table):
        return {}
    return {"pool": GPU_POOL, "op_tags": (spec.gpu_config or GpuConfig()).op_tags()}


class _Builder:
    """Builds one spec's assets from the translator's AssetSpecs, recording each key."""

    def __init__(self, translator, io_manager_key, model_io_manager_key):
        self.translator = translator
        self.io_manager_key = io_manager_key
        self.model_io_manager_key = model_io_manager_key
        self.keys: dict = {}

    def spec_for(self, role, spec, table=None, io_manager_key=None):
        asset_spec = self.translator.get_asset_spec(SyntheticAssetProps(role=role, spec=spec, table=table))
        self.keys[(spec.name, role, table)] = asset_spec.key
        if io_manager_key and "dagster/io_manager_key" not in asset_spec.metadata:
            asset_spec = asset_spec.with_io_manager_key(io_manager_key)
        return asset_spec

    def key(self, spec, role, table=None) -> AssetKey:
        if (spec.name, role, table) not in self.keys:
            self.spec_for(role, spec, table)
        return self.keys[(spec.name, role, table)]

    def build(self, spec: SynthesizerSpec) -> list[AssetsDefinition]:
        for table, source in spec.sources.items():
            if isinstance(source, AssetSource):
                self.keys[(spec.name, "real", table)] = source.asset_key
            else:
                self.spec_for("source", spec, table)  # the observable file (automation builds it)
        built = [self.loader(spec, t) for t, s in spec.sources.items() if isinstance(s, FileSource)]
        if spec.is_multi_table:
            built += [self.table_model(spec, t) for t in spec.table_names]
            built.append(self.assemble(spec))
        else:
            built.append(self.fit(spec))
        built.append(self.sample(spec))
        return built

    # real tables ------------------------------------------------------------------------------
    def loader(self, spec, table: str) -> AssetsDefinition:
        asset_spec = self.spec_for("real", spec, table, self.io_manager_key)
        source, table_metadata = spec.sources[table], spec.metadata.get_table_metadata(table)

        @multi_asset(specs=[asset_spec], name=asset_spec.key.to_python_identifier())
        def _load(context: AssetExecutionContext):
            from synth_assets.dagster.ui_metadata import table_entries

            frame = steps.read_source(source, table, table_metadata)
            steps.check_real(table, table_metadata, frame)
            context.add_output_metadata(table_entries(frame, table_metadata))
            return frame

        return _load

    # single-table synthesizers -----------------------------------------------------------------
    def fit(self, spec: SynthesizerSpec) -> AssetsDefinition:
        table = spec.table_names[0]
        asset_spec = self.spec_for("synthesizer", spec, None, self.model_io_manager_key)

        @multi_asset(specs=[asset_spec], name=asset_spec.key.to_python_identifier(),
                     ins={"real": AssetIn(key=self.key(spec, "real", table))}, **_gpu_kwargs(spec, None))
        def _fit(context: AssetExecutionContext, real):
            synthesizer = steps.make_synthesizer(spec)

            def fit(training):
                steps.fit_with_progress(context, synthesizer, training, f"{spec.synthesizer} '{spec.name}'")
                return synthesizer

            return steps.fit_on_training_rows(context, spec, table, real, fit,
                                              f"{spec.synthesizer} '{spec.name}'", sequences=True)

        return _fit

    def sample(self, spec: SynthesizerSpec) -> AssetsDefinition:
        """One step samples every table of the spec, checks each in memory, then writes all
        (or, when a blocking check fails, none)."""
        specs = [self.spec_for("synthetic", spec, t, self.io_manager_key).replace_attributes(skippable=True)
                 for t in spec.table_names]
        keys = {t: s.key for t, s in zip(spec.table_names, specs)}
        checks = [c for t in spec.table_names for c in check_specs(spec, t, keys[t])]
        reads_real = spec.sample.evaluate or bool(checks)
        ins = {"synthesizer": AssetIn(key=self.key(spec, "synthesizer"))}
        if reads_real:
            ins.update({f"real_{t}": AssetIn(key=self.key(spec, "real", t)) for t in spec.table_names})

        # Run config addresses this step as `ops: {sample_<spec name>: {config: ...}}`.
        @multi_asset(specs=specs, check_specs=checks or None, ins=ins, can_subset=False, name=f"sample_{spec.name}")
        def _sample(context: AssetExecutionContext, config: SampleConfig, synthesizer, **inputs):
            tables, seconds, seed = steps.sample_tables(context, spec, config, synthesizer)
            real = {t: inputs[f"real_{t}"] for t in spec.table_names} if reads_real else None
            yield from steps.checked_outputs(context, spec, synthesizer, tables, real, (seconds, seed), keys)

        return _sample

    # IndependentSynthesizer group --------------------------------------------------------------
    def table_model(self, spec: SynthesizerSpec, table: str) -> AssetsDefinition:
        asset_spec = self.spec_for("table_model", spec, table, self.model_io_manager_key)
        ins = {"real": AssetIn(key=self.key(spec, "real", table))}
        # Every table's key columns: the group's keys are validated before this model is written.
        others = [t for t in spec.table_names if t != table]
        ins.update({f"keys_{t}": AssetIn(key=self.key(spec, "real", t)) for t in others})
        # A sequential child's PAR reads its parent's whole real table: the sequences' context.
        parent = spec.parent_of_sequences(table)
        gpu = _gpu_kwargs(spec, table)
        op_tags = {**gpu.pop("op_tags", {}),
                   **_columns_tags(spec, {f"keys_{t}": t for t in others if t != parent})}

        @multi_asset(specs=[asset_spec], name=asset_spec.key.to_python_identifier(), ins=ins,
                     op_tags=op_tags, **gpu)
        def _fit_table(context: AssetExecutionContext, real, **keys):
            group = steps.make_synthesizer(spec)
            frames = {t: keys[f"keys_{t}"] for t in others}
            group.learn_cardinality({**{t: f[_key_columns(spec, t)] for t, f in frames.items()},
                                     table: real[_key_columns(spec, table)]})
            parent_data = frames[parent] if parent else None

            def fit(training):  # the parent's full table: no child row loses its parent
                return group.fit_table(table, training, parent_data=parent_data)

            return steps.fit_on_training_rows(
                context, spec, table, real, fit, f"the model of table '{table}' ({spec.table_synthesizer(table)})",
                sequences=parent is not None,
            )

        return _fit_table

    def assemble(self, spec: SynthesizerSpec) -> AssetsDefinition:
        asset_spec = self.spec_for("synthesizer", spec, None, self.model_io_manager_key)
        ins = {}
        for table in spec.table_names:
            ins[f"model_{table}"] = AssetIn(key=self.key(spec, "table_model", table))
            ins[f"real_{table}"] = AssetIn(key=self.key(spec, "real", table))
        op_tags = _columns_tags(spec, {f"real_{t}": t for t in spec.table_names})

        @multi_asset(specs=[asset_spec], name=asset_spec.key.to_python_identifier(), ins=ins, op_tags=op_tags)
        def _assemble(context: AssetExecutionContext, **inputs):
            real = {t: inputs[f"real_{t}"] for t in spec.table_names}
            models = {t: inputs[f"model_{t}"] for t in spec.table_names}
            group, metadata = assemble_group(spec, real, models)
            context.add_output_metadata(metadata)
            return group

        return _assemble


def assemble_group(spec: SynthesizerSpec, real: dict, models: dict):
    """(IndependentSynthesizer, UI metadata) from the per-table models and the key columns."""
    from synth_assets.profiles import store_profiles, stored_profile

    group = steps.make_synthesizer(spec)
    started = time.perf_counter()
    cardinality = group.learn_cardinality(real)
    group.assemble(models, cardinality)
    store_profiles(group, {t: stored_profile(models[t], t) for t in spec.table_names if stored_profile(models[t], t)})
    metadata = {
        "synth_assets/assemble_seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
        "synth_assets/fit_seconds": MetadataValue.float(round(sum(group.table_fit_seconds.values()), 3)),
        "synth_assets/real_rows": MetadataValue.json({t: int(len(real[t])) for t in spec.table_names}),
    }
    try:
        metadata["synth_assets/cardinality"] = MetadataValue.md(cardinality.describe().to_markdown(index=False))
    except Exception:  # describe() is informative only
        pass
    return group, metadata


def _columns_tags(spec: SynthesizerSpec, inputs: dict) -> dict:
    """Op tags that make the parquet IO manager load only the key columns of {input: table}
    (cardinality and key validation read nothing else)."""
    return {COLUMNS_TAG_PREFIX + name: json.dumps(_key_columns(spec, table)) for name, table in inputs.items()}


def _key_columns(spec: SynthesizerSpec, table: str) -> list[str]:
    table_metadata = spec.metadata.get_table_metadata(table)
    keys = [table_metadata.primary_key] + [r["child_foreign_key"] for r in spec.metadata.get_parents(table)]
    return list(dict.fromkeys(k for k in keys if k))


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
        result.assets.extend(builder.build(spec))
    result.keys = dict(builder.keys)
    _check_unique_keys(result)

    from synth_assets.dagster import automation

    sensors, schedules, jobs = automation.build_automation(specs, result, **(automation_options or {}))
    result.source_assets.extend(automation.build_source_assets(specs, result))
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
