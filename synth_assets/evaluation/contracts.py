"""Data contracts: a great-expectations 1.x suite derived from a real table, validated on a
synthetic one.

The contract is plain data (GX expectation class names + kwargs) so it can be derived, stored and
shown without GX; great_expectations is imported only when a contract is validated, and one
ephemeral context (progress bars and analytics off) is shared by the whole process.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Above this many distinct values a categorical column gets no value-set expectation.
DEFAULT_MAX_CATEGORIES = 1000
_DATETIME_UNITS = ('ns', 'us', 'ms', 's')
# Python value types GX's pandas type check understands on object columns.
_OBJECT_TYPE_NAMES = {str: 'str', bool: 'bool', int: 'int', float: 'float', bytes: 'bytes'}
_NON_PII_SDTYPES = frozenset({'numerical', 'categorical', 'boolean', 'datetime', 'id', 'ordinal'})


@dataclass(frozen=True)
class Expectation:
    """One GX expectation: ``type`` is the class name in ``great_expectations.expectations``."""

    type: str
    kwargs: dict

    @property
    def column(self):
        return self.kwargs.get('column')

    def describe(self) -> str:
        shown = {k: _short(v) for k, v in self.kwargs.items()}
        return f"{self.type}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def to_dict(self) -> dict:
        return {'type': self.type, 'kwargs': dict(self.kwargs)}


@dataclass
class DataContract:
    """The expectations a table must meet; derived from the real table by ``derive_contract``."""

    table_name: str
    expectations: list = field(default_factory=list)

    def __len__(self):
        return len(self.expectations)

    def to_dict(self) -> dict:
        return {'table_name': self.table_name,
                'expectations': [e.to_dict() for e in self.expectations]}

    @classmethod
    def from_dict(cls, data: dict) -> 'DataContract':
        if not isinstance(data, dict) or 'expectations' not in data:
            raise ValueError("a contract dict needs 'table_name' and 'expectations'")
        return cls(data.get('table_name', 'table'),
                   [Expectation(e['type'], dict(e['kwargs'])) for e in data['expectations']])

    def to_gx_suite(self):
        """The contract as a ``great_expectations.ExpectationSuite`` (imports GX)."""
        gx, gxe = _gx_modules()
        _batch_definition()  # a suite needs an active context
        suite = gx.ExpectationSuite(name=f'{self.table_name}_contract')
        for expectation in self.expectations:
            cls = getattr(gxe, expectation.type, None)
            if cls is None:
                raise ValueError(f"unknown great-expectations expectation '{expectation.type}'")
            suite.add_expectation(cls(**expectation.kwargs))
        return suite


@dataclass
class ContractResult:
    """Outcome of validating a table against a contract."""

    success: bool
    n_expectations: int
    failures: list  # one dict per failed expectation

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    @property
    def failed_expectations(self) -> list:
        return [f['expectation'] for f in self.failures]

    def to_markdown(self) -> str:
        if not self.failures:
            return f'All {self.n_expectations} expectations met.'
        lines = ['| expectation | column | unexpected | examples / observed |', '|---|---|---|---|']
        for f in self.failures:
            shown = f.get('partial_unexpected_list') or f.get('observed_value') or f.get('error')
            count = '' if f.get('unexpected_count') is None else str(f['unexpected_count'])
            lines.append(f"| {f['expectation']} | {f.get('column') or ''} | {count} | "
                         f"{str(shown).replace('|', '/')[:120]} |")
        return '\n'.join(lines)


# --------------------------------------------------------------------------- derivation
def _short(value, limit=8):
    if isinstance(value, list) and len(value) > limit:
        return value[:limit] + [f'... {len(value) - limit} more']
    return value


def _plain(value):
    """numpy / pandas scalars -> JSON-friendly Python values."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _table_dict(table_metadata):
    if table_metadata is None:
        return None
    if not isinstance(table_metadata, dict):
        if not callable(getattr(table_metadata, 'to_dict', None)):
            raise TypeError('table_metadata must be a TableMetadata, a dict or None, got '
                            f'{type(table_metadata).__name__}')
        table_metadata = table_metadata.to_dict()
    if 'tables' in table_metadata:
        tables = table_metadata['tables']
        if len(tables) != 1:
            raise ValueError('derive_contract needs single-table metadata; got tables '
                             f'{sorted(tables)}')
        table_metadata = next(iter(tables.values()))
    if not isinstance(table_metadata.get('columns'), dict):
        raise ValueError("table_metadata has no 'columns' mapping")
    return table_metadata


