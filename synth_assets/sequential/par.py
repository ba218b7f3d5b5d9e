"""PARSynthesizer: multi-sequence data (a sequence key, an optional index, per-entity context).

Per entity, one context row (context columns, sequence length, index start) is modelled by our
GaussianCopulaSynthesizer; the steps (the other columns plus the index gaps) by the torch network
in par_model.py, conditioned on that row. Columns constant within every training sequence are
context even when not listed, so they stay constant in synthetic sequences; PII columns constant
per sequence (a patient's name) are generated once per sequence for the same reason.

`sample_sequential_columns` completes the context it is given by nearest matching on real
sequences (context.py), so lengths, index starts and the other context values follow their real
conditional distributions (values never seen in training are warned about and matched on the
other columns). With `enforce_min_max_values`, the sequence index stays within its
real range (see `_fit_index_in_range`).
"""

from __future__ import annotations

import gc
import time
import warnings

import numpy as np
import pandas as pd

from synth_assets.errors import InvalidDataError, SamplingError, SynthesizerInputError
from synth_assets.metadata import Metadata, MetadataError, TableMetadata
from synth_assets.processing import IdGenerator, TableProcessor
from synth_assets.processing.datetimes import sortable
from synth_assets.progress import check_progress_callback
from synth_assets.single_table.base import (
    BaseSynthesizer,
    CopiesInputWarning,
    check_bool,
    check_finite_float,
    check_learning_rate,
    check_positive_int,
    check_random_state,
    single_table_data,
    warn_if_copies_input,
)
from synth_assets.sequential.context import ContextMatcher
from synth_assets.single_table.gaussian_copula import GaussianCopulaSynthesizer

LENGTH_COLUMN = "__sequence_length"
INDEX_START_COLUMN = "__index_start"
INDEX_GAP_COLUMN = "__index_gap"
_UNSET = object()
# Sequences drawn, decoded and reverse-transformed at a time: sampling's working memory stays
# bounded however many sequences are asked for (only the result grows).
SAMPLE_CHUNK = 10_000


