"""Unpickling that can only rebuild what our model files are made of, never run foreign code.

A pickle runs code by naming a global (a function or class) and calling it. `SafeUnpickler`
resolves a global only when its exact `(module, qualified name)` is in `ALLOWED_GLOBALS`: the
list was collected by round-tripping every synthesizer kind (Gaussian copula with every
distribution, CTGAN, TVAE, CopulaGAN, PAR, IndependentSynthesizer) and the value types data
cells can hold, then frozen here. Names are matched exactly — never a prefix such as `numpy.`,
which would reach `numpy.load` — so `os.system`, `builtins.eval`, `getattr` chains like
`synth_assets.persistence.os.system`, or `pandas.read_pickle` are refused before they are called.

Torch storages pickle as `torch.storage._load_from_bytes(bytes)`, which runs a second, unchecked
unpickler; it is swapped for `torch.load(..., weights_only=True)`, torch's own data-only loader.
Update `ALLOWED_GLOBALS` when a synthesizer starts keeping a new type (tests/test_safe_unpickle.py
round-trips every kind and fails naming the missing global).
"""

from __future__ import annotations

import io
import pickle

from synth_assets.errors import ModelFileError

_SYNTH_ASSETS = {
    "synth_assets.metadata.metadata": ("Metadata",),
    "synth_assets.metadata.table": ("TableMetadata",),
    "synth_assets.multi_table.cardinality": ("Cardinality", "RelationshipCardinality", "_TableKeys"),
    "synth_assets.multi_table.independent": ("IndependentSynthesizer", "KeysOnlyTable"),
    "synth_assets.multi_table.self_reference": ("SelfReference",),
    "synth_assets.processing._uniform_encoder": ("VectorizedUniformEncoder",),
    "synth_assets.processing.ids": ("IdGenerator",),
    "synth_assets.processing.pii": ("PIIGenerator",),
    "synth_assets.processing.processor": ("OutputColumn", "TableProcessor"),
    "synth_assets.sequential.context": ("ContextMatcher",),
    "synth_assets.sequential.encoding": ("ColumnSpec", "QuantileBinner", "StepEncoder"),
    "synth_assets.sequential.par": ("PARSynthesizer",),
    "synth_assets.sequential.par_model": ("FittedPAR",),
    "synth_assets.single_table.ctgan": ("CTGANSynthesizer", "CopulaGANSynthesizer", "TVAESynthesizer"),
    "synth_assets.single_table.gaussian_copula": ("GaussianCopulaSynthesizer",),
    "synth_assets.single_table.marginals": ("CopulasMarginal", "EmpiricalMarginal"),
}

# Model libraries our synthesizers keep fitted objects of.
_LIBRARIES = {
    "copulas.univariate.beta": ("BetaUnivariate",),
    "copulas.univariate.gamma": ("GammaUnivariate",),
    "copulas.univariate.gaussian": ("GaussianUnivariate",),
    "copulas.univariate.gaussian_kde": ("GaussianKDE",),
    "copulas.univariate.log_laplace": ("LogLaplace",),
    "copulas.univariate.student_t": ("StudentTUnivariate",),
    "copulas.univariate.truncated_gaussian": ("TruncatedGaussian",),
    "copulas.univariate.uniform": ("UniformUnivariate",),
    "ctgan.data_sampler": ("DataSampler",),
    "ctgan.data_transformer": ("ColumnTransformInfo", "DataTransformer", "SpanInfo"),
    "ctgan.synthesizers.ctgan": ("CTGAN", "Generator", "Residual"),
    "ctgan.synthesizers.tvae": ("Decoder", "TVAE"),
    "rdt.transformers.categorical": ("LabelEncoder", "OneHotEncoder"),
    "rdt.transformers.datetime": ("UnixTimestampEncoder",),
    "rdt.transformers.null": ("NullTransformer",),
    "rdt.transformers.numerical": ("ClusterBasedNormalizer", "FloatFormatter"),
    "scipy.stats._kde": ("gaussian_kde",),
    "sklearn.mixture._bayesian_mixture": ("BayesianGaussianMixture",),
    "torch": ("device",),
    "torch._utils": ("_rebuild_parameter", "_rebuild_tensor_v2"),
    "torch.nn.modules.activation": ("ReLU",),
    "torch.nn.modules.batchnorm": ("BatchNorm1d",),
    "torch.nn.modules.container": ("Sequential",),
    "torch.nn.modules.linear": ("Linear",),
}

