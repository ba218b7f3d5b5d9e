"""The Dagster parameter models show the synthesizers' own defaults (one source of truth).

The models only validate what a spec sets (unset fields are not passed on), but their defaults
are what the Component's YAML schema and the UI show a user; they must equal the core's.
"""

import inspect

import pytest

from synth_assets import GaussianCopulaSynthesizer, PARSynthesizer
from synth_assets.dagster.parameters import GaussianCopulaParameters, PARParameters


@pytest.mark.parametrize("model, synthesizer", [(PARParameters, PARSynthesizer),
                                                (GaussianCopulaParameters, GaussianCopulaSynthesizer)])
def test_parameter_model_defaults_equal_the_synthesizer_defaults(model, synthesizer):
    signature = inspect.signature(synthesizer.__init__).parameters
    shown = model().model_dump()
    compared = 0
    for name, value in shown.items():
        default = signature[name].default
        if default is inspect.Parameter.empty or repr(default).startswith("<object"):
            continue  # required, or a sentinel for "not given" (PAR's enable_gpu/cuda pair)
        expected = list(default) if isinstance(default, tuple) else default
        if expected is None and value in ([], {}):
            continue  # "none given": the synthesizer turns None into the same empty list / dict
        assert value == expected, f"{model.__name__}.{name}: shows {value!r}, the synthesizer uses {expected!r}"
        compared += 1
    assert compared >= 3
