"""The DCR check tells overfitting from the sampling noise of a small holdout."""

import warnings

import numpy as np
import pandas as pd

from synth_assets import Metadata
from synth_assets.evaluation.checks import dcr_outcome
from synth_assets.evaluation.holdout import holdout_mask

META = Metadata.load_from_dict({"columns": {c: {"sdtype": "numerical"} for c in "abc"}})
TABLE = META.get_table_metadata(META.get_single_table_name())


def _frames(seed, rows=300):
    rng = np.random.default_rng(seed)
    real = pd.DataFrame(rng.normal(size=(rows, 3)), columns=list("abc"))
    return real, pd.DataFrame(rng.normal(size=(rows, 3)), columns=list("abc"))


def test_an_honest_model_on_a_small_table_passes_despite_noise():
    # Seed 17: a generator that never saw the data lands at 58.7% closer to training with ~110
    # reference rows (noise); the fixed 55% bound failed it, the first run of a new user's spec.
    real, honest = _frames(17)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = dcr_outcome(real, honest, TABLE, 0.55)
    assert 0.55 < outcome.metadata["closer_to_training"] < 0.6
    assert outcome.passed
    assert 0.59 < outcome.metadata["allowed_share"] < 0.6
    assert "widened from 55%" in outcome.description


def test_a_copying_model_still_fails_and_large_holdouts_keep_the_bound():
    real, _ = _frames(3)
    training = real[~holdout_mask(real, TABLE)]  # the rows a model was fitted on
    copies = training.sample(300, replace=True, random_state=0) + 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = dcr_outcome(real, copies, TABLE, 0.55)
        big_real, big_honest = _frames(5, rows=3000)
        big = dcr_outcome(big_real, big_honest, TABLE, 0.55)
    assert not small.passed and small.metadata["closer_to_training"] > small.metadata["allowed_share"]
    assert big.metadata["allowed_share"] == 0.55 and "widened" not in big.description
