"""IndependentSynthesizer: one single-table model per table, plus learned cardinality.

Each table's model learns the table's own columns (primary and foreign keys left out); the
Cardinality object learns how many children each parent has and generates the keys. Sampling
draws the keys first (parents before children), then each table's rows from its model, and puts
the keys in: every foreign key points at a synthetic parent by construction.

Fitting one table never looks at another, so the work splits three ways, and the Dagster layer
can run each piece as its own step:

    synthesizer = IndependentSynthesizer(metadata)                 # + set_table_parameters(...)
    models = {t: synthesizer.fit_table(t, data[t]) for t in data}  # one step per table
    cardinality = synthesizer.learn_cardinality(data)              # key columns are enough
    synthesizer.assemble(models, cardinality)                      # cheap; now fitted

`fit(data)` does the same in one call (tables in a thread pool, with progress per table).
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from importlib import import_module

import numpy as np
import pandas as pd

from synth_assets.metadata import Metadata
from synth_assets.errors import NotFittedError, SynthesizerInputError
from synth_assets.multi_table.cardinality import Cardinality, check_relationships
from synth_assets.multi_table.self_reference import DEPTH_COLUMN, match_by_depth, row_depths, self_relationships
from synth_assets.multi_table import sequential_child
from synth_assets.multi_table.parent_pii import constant_pii_columns, once_per_parent
from synth_assets.multi_table.sequential_child import SEQUENTIAL_SYNTHESIZER, sequence_relationship
from synth_assets.multi_table.sizes import resolve_sizes
from synth_assets.single_table.base import check_bool, check_locales, check_random_state, to_metadata

logger = logging.getLogger(__name__)

TABLE_SYNTHESIZERS = {
    "GaussianCopulaSynthesizer": "synth_assets.single_table.gaussian_copula",
    "CTGANSynthesizer": "synth_assets.single_table.ctgan",
    "TVAESynthesizer": "synth_assets.single_table.ctgan",
    "CopulaGANSynthesizer": "synth_assets.single_table.ctgan",
    SEQUENTIAL_SYNTHESIZER: "synth_assets.sequential.par",  # children whose sequence_key is their foreign key
}
DEFAULT_TABLE_SYNTHESIZER = "GaussianCopulaSynthesizer"


def _synthesizer_class(name):
    if name not in TABLE_SYNTHESIZERS:
        raise SynthesizerInputError(f"`table_synthesizer` must be one of {list(TABLE_SYNTHESIZERS)}, got {name!r}.")
    return getattr(import_module(TABLE_SYNTHESIZERS[name]), name)


class KeysOnlyTable:
    """Stand-in model for a table whose every column is a key (e.g. a link table): nothing to learn."""

    def __init__(self, table_name: str):
        self.table_name = table_name
        self._fitted = True

    def set_random_state(self, random_state) -> None:
        pass

    def exclude_real_values(self, data: pd.DataFrame) -> None:
        pass  # keys only: no PII to keep out

    def sample(self, num_rows: int) -> pd.DataFrame:
        return pd.DataFrame(index=pd.RangeIndex(num_rows))


def _check_n_jobs(n_jobs):
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"`n_jobs` must be None, -1 (all cores) or a positive integer, got {n_jobs!r}.")
    return int(n_jobs)


class IndependentSynthesizer:
    """Multi-table synthesizer: per-table models (any single-table synthesizer) + cardinality.

    Args:
        metadata: multi-table Metadata (or an SDV metadata dict / object).
        locales: faker locales for PII columns, passed to every table's synthesizer.
        n_jobs: tables fitted at once in `fit` (a thread pool). None: one per core when there are
            more than 2 cores, else one after the other; -1: one per core; 1: one after the other.
            Neural tables train one at a time (torch already uses every core); copula tables fit
            alongside them. For real parallelism across processes or machines, run `fit_table`
            per table (e.g. one Dagster step each) and `assemble`.
        verbose: show a progress bar over tables while fitting (progress is always logged).
    """

    def __init__(self, metadata, locales=("en_US",), n_jobs=None, verbose=False):
        self.metadata = to_metadata(metadata)
        check_relationships(self.metadata)
        self.locales = check_locales(locales)
        self.n_jobs = _check_n_jobs(n_jobs)
        self.verbose = check_bool("verbose", verbose)
        self._table_parameters = {name: (self._default_synthesizer(name), {}) for name in self.metadata.tables}
        self._table_synthesizers: dict | None = None
        self._cardinality: Cardinality | None = None
        self._fitted = False
        self.fit_seconds = None
        self.table_fit_seconds: dict[str, float] = {}
        self.set_random_state(None)

    # -- parameters ------------------------------------------------------------------------------
    def _require_table(self, table_name):
        if table_name not in self.metadata.tables:
            raise SynthesizerInputError(f"Table '{table_name}' is not in the metadata; known tables: {self.metadata.table_names}.")

    def _default_synthesizer(self, table_name: str) -> str:
        """PAR for a child whose sequence_key is its foreign key (one sequence per parent row)."""
        if sequence_relationship(self.metadata, table_name) is not None:
            return SEQUENTIAL_SYNTHESIZER
        return DEFAULT_TABLE_SYNTHESIZER

    def _is_sequential(self, table_name: str) -> bool:
        return self._table_parameters[table_name][0] == SEQUENTIAL_SYNTHESIZER

    def key_columns(self, table_name: str) -> list[str]:
        """The table's primary and foreign key columns: generated and wired, never modelled."""
        self._require_table(table_name)
        keys = [self.metadata.tables[table_name].primary_key]
        keys += [r["child_foreign_key"] for r in self.metadata.get_parents(table_name)]
        return list(dict.fromkeys(k for k in keys if k))

    def _model_metadata(self, table_name: str) -> Metadata | None:
        """Single-table metadata of what the table's model learns: every column but the keys."""
        if self._is_sequential(table_name):
            parent = sequence_relationship(self.metadata, table_name)["parent_table_name"]
            return sequential_child.sequence_model_metadata(
                self.metadata, table_name, self.key_columns(table_name), self.key_columns(parent)
            )
        table = self.metadata.tables[table_name]
        keys = set(self.key_columns(table_name))
        columns = [c for c in table.columns if c not in keys]
        if self_relationships(self.metadata, table_name):  # columns learn their dependence on depth
            table = table.copy()
            table.columns[DEPTH_COLUMN] = {"sdtype": "numerical", "computer_representation": "Int64"}
            columns.append(DEPTH_COLUMN)
        if not columns:
            return None
        selected = table.select_columns(columns)
        if selected.sequence_key is None:  # the key is a foreign key: rows are modelled independently
            selected.sequence_index = None
        metadata = Metadata()
        metadata.tables[table_name] = selected
        return metadata

    def _model_data(self, table_name: str, data: pd.DataFrame, columns: list) -> pd.DataFrame:
        """The columns the table's model learns; a self-referencing table gains each row's depth."""
        frame = data[[c for c in columns if c != DEPTH_COLUMN]]
        for r in self_relationships(self.metadata, table_name):
            depth = row_depths(data, table_name, r["parent_primary_key"], r["child_foreign_key"])
            frame = frame.assign(**{DEPTH_COLUMN: depth})
        return frame

    def _build_table_synthesizer(self, table_name):
        name, parameters = self._table_parameters[table_name]
        metadata = self._model_metadata(table_name)
        if metadata is None:
            return KeysOnlyTable(table_name)
        if name == SEQUENTIAL_SYNTHESIZER:  # the parent's columns are the sequences' context
            context = sequential_child.context_names(metadata, table_name)
            parameters = {**parameters, "context_columns": context + list(parameters.get("context_columns") or [])}
        return _synthesizer_class(name)(metadata, **{"locales": self.locales, **parameters})

    def set_table_parameters(self, table_name, table_synthesizer=DEFAULT_TABLE_SYNTHESIZER, table_parameters=None) -> None:
        """Choose the single-table synthesizer of `table_name` and its parameters (checked now).

        SDV 2.x's two-argument form `set_table_parameters(table, {params})` keeps the table's
        current synthesizer. Takes effect at the next fit / fit_table.
        """
        self._require_table(table_name)
        if isinstance(table_synthesizer, dict):
            if table_parameters is not None:
                raise SynthesizerInputError(
                    f"table '{table_name}': got two dicts; pass (table_name, table_parameters) or "
                    "(table_name, table_synthesizer, table_parameters)."
                )
            table_synthesizer, table_parameters = self._table_parameters[table_name][0], table_synthesizer
        cls = _synthesizer_class(table_synthesizer)
        if table_synthesizer == SEQUENTIAL_SYNTHESIZER and sequence_relationship(self.metadata, table_name) is None:
            raise SynthesizerInputError(
                f"table '{table_name}': {SEQUENTIAL_SYNTHESIZER} models one sequence per parent row, so the "
                "table's sequence_key must be its foreign key to a parent table (metadata.set_sequence_key)."
            )
        if table_parameters is None:
            table_parameters = {}
        if not isinstance(table_parameters, dict):
            raise SynthesizerInputError(f"table '{table_name}': `table_parameters` must be a dict, got {type(table_parameters).__name__}.")
        accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "metadata")]
        unknown = [p for p in table_parameters if p not in accepted]
        if unknown:
            raise SynthesizerInputError(
                f"table '{table_name}': {table_synthesizer} has no parameter(s) {unknown}; "
                f"its parameters are {accepted}."
            )
        previous = self._table_parameters[table_name]
        self._table_parameters[table_name] = (table_synthesizer, copy.deepcopy(table_parameters))
        try:
            self._build_table_synthesizer(table_name)  # validates the values, naming the parameter
        except (TypeError, ValueError) as error:
            self._table_parameters[table_name] = previous
            raise type(error)(f"table '{table_name}': {error}") from error

    def get_parameters(self) -> dict:
        """The multi-table synthesizer's own parameters (a copy); per table: get_table_parameters."""
        return {"locales": list(self.locales), "n_jobs": self.n_jobs, "verbose": self.verbose}

    def get_table_parameters(self, table_name) -> dict:
        """{'synthesizer_name', 'synthesizer_parameters'} with defaults filled in; a copy."""
        self._require_table(table_name)
        name, parameters = self._table_parameters[table_name]
        template = self._build_table_synthesizer(table_name)
        values = template.get_parameters() if hasattr(template, "get_parameters") else copy.deepcopy(parameters)
        return {"synthesizer_name": name, "synthesizer_parameters": values}

    def get_metadata(self) -> Metadata:
        return self.metadata.copy()

    # -- fitting ---------------------------------------------------------------------------------
    def fit_table(self, table_name: str, data: pd.DataFrame, parent_data: pd.DataFrame | None = None):
        """Fit and return the model of one table (this synthesizer is not changed).

        `data` is the table's full real DataFrame; its keys are checked but not learned. A
        sequential child (PARSynthesizer) also needs `parent_data`, its parent table's DataFrame:
        the parent's columns are the context of its sequences.
        """
        self._require_table(table_name)
        self.metadata.tables[table_name].validate_data(data, table_name)  # raises the same TypeError for a non-DataFrame
        return self._fit_validated_table(table_name, data, parent_data)

    def _fit_validated_table(self, table_name: str, data: pd.DataFrame, parent_data) -> object:
        """`fit_table` for a table already checked against the metadata (by `fit` or `fit_table`)."""
        synthesizer = self._build_table_synthesizer(table_name)
        if isinstance(synthesizer, KeysOnlyTable):
            return synthesizer
        columns = list(synthesizer.metadata.tables[table_name].columns)
        if data.empty:
            raise ValueError(f"The data for table '{table_name}' is empty; fit needs at least one row.")
        if self._is_sequential(table_name):
            relationship = sequence_relationship(self.metadata, table_name)
            synthesizer.fit(sequential_child.training_frame(table_name, data, parent_data, relationship, columns))
        else:
            # the model's columns are a subset of the table's, already checked with the same specs
            synthesizer._fit(self._model_data(table_name, data, columns), validate=False)
            foreign_keys = [r["child_foreign_key"] for r in self.metadata.get_parents(table_name)]
            synthesizer.pii_per_parent = constant_pii_columns(self.metadata.tables[table_name], data, foreign_keys)
        return synthesizer

    def parent_of_sequences(self, table_name: str) -> str | None:
        """The parent table whose DataFrame `fit_table(table_name, ...)` needs, if any."""
        self._require_table(table_name)
        if not self._is_sequential(table_name):
            return None
        return sequence_relationship(self.metadata, table_name)["parent_table_name"]

    def learn_cardinality(self, data: dict) -> Cardinality:
        """Learn row counts, children-per-parent distributions and key shapes from `data`
        ({table: DataFrame}; the key columns are all it reads)."""
        return Cardinality.learn(self.metadata, data)

    def assemble(self, table_synthesizers: dict, cardinality: Cardinality) -> "IndependentSynthesizer":
        """Make this synthesizer fitted from per-table models (from `fit_table`) and a
        `learn_cardinality` result. Everything is checked before anything is kept."""
        if not isinstance(table_synthesizers, dict):
            raise TypeError("`table_synthesizers` must be a {table_name: fitted synthesizer} dict.")
        missing = [t for t in self.metadata.tables if t not in table_synthesizers]
        extra = [t for t in table_synthesizers if t not in self.metadata.tables]
        if missing or extra:
            raise ValueError(f"`table_synthesizers` must cover exactly the metadata's tables: missing {missing}, unknown {extra}.")
        for name, model in table_synthesizers.items():
            expected_name, _ = self._table_parameters[name]
            expected_metadata = self._model_metadata(name)
            if expected_metadata is None:
                if not isinstance(model, KeysOnlyTable):
                    raise ValueError(f"table '{name}': every column is a key, so its model must come from fit_table (a KeysOnlyTable).")
                continue
            if type(model).__name__ != expected_name:
                raise ValueError(f"table '{name}': expected a fitted {expected_name}, got {type(model).__name__}.")
            if not getattr(model, "_fitted", False):
                raise ValueError(f"table '{name}': its {type(model).__name__} is not fitted.")
            if model.metadata != expected_metadata:
                raise ValueError(f"table '{name}': the model was fitted for other columns; refit it with fit_table('{name}', ...).")
        if not isinstance(cardinality, Cardinality):
            raise TypeError(f"`cardinality` must come from learn_cardinality, got {type(cardinality).__name__}.")
        if cardinality.metadata.relationships != self.metadata.relationships or set(cardinality.table_rows) != set(self.metadata.tables):
            raise ValueError("`cardinality` was learned for other metadata (tables or relationships differ).")
        self._table_synthesizers = dict(table_synthesizers)
        self._cardinality = cardinality
        self.table_fit_seconds = {
            name: getattr(model, "fit_seconds", None) or 0.0 for name, model in table_synthesizers.items()
        }
        self._fitted = True
        self.reset_sampling()
        return self

    def _workers(self, num_tables: int) -> int:
        cores = os.cpu_count() or 1
        if self.n_jobs is None:
            # Copula fits are mostly GIL-bound pandas/rdt work: on 2 cores a 2-thread pool fitted
            # Chinook in the same 0.23 s as one thread (7 interleaved runs, idle machine), and
            # anywhere from 45% faster to 70% slower when the machine was busy: stay sequential.
            return 1 if cores <= 2 else max(1, min(cores, num_tables))
        if self.n_jobs == -1:
            return max(1, min(cores, num_tables))
        return max(1, min(self.n_jobs, num_tables))

    def fit(self, data: dict) -> None:
        """Learn every table's model and the cardinality from {table_name: DataFrame}.

        All checks run first; if anything fails, the synthesizer keeps its previous state.
        """
        started = time.perf_counter()
        if not isinstance(data, dict):
            raise TypeError(f"`data` must be a {{table_name: DataFrame}} dict, got {type(data).__name__}.")
        self.metadata.validate_data(data)  # keys and foreign keys included
        cardinality = Cardinality.learn(self.metadata, data, validate=False)
        order = sorted(self.metadata.tables, key=lambda t: -len(data[t]))  # big tables first
        workers = self._workers(len(order))
        models, seconds = {}, {}
        from tqdm.auto import tqdm

        progress = tqdm(total=len(order), desc="Fitting tables", unit="table", disable=not self.verbose)

        def fit_one(name):
            began = time.perf_counter()
            parent = self.parent_of_sequences(name)
            model = self._fit_validated_table(name, data[name], parent_data=data[parent] if parent else None)
            return name, model, time.perf_counter() - began

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth-table") if workers > 1 else None
        try:
            if pool is None:
                results = map(fit_one, order)
            else:  # report each table as soon as it is done
                results = (future.result() for future in as_completed([pool.submit(fit_one, t) for t in order]))
            for name, model, elapsed in results:
                models[name], seconds[name] = model, elapsed
                logger.info("fitted table '%s' (%s, %d rows) in %.2f s [%d/%d]",
                            name, type(model).__name__, len(data[name]), elapsed, len(models), len(order))
                progress.set_postfix_str(f"{name}: {elapsed:.2f} s")
                progress.update(1)
        finally:
            progress.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self.assemble({t: models[t] for t in self.metadata.tables}, cardinality)
        self.table_fit_seconds = {t: seconds[t] for t in self.metadata.tables}
        self.fit_seconds = time.perf_counter() - started

    # -- inspection ------------------------------------------------------------------------------
    def _require_fitted(self):
        if not self._fitted:
            raise NotFittedError("This IndependentSynthesizer has not been fitted; call fit(data) first.")

    def get_table_synthesizer(self, table_name: str):
        """The fitted single-table model of `table_name` (learns every column but the keys)."""
        self._require_fitted()
        self._require_table(table_name)
        return self._table_synthesizers[table_name]

    def get_cardinality(self) -> Cardinality:
        self._require_fitted()
        return self._cardinality

    def _table_method(self, table_name: str, method: str, available_for: str):
        model = self.get_table_synthesizer(table_name)
        if not hasattr(model, method):
            kind = "has only key columns" if isinstance(model, KeysOnlyTable) else f"uses {type(model).__name__}"
            raise ValueError(f"table '{table_name}' {kind}: {method.removeprefix('get_').replace('_', ' ')} exist only for {available_for}.")
        return getattr(model, method)()

    def get_learned_distributions(self, table_name: str) -> dict:
        return self._table_method(
            table_name, "get_learned_distributions", "GaussianCopulaSynthesizer and CopulaGANSynthesizer tables"
        )

    def get_loss_values(self, table_name: str) -> pd.DataFrame:
        return self._table_method(
            table_name, "get_loss_values", "neural models (CTGANSynthesizer, TVAESynthesizer, CopulaGANSynthesizer)"
        )

    # -- sampling --------------------------------------------------------------------------------
    def set_random_state(self, random_state) -> None:
        """Make sampling reproducible: the same seed gives the same tables."""
        self._random_state = check_random_state(random_state)
        self._rng = np.random.default_rng(random_state)

    def reset_sampling(self) -> None:
        self._rng = np.random.default_rng(self._random_state)

    def _next_seed(self) -> int:
        return int(self._rng.integers(2**31))

    def sample(self, scale: float = 1.0, num_rows=None, main_table_name=None) -> dict:
        """{table_name: DataFrame}: tables without parents get round(rows * scale) rows, child
        tables as many as the drawn children per synthetic parent add up to.

        Sizes: `num_rows={'customers': 10_000}` fixes chosen tables without parents (the others
        keep `scale`); SDV 2.x's `num_rows=N, main_table_name='customers'` gives that table N rows
        and scales every other table by N / its real rows."""
        self._require_fitted()
        scale, root_rows = resolve_sizes(self.metadata, self._cardinality.table_rows, scale, num_rows, main_table_name)
        sampler = self._cardinality.key_sampler(scale, seed=self._next_seed(), root_rows=root_rows)
        out = {}
        for name in self._cardinality.sampling_order:
            model = self._table_synthesizers[name]
            model.set_random_state(self._next_seed())
            if self._is_sequential(name):
                out[name] = self._sample_sequences(name, model, out, sampler)
                continue
            table_keys = sampler.table(name)
            rows = model.sample(len(table_keys)).reset_index(drop=True)
            depth = table_keys.pop(DEPTH_COLUMN).to_numpy() if DEPTH_COLUMN in table_keys else None
            if depth is not None and DEPTH_COLUMN in rows:  # self-reference: rows go where their depth fits
                rows = match_by_depth(rows, depth, self._rng)
            frame = pd.concat([rows, table_keys], axis=1)[list(self.metadata.tables[name].columns)]
            out[name] = once_per_parent(frame, getattr(model, "pii_per_parent", {}))
        return {name: out[name] for name in self.metadata.tables}

    def _sample_sequences(self, name: str, model, sampled: dict, sampler) -> pd.DataFrame:
        """A sequential child: one PAR sequence per synthetic parent row (given as context)."""
        relationship = sequence_relationship(self.metadata, name)
        learned = self._cardinality.get_relationship(name, relationship["child_foreign_key"])
        childless = float(learned.count_probabilities[learned.count_values == 0].sum())
        parent = sampled[relationship["parent_table_name"]]
        rows, positions = sequential_child.sample_sequences(model, parent, relationship, childless, self._rng)
        table_keys = sampler.table(name, primary_index=positions)
        table_keys = table_keys.drop(columns=DEPTH_COLUMN, errors="ignore")
        return pd.concat([rows, table_keys], axis=1)[list(self.metadata.tables[name].columns)]

    def sample_scale(self, scale: float = 1.0) -> dict:
        """SDV 2.0's name for `sample(scale)`."""
        return self.sample(scale)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, filepath) -> None:
        from synth_assets.persistence import save_synthesizer

        save_synthesizer(self, filepath)

    @classmethod
    def load(cls, filepath) -> "IndependentSynthesizer":
        from synth_assets.persistence import load_synthesizer

        return load_synthesizer(filepath, expected_type=cls)


__all__ = ["IndependentSynthesizer", "KeysOnlyTable", "TABLE_SYNTHESIZERS"]
