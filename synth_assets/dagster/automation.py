"""Automation: refit when real data changes, resample on a schedule.

* File sources: ``build_source_sensor`` keeps each source file's content fingerprint (SHA-256 of
  the bytes, not the mtime) in its cursor and requests one refit run per spec covering exactly
  the changed tables' ``real -> synthesizer -> synthetic`` assets; a touched but unchanged file
  triggers nothing. ``build_source_assets`` adds an observable source asset per file whose
  DataVersion is that fingerprint, so the UI shows when the file changed.
* Asset sources: ``conditions.automation_condition(spec, role)`` gives the synthesizer
  ``AutomationCondition.eager()`` (refit when the upstream asset updates); every synthesizer also
  refits when its code version (class, parameters, metadata, package) changes.
* ``build_refresh_schedule``: a cron schedule that re-samples the synthetic assets only (never
  refits) with a new seed taken from the tick time (the sampling ops' ``SampleConfig.seed`` run
  config; also shown as run tag ``SEED_TAG``).

``build_automation(specs, synthetic_assets)`` assembles all of it for the factory.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime

from dagster import (
    AssetKey,
    AssetObservation,
    AssetSelection,
    AutomationConditionSensorDefinition,
    BetaWarning,
    DataVersion,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ObserveResult,
    RunRequest,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    observable_source_asset,
)

from synth_assets.dagster._constants import GPU_RUN_TAG, REFIT_TAG, SEED_TAG
from synth_assets.dagster._private import data_version_tag
from synth_assets.dagster.specs import AssetSource, FileSource
from synth_assets.fingerprints import content_fingerprint, fingerprint_file

SOURCE_SENSOR_NAME = 'synthetic_source_sensor'
REFRESH_SCHEDULE_NAME = 'synthetic_refresh_schedule'
REFRESH_JOB_NAME = 'synthetic_refresh_job'
REFIT_JOB_NAME = 'synthetic_refit_job'
AUTOMATION_SENSOR_NAME = 'synthetic_automation_sensor'
DEFAULT_REFRESH_CRON = '0 3 * * *'  # daily, 03:00


# --------------------------------------------------------------------------- keys
def file_sources(specs) -> list:
    """(spec, table, FileSource) for every file-sourced table."""
    return [(spec, table, source) for spec in specs for table, source in spec.sources.items()
            if isinstance(source, FileSource)]


def _key(synthetic_assets, spec, role, table=None) -> AssetKey:
    """A key as the factory built it (its translator decided it); never recomputed here."""
    return synthetic_assets.keys[(spec.name, role, table)]


def _asset_graph(synthetic_assets) -> dict:
    """{key: set(upstream keys)} over the factory's assets."""
    graph = {}
    for assets_def in synthetic_assets.assets:
        for spec in assets_def.specs:
            graph[spec.key] = {dep.asset_key for dep in spec.deps}
    return graph


def _downstream(graph: dict, roots: Iterable[AssetKey]) -> set:
    children: dict = {}
    for key, parents in graph.items():
        for parent in parents:
            children.setdefault(parent, set()).add(key)
    seen, stack = set(), list(roots)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(children.get(key, ()))
    return seen


def refit_selection(spec, tables: Iterable[str], synthetic_assets) -> list:
    """The assets a refit of ``tables`` must materialize: each table's real asset, the models
    fitted on it, and everything downstream of those models (the other tables' models stay:
    they read the changed table's key columns only to validate the group's keys)."""
    tables = list(tables)
    if spec.is_multi_table:
        models = [_key(synthetic_assets, spec, 'table_model', t) for t in tables]
    else:
        models = [_key(synthetic_assets, spec, 'synthesizer')]
    selected = {_key(synthetic_assets, spec, 'real', t) for t in tables}
    selected |= _downstream(_asset_graph(synthetic_assets), models)
    return sorted(selected, key=lambda k: k.to_user_string())


def synthetic_keys(specs, synthetic_assets) -> list:
    """Keys of every synthetic table asset."""
    return [_key(synthetic_assets, spec, 'synthetic', t) for spec in specs for t in spec.table_names]


def _all_factory_keys(synthetic_assets) -> list:
    return sorted(_asset_graph(synthetic_assets), key=lambda k: k.to_user_string())


def _user_asset_keys(specs) -> set:
    """Real tables that are the user's own assets (the factory never materializes them)."""
    return {src.asset_key for spec in specs for src in spec.sources.values() if isinstance(src, AssetSource)}


