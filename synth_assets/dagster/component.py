"""``SynthesizerComponent``: synthetic twins of a project's tables from a few lines of defs.yaml.

    type: synth_assets.dagster.component.SynthesizerComponent
    attributes:
      name: customers_copula
      synthesizer: GaussianCopulaSynthesizer
      metadata: metadata.json          # SDV metadata JSON (relative to this folder) or inline
      sources:
        customers: data/customers.csv  # a path / fsspec URL, {path: ..., format: ...} or
                                       # {asset_key: raw/customers} for an existing asset
      sample: {num_rows: 1000, seed: 0}

``build_defs`` builds a ``SynthesizerSpec`` (validated: errors name the bad field) and calls the
factory, ``build_synthetic_assets([spec]).to_definitions()``. Scaffold one with
``dg scaffold defs synth_assets.dagster.component.SynthesizerComponent <folder>``.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any, Literal, Optional, Union

from dagster import Definitions
from dagster.components import (
    Component,
    ComponentLoadContext,
    Model,
    Resolvable,
    Scaffolder,
    ScaffoldRequest,
    scaffold_with,
)
from pydantic import BaseModel, Field

from synth_assets.dagster import registry

COMPONENTS_DIR = Path(__file__).parent / 'components'
SCAFFOLD_TEMPLATE = COMPONENTS_DIR / 'scaffold_defs.yaml'
EXAMPLE_DIR = COMPONENTS_DIR / 'example'
_URL_MARKERS = ('://', '::')


class SynthesizerScaffoldParams(BaseModel):
    """``dg scaffold defs ... --json-params '{"table": "orders", "path": "data/orders.csv"}'``"""

    name: str = 'my_synthesizer'
    table: str = 'my_table'
    path: str = 'data/my_table.parquet'
    synthesizer: Literal[registry.SYNTHESIZERS] = 'GaussianCopulaSynthesizer'


class SynthesizerScaffolder(Scaffolder[SynthesizerScaffoldParams]):
    """Writes defs.yaml from the template in synth_assets/dagster/components/."""

    @classmethod
    def get_scaffold_params(cls):
        return SynthesizerScaffoldParams

    def scaffold(self, request: ScaffoldRequest[SynthesizerScaffoldParams]) -> None:
        params = request.params or SynthesizerScaffoldParams()
        text = Template(SCAFFOLD_TEMPLATE.read_text()).substitute(
            type=request.type_name, name=params.name, table=params.table, path=params.path,
            synthesizer=params.synthesizer)
        target = Path(request.target_path)
        target.mkdir(parents=True, exist_ok=True)
        (target / 'defs.yaml').write_text(text)


def _resolve_path(value: str, base: Path) -> str:
    if any(marker in value for marker in _URL_MARKERS) or Path(value).is_absolute():
        return value
    return str((base / value).resolve())


@scaffold_with(SynthesizerScaffolder)
class SynthesizerComponent(Component, Resolvable, Model):
    """Real tables -> a fitted synthesizer -> synthetic tables, with checks and automation.

    Relative paths (metadata, file sources, storage_dir) are resolved against the folder of the
    defs.yaml. Without ``metadata`` it is detected from the file sources when the code location
    loads (fine for small files; save a metadata JSON for anything larger).
    """

    name: str = Field(description='Spec name: the synthesizer asset is synthesizer/<name>.')
    synthesizer: Literal[registry.SYNTHESIZERS] = 'GaussianCopulaSynthesizer'
    sources: dict[str, Union[str, dict[str, Any]]] = Field(
        description='table -> file path / URL, {path, format, read_kwargs, query} or '
                    '{asset_key: "a/b"} for an existing asset.')
    metadata: Optional[Union[str, dict[str, Any]]] = Field(
        default=None, description='SDV metadata: a JSON path or an inline dict; detected if unset.')
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description='Synthesizer parameters.')
    table_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description='IndependentSynthesizer: per-table model settings.')
    sample: dict[str, Any] = Field(default_factory=dict,
                                   description='num_rows / num_sequences / scale, seed, ...')
    checks: Optional[dict[str, Any]] = Field(
        default_factory=dict, description='ChecksSpec fields; null turns the checks off.')
    group_name: Optional[str] = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    description: Optional[str] = None
    gpu: Optional[bool] = None
    storage_dir: Optional[str] = Field(
        default=None, description='Where tables and models are stored (default: instance storage).')
    refresh_cron: Optional[str] = Field(
        default=None, description='Cron of the re-sampling schedule (default daily 03:00 UTC).')
    automation_status: Literal['STOPPED', 'RUNNING'] = Field(
        default='STOPPED', description='Default status of the sensors and schedule.')

    def build_spec(self, base_dir: Path):
        """The validated SynthesizerSpec, paths resolved against ``base_dir``."""
        from synth_assets.dagster.specs import AssetSource, FileSource, SynthesizerSpec

        sources = {}
        for table, source in self.sources.items():
            if isinstance(source, str):
                source = {'path': source}
            if 'asset_key' in source:
                sources[table] = AssetSource(**source)
            else:
                if 'path' not in source:
                    raise ValueError(f"SynthesizerComponent '{self.name}': source of table "
                                     f"'{table}' needs 'path' or 'asset_key'")
                sources[table] = FileSource(**{**source,
                                               'path': _resolve_path(source['path'], base_dir)})
        metadata = self.metadata
        if isinstance(metadata, str):
            metadata = _resolve_path(metadata, base_dir)
        elif metadata is None:
            metadata = _detect_metadata(self.name, sources)
        spec = SynthesizerSpec(
            name=self.name, synthesizer=self.synthesizer, metadata=metadata, sources=sources,
            parameters=self.parameters, table_parameters=self.table_parameters,
            sample=self.sample, checks=self.checks, group_name=self.group_name,
            owners=self.owners, tags=self.tags, description=self.description, gpu=self.gpu)
        spec._defined_at = (str((base_dir / 'defs.yaml').resolve()), 1)  # code references: the YAML
        return spec

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        from synth_assets.dagster.assets import build_synthetic_assets

        base_dir = Path(context.path)
        if base_dir.is_file():
            base_dir = base_dir.parent
        spec = self.build_spec(base_dir)
        from synth_assets.dagster.automation import DEFAULT_REFRESH_CRON

        # Names suffixed with the spec name, so several components can share a project.
        built = build_synthetic_assets([spec], automation_options={
            "refresh_cron": self.refresh_cron or DEFAULT_REFRESH_CRON,
            "default_status": self.automation_status,
            "name_suffix": spec.name,
        })
        storage = _resolve_path(self.storage_dir, base_dir) if self.storage_dir else None
        return built.to_definitions(resources=_shared_io_managers(
            built.io_manager_key, built.model_io_manager_key, storage))


_IO_MANAGERS: dict = {}


def _shared_io_managers(table_key: str, model_key: str, storage: Optional[str]) -> dict:
    """One IO manager object per (key, storage) for the process: the Definitions of several
    components merge only when a resource key maps to the very same object."""
    from synth_assets.dagster.io_managers import SynthesizerIOManager, SyntheticParquetIOManager

    kwargs = {'base_dir': storage} if storage else {}
    for key, cls in ((table_key, SyntheticParquetIOManager), (model_key, SynthesizerIOManager)):
        if (key, storage) not in _IO_MANAGERS:
            _IO_MANAGERS[(key, storage)] = cls(**kwargs)
    return {table_key: _IO_MANAGERS[(table_key, storage)],
            model_key: _IO_MANAGERS[(model_key, storage)]}


def _detect_metadata(name: str, sources: dict) -> dict:
    from synth_assets.dagster.specs import FileSource
    from synth_assets.metadata import Metadata
    from synth_assets.sources import read_table

    frames = {}
    for table, source in sources.items():
        if not isinstance(source, FileSource):
            raise ValueError(f"SynthesizerComponent '{name}': set `metadata` when a table "
                             f"('{table}') comes from an asset")
        frames[table] = read_table(source.path, table, format=source.resolved_format,
                                   read_kwargs=source.read_kwargs)
    return Metadata.detect_from_dataframes(frames).to_dict()

