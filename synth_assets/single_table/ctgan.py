"""Neural single-table synthesizers: CTGAN, TVAE and CopulaGAN on the reference `ctgan` library.

Our TableProcessor (label encoding) turns the table into continuous columns plus discrete
category-code columns; the `ctgan` library then applies its own mode-specific normalisation and
one-hot encoding and trains the network. We use the reference implementation rather than our own
torch code so results are comparable with SDV's; `ctgan` and torch are imported inside fit/sample
only. CopulaGAN = CTGAN trained on Gaussian-normalised marginals (rank-based normal scores at fit,
the learned marginal's quantile function at sampling).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from synth_assets.processing import TableProcessor
from synth_assets.single_table.base import (
    SingleTableSynthesizer,
    check_bool,
    check_finite_float,
    check_learning_rate,
    check_positive_int,
)

# `ctgan` swaps the process-wide numpy/torch RNG states around fit and sample, so two models must
# not run at once in one process (threads would corrupt each other's seeds). torch already uses
# every core for one model, so serialising costs little.
_TORCH_LOCK = threading.Lock()
_FIT_SEED = 0  # fits are deterministic: same data and parameters -> same model
# Weight decay (L2) above 1 outweighs the loss itself; a reconstruction weight above 1000 drowns the KL term.
MAX_WEIGHT_DECAY = 1.0
MAX_LOSS_FACTOR = 1000.0


def _check_dims(name: str, value) -> tuple:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise ValueError(f"`{name}` must be a tuple of positive layer sizes such as (256, 256), got {value!r}.")
    return tuple(int(v) for v in value)


def _ctgan_class(name: str):
    try:
        import ctgan
    except ImportError as error:
        raise ImportError(
            f"{name}-based synthesizers need the `ctgan` package: pip install 'synth_assets[ctgan]'."
        ) from error
    return getattr(ctgan, name)


class _NeuralSynthesizer(SingleTableSynthesizer):
    _categorical_encoding = "label"

    """Shared fit/sample for models from the `ctgan` library; subclasses say which model and params."""

    _model_parameter_names: tuple[str, ...] = ()

    def _init_common(self, batch_size, epochs, verbose, enable_gpu):
        self.batch_size = check_positive_int("batch_size", batch_size)
        if self.batch_size % 2:
            raise ValueError(f"`batch_size` must be even (the model splits batches in halves), got {batch_size}.")
        self.epochs = check_positive_int("epochs", epochs)
        self.verbose = check_bool("verbose", verbose)
        self.enable_gpu = check_bool("enable_gpu", enable_gpu)
        self.fit_seconds = None
        self._model = None

    @property
    def _parameter_names(self):
        return ("enforce_min_max_values", "enforce_rounding", "locales", *self._model_parameter_names)

    def _model_kwargs(self) -> dict:
        return {name: getattr(self, name) for name in self._model_parameter_names if name in self._library_parameters}

    # -- hooks for CopulaGAN ---------------------------------------------------------------------
    def _fit_model_space(self, encoded: pd.DataFrame, processor: TableProcessor):
        """(frame the network trains on, state `_from_model_space` needs); identity here."""
        return encoded, None

    def _from_model_space(self, encoded: pd.DataFrame) -> pd.DataFrame:
        return encoded

    # -- fit / sample ----------------------------------------------------------------------------
    def _fit_encoded(self, encoded: pd.DataFrame, processor: TableProcessor) -> None:
        model = space = None
        columns = list(encoded.columns)
        if columns:  # a table of ids / PII only has nothing to learn
            discrete = [c.name for c in processor.output_columns if c.kind == "discrete"]
            train, space = self._fit_model_space(encoded, processor)
            for name in discrete:
                train[name] = train[name].round().astype("int64")
            model = self._make_model()
            with _TORCH_LOCK:
                model.set_random_state(_FIT_SEED)
                model.fit(train, discrete_columns=discrete)
        # Assigned together at the end: a failed fit leaves the previous state untouched.
        self._columns, self._model, self._space = columns, model, space

    def _sample_encoded(self, num_rows: int) -> pd.DataFrame:
        if self._model is None or num_rows == 0:
            return pd.DataFrame({c: np.zeros(num_rows) for c in self._columns}, index=pd.RangeIndex(num_rows))
        with _TORCH_LOCK:
            self._model.set_random_state(self._next_seed())
            raw = self._model.sample(num_rows)
        raw = pd.DataFrame(raw, columns=self._columns).reset_index(drop=True).astype("float64")
        return self._from_model_space(raw)

    def get_loss_values(self) -> pd.DataFrame:
        """Loss per epoch (epochs numbered from 1); a copy."""
        self._require_fitted()
        if self._model is None:
            raise ValueError(f"Table '{self.table_name}' has no modelled columns (only ids / PII), so no network was trained.")
        return self._loss_frame(self._model.loss_values.copy())


class CTGANSynthesizer(_NeuralSynthesizer):
    """Conditional tabular GAN (Xu et al. 2019), SDV's parameters and defaults."""

    _library_parameters = (
        "embedding_dim", "generator_dim", "discriminator_dim", "generator_lr", "generator_decay",
        "discriminator_lr", "discriminator_decay", "batch_size", "discriminator_steps",
        "log_frequency", "verbose", "epochs", "pac", "enable_gpu",
    )
    _model_parameter_names = _library_parameters

    def __init__(
        self,
        metadata,
        enforce_min_max_values=True,
        enforce_rounding=True,
        locales=("en_US",),
        embedding_dim=128,
        generator_dim=(256, 256),
        discriminator_dim=(256, 256),
        generator_lr=2e-4,
        generator_decay=1e-6,
        discriminator_lr=2e-4,
        discriminator_decay=1e-6,
        batch_size=500,
        discriminator_steps=1,
        log_frequency=True,
        verbose=False,
        epochs=300,
        pac=10,
        enable_gpu=True,
    ):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self._init_common(batch_size, epochs, verbose, enable_gpu)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.generator_dim = _check_dims("generator_dim", generator_dim)
        self.discriminator_dim = _check_dims("discriminator_dim", discriminator_dim)
        self.generator_lr = check_learning_rate("generator_lr", generator_lr)
        self.generator_decay = check_finite_float("generator_decay", generator_decay, 0.0, MAX_WEIGHT_DECAY)
        self.discriminator_lr = check_learning_rate("discriminator_lr", discriminator_lr)
        self.discriminator_decay = check_finite_float("discriminator_decay", discriminator_decay, 0.0, MAX_WEIGHT_DECAY)
        self.discriminator_steps = check_positive_int("discriminator_steps", discriminator_steps)
        self.log_frequency = check_bool("log_frequency", log_frequency)
        self.pac = check_positive_int("pac", pac)
        if self.batch_size % self.pac:
            raise ValueError(f"`batch_size` ({self.batch_size}) must be a multiple of `pac` ({self.pac}).")

    def _make_model(self):
        return _ctgan_class("CTGAN")(**self._model_kwargs())

    @staticmethod
    def _loss_frame(loss: pd.DataFrame) -> pd.DataFrame:
        loss = loss.rename(columns={"Distriminator Loss": "Discriminator Loss"})  # typo in old ctgan
        out = loss[["Epoch", "Generator Loss", "Discriminator Loss"]].astype({"Epoch": "int64"})
        out["Epoch"] += 1
        return out.reset_index(drop=True)