def _needs_gpu(spec) -> bool:
    uses = getattr(spec, 'uses_gpu', None)
    if uses is None:
        return bool(spec.gpu)
    return any(uses(t) for t in [None, *spec.table_names])


def _gpu_run_tags(spec) -> dict:
    if not _needs_gpu(spec):
        return {}
    from synth_assets.dagster.gpu import GpuConfig

    tags = dict((getattr(spec, 'gpu_config', None) or GpuConfig()).run_tags())
    tags[GPU_RUN_TAG] = 'true'
    return tags


def _json_tags(tags: dict) -> dict:
    return {k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in tags.items()}


# --------------------------------------------------------------------------- source assets
def build_source_assets(specs, synthetic_assets) -> list:
    """One observable source asset per file source, as the translator specifies it (role
    'source', upstream of the real table); its DataVersion is the file's content fingerprint,
    so the UI shows when the file changed."""
    from synth_assets.dagster.translator import SyntheticAssetProps

    out = []
    for spec, table, source in file_sources(specs):
        def observe(context, path=source.path):
            fingerprint = content_fingerprint(path)
            return ObserveResult(data_version=DataVersion(fingerprint),
                                 metadata={'fingerprint': fingerprint})

        asset_spec = synthetic_assets.translator.get_asset_spec(SyntheticAssetProps('source', spec, table))
        observe.__name__ = f'observe_{asset_spec.key.to_python_identifier()}'
        with warnings.catch_warnings():  # observable_source_asset is marked beta
            warnings.simplefilter('ignore', BetaWarning)
            out.append(observable_source_asset(
                key=asset_spec.key, group_name=asset_spec.group_name,
                description=asset_spec.description, metadata=dict(asset_spec.metadata),
                tags=dict(asset_spec.tags), owners=list(asset_spec.owners) or None,
            )(observe))
    return out


# --------------------------------------------------------------------------- sensor
def _scan_sources(entries, cursor: dict, synthetic_assets, initial_refit: bool) -> tuple:
    """(new cursor, {spec name: (spec, {table: version})} to refit, observations, errors)."""
    new_cursor, changed, events, errors = dict(cursor), {}, [], []
    for spec, table, source in entries:
        entry_id = f'{spec.name}/{table}'
        previous = cursor.get(entry_id)
        try:
            current = fingerprint_file(source.path, previous)
        except (OSError, ValueError) as error:  # missing / unreadable: keep the old state
            errors.append(f'{table}: {error}')
            continue
        if previous and previous.get('fingerprint') == current['fingerprint']:
            new_cursor[entry_id] = {**current, 'changes': previous.get('changes', 0)}
            continue
        # Counting changes keeps run keys unique when content returns to an earlier version
        # (A -> B -> A -> B); Dagster launches a run key only once per sensor.
        current = {**current, 'changes': (previous or {}).get('changes', 0) + 1}
        new_cursor[entry_id] = current
        events.append(AssetObservation(
            asset_key=_key(synthetic_assets, spec, 'source', table),
            tags={data_version_tag(): current['fingerprint']},
            metadata={'fingerprint': current['fingerprint']},
        ))
        if previous is not None or initial_refit:
            changed.setdefault(spec.name, (spec, {}))[1][table] = f"{current['fingerprint']}#{current['changes']}"
    return new_cursor, changed, events, errors


def _refit_request(spec, tables: dict, synthetic_assets, gpu_run_tags: bool) -> RunRequest:
    """One refit run of ``tables`` of ``spec``; the run key hashes their versions."""
    run_key = f'{spec.name}:' + hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:16]
    tags = {REFIT_TAG: ','.join(sorted(tables))}
    if gpu_run_tags:
        tags.update(_gpu_run_tags(spec))
    return RunRequest(run_key=run_key, asset_selection=refit_selection(spec, tables, synthetic_assets),
                      tags=_json_tags(tags))


