"""PARSynthesizer: the public API of the seed page, on real and constructed panels."""

import warnings

import numpy as np
import pandas as pd
import pytest

from synth_assets import Metadata, load_synthesizer
from synth_assets.metadata import MetadataError
from synth_assets.sequential import PARSynthesizer
from synth_assets.sequential.par import _segment

FAST = {"epochs": 8, "seed": 0, "enable_gpu": False}


def panel_metadata(frame: pd.DataFrame, key="entity", index="t", pii=()) -> Metadata:
    metadata = Metadata.detect_from_dataframe(frame, "panel")
    metadata.update_column(key, sdtype="id")
    for column in pii:
        metadata.update_column(column, sdtype="name", pii=True)
    metadata.set_sequence_key(key)
    if index:
        metadata.set_sequence_index(index)
    return metadata


@pytest.fixture(scope="module")
def trend_panel() -> pd.DataFrame:
    """Entities whose value rises or falls by their context `direction`; variable lengths; a category."""
    rng = np.random.default_rng(0)
    rows = []
    for entity in range(120):
        direction = "up" if entity % 2 else "down"
        length = int(rng.integers(3, 15))
        start = rng.normal(50, 5)
        slope = 3.0 if direction == "up" else -3.0
        for step in range(length):
            rows.append(
                {
                    "entity": f"E{entity:03d}",
                    "t": 2000 + 2 * step,
                    "direction": direction,
                    "region": ["north", "south", "east"][entity % 3],
                    "value": round(start + slope * step + rng.normal(0, 0.5), 2),
                    "status": ["new", "active", "closed"][min(step, 2)],
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted(trend_panel):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), context_columns=["direction"], epochs=60, seed=0, enable_gpu=False)
    synthesizer.fit(trend_panel)
    return synthesizer


def test_parameters_defaults_and_copy(trend_panel):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), context_columns=["direction"])
    params = synthesizer.get_parameters()
    assert params["epochs"] is None and params["sample_size"] == 1 and params["segment_size"] is None
    assert params["enforce_min_max_values"] is True and params["enforce_rounding"] is True
    assert params["enable_gpu"] is True and params["verbose"] is False and params["locales"] == ["en_US"]
    assert params["context_columns"] == ["direction"]
    params["context_columns"].append("region")
    assert synthesizer.get_parameters()["context_columns"] == ["direction"]
    metadata = synthesizer.get_metadata()
    metadata.tables["panel"].columns.clear()
    assert synthesizer.get_metadata().tables["panel"].columns


def test_cuda_is_a_deprecated_alias(trend_panel):
    with pytest.warns(FutureWarning, match="enable_gpu"):
        synthesizer = PARSynthesizer(panel_metadata(trend_panel), cuda=False)
    assert synthesizer.enable_gpu is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PARSynthesizer(panel_metadata(trend_panel), enable_gpu=False)


def test_cuda_chosen_only_when_available(trend_panel, monkeypatch):
    import torch

    synthesizer = PARSynthesizer(panel_metadata(trend_panel))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert synthesizer._resolve_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert synthesizer._resolve_device() == "cuda"
    assert PARSynthesizer(panel_metadata(trend_panel), enable_gpu=False)._resolve_device() == "cpu"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"sample_size": -1}, ValueError, "sample_size"),
        ({"segment_size": 0}, ValueError, "segment_size"),
        ({"enable_gpu": "yes"}, TypeError, "enable_gpu"),
        ({"verbose": 1}, TypeError, "verbose"),
        ({"context_columns": "direction"}, TypeError, "context_columns"),
        ({"context_columns": ["nope"]}, ValueError, "nope"),
        ({"context_columns": ["entity"]}, ValueError, "entity"),
        ({"learning_rate": 0}, ValueError, "learning_rate"),
        ({"validation_split": 1.5}, ValueError, "validation_split"),
        ({"early_stopping_patience": 3}, ValueError, "validation_split"),
        ({"locales": ["xx_XX"]}, ValueError, "locales"),
    ],
)
def test_bad_parameters_name_the_parameter(trend_panel, kwargs, error, match):
    with pytest.raises(error, match=match):
        PARSynthesizer(panel_metadata(trend_panel), **kwargs)


