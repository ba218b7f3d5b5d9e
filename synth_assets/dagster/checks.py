"""Asset checks of a synthetic table, evaluated in the step that samples it.

The core (``synth_assets.evaluation.checks``) decides which checks a table gets and their
outcomes; this module turns them into ``AssetCheckSpec``s on the synthetic asset and
``AssetCheckResult``s. The sampling step yields the results and writes the table only when every
blocking check passed, so a failing sample never replaces the previous one.
"""

from __future__ import annotations

import math

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from synth_assets.evaluation.checks import (
    CheckInputs,
    CheckSettings,
    TableCheck,
    jsonable,
    plan_table_checks,
)


def table_checks(spec, table: str) -> list[TableCheck]:
    """The core checks of synthetic ``table`` of ``spec`` (none when ``spec.checks`` is None)."""
    if spec.checks is None:
        return []
    if table not in spec.table_names:
        raise ValueError(f"table '{table}' is not in SynthesizerSpec '{spec.name}' "
                         f"(tables: {spec.table_names})")
    checks = spec.checks
    table_metadata = spec.metadata.get_table_metadata(table)
    sequential = spec.table_synthesizer(table) == 'PARSynthesizer' and bool(table_metadata.sequence_key)
    settings = CheckSettings(quality_threshold=checks.quality_threshold,
                             max_dcr_share=checks.max_dcr_share, privacy=checks.privacy,
                             contract=checks.contract)
    context = spec.table_model_parameters(table).get('context_columns') or [] if sequential else []
    return plan_table_checks(table, table_metadata, settings, sequential=sequential,
                             context_columns=context, relationships=spec.metadata.relationships,
                             metadata=spec.metadata)


def check_specs(spec, table: str, asset_key) -> list[AssetCheckSpec]:
    """The AssetCheckSpecs of ``table``'s checks on its synthetic asset ``asset_key``."""
    blocking = bool(spec.checks and spec.checks.blocking)
    return [AssetCheckSpec(check.name, asset=asset_key, description=check.description,
                           blocking=blocking)
            for check in table_checks(spec, table)]


def evaluate_checks(spec, table: str, asset_key, inputs: CheckInputs) -> tuple[list, bool]:
    """(AssetCheckResults, whether the table may be written): False when a blocking check with
    ERROR severity failed."""
    if spec.checks is None:
        return [], True
    severity = AssetCheckSeverity[spec.checks.severity]
    results, writable = [], True
    for check in table_checks(spec, table):
        outcome = check.run(inputs)
        results.append(AssetCheckResult(
            asset_key=asset_key, check_name=check.name, passed=outcome.passed, severity=severity,
            description=outcome.description, metadata=metadata_values(outcome.metadata)))
        if not outcome.passed and spec.checks.blocking and severity == AssetCheckSeverity.ERROR:
            writable = False
    return results, writable


def metadata_values(metadata: dict) -> dict:
    """Check metadata as Dagster values; floats rounded to 3 decimals for the UI."""
    out = {}
    for key, value in metadata.items():
        if isinstance(value, tuple) and len(value) == 2 and value[0] == 'md':
            out[key] = MetadataValue.md(value[1])
        elif isinstance(value, (dict, list)):
            out[key] = MetadataValue.json(round_floats(jsonable(value)))
        elif value is None:
            out[key] = MetadataValue.null()
        else:
            out[key] = round_floats(jsonable(value))
    return out


def round_floats(value, digits: int = 3):
    """Floats rounded to ``digits`` decimals (scores print 0.873, not 0.8731226458310243)."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v, digits) for v in value]
    return value