def build_source_sensor(specs, synthetic_assets, *, name: str = SOURCE_SENSOR_NAME,
                        minimum_interval_seconds: int = 60,
                        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
                        initial_refit: bool = False, gpu_run_tags: bool = True) -> SensorDefinition | None:
    """A sensor over every file source (None when there is none).

    Cursor: ``{"<spec>/<table>": {"fingerprint": "sha256:...", "stamp": [size, mtime]}}``.
    The first tick records the fingerprints (and requests a refit only with
    ``initial_refit=True``); later ticks request, per spec, one run of
    ``refit_selection(spec, changed tables)`` with run key ``<spec>:<fingerprints + change
    counts>`` (so a replayed tick never launches twice, yet A -> B -> A -> B refits each time) and record an observation of ``source/<table>`` carrying
    the new data version. GPU specs' runs get the GPU run tags (K8sRunLauncher).
    """
    entries = file_sources(specs)
    if not entries:
        return None
    target = AssetSelection.assets(*_all_factory_keys(synthetic_assets))

    def evaluate(context: SensorEvaluationContext):
        try:
            cursor = json.loads(context.cursor) if context.cursor else {}
        except json.JSONDecodeError:
            cursor = {}
        new_cursor, changed, events, errors = _scan_sources(entries, cursor, synthetic_assets, initial_refit)
        run_requests = [_refit_request(spec, tables, synthetic_assets, gpu_run_tags)
                        for spec, tables in changed.values()]
        for message in errors:
            context.log.warning(f'source not readable, skipped: {message}')
        new_cursor_json = json.dumps(new_cursor, sort_keys=True)
        if not run_requests:
            reason = 'no source file content changed' if not errors else '; '.join(errors)
            return SensorResult(skip_reason=SkipReason(reason), cursor=new_cursor_json,
                                asset_events=events)
        return SensorResult(run_requests=run_requests, cursor=new_cursor_json,
                            asset_events=events)

    return SensorDefinition(
        name=name,
        evaluation_fn=evaluate,
        minimum_interval_seconds=minimum_interval_seconds,
        description='Refits the synthesizers whose source files changed content (SHA-256 '
                    'fingerprints in the cursor; touching a file triggers nothing).',
        target=target,
        default_status=default_status,
    )


# --------------------------------------------------------------------------- sensors
def build_automation_sensors(specs, synthetic_assets, *,
                             default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
                             gpu_run_tags: bool = True,
                             name: str = AUTOMATION_SENSOR_NAME) -> list:
    """Automation-condition sensors for the factory's assets: one for CPU specs and, when some
    spec needs a GPU, one for those with the GPU run tags (runs it launches carry them)."""
    cpu, gpu = [], []
    user_keys = _user_asset_keys(specs)
    for spec in specs:
        keys = [k for k in refit_selection(spec, spec.table_names, synthetic_assets) if k not in user_keys]
        (gpu if _needs_gpu(spec) and gpu_run_tags else cpu).extend(keys)
    out = []
    if cpu:
        out.append(AutomationConditionSensorDefinition(
            name, target=AssetSelection.assets(*dict.fromkeys(cpu)),
            default_status=default_status,
            description='Refits on upstream / code-version changes and resamples after refits.'))
    if gpu:
        tags = _gpu_run_tags(next(s for s in specs if _needs_gpu(s)))
        out.append(AutomationConditionSensorDefinition(
            f'{name}_gpu', target=AssetSelection.assets(*dict.fromkeys(gpu)),
            default_status=default_status, run_tags=tags,
            description='As synthetic_automation_sensor, for GPU synthesizers (runs carry the '
                        'GPU dagster-k8s/config run tags).'))
    return out


# --------------------------------------------------------------------------- schedule
def seed_from_time(moment: datetime) -> int:
    """A sampling seed from a tick time: the same tick always gives the same seed."""
    return int(moment.timestamp()) % (2**31 - 1)


def _seeded_ops(synthetic_assets, keys) -> list:
    """Names of the sampling ops producing ``keys`` whose run config has a ``seed`` field."""
    keys, ops = set(keys), []
    for assets_def in getattr(synthetic_assets, 'assets', None) or []:
        if not keys & set(assets_def.keys) or not assets_def.is_executable:
            continue
        field = assets_def.op.config_field
        fields = getattr(field.config_type, 'fields', {}) if field is not None else {}
        if 'seed' in fields:
            ops.append(assets_def.op.name)
    return sorted(set(ops))


