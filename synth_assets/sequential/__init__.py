"""Multi-sequence synthesizers. par_model (torch) is imported only when a PAR fit or sample runs."""

from synth_assets.sequential.par import PARSynthesizer

__all__ = ["PARSynthesizer"]
