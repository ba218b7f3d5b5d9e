"""Single-table synthesizers."""

from synth_assets.single_table.base import BaseSynthesizer, SingleTableSynthesizer
from synth_assets.single_table.ctgan import CopulaGANSynthesizer, CTGANSynthesizer, TVAESynthesizer
from synth_assets.single_table.gaussian_copula import GaussianCopulaSynthesizer

__all__ = [
    "BaseSynthesizer",
    "CTGANSynthesizer",
    "CopulaGANSynthesizer",
    "GaussianCopulaSynthesizer",
    "SingleTableSynthesizer",
    "TVAESynthesizer",
]
