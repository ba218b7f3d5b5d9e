"""The SDV-named exceptions keep `except ValueError` working; progress callbacks are checked."""

import pytest

from synth_assets import errors
from synth_assets.progress import TqdmProgress, check_progress_callback, null_progress


@pytest.mark.parametrize("name", ["InvalidMetadataError", "InvalidDataError", "SynthesizerInputError",
                                  "SamplingError", "NotFittedError", "ModelFileError"])
def test_every_error_is_a_value_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, ValueError) and issubclass(cls, errors.SynthAssetsError)


def test_input_errors_are_type_errors_too_and_data_errors_list_messages():
    assert issubclass(errors.SynthesizerInputError, TypeError)
    err = errors.InvalidDataError(["table 'a': bad", "table 'b': worse"])
    assert err.errors == ["table 'a': bad", "table 'b': worse"]
    assert str(err) == "table 'a': bad\ntable 'b': worse"


def test_progress_callback_is_checked():
    assert check_progress_callback(None) is null_progress
    with pytest.raises(TypeError, match="progress_callback"):
        check_progress_callback(3)
    bar = TqdmProgress()
    bar(total=4, completed=2, message={"loss": 1.23456})
    assert bar._bar.n == 2 and bar._bar.total == 4
    bar.close()
