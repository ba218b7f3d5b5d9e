"""PARSynthesizer.fit reports progress through `progress_callback` (and verbose shows the same)."""

import numpy as np
import pandas as pd
import pytest

from synth_assets import Metadata
from synth_assets.sequential import PARSynthesizer


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    lengths = rng.integers(2, 8, 40)
    entity = np.repeat(np.arange(40), lengths)
    step = np.concatenate([np.arange(n) for n in lengths])
    return pd.DataFrame({"entity": entity, "t": step, "value": step * 2.0 + rng.normal(0, 0.1, len(step))})


def _synthesizer(panel, **params):
    metadata = Metadata.detect_from_dataframe(panel, "panel")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    metadata.set_sequence_index("t")
    return PARSynthesizer(metadata, seed=0, enable_gpu=False, **params)


def test_fit_reports_each_epoch_and_loss_values_hold_the_validation_curve(panel):
    reports = []
    synthesizer = _synthesizer(panel, epochs=4, validation_split=0.25)
    synthesizer.fit(panel, progress_callback=lambda **kw: reports.append(kw))
    assert [r["completed"] for r in reports] == [1, 2, 3, 4] and {r["total"] for r in reports} == {4}
    losses = synthesizer.get_loss_values()
    assert list(losses["Epoch"]) == [1, 2, 3, 4]
    assert np.allclose(losses["Loss"], [r["message"]["loss"] for r in reports])
    assert np.allclose(losses["Validation Loss"], [r["message"]["val_loss"] for r in reports])
    assert losses["Validation Loss"].notna().all()


def test_verbose_shows_the_reports_the_callback_gets(panel, capsys):
    reports = []
    synthesizer = _synthesizer(panel, epochs=3, validation_split=0.25, verbose=True)
    synthesizer.fit(panel, progress_callback=lambda **kw: reports.append(kw))
    err = capsys.readouterr().err
    assert len(reports) == 3
    assert "val_loss" in err and f"{reports[-1]['message']['val_loss']:.3f}" in err


def test_bad_progress_callback_is_refused_before_fitting(panel):
    synthesizer = _synthesizer(panel, epochs=2)
    with pytest.raises(TypeError, match="progress_callback"):
        synthesizer.fit(panel, progress_callback=42)
    assert not synthesizer._fitted


def test_many_sequences_are_sampled_in_bounded_chunks(panel, monkeypatch):
    from synth_assets.sequential import par

    synthesizer = _synthesizer(panel, epochs=2)
    synthesizer.fit(panel)
    sizes = []
    engine_sample = synthesizer._model.sample

    def spy(context, lengths, **kwargs):
        sizes.append(len(lengths))
        return engine_sample(context, lengths, **kwargs)

    monkeypatch.setattr(synthesizer._model, "sample", spy)
    monkeypatch.setattr(par, "SAMPLE_CHUNK", 7)
    synthetic = synthesizer.sample(30)
    assert sizes == [7, 7, 7, 7, 2]
    assert synthetic["entity"].nunique() == 30  # keys unique across chunks
    lengths = synthetic.groupby("entity", sort=False).size()
    assert (lengths >= 1).all() and len(synthetic) == lengths.sum()
    assert synthetic.groupby("entity")["t"].apply(lambda t: t.is_monotonic_increasing).all()
