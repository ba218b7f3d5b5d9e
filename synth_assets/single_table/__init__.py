"""Single-table synthesizers."""

from synth_assets.single_table.base import BaseSynthesizer
from synth_assets.single_table.gaussian_copula import GaussianCopulaSynthesizer

__all__ = ["BaseSynthesizer", "GaussianCopulaSynthesizer"]