def test_metadata_without_sequence_key_is_refused(trend_panel):
    metadata = Metadata.detect_from_dataframe(trend_panel, "panel")
    with pytest.raises(MetadataError, match="sequence_key"):
        PARSynthesizer(metadata)


def test_bad_data_names_the_column(trend_panel):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), context_columns=["direction", "region"], **FAST)
    with_nan_key = trend_panel.copy()
    with_nan_key.loc[3, "entity"] = None
    with pytest.raises(ValueError, match="'entity'.*missing"):
        synthesizer.fit(with_nan_key)
    varying = trend_panel.copy()
    varying.loc[varying.index[1], "region"] = "west"
    with pytest.raises(ValueError, match=r"\['region'\] vary within a sequence"):
        synthesizer.fit(varying)
    with pytest.raises(ValueError, match="empty"):
        synthesizer.fit(trend_panel.iloc[0:0])
    with pytest.raises(ValueError, match="not in the metadata"):
        synthesizer.fit(trend_panel.assign(extra=1))
    with pytest.raises(ValueError, match="missing columns"):
        synthesizer.fit(trend_panel.drop(columns="value"))
    assert not synthesizer._fitted


def test_round_trip_dtypes_order_context_and_index(fitted, trend_panel):
    fitted.set_random_state(1)
    synthetic = fitted.sample(50)
    assert list(synthetic.columns) == list(trend_panel.columns)
    assert synthetic.dtypes.to_dict() == trend_panel.dtypes.to_dict()
    assert synthetic["entity"].nunique() == 50
    assert not synthetic["entity"].isin(trend_panel["entity"]).any()
    groups = synthetic.groupby("entity", sort=False)
    assert (groups["direction"].nunique() == 1).all()
    # `region` is constant per entity in the data, so it is context even though not listed.
    assert (groups["region"].nunique() == 1).all()
    assert set(synthetic["status"]) <= {"new", "active", "closed"}
    gaps = groups["t"].diff().dropna()
    assert (gaps >= 2).all() and (gaps <= 2).all()
    assert synthetic["t"].min() >= 2000


def test_min_max_and_rounding_enforced(fitted, trend_panel):
    fitted.set_random_state(2)
    synthetic = fitted.sample(80)
    assert synthetic["value"].between(trend_panel["value"].min(), trend_panel["value"].max()).all()
    assert np.allclose(synthetic["value"], synthetic["value"].round(2))


def test_rounding_off_gives_more_decimals(trend_panel):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), enforce_rounding=False, **FAST)
    synthesizer.fit(trend_panel)
    synthetic = synthesizer.sample(30)
    assert not np.allclose(synthetic["value"], synthetic["value"].round(2))


def test_learned_trend_follows_context(fitted):
    fitted.set_random_state(3)
    synthetic = fitted.sample(100)
    multi = synthetic.groupby("entity").filter(lambda g: len(g) >= 3)
    slope = multi.groupby("entity").apply(lambda g: np.polyfit(g["t"], g["value"], 1)[0], include_groups=False)
    direction = multi.groupby("entity")["direction"].first()
    agreement = ((slope > 0) == (direction == "up")).mean()
    assert agreement >= 0.85


def test_event_order_reproduced(fitted):
    fitted.set_random_state(4)
    synthetic = fitted.sample(100)
    first = synthetic.groupby("entity").head(1)
    assert (first["status"] == "new").mean() >= 0.85
    later = synthetic.groupby("entity").nth(slice(3, None))
    assert (later["status"] == "closed").mean() >= 0.85


def test_lengths_follow_training_and_sequence_length_honoured(fitted, trend_panel):
    from synth_assets.evaluation import sequence_length_similarity

    fitted.set_random_state(5)
    synthetic = fitted.sample(300)
    assert sequence_length_similarity(trend_panel, synthetic, "entity") >= 0.85
    fixed = fitted.sample(10, sequence_length=7)
    assert (fixed.groupby("entity").size() == 7).all()
    with pytest.raises(ValueError, match="sequence_length"):
        fitted.sample(3, sequence_length=0)


def test_seed_reproducible_and_save_load(fitted, tmp_path):
    fitted.set_random_state(11)
    first = fitted.sample(20)
    path = tmp_path / "par.pkl"
    fitted.save(path)
    loaded = load_synthesizer(path)
    loaded.set_random_state(11)
    pd.testing.assert_frame_equal(first, loaded.sample(20))
    fitted.set_random_state(12)
    assert not first.equals(fitted.sample(20))