class PARSynthesizer(BaseSynthesizer):
    _parameter_names = (
        "enforce_min_max_values",
        "enforce_rounding",
        "locales",
        "context_columns",
        "segment_size",
        "epochs",
        "sample_size",
        "enable_gpu",
        "verbose",
        "batch_size",
        "learning_rate",
        "validation_split",
        "early_stopping_patience",
        "seed",
    )

    def __init__(
        self,
        metadata,
        enforce_min_max_values=True,
        enforce_rounding=True,
        locales=("en_US",),
        context_columns=None,
        segment_size=None,
        epochs=None,
        sample_size=1,
        cuda=_UNSET,
        enable_gpu=_UNSET,
        verbose=False,
        batch_size=None,
        learning_rate=2e-2,
        validation_split=0.0,
        early_stopping_patience=None,
        seed=None,
    ):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        table = self.table_metadata
        if not table.sequence_key:
            raise MetadataError(
                f"table '{self.table_name}': PARSynthesizer needs a sequence_key in the metadata "
                "(call metadata.set_sequence_key(column)); single-sequence data is not supported."
            )
        if context_columns is None:
            context_columns = []
        if isinstance(context_columns, str) or not isinstance(context_columns, (list, tuple)):
            raise SynthesizerInputError(f"`context_columns` must be a list of column names, got {context_columns!r}.")
        reserved = {table.sequence_key, table.sequence_index}
        for column in context_columns:
            if column not in table.columns:
                raise SynthesizerInputError(f"`context_columns` names '{column}', which is not a column of table '{self.table_name}'.")
            if column in reserved:
                raise SynthesizerInputError(f"`context_columns` cannot include the sequence key or index ('{column}').")
        self.context_columns = list(context_columns)
        if segment_size is not None:
            segment_size = check_positive_int("segment_size", segment_size)
        self.segment_size = segment_size
        # None (default, unlike SDV's 128): the engine picks the length and stops early on a
        # validation split; an explicit number is honoured exactly.
        self.epochs = None if epochs is None else check_positive_int("epochs", epochs)
        self.sample_size = check_positive_int("sample_size", sample_size)
        self.enable_gpu = _gpu_flag(cuda, enable_gpu)
        self.verbose = check_bool("verbose", verbose)
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        self.batch_size = batch_size
        self.learning_rate = check_learning_rate("learning_rate", learning_rate)
        self.validation_split = check_finite_float("validation_split", validation_split, 0.0, 1.0, high_open=True)
        if early_stopping_patience is not None:
            early_stopping_patience = check_positive_int("early_stopping_patience", early_stopping_patience)
            if self.validation_split == 0:
                raise SynthesizerInputError("`early_stopping_patience` needs `validation_split` > 0 to measure a validation loss.")
        self.early_stopping_patience = early_stopping_patience
        self.seed = check_random_state(seed, "seed")
        self.set_random_state(seed)
        self.device = None
        self.fit_seconds = None

    # -- helpers ---------------------------------------------------------------------------------
    def _resolve_device(self) -> str:
        if not self.enable_gpu:
            return "cpu"
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def _validate_sequences(self, data: pd.DataFrame) -> None:
        table, key = self.table_metadata, self.table_metadata.sequence_key
        table.validate_data(data, self.table_name)
        if data[key].isna().any():
            raise InvalidDataError(
                f"table '{self.table_name}', column '{key}': the sequence key has {int(data[key].isna().sum())} "
                "missing values; every row needs its sequence."
            )
        index = table.sequence_index
        if index is not None and data[index].isna().any():
            raise InvalidDataError(f"table '{self.table_name}', column '{index}': the sequence index has missing values.")
        if self.context_columns:
            varying = data.groupby(key, sort=False)[self.context_columns].nunique(dropna=False).gt(1).any()
            bad = list(varying[varying].index)
            if bad:
                raise InvalidDataError(
                    f"table '{self.table_name}': context columns {bad} vary within a sequence; context "
                    "columns must be constant per sequence key. Remove them from context_columns."
                )

    def _constant_columns(self, data: pd.DataFrame, candidates: list[str]) -> list[str]:
        """Columns with one value per sequence (in sequences of 2+ rows), generated ones included."""
        if not candidates:
            return []
        key = self.table_metadata.sequence_key
        counts = data.groupby(key, sort=False)[candidates].nunique(dropna=False)
        lengths = data.groupby(key, sort=False).size()
        if (lengths > 1).sum() == 0:
            return []
        constant = counts[lengths > 1].le(1).all()
        return [c for c in candidates if constant[c]]

    def _index_values(self, values: pd.Series) -> np.ndarray:
        return self._index_processor.transform(values.to_frame())[self.table_metadata.sequence_index].to_numpy()

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, data, progress_callback=None) -> None:
        """Learn from `data` (a DataFrame or {table_name: DataFrame}); refitting starts from scratch.

        `progress_callback` (see `synth_assets.progress`) gets one report per epoch: epoch, loss,
        validation loss (with a validation split) and ETA; `verbose=True` shows the same reports
        as a tqdm bar.
        """
        check_progress_callback(progress_callback)
        data = single_table_data(data, self.table_name)
        self._validate_sequences(data)
        warn_if_copies_input(self.table_name, data[self.table_metadata.sequence_key].nunique(), "sequence")
        started = time.perf_counter()
        table, key, index = self.table_metadata, self.table_metadata.sequence_key, self.table_metadata.sequence_index
        sort_columns = [key] + ([index] if index else [])
        order = data[sort_columns].reset_index(drop=True)
        if index:  # text datetimes sort as dates, not alphabetically
            order[index] = sortable(order[index], table.columns[index])
        data = data.iloc[order.sort_values(sort_columns, kind="stable").index].reset_index(drop=True)
        self._key_generator = IdGenerator(regex_format=table.columns[key].get("regex_format")).fit(data[key])

        others = [c for c in table.columns if c not in (key, index) and c not in self.context_columns]
        # Constant within every sequence -> per-sequence context; PII too, so a patient keeps one name.
        self._context = self.context_columns + self._constant_columns(data, others)
        step_columns = [c for c in others if c not in self._context]
        lengths = np.bincount(pd.factorize(data[key], sort=False)[0]).astype(np.int64)
        first_rows = np.r_[0, np.cumsum(lengths)[:-1]]
        context_frame = data.loc[first_rows, self._context].reset_index(drop=True)
        context_frame[LENGTH_COLUMN] = lengths
        context_meta = {c: table.columns[c] for c in self._context}
        context_meta[LENGTH_COLUMN] = {"sdtype": "numerical", "computer_representation": "Int64"}
        steps = data[step_columns].copy()
        step_meta = {c: table.columns[c] for c in step_columns}
        if index:
            self._fit_index(data, first_rows, (steps, step_meta), (context_frame, context_meta))
        self._fit_context_model(context_frame, context_meta)
        context_features = self._context_features(context_frame, fit=True)

        self._model = self._fit_steps(steps, step_meta, lengths, context_features, progress_callback)
        self._max_length = int(lengths.max())
        self._columns = list(table.columns)
        self._dtypes = data.dtypes.to_dict()
        self.fit_seconds = time.perf_counter() - started
        self.num_training_rows = len(data)
        self._fitted = True
        self.reset_sampling()
        # Fit's lazy imports (torch, rdt) leave ~200k objects the collector has yet to scan in full;
        # that one-off pass (~0.1 s) belongs to fit, not to the first `sample` (issue 13).
        gc.collect()

    def _fit_steps(self, steps, step_meta, lengths, context_features, progress_callback):
        """The per-step network, conditioned on each sequence's context features."""
        from synth_assets.sequential.par_model import fit_par

        self._step_processor = TableProcessor(
            TableMetadata(columns=step_meta),
            self.table_name,
            locales=self.locales,
            enforce_min_max_values=self.enforce_min_max_values,
            enforce_rounding=self.enforce_rounding,
            categorical_encoding="label",
        ).fit(steps)
        encoded_steps = self._step_processor.transform(steps, seed=0)
        train_lengths, train_context = lengths, context_features
        if self.segment_size is not None:
            train_lengths, train_context = _segment(lengths, context_features, self.segment_size)

        self.device = self._resolve_device()
        return fit_par(
            encoded_steps,
            train_lengths,
            self._step_processor.output_columns,
            train_context,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            validation_split=self.validation_split,
            early_stopping_patience=self.early_stopping_patience,
            seed=self.seed,
            device=self.device,
            verbose=self.verbose,
            progress_callback=progress_callback,
        )

    def _fit_index(self, data: pd.DataFrame, first_rows: np.ndarray, step_part, context_part) -> None:
        """Index gaps become a step column and index starts a context column (both numeric)."""
        (steps, step_meta), (context_frame, context_meta) = step_part, context_part
        table, index = self.table_metadata, self.table_metadata.sequence_index
        self._index_processor = TableProcessor(
            table.select_columns([index]), self.table_name, enforce_min_max_values=False, enforce_rounding=self.enforce_rounding
        ).fit(data[[index]])
        index_values = self._index_values(data[index])
        gaps = np.diff(index_values, prepend=np.nan)
        gaps[first_rows] = 0.0
        if (gaps < 0).any():  # cannot happen after sorting unless the index has duplicates handled oddly
            raise InvalidDataError(f"table '{self.table_name}', column '{index}': index values go backwards.")
        steps[INDEX_GAP_COLUMN] = gaps
        step_meta[INDEX_GAP_COLUMN] = {"sdtype": "numerical", "computer_representation": "Float"}
        context_frame[INDEX_START_COLUMN] = index_values[first_rows]
        context_meta[INDEX_START_COLUMN] = {"sdtype": "numerical", "computer_representation": "Float"}
        self._gap_bounds = (float(gaps[gaps > 0].min()) if (gaps > 0).any() else 0.0, float(gaps.max()))
        self._index_range = (float(index_values.min()), float(index_values.max()))
        self._index_labels = (str(data[index].min()), str(data[index].max()))

    def _fit_context_model(self, context_frame: pd.DataFrame, context_meta: dict) -> None:
        """A copula for new contexts (`sample`) and the real contexts, less ids and PII, for matching."""
        self._context_model = GaussianCopulaSynthesizer(
            Metadata.load_from_dict({"columns": context_meta}),
            enforce_min_max_values=True,
            enforce_rounding=self.enforce_rounding,
            locales=self.locales,
        )
        with warnings.catch_warnings():  # one sequence was already reported as such, not as one row
            warnings.simplefilter("ignore", CopiesInputWarning)
            self._context_model.fit(context_frame)
        generated = [c for c in self._context if self.table_metadata.is_generated(c)]
        numeric = [c for c, spec in context_meta.items() if spec["sdtype"] in ("numerical", "datetime")]
        self._matcher = ContextMatcher(context_frame.drop(columns=generated), numeric, context_meta, self.table_name)

    def _context_features(self, context_frame: pd.DataFrame, fit: bool = False, seed=0) -> np.ndarray:
        """Standardized numeric context for the network (log length: lengths are skewed), encoded
        by the context model's own processor."""
        features = self._context_model._processor.transform(context_frame, seed=seed)
        features[LENGTH_COLUMN] = np.log(features[LENGTH_COLUMN].clip(lower=1))
        values = features.to_numpy(dtype=np.float64)
        if fit:
            self._feature_mean = values.mean(axis=0)
            std = values.std(axis=0)
            self._feature_std = np.where(std > 0, std, 1.0)
        return (values - self._feature_mean) / self._feature_std

    def _processors(self) -> list:
        return [self._step_processor, *self._context_model._processors()]

    # -- sample ------------------------------------------------------------------------------------
    def get_loss_values(self) -> pd.DataFrame:
        self._require_fitted()
        history = pd.DataFrame(self._model.loss_history)
        return history.rename(columns={"epoch": "Epoch", "loss": "Loss", "val_loss": "Validation Loss"})

    def sample(self, num_sequences: int, sequence_length: int | None = None) -> pd.DataFrame:
        """`num_sequences` new entities; each with `sequence_length` rows if given, else a learned length."""
        self._require_fitted()
        num_sequences = check_positive_int("num_sequences", num_sequences, allow_zero=True)
        sequence_length = self._check_sequence_length(sequence_length)
        self._context_model.set_random_state(self._next_seed())
        context_frame = self._context_model.sample(num_sequences)
        return self._sample_in_chunks(context_frame, sequence_length, keys=None)

    def sample_sequences(self, num_sequences: int, sequence_length: int | None = None) -> dict:
        """SDV 2.x's name for `sample`; like SDV 2.0 it returns {table_name: sequences}."""
        return {self.table_name: self.sample(num_sequences, sequence_length)}

    def sample_sequential_columns(self, context_columns: pd.DataFrame, sequence_length: int | None = None) -> pd.DataFrame:
        """Sequences for given context values: one row per sequence, any subset of the context columns
        (listed or detected as constant per sequence), optionally the sequence key. What is not given
        (other context values, length, index start) is drawn conditionally on what is."""
        self._require_fitted()
        given = self._check_given_context(context_columns)
        sequence_length = self._check_sequence_length(sequence_length)
        key = self.table_metadata.sequence_key
        keys = given.pop(key) if key in given.columns else None
        matched = given[[c for c in given.columns if c in self._matcher.columns]]
        if sequence_length is not None:
            matched = matched.assign(**{LENGTH_COLUMN: sequence_length})
        if matched.shape[1] == 0:  # nothing to condition on: new contexts, as `sample` draws them
            self._context_model.set_random_state(self._next_seed())
            model_frame = self._context_model.sample(len(given))
        else:
            model_frame, unseen = self._matcher.sample(matched, np.random.default_rng(self._next_seed()))
            self._warn_unseen(unseen)
            generated = self._context_model._processor.generate_columns(len(given), seed=self._next_seed())
            for column in generated.columns:
                model_frame[column] = generated[column].to_numpy()
        shown = model_frame.copy()
        for column in given.columns:
            shown[column] = given[column].to_numpy()
        return self._sample_in_chunks(shown, sequence_length, keys=keys, model_frame=model_frame)

    def _warn_unseen(self, unseen: dict) -> None:
        for column, values in unseen.items():
            warnings.warn(
                f"table '{self.table_name}', column '{column}': context values {', '.join(values)} never occur "
                "in the training data; their sequences are conditioned on the most similar seen contexts "
                "(the given values are kept in the output).",
                UserWarning,
                stacklevel=3,
            )

    def _sample_in_chunks(self, context_frame: pd.DataFrame, sequence_length, keys, model_frame=None) -> pd.DataFrame:
        total = len(context_frame)
        if total <= SAMPLE_CHUNK:
            return self._sample_from_context(context_frame, sequence_length, keys=keys, model_frame=model_frame)
        if keys is None:  # drawn at once so keys stay unique across chunks
            keys = self._key_generator.generate(total, seed=self._next_seed())
        keys = np.asarray(keys, dtype=object)

        def rows(frame, start):
            return None if frame is None else frame.iloc[start : start + SAMPLE_CHUNK].reset_index(drop=True)

        pieces = [
            self._sample_from_context(
                rows(context_frame, start), sequence_length, keys=keys[start : start + SAMPLE_CHUNK],
                model_frame=rows(model_frame, start),
            )
            for start in range(0, total, SAMPLE_CHUNK)
        ]
        return pd.concat(pieces, ignore_index=True)

    def _check_given_context(self, context_columns) -> pd.DataFrame:
        if not isinstance(context_columns, pd.DataFrame):
            raise SynthesizerInputError(
                f"`context_columns` must be a DataFrame with one row per sequence, got {type(context_columns).__name__}."
            )
        allowed = set(self._context) | {self.table_metadata.sequence_key}
        unknown = [c for c in context_columns.columns if c not in allowed]
        if unknown:
            raise SynthesizerInputError(
                f"table '{self.table_name}': columns {unknown} in `context_columns` are not context columns; "
                f"the context columns are {self._context} (listed, or constant within every sequence). "
                "The other columns vary per step and are generated."
            )
        return context_columns.reset_index(drop=True).copy()

    def _check_sequence_length(self, sequence_length):
        if sequence_length is None:
            return None
        sequence_length = check_positive_int("sequence_length", sequence_length)
        most = self._most_steps()
        if most is not None and sequence_length > most:
            index = self.table_metadata.sequence_index
            low, high = self._index_labels
            raise SamplingError(
                f"table '{self.table_name}', column '{index}': sequence_length={sequence_length} cannot fit in the "
                f"real index range [{low}, {high}] with the smallest real step; at most {most} steps fit. Pass "
                f"sequence_length <= {most}, or enforce_min_max_values=False to let the index leave the real range."
            )
        return sequence_length

    def _most_steps(self) -> int | None:
        """The longest sequence whose index fits in the real range (None: no limit)."""
        if not (self.table_metadata.sequence_index and self.enforce_min_max_values) or self._gap_bounds[0] <= 0:
            return None
        low, high = self._index_range
        return int(np.floor((high - low) / self._gap_bounds[0] + 1e-9)) + 1

    def _sample_from_context(self, context_frame: pd.DataFrame, sequence_length, keys, model_frame=None) -> pd.DataFrame:
        """Sequences for context rows: `context_frame` is shown in the output, `model_frame` (default:
        the same) conditions the network, the lengths and the index starts."""
        key, index = self.table_metadata.sequence_key, self.table_metadata.sequence_index
        model_frame = context_frame if model_frame is None else model_frame
        num_sequences = len(context_frame)
        if num_sequences == 0:
            return pd.DataFrame({c: pd.Series(dtype=self._dtypes[c]) for c in self._columns})
        if sequence_length is not None:
            lengths = np.full(num_sequences, sequence_length, dtype=np.int64)
        else:
            lengths = np.clip(np.round(model_frame[LENGTH_COLUMN].to_numpy(dtype=float)), 1, None).astype(np.int64)
        features = self._context_features(model_frame.assign(**{LENGTH_COLUMN: lengths}), seed=self._next_seed())
        encoded = self._model.sample(
            features, lengths, seed=self._next_seed(), sample_size=self.sample_size, device=self.device or "cpu"
        )
        encoded = encoded.reset_index(drop=True)
        steps = self._step_processor.reverse_transform(encoded, seed=self._next_seed())
        repeat = np.repeat(np.arange(num_sequences), lengths)
        out = {}
        if keys is None:
            keys = self._key_generator.generate(num_sequences, seed=self._next_seed())
        out[key] = pd.Series(np.asarray(keys, dtype=object)[repeat]).astype(self._dtypes[key], errors="ignore")
        if index:
            gaps = steps.pop(INDEX_GAP_COLUMN).to_numpy(dtype=float)
            starts = model_frame[INDEX_START_COLUMN].to_numpy(dtype=float)
            out[index] = self._sample_index(gaps, lengths, starts)
        for column in self._context:
            out[column] = context_frame[column].to_numpy()[repeat]
        for column in steps.columns:
            out[column] = steps[column].to_numpy()
        result = pd.DataFrame({c: out[c] for c in self._columns})
        for column in self._context:
            try:
                result[column] = result[column].astype(self._dtypes[column])
            except (TypeError, ValueError):
                pass
        return result

    def _sample_index(self, gaps: np.ndarray, lengths: np.ndarray, starts: np.ndarray) -> pd.Series:
        """Index values from sampled gaps (within the real gaps' range) and starts."""
        index = self.table_metadata.sequence_index
        low, high = self._gap_bounds
        gaps = np.clip(gaps, low, high)
        first = np.r_[0, np.cumsum(lengths)[:-1]]
        gaps[first] = 0.0
        if self.enforce_min_max_values:
            gaps, starts = self._fit_index_in_range(gaps, lengths, first, starts)
        cumulative = np.cumsum(gaps)
        values = np.repeat(starts, lengths) + cumulative - np.repeat(cumulative[first], lengths)
        if self.enforce_min_max_values:
            values = np.clip(values, *self._index_range)
        return self._index_processor.reverse_transform(pd.DataFrame({index: values}))[index]

    def _fit_index_in_range(self, gaps, lengths, first, starts):
        """Keep every sequence inside the real index range [lo, hi]: a sequence spanning more than
        hi - lo has its gaps' excess over the smallest real gap shrunk to fit (regular gaps, as in
        yearly data, are never changed: a length they cannot fit is refused before sampling); then a
        start too late for the span moves down to hi - span."""
        lo, hi = self._index_range
        smallest = self._gap_bounds[0]
        owner = np.repeat(np.arange(len(lengths)), lengths)
        later = np.ones(len(gaps), dtype=bool)
        later[first] = False
        span = np.bincount(owner, weights=gaps, minlength=len(lengths))
        floor = (lengths - 1) * smallest
        excess = span - floor
        scale = np.where(span > hi - lo, np.maximum(hi - lo - floor, 0.0) / np.where(excess > 0, excess, 1.0), 1.0)
        gaps = np.where(later, smallest + (gaps - smallest) * scale[owner], 0.0)
        span = np.bincount(owner, weights=gaps, minlength=len(lengths))
        return gaps, np.clip(starts, lo, np.maximum(hi - span, lo))


def _gpu_flag(cuda, enable_gpu) -> bool:
    """`cuda` is the seed page's deprecated name of `enable_gpu`; the two disagreeing is an error."""
    if cuda is _UNSET:
        return check_bool("enable_gpu", True if enable_gpu is _UNSET else enable_gpu)
    warnings.warn("`cuda` is deprecated; use `enable_gpu`.", FutureWarning, stacklevel=3)
    cuda = check_bool("cuda", cuda)
    if enable_gpu is not _UNSET and check_bool("enable_gpu", enable_gpu) != cuda:
        raise SynthesizerInputError(
            f"`cuda={cuda}` contradicts `enable_gpu={enable_gpu}`: `cuda` is the deprecated name of `enable_gpu`; "
            "pass only `enable_gpu`."
        )
    return cuda


def _segment(lengths: np.ndarray, context: np.ndarray, segment_size: int):
    """Cut each sequence into pieces of at most `segment_size` steps, each with its entity's context."""
    pieces = -(-lengths // segment_size)
    owner = np.repeat(np.arange(len(lengths)), pieces)
    piece_lengths = np.full(pieces.sum(), segment_size, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    piece_lengths[last] = lengths - (pieces - 1) * segment_size
    return piece_lengths, context[owner]