def build_refresh_schedule(specs, synthetic_assets, *,
                           cron_schedule: str = DEFAULT_REFRESH_CRON,
                           execution_timezone: str = 'UTC',
                           name: str = REFRESH_SCHEDULE_NAME, job_name: str = REFRESH_JOB_NAME,
                           default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED):
    """(schedule, job): re-sample every (unpartitioned) synthetic table on ``cron_schedule``
    from the stored synthesizers — no refit — with seed ``seed_from_time(tick)`` as the sampling
    ops' ``seed`` run config (and run tag ``SEED_TAG``). Daily-partitioned specs sample one
    partition per day already and are left out. (None, None) when there is nothing to refresh.
    """
    specs = [s for s in specs if s.sample.partitions is None]
    keys = synthetic_keys(specs, synthetic_assets)
    if not keys:
        return None, None
    job = define_asset_job(job_name, selection=AssetSelection.assets(*keys),
                           description='Re-sample the synthetic tables from the stored '
                                       'synthesizers (no refit).')

    seeded_ops = _seeded_ops(synthetic_assets, keys)

    def execution_fn(context):
        moment = context.scheduled_execution_time
        seed = seed_from_time(moment)
        run_config = {'ops': {op: {'config': {'seed': seed}} for op in seeded_ops}}
        return RunRequest(run_key=f'refresh:{moment.isoformat()}',
                          run_config=run_config if seeded_ops else {},
                          tags={SEED_TAG: str(seed)})

    schedule = ScheduleDefinition(
        name=name, cron_schedule=cron_schedule, job=job, execution_fn=execution_fn,
        execution_timezone=execution_timezone, default_status=default_status,
        description=f'Re-samples the synthetic tables ({cron_schedule}, {execution_timezone}) '
                    'with a new seed from the tick time; never refits.')
    return schedule, job


def build_refit_job(specs, synthetic_assets, *, name: str = REFIT_JOB_NAME,
                    gpu_run_tags: bool = True):
    """A job that reloads every file source, refits every synthesizer and re-samples."""
    user_keys = _user_asset_keys(specs)
    keys = [k for k in _all_factory_keys(synthetic_assets) if k not in user_keys]
    tags = {}
    if gpu_run_tags and any(_needs_gpu(s) for s in specs):
        tags = _json_tags(_gpu_run_tags(next(s for s in specs if _needs_gpu(s))))
    return define_asset_job(name, selection=AssetSelection.assets(*keys), tags=tags or None,
                            description='Reload the real tables, refit the synthesizers and '
                                        're-sample.')


def build_automation(specs: Sequence, synthetic_assets=None, *,
                     refresh_cron: str = DEFAULT_REFRESH_CRON, execution_timezone: str = 'UTC',
                     default_status: str = 'STOPPED', gpu_run_tags: bool = True,
                     name_suffix: str | None = None):
    """(sensors, schedules, jobs) for ``specs``: the file-source sensor, the automation-condition
    sensors, the refresh schedule + job and the refit job. Everything starts STOPPED unless
    ``default_status='RUNNING'``. ``name_suffix`` is appended (``<name>__<suffix>``) to every
    name, for several sets in one code location."""
    specs = list(specs)
    suffix = f'__{name_suffix}' if name_suffix else ''
    running = default_status == 'RUNNING'
    if default_status not in ('RUNNING', 'STOPPED'):
        raise ValueError(f"default_status must be 'RUNNING' or 'STOPPED', got {default_status!r}")
    sensor_status = DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED
    schedule_status = DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    sensors, schedules, jobs = [], [], []
    source_sensor = build_source_sensor(specs, synthetic_assets, default_status=sensor_status,
                                        gpu_run_tags=gpu_run_tags,
                                        name=SOURCE_SENSOR_NAME + suffix)
    if source_sensor is not None:
        sensors.append(source_sensor)
    sensors += build_automation_sensors(specs, synthetic_assets, default_status=sensor_status,
                                        gpu_run_tags=gpu_run_tags,
                                        name=AUTOMATION_SENSOR_NAME + suffix)
    schedule, refresh_job = build_refresh_schedule(
        specs, synthetic_assets, cron_schedule=refresh_cron,
        execution_timezone=execution_timezone, default_status=schedule_status,
        name=REFRESH_SCHEDULE_NAME + suffix,
        job_name=REFRESH_JOB_NAME + suffix)
    if schedule is not None:
        schedules.append(schedule)
        jobs.append(refresh_job)
    if specs:
        jobs.append(build_refit_job(specs, synthetic_assets, gpu_run_tags=gpu_run_tags,
                                    name=REFIT_JOB_NAME + suffix))
    return sensors, schedules, jobs