def test_loss_values_and_verbose(trend_panel, capsys):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), verbose=True, **FAST)
    synthesizer.fit(trend_panel)
    losses = synthesizer.get_loss_values()
    assert list(losses["Epoch"]) == list(range(1, 9))
    assert losses["Loss"].iloc[-1] < losses["Loss"].iloc[0]
    assert "loss" in capsys.readouterr().err.lower()


def test_refit_starts_from_scratch(trend_panel):
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), **FAST)
    synthesizer.fit(trend_panel)
    renamed = trend_panel.assign(status=trend_panel["status"].map({"new": "n", "active": "a", "closed": "c"}))
    synthesizer.fit(renamed)
    assert set(synthesizer.sample(30)["status"]) <= {"n", "a", "c"}


def test_sample_sequential_columns_uses_given_context(fitted):
    context = pd.DataFrame({"entity": ["A", "B", "C"], "direction": ["up", "up", "down"]})
    synthetic = fitted.sample_sequential_columns(context, sequence_length=5)
    assert synthetic.groupby("entity").size().to_dict() == {"A": 5, "B": 5, "C": 5}
    assert synthetic.groupby("entity")["direction"].first().to_dict() == {"A": "up", "B": "up", "C": "down"}
    # `region` is constant per entity, so it is context too and may be given.
    north = fitted.sample_sequential_columns(context.assign(region="north"))
    assert (north["region"] == "north").all()
    with pytest.raises(ValueError, match="value"):
        fitted.sample_sequential_columns(context.assign(value=1.0))


def test_segment_size_cuts_training_sequences(trend_panel):
    lengths, context = _segment(np.array([7, 3, 1]), np.arange(3.0)[:, None], 3)
    assert lengths.tolist() == [3, 3, 1, 3, 1]
    assert context[:, 0].tolist() == [0, 0, 0, 1, 2]
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), segment_size=4, **FAST)
    synthesizer.fit(trend_panel)
    assert len(synthesizer.sample(5)) > 0


def test_length_one_sequences_and_datetime_index():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 4, 60)
    frame = pd.DataFrame(
        {
            "entity": np.repeat(np.arange(60), lengths),
            "when": np.concatenate([pd.date_range("2024-01-01", periods=n, freq="7D") for n in lengths]),
            "amount": rng.gamma(2.0, 10.0, lengths.sum()).round(1),
        }
    )
    synthesizer = PARSynthesizer(panel_metadata(frame, index="when"), **FAST)
    synthesizer.fit(frame.sample(frac=1.0, random_state=0))  # unsorted input
    synthetic = synthesizer.sample(40)
    assert synthetic["when"].dtype == frame["when"].dtype
    gaps = synthetic.groupby("entity")["when"].diff().dropna()
    assert (gaps == pd.Timedelta(days=7)).mean() >= 0.9
    assert (synthetic.groupby("entity").size() == 1).any()


def test_gapminder_continent_constant_without_context_columns(gapminder):
    metadata = panel_metadata(gapminder, key="country", index="year")
    synthesizer = PARSynthesizer(metadata, **FAST)
    synthesizer.fit(gapminder)
    synthetic = synthesizer.sample(40)
    assert (synthetic.groupby("country")["continent"].nunique() == 1).all()
    assert sorted(synthetic["year"].unique()) == sorted(gapminder["year"].unique())


def test_fit_settles_the_garbage_collector_so_first_sample_pays_no_full_collection(trend_panel):
    """Issue 13: fit's lazy imports (torch, rdt) leave a heap whose first full collection used to
    land in the first `sample` call (~80 ms on gapminder); fit now ends with that collection done."""
    import gc

    hoard = [[i] for i in range(200_000)]  # long-lived objects the collector has not yet scanned fully
    synthesizer = PARSynthesizer(panel_metadata(trend_panel), context_columns=["direction"], epochs=2, seed=0)
    synthesizer.fit(trend_panel)
    assert gc.get_count()[1:] == (0, 0)
    full = []

    def record(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    gc.callbacks.append(record)
    try:
        synthetic = synthesizer.sample(20)
    finally:
        gc.callbacks.remove(record)
    assert synthetic["entity"].nunique() == 20 and len(hoard) == 200_000
    assert full == []