# Arrays, frames and the value types a data cell (a category, a bound) can hold.
_VALUES = {
    "builtins": ("complex", "frozenset", "set", "slice"),
    "collections": ("OrderedDict",),
    "datetime": ("date", "datetime", "time", "timedelta", "timezone"),
    "decimal": ("Decimal",),
    "dateutil.tz.tz": ("tzlocal", "tzoffset", "tzutc"),
    "numpy": ("dtype", "ndarray"),
    "numpy.random._mt19937": ("MT19937",),
    "numpy.random._pcg64": ("PCG64",),
    "numpy.random._pickle": ("__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"),
    "numpy.random.bit_generator": ("SeedSequence", "__pyx_unpickle_SeedSequence"),
    "pandas._libs.arrays": ("__pyx_unpickle_NDArrayBacked",),
    "pandas._libs.internals": ("_unpickle_block",),
    "pandas._libs.missing": ("NA",),
    "pandas._libs.tslibs.nattype": ("__nat_unpickle",),
    "pandas._libs.tslibs.timedeltas": ("_timedelta_unpickle",),
    "pandas._libs.tslibs.timestamps": ("_unpickle_timestamp",),
    "pandas.core.arrays.boolean": ("BooleanArray", "BooleanDtype"),
    "pandas.core.arrays.categorical": ("Categorical",),
    "pandas.core.arrays.datetimes": ("DatetimeArray",),
    "pandas.core.arrays.floating": ("Float32Dtype", "Float64Dtype", "FloatingArray"),
    "pandas.core.arrays.integer": (
        "Int8Dtype", "Int16Dtype", "Int32Dtype", "Int64Dtype", "IntegerArray",
        "UInt8Dtype", "UInt16Dtype", "UInt32Dtype", "UInt64Dtype",
    ),
    "pandas.core.arrays.string_": ("StringArray", "StringDtype"),
    "pandas.core.dtypes.dtypes": ("CategoricalDtype", "DatetimeTZDtype"),
    "pandas.core.frame": ("DataFrame",),
    "pandas.core.indexes.base": ("Index", "_new_Index"),
    "pandas.core.indexes.datetimes": ("DatetimeIndex", "_new_DatetimeIndex"),
    "pandas.core.indexes.range": ("RangeIndex",),
    "pandas.core.internals.managers": ("BlockManager", "SingleBlockManager"),
    "pandas.core.series": ("Series",),
    "pytz": ("_UTC", "_p"),  # _p validates the zone name before opening pytz's own data file
    # numpy 2 moved numpy.core to numpy._core; files written under numpy 1 name the old module.
    **{f"numpy.{core}.multiarray": ("_reconstruct", "scalar") for core in ("core", "_core")},
    **{f"numpy.{core}.numeric": ("_frombuffer",) for core in ("core", "_core")},
}

ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    (module, name) for table in (_SYNTH_ASSETS, _LIBRARIES, _VALUES) for module, names in table.items() for name in names
)

# The top-level types a model file may hold (its header's `object_type`).
MODEL_TYPES: frozenset[str] = frozenset(
    f"{module}.{name}" for module, names in _SYNTH_ASSETS.items() for name in names if name.endswith("Synthesizer")
)


def _load_torch_storage(data: bytes):
    """torch.storage._load_from_bytes without its `weights_only=False`: torch's data-only loader."""
    import torch

    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as error:  # torch's UnpicklingError for a non-tensor payload, among others
        raise ModelFileError(f"a tensor in the model file is not plain tensor data: {error}") from error


_SUBSTITUTES = {("torch.storage", "_load_from_bytes"): _load_torch_storage}


class SafeUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` that resolves only `ALLOWED_GLOBALS` (and refuses persistent ids)."""

    def __init__(self, file, source: str = "model file"):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) in _SUBSTITUTES:
            return _SUBSTITUTES[(module, name)]
        if (module, name) not in ALLOWED_GLOBALS:
            raise ModelFileError(
                f"{self.source} refers to `{module}.{name}`, which synth_assets model files never contain; "
                "refusing to load it, as unpickling it could run code. Only load model files written by "
                "synth_assets (set SYNTH_ASSETS_SIGNING_KEY to bind files to your deployment). If you are "
                "developing synth_assets and a synthesizer now keeps this class, add it to "
                "synth_assets/safe_unpickle.py ALLOWED_GLOBALS (see SECURITY.md)."
            )
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise ModelFileError(f"{self.source} uses pickle persistent ids, which synth_assets never writes.")


def safe_loads(payload: bytes, source: str = "model file"):
    """Unpickle `payload` with `SafeUnpickler`; every failure is a `ModelFileError`."""
    try:
        return SafeUnpickler(io.BytesIO(payload), source).load()
    except ModelFileError:
        raise
    except Exception as error:  # a malformed stream, or an allowed class given arguments it rejects
        raise ModelFileError(f"{source} could not be unpickled ({type(error).__name__}: {error}); it is corrupt.") from error


def resolve_model_type(object_type) -> type:
    """The class a header's `object_type` names, imported only if it is one of our synthesizers."""
    if not isinstance(object_type, str) or object_type not in MODEL_TYPES:
        raise ModelFileError(f"the header's object_type {object_type!r} is not a synth_assets synthesizer")
    module, _, name = object_type.rpartition(".")
    from importlib import import_module

    return getattr(import_module(module), name)