class TVAESynthesizer(_NeuralSynthesizer):
    """Tabular variational autoencoder (Xu et al. 2019), SDV's parameters and defaults."""

    _library_parameters = (
        "embedding_dim", "compress_dims", "decompress_dims", "l2scale", "batch_size", "verbose",
        "epochs", "loss_factor", "enable_gpu",
    )
    _model_parameter_names = _library_parameters

    def __init__(
        self,
        metadata,
        enforce_min_max_values=True,
        enforce_rounding=True,
        locales=("en_US",),
        embedding_dim=128,
        compress_dims=(128, 128),
        decompress_dims=(128, 128),
        l2scale=1e-5,
        batch_size=500,
        verbose=False,
        epochs=300,
        loss_factor=2,
        enable_gpu=True,
    ):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self._init_common(batch_size, epochs, verbose, enable_gpu)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.compress_dims = _check_dims("compress_dims", compress_dims)
        self.decompress_dims = _check_dims("decompress_dims", decompress_dims)
        self.l2scale = check_finite_float("l2scale", l2scale, 0.0, MAX_WEIGHT_DECAY)
        self.loss_factor = check_finite_float("loss_factor", loss_factor, 0.0, MAX_LOSS_FACTOR, low_open=True)

    def _make_model(self):
        return _ctgan_class("TVAE")(**self._model_kwargs())

    @staticmethod
    def _loss_frame(loss: pd.DataFrame) -> pd.DataFrame:
        # The library logs one loss per batch; report the epoch mean like the GAN's per-epoch loss.
        per_epoch = loss.astype({"Epoch": "int64", "Loss": "float64"}).groupby("Epoch", sort=True)["Loss"].mean()
        return pd.DataFrame({"Epoch": per_epoch.index.to_numpy() + 1, "Loss": per_epoch.to_numpy()})


