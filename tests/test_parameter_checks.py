"""Float parameters: one shared check refuses nan, inf and out-of-range values by name."""

import math

import numpy as np
import pytest

from synth_assets.errors import SynthesizerInputError
from synth_assets.metadata import Metadata
from synth_assets.single_table.base import LEARNING_RATE_RANGE, check_finite_float, check_learning_rate

BAD_LEARNING_RATES = [math.inf, -math.inf, math.nan, np.float64("nan"), 0.0, -1e-3, 1e3, 1.5, True, "0.01", None]


@pytest.fixture(scope="module")
def metadata():
    return Metadata.load_from_dict({
        "tables": {"t": {"columns": {"id": {"sdtype": "id"}, "x": {"sdtype": "numerical"}}, "sequence_key": "id"}},
    })


@pytest.mark.parametrize("value", BAD_LEARNING_RATES)
def test_learning_rate_check_refuses_nonsense(value):
    with pytest.raises(SynthesizerInputError, match="`lr`"):
        check_learning_rate("lr", value)


@pytest.mark.parametrize("value", [1e-6, 2e-4, 1e-2, 1, np.float32(0.5), LEARNING_RATE_RANGE[1]])
def test_learning_rate_check_accepts_sane_values(value):
    assert check_learning_rate("lr", value) == pytest.approx(float(value))


def test_finite_float_bounds_and_message():
    assert check_finite_float("x", 0, 0.0, 1.0) == 0.0
    with pytest.raises(ValueError, match=r"`x` must be a finite number in \[0, 1\), got 1.0"):
        check_finite_float("x", 1, 0.0, 1.0, high_open=True)
    with pytest.raises(TypeError, match="`x` must be a number"):
        check_finite_float("x", "1")
    assert check_finite_float("x", -1e300) == -1e300  # unbounded by default, but still finite
    with pytest.raises(ValueError, match="finite"):
        check_finite_float("x", math.inf)


@pytest.mark.parametrize("value", [math.inf, math.nan, 1e3, 0.0])
def test_par_refuses_bad_learning_rate(metadata, value):
    from synth_assets.sequential import PARSynthesizer

    with pytest.raises(SynthesizerInputError, match="`learning_rate`"):
        PARSynthesizer(metadata, learning_rate=value)


@pytest.mark.parametrize("value", [math.nan, -0.1, 1.0])
def test_par_refuses_bad_validation_split(metadata, value):
    from synth_assets.sequential import PARSynthesizer

    with pytest.raises(ValueError, match="`validation_split`"):
        PARSynthesizer(metadata, validation_split=value)


@pytest.mark.parametrize("kind", ["CTGANSynthesizer", "CopulaGANSynthesizer"])
@pytest.mark.parametrize("name,value", [
    ("generator_lr", 1e3), ("generator_lr", math.inf), ("discriminator_lr", math.nan),
    ("discriminator_lr", 10.0), ("generator_decay", math.inf), ("discriminator_decay", 5.0),
])
def test_gan_refuses_bad_floats(kind, name, value):
    import synth_assets.single_table as single_table

    table = Metadata.load_from_dict({"tables": {"t": {"columns": {"x": {"sdtype": "numerical"}}}}})
    with pytest.raises(SynthesizerInputError, match=f"`{name}`"):
        getattr(single_table, kind)(table, **{name: value})


@pytest.mark.parametrize("name,value", [("l2scale", math.inf), ("l2scale", 2.0), ("loss_factor", 0.0), ("loss_factor", 1e6)])
def test_tvae_refuses_bad_floats(name, value):
    from synth_assets.single_table import TVAESynthesizer

    table = Metadata.load_from_dict({"tables": {"t": {"columns": {"x": {"sdtype": "numerical"}}}}})
    with pytest.raises(SynthesizerInputError, match=f"`{name}`"):
        TVAESynthesizer(table, **{name: value})
