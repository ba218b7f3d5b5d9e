"""Automation conditions of the factory's assets, by role (labelled, so the UI names them)."""

from __future__ import annotations

from dagster import AssetSelection, AutomationCondition

from synth_assets.dagster._constants import ROLE_TAG
from synth_assets.dagster.specs import AssetSource


def refit_on_code_change() -> AutomationCondition:
    """True once after the asset's code version changes (until it is requested or updated),
    when no dependency is missing or in progress."""
    return (
        AutomationCondition.code_version_changed().since_last_handled()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label('refit when the code version changes')


def eager_on_role(role: str) -> AutomationCondition:
    """``eager()`` restricted to dependencies of one role (by the translator's role tag): a
    synthetic table resamples when its synthesizer updates, not when the real table reloads."""
    updated = AutomationCondition.any_deps_updated().allow(AssetSelection.tag(ROLE_TAG, role))
    return (
        AutomationCondition.in_latest_time_window()
        & (AutomationCondition.newly_missing() | updated).since_last_handled()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label(f'eager on {role} updates')


def automation_condition(spec, role: str, table: str | None = None):
    """The AutomationCondition the factory puts on an asset of ``spec`` (None: no automation).

    * ``'synthesizer'`` (single table) / ``'table_model'`` (one table of a group): refit when the
      code version changes; for a Dagster-asset source also ``AutomationCondition.eager()``
      (refit when the upstream asset updates). File sources are refit by the source sensor.
    * ``'synthesizer'`` of an Independent group: re-assemble when a table model updates or the
      code version changes.
    * ``'synthetic'``: resample when the synthesizer updates or the sampling settings' code
      version changes (never because the real table reloaded).
    * ``'real'``: None.
    """
    if role in ('real', 'source'):
        return None
    if role == 'synthetic':
        return (eager_on_role('synthesizer') | refit_on_code_change()).with_label(
            'resample after a refit or a sampling-settings change')
    if role == 'synthesizer' and spec.is_multi_table:
        return (eager_on_role('table_model') | refit_on_code_change()).with_label(
            're-assemble after a table model refit or a code change')
    if role not in ('synthesizer', 'table_model'):
        raise ValueError(f"automation_condition: unknown role {role!r}; use 'real', "
                         "'table_model', 'synthesizer' or 'synthetic'")
    tables = [table] if table else spec.table_names
    if any(isinstance(spec.sources[t], AssetSource) for t in tables):
        return (AutomationCondition.eager() | refit_on_code_change()).with_label(
            'refit when the upstream asset updates or the code changes')
    return refit_on_code_change()