class CopulaGANSynthesizer(CTGANSynthesizer):
    """CTGAN on Gaussian-normalised marginals: each numerical/datetime column is mapped to normal
    scores before training and back through its learned marginal (`numerical_distributions`,
    `default_distribution`, same names as GaussianCopulaSynthesizer) after sampling.

    The default marginal is 'empirical' (SDV uses 'beta'): exact shapes, and a fit in one sort.
    """

    _model_parameter_names = (*CTGANSynthesizer._library_parameters, "numerical_distributions", "default_distribution")

    def __init__(
        self,
        metadata,
        enforce_min_max_values=True,
        enforce_rounding=True,
        locales=("en_US",),
        embedding_dim=128,
        generator_dim=(256, 256),
        discriminator_dim=(256, 256),
        generator_lr=2e-4,
        generator_decay=1e-6,
        discriminator_lr=2e-4,
        discriminator_decay=1e-6,
        batch_size=500,
        discriminator_steps=1,
        log_frequency=True,
        verbose=False,
        epochs=300,
        pac=10,
        enable_gpu=True,
        numerical_distributions=None,
        default_distribution="empirical",
    ):
        from synth_assets.single_table.gaussian_copula import _check_distribution, check_numerical_distributions

        super().__init__(
            metadata, enforce_min_max_values, enforce_rounding, locales, embedding_dim, generator_dim,
            discriminator_dim, generator_lr, generator_decay, discriminator_lr, discriminator_decay,
            batch_size, discriminator_steps, log_frequency, verbose, epochs, pac, enable_gpu,
        )
        self.numerical_distributions = check_numerical_distributions(numerical_distributions, self.table_metadata, self.table_name)
        self.default_distribution = _check_distribution("default_distribution", default_distribution)

    def _fit_model_space(self, encoded: pd.DataFrame, processor: TableProcessor):
        from synth_assets.single_table.marginals import make_marginal, normal_scores

        rng = np.random.default_rng(_FIT_SEED)  # tie-breaking only
        marginals = {}
        out = encoded.copy()
        for column in processor.output_columns:
            sdtype = self.table_metadata.columns[column.source_column]["sdtype"]
            if column.kind != "continuous" or column.name != column.source_column or sdtype not in ("numerical", "datetime"):
                continue
            values = encoded[column.name].to_numpy(dtype=np.float64)
            distribution = self.numerical_distributions.get(column.source_column, self.default_distribution)
            if sdtype != "numerical":
                distribution = "empirical"
            marginals[column.name] = make_marginal(distribution).fit(values)
            out[column.name] = normal_scores(values, rng)
        return out, marginals

    def _from_model_space(self, encoded: pd.DataFrame) -> pd.DataFrame:
        from scipy.special import ndtr

        for name, marginal in self._space.items():
            encoded[name] = marginal.ppf(ndtr(encoded[name].to_numpy(dtype=np.float64)))
        return encoded

    def get_learned_distributions(self) -> dict:
        """{column: {'distribution', 'learned_parameters'}} for each numerical column."""
        self._require_fitted()
        return {
            name: marginal.to_dict()
            for name, marginal in (self._space or {}).items()
            if self.table_metadata.columns[name]["sdtype"] == "numerical"
        }