def _detected_sdtype(series):
    if pd.api.types.is_bool_dtype(series):
        return 'boolean'
    if pd.api.types.is_numeric_dtype(series):
        return 'numerical'
    if pd.api.types.is_datetime64_any_dtype(series):
        return 'datetime'
    return 'categorical'


def _gx_type_list(series):
    """Type names GX's pandas type check accepts for this column, or None to skip the check."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == 'M':
            return [f'datetime64[{unit}]' for unit in _DATETIME_UNITS]  # parquet may change unit
        if dtype.kind in 'biuf':
            return [dtype.name]
        if dtype.kind == 'O':
            types = {type(v) for v in series.dropna().head(10_000)}
            if types and all(t in _OBJECT_TYPE_NAMES for t in types):
                return sorted(_OBJECT_TYPE_NAMES[t] for t in types)
        return None
    # nullable extension dtypes (Int64, Float64, boolean, python strings) compare by instance;
    # categorical / pyarrow strings / tz datetimes cannot be named to GX, so they are skipped
    name = type(dtype).__name__
    if name == 'StringDtype' and getattr(dtype, 'storage', 'python') != 'python':
        return None
    if isinstance(dtype, (pd.CategoricalDtype, pd.DatetimeTZDtype)):
        return None
    if getattr(pd, name, None) is type(dtype):
        try:
            if type(dtype)() == dtype:
                return [name]
        except TypeError:
            return None
    return None


def _key_columns(table):
    keys = []
    for key in [table.get('primary_key')] + list(table.get('alternate_keys') or []):
        if key:
            keys.append(list(key) if isinstance(key, (list, tuple)) else [key])
    return keys


def derive_contract(real: pd.DataFrame, table_metadata=None, table_name: str = 'table',
                    max_categories: int = DEFAULT_MAX_CATEGORIES) -> DataContract:
    """Derive a contract from the real table.

    * the column set (exact);
    * each column's type, as GX names it (skipped where GX cannot name the dtype);
    * numerical / datetime columns: values within the real [min, max];
    * categorical / boolean columns: values within the real category set (up to
      ``max_categories`` distinct values);
    * columns without nulls in the real data: no nulls;
    * primary / alternate keys: unique (and not null).

    Id and PII columns (generated, never modelled) get only type, nullability and key
    expectations. Without ``table_metadata`` sdtypes are inferred from the dtypes.
    """
    if not isinstance(real, pd.DataFrame):
        raise TypeError(f'real data of table {table_name!r} must be a pandas DataFrame, got '
                        f'{type(real).__name__}')
    if not isinstance(max_categories, int) or max_categories < 1:
        raise ValueError(f'max_categories must be a positive integer, got {max_categories!r}')
    table = _table_dict(table_metadata)
    columns_meta = table['columns'] if table else {c: {'sdtype': _detected_sdtype(real[c])}
                                                   for c in real.columns}
    missing = [c for c in columns_meta if c not in real.columns]
    if missing:
        raise ValueError(f'real data of table {table_name!r} lacks metadata column(s) {missing}')

    expectations = [Expectation('ExpectTableColumnsToMatchSet',
                                {'column_set': [str(c) for c in real.columns],
                                 'exact_match': True})]
    for column in real.columns:
        series = real[column]
        meta = columns_meta.get(column, {'sdtype': _detected_sdtype(series)})
        sdtype = meta.get('sdtype')
        type_list = _gx_type_list(series)
        if type_list:
            expectations.append(Expectation('ExpectColumnValuesToBeInTypeList',
                                            {'column': column, 'type_list': type_list}))
        values = series.dropna()
        generated = sdtype == 'id' or meta.get('pii') is True or sdtype not in _NON_PII_SDTYPES
        if len(values) and not generated:
            if sdtype in ('numerical', 'datetime') and (
                    pd.api.types.is_numeric_dtype(values)
                    or pd.api.types.is_datetime64_any_dtype(values)):
                low, high = _plain(values.min()), _plain(values.max())
                if not (isinstance(low, float) and math.isnan(low)):
                    expectations.append(Expectation(
                        'ExpectColumnValuesToBeBetween',
                        {'column': column, 'min_value': low, 'max_value': high}))
            elif sdtype in ('categorical', 'boolean', 'ordinal'):
                categories = pd.unique(values.astype(object))
                if len(categories) <= max_categories:
                    try:
                        value_set = sorted(_plain(v) for v in categories)
                    except TypeError:  # mixed types: keep first-seen order
                        value_set = [_plain(v) for v in categories]
                    expectations.append(Expectation('ExpectColumnValuesToBeInSet',
                                                    {'column': column, 'value_set': value_set}))
        if len(series) and series.notna().all():
            expectations.append(Expectation('ExpectColumnValuesToNotBeNull', {'column': column}))
    if table:
        for key in _key_columns(table):
            present = [c for c in key if c in real.columns]
            if len(present) != len(key):
                continue
            if len(key) == 1:
                expectations.append(Expectation('ExpectColumnValuesToBeUnique',
                                                {'column': key[0]}))
            else:
                expectations.append(Expectation('ExpectCompoundColumnsToBeUnique',
                                                {'column_list': key}))
    return DataContract(table_name, expectations)


# --------------------------------------------------------------------------- validation
_GX_LOCK = threading.RLock()
_GX_STATE: dict = {}


def _gx_modules():
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _batch_definition():
    """One ephemeral context + pandas dataframe asset for the process (GX setup is not free)."""
    with _GX_LOCK:
        if 'batch_definition' not in _GX_STATE:
            gx, _ = _gx_modules()
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            )
            context = gx.get_context(mode='ephemeral', project_config=config)
            asset = context.data_sources.add_pandas('synth_assets').add_dataframe_asset('table')
            _GX_STATE['context'] = context
            _GX_STATE['batch_definition'] = asset.add_batch_definition_whole_dataframe('whole')
        return _GX_STATE['batch_definition']


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    value = _plain(value)
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _failure(expectation, result):
    info = result.exception_info or {}
    raised = info.get('raised_exception')
    if raised is None and isinstance(info, dict):  # several metrics: {metric_id: info}
        nested = [v for v in info.values() if isinstance(v, dict)]
        raised = any(v.get('raised_exception') for v in nested)
        message = next((v.get('exception_message') for v in nested
                        if v.get('raised_exception')), None)
    else:
        message = info.get('exception_message')
    details = result.result or {}
    return {
        'expectation': expectation.type,
        'column': expectation.column,
        'kwargs': _jsonable({k: _short(v) for k, v in expectation.kwargs.items()}),
        'unexpected_count': _plain(details.get('unexpected_count')),
        'unexpected_percent': _plain(details.get('unexpected_percent')),
        'partial_unexpected_list': _jsonable((details.get('partial_unexpected_list') or [])[:5]),
        'observed_value': _jsonable(details.get('observed_value')),
        **({'details': _jsonable(details['details'])} if details.get('details') else {}),
        **({'error': message} if raised else {}),
    }


def validate_contract(data: pd.DataFrame, contract: DataContract) -> ContractResult:
    """Validate ``data`` against ``contract`` with GX (ephemeral context, no progress bars)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f'data must be a pandas DataFrame, got {type(data).__name__}')
    if isinstance(contract, dict):
        contract = DataContract.from_dict(contract)
    if not isinstance(contract, DataContract):
        raise TypeError(f'contract must be a DataContract, got {type(contract).__name__}')
    if not contract.expectations:
        return ContractResult(True, 0, [])
    suite = contract.to_gx_suite()
    with _GX_LOCK:
        batch = _batch_definition().get_batch(batch_parameters={'dataframe': data})
        validation = batch.validate(suite)
    # GX reorders results; match them back to our expectations by type + kwargs
    failures = []
    for result in validation.results:
        if result.success:
            continue
        config = result.expectation_config
        expectation = next(
            (e for e in contract.expectations
             if _snake(e.type) == config.type
             and all(config.kwargs.get(k, v) == v for k, v in e.kwargs.items())),
            Expectation(config.type, dict(config.kwargs)),
        )
        failures.append(_failure(expectation, result))
    return ContractResult(bool(validation.success), len(contract.expectations), failures)


def _snake(class_name: str) -> str:
    out = []
    for i, ch in enumerate(class_name):
        if ch.isupper() and i:
            out.append('_')
        out.append(ch.lower())
    return ''.join(out)
