"""PAR against SDV 2.0's behaviour: conditional sampling, parameter contradictions, SDV 2.x call
forms and error classes, the index range, per-sequence PII (issue 12 items 1, 4, 6, 8; issue 11 item 3)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError, NotFittedError, SamplingError, SynthesizerInputError
from synth_assets.sequential import PARSynthesizer
from test_par import panel_metadata as _metadata


@pytest.fixture(scope="module")
def group_panel() -> pd.DataFrame:
    """Group A: 2 steps from 2000, values near 100, school north, tier gold; group B: 10 steps from
    2010, values near 0, school south, tier basic. `tier` is constant per entity but not listed."""
    rng = np.random.default_rng(0)
    rows = []
    for entity in range(160):
        group = "A" if entity % 2 else "B"
        length, start, level = (2, 2000, 100.0) if group == "A" else (10, 2010, 0.0)
        school = "north" if group == "A" else "south"
        tier = "gold" if group == "A" else "basic"
        for step in range(length):
            rows.append({
                "entity": f"E{entity:03d}", "t": start + step, "group": group, "school": school,
                "tier": tier, "value": round(level + rng.normal(0, 1), 2),
            })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def group_par(group_panel):
    synthesizer = PARSynthesizer(
        _metadata(group_panel), context_columns=["group", "school"], epochs=40, seed=0, enable_gpu=False
    )
    synthesizer.fit(group_panel)
    return synthesizer


def _per_entity(synthetic):
    groups = synthetic.groupby("entity", sort=False)
    return pd.DataFrame({
        "group": groups["group"].first(), "school": groups["school"].first(), "tier": groups["tier"].first(),
        "length": groups.size(), "start": groups["t"].min(), "value": groups["value"].mean(),
    })


# -- item 1: conditional sampling ----------------------------------------------------------------
def test_given_context_conditions_length_start_and_detected_context(group_par):
    group_par.set_random_state(0)
    given = pd.DataFrame({"group": ["A"] * 25 + ["B"] * 25, "school": ["north"] * 25 + ["south"] * 25})
    entities = _per_entity(group_par.sample_sequential_columns(given))
    a, b = entities[entities["group"] == "A"], entities[entities["group"] == "B"]
    assert len(a) == 25 and len(b) == 25
    assert (a["length"] == 2).all() and (b["length"] == 10).all()
    assert (a["start"] == 2000).all() and (b["start"] == 2010).all()
    assert (a["tier"] == "gold").all() and (b["tier"] == "basic").all()
    assert a["value"].mean() > 80 and b["value"].mean() < 20


def test_partial_context_is_filled_conditionally(group_par):
    group_par.set_random_state(1)
    given = pd.DataFrame({"entity": [f"S{i}" for i in range(40)], "group": ["A", "B"] * 20})
    synthetic = group_par.sample_sequential_columns(given)
    entities = _per_entity(synthetic)
    assert list(entities.index) == list(given["entity"])
    assert (entities["school"] == entities["group"].map({"A": "north", "B": "south"})).all()
    assert (entities["length"] == entities["group"].map({"A": 2, "B": 10})).all()


def test_detected_context_column_may_be_given(group_par):
    group_par.set_random_state(2)
    entities = _per_entity(group_par.sample_sequential_columns(pd.DataFrame({"tier": ["gold"] * 10})))
    assert (entities["group"] == "A").all() and (entities["length"] == 2).all()


def test_fixed_sequence_length_keeps_conditional_start(group_par):
    group_par.set_random_state(3)
    given = pd.DataFrame({"group": ["A"] * 5 + ["B"] * 5})
    entities = _per_entity(group_par.sample_sequential_columns(given, sequence_length=3))
    assert (entities["length"] == 3).all()
    assert entities["start"].tolist() == [2000] * 5 + [2010] * 5


def test_numerical_context_conditions_lengths():
    rng = np.random.default_rng(1)
    rows = []
    for entity in range(150):
        age = float(rng.integers(20, 80))
        length = 3 if age < 50 else 8
        rows += [{"entity": entity, "t": step, "age": age, "x": rng.normal(age, 1)} for step in range(length)]
    frame = pd.DataFrame(rows)
    synthesizer = PARSynthesizer(_metadata(frame), context_columns=["age"], epochs=5, seed=0, enable_gpu=False)
    synthesizer.fit(frame)
    synthetic = synthesizer.sample_sequential_columns(pd.DataFrame({"age": [25.0] * 10 + [75.0] * 10}))
    lengths = synthetic.groupby("entity", sort=False).size().to_numpy()
    assert (lengths[:10] == 3).all() and (lengths[10:] == 8).all()
    assert synthetic.groupby("entity", sort=False)["age"].first().tolist() == [25.0] * 10 + [75.0] * 10


def test_conditional_sampling_unknown_columns_and_values(group_par):
    with pytest.raises(SynthesizerInputError, match="'value'"):
        group_par.sample_sequential_columns(pd.DataFrame({"group": ["A"], "value": [1.0]}))
    # An unseen value (a parent category no child of the training data had) warns and is kept; the
    # rest is conditioned on the other columns given.
    with pytest.warns(UserWarning, match="'group'.*'C'.*never occur"):
        unseen = group_par.sample_sequential_columns(pd.DataFrame({"group": ["C"] * 6, "school": ["north"] * 6}))
    entities = _per_entity(unseen)
    assert (entities["group"] == "C").all() and (entities["length"] == 2).all() and (entities["tier"] == "gold").all()
    with pytest.raises(SynthesizerInputError, match="DataFrame"):
        group_par.sample_sequential_columns({"group": ["A"]})


def test_conditional_sampling_is_reproducible(group_par):
    given = pd.DataFrame({"group": ["A", "B", "B"]})
    group_par.set_random_state(7)
    first = group_par.sample_sequential_columns(given)
    group_par.set_random_state(7)
    pd.testing.assert_frame_equal(first, group_par.sample_sequential_columns(given))


# -- item 6: contradictory parameters -----------------------------------------------------------
def test_cuda_contradicting_enable_gpu_is_refused(group_panel):
    metadata = _metadata(group_panel)
    for cuda, enable_gpu in [(True, False), (False, True)]:
        with pytest.raises(SynthesizerInputError, match="cuda.*enable_gpu"), pytest.warns(FutureWarning):
            PARSynthesizer(metadata, cuda=cuda, enable_gpu=enable_gpu)
    with pytest.warns(FutureWarning, match="enable_gpu"):
        assert PARSynthesizer(metadata, cuda=False, enable_gpu=False).enable_gpu is False
    with pytest.warns(FutureWarning):
        assert PARSynthesizer(metadata, cuda=True).enable_gpu is True
    with pytest.raises(SynthesizerInputError, match="cuda"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PARSynthesizer(metadata, cuda="yes")


# -- item 4: SDV 2.x forms and error classes ------------------------------------------------------
def test_sample_sequences_returns_a_table_dict(group_par, group_panel):
    group_par.set_random_state(4)
    sampled = group_par.sample_sequences(6)
    assert list(sampled) == ["panel"]
    assert sampled["panel"]["entity"].nunique() == 6
    assert list(sampled["panel"].columns) == list(group_panel.columns)
    fixed = group_par.sample_sequences(3, sequence_length=4)["panel"]
    assert (fixed.groupby("entity").size() == 4).all()


def test_sdv_error_classes(group_panel):
    synthesizer = PARSynthesizer(_metadata(group_panel), context_columns=["group"], epochs=2, seed=0, enable_gpu=False)
    for call in (lambda: synthesizer.sample(2), lambda: synthesizer.sample_sequences(2),
                 lambda: synthesizer.sample_sequential_columns(pd.DataFrame({"group": ["A"]})),
                 synthesizer.get_loss_values):
        with pytest.raises(NotFittedError, match="fit"):
            call()
    synthesizer.fit({"panel": group_panel})
    for call in (lambda: synthesizer.sample(-1), lambda: synthesizer.sample_sequences(2, sequence_length=0)):
        with pytest.raises(SynthesizerInputError):
            call()
    for kwargs in ({"epochs": 0}, {"context_columns": "group"}, {"context_columns": ["nope"]},
                   {"context_columns": ["entity"]}, {"early_stopping_patience": 3, "validation_split": 0.0}):
        with pytest.raises(SynthesizerInputError, match=next(iter(kwargs))):
            PARSynthesizer(_metadata(group_panel), **kwargs)
    bad_key = group_panel.assign(entity=group_panel["entity"].where(group_panel.index != 3))
    varying = group_panel.assign(school=np.where(group_panel.index == 1, "east", group_panel["school"]))
    for data, match in ((bad_key, "'entity'.*missing"), (varying, "school.*vary")):
        with pytest.raises(InvalidDataError, match=match):
            PARSynthesizer(_metadata(group_panel), context_columns=["school"], epochs=1, enable_gpu=False).fit(data)


# -- item 8: the index and min/max columns stay in the real range --------------------------------
def test_long_sequences_stay_in_the_real_range(gapminder):
    synthesizer = PARSynthesizer(_metadata(gapminder, key="country", index="year"), epochs=3, seed=0, enable_gpu=False)
    synthesizer.fit(gapminder)
    synthetic = synthesizer.sample(20, sequence_length=12)
    assert synthetic["year"].between(1952, 2007).all()
    for column in ("lifeExp", "pop", "gdpPercap"):
        assert synthetic[column].between(gapminder[column].min(), gapminder[column].max()).all(), column
    with pytest.raises(SamplingError, match="'year'.*12"):
        synthesizer.sample(2, sequence_length=30)
    unbounded = PARSynthesizer(
        _metadata(gapminder, key="country", index="year"), enforce_min_max_values=False, epochs=1, seed=0, enable_gpu=False
    )
    unbounded.fit(gapminder)
    assert unbounded.sample(2, sequence_length=30)["year"].max() > 2007


def test_irregular_gaps_are_compressed_to_fit():
    rng = np.random.default_rng(3)
    rows = []
    for entity in range(80):
        t = 0.0
        for step in range(int(rng.integers(2, 6))):
            rows.append({"entity": entity, "t": round(t, 1), "x": rng.normal()})
            t += float(rng.uniform(1, 10))
    frame = pd.DataFrame(rows)
    synthesizer = PARSynthesizer(_metadata(frame), epochs=3, seed=0, enable_gpu=False)
    synthesizer.fit(frame)
    synthetic = synthesizer.sample(30, sequence_length=9)
    assert synthetic["t"].between(frame["t"].min(), frame["t"].max()).all()
    assert (synthetic.groupby("entity")["t"].diff().dropna() > 0).all()


def test_datetime_index_and_random_walks_stay_in_range():
    rng = np.random.default_rng(4)
    lengths = rng.integers(2, 9, 60)
    frame = pd.DataFrame({
        "entity": np.repeat(np.arange(60), lengths),
        "t": np.concatenate([pd.date_range("2024-01-01", periods=n, freq="7D") for n in lengths]),
        "walk": np.concatenate([np.cumsum(rng.normal(1.0, 1.0, n)) for n in lengths]).round(2),
    })
    synthesizer = PARSynthesizer(_metadata(frame), epochs=3, seed=0, enable_gpu=False)
    synthesizer.fit(frame)
    synthetic = synthesizer.sample(20, sequence_length=8)
    assert synthetic["t"].between(frame["t"].min(), frame["t"].max()).all()
    assert synthetic["walk"].between(frame["walk"].min(), frame["walk"].max()).all()
    with pytest.raises(SamplingError, match="'t'.*at most 8 steps"):
        synthesizer.sample(1, sequence_length=9)


# -- issue 11 item 3: PII constant per sequence stays constant -----------------------------------
def test_pii_constant_per_sequence_is_generated_once_per_sequence(group_panel):
    panel = group_panel.copy()
    names = {e: f"Real Person {i}" for i, e in enumerate(panel["entity"].unique())}
    panel["patient"] = panel["entity"].map(names)
    panel["nurse"] = [f"Nurse {i}" for i in range(len(panel))]  # varies within a sequence
    synthesizer = PARSynthesizer(
        _metadata(panel, pii=("patient", "nurse")), context_columns=["group"], epochs=2, seed=0, enable_gpu=False
    )
    synthesizer.fit(panel)
    for synthetic in (synthesizer.sample(20), synthesizer.sample_sequential_columns(pd.DataFrame({"group": ["B"] * 5}))):
        per_entity = synthetic.groupby("entity")
        assert (per_entity["patient"].nunique() == 1).all()
        assert synthetic.drop_duplicates("entity")["patient"].nunique() >= 0.8 * synthetic["entity"].nunique()
        assert (per_entity["nurse"].nunique() > 1).any()
        assert not synthetic["patient"].isin(panel["patient"]).any()


def test_datetime_and_boolean_context_condition_the_rest():
    rng = np.random.default_rng(5)
    rows = []
    for entity in range(100):
        member = entity % 3 == 0
        signup = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
        length = 2 if member else 9
        for step in range(length):
            rows.append({"entity": entity, "t": step, "member": member, "signup": signup, "x": rng.normal()})
    frame = pd.DataFrame(rows)
    synthesizer = PARSynthesizer(_metadata(frame), context_columns=["member"], epochs=2, seed=0, enable_gpu=False)
    synthesizer.fit(frame)
    synthetic = synthesizer.sample_sequential_columns(pd.DataFrame({"member": [True] * 5 + [False] * 5}))
    lengths = synthetic.groupby("entity", sort=False).size().tolist()
    assert lengths == [2] * 5 + [9] * 5
    assert synthetic["signup"].isin(set(frame["signup"])).all()
    late = frame.drop_duplicates("entity").sort_values("signup").iloc[-1]
    by_date = synthesizer.sample_sequential_columns(pd.DataFrame({"signup": [late["signup"]] * 3}))
    assert (by_date["signup"] == late["signup"]).all()
    assert by_date.groupby("entity").size().isin([2, 9]).all()
    with pytest.warns(UserWarning, match="'signup'.*NaT"):
        missing = synthesizer.sample_sequential_columns(pd.DataFrame({"signup": [pd.NaT], "member": [True]}))
    assert missing["signup"].isna().all() and len(missing) == 2


@pytest.mark.slow
def test_side_by_side_with_sdv(group_panel):
    """The same SDV 2.0 calls on SDV's PAR and ours: same call forms, return shapes and error names."""
    sdv_sequential = pytest.importorskip("sdv.sequential")
    from sdv.metadata import Metadata as SDVMetadata

    metadata = _metadata(group_panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SDV 2.0 warns about V1's computer_representation
        sdv_metadata = SDVMetadata.load_from_dict(metadata.to_dict())
    engines = {
        "sdv": sdv_sequential.PARSynthesizer(sdv_metadata, context_columns=["group"], epochs=1),
        "ours": PARSynthesizer(metadata, context_columns=["group"], epochs=1, seed=0, enable_gpu=False),
    }
    results = {}
    for name, synthesizer in engines.items():
        with pytest.raises(Exception) as before_fit:
            synthesizer.sample_sequences(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synthesizer.fit({"panel": group_panel})
            sampled = synthesizer.sample_sequences(4)
        results[name] = (type(before_fit.value).__name__, list(sampled), sampled["panel"]["entity"].nunique(),
                         sorted(sampled["panel"].columns))
    assert results["ours"] == results["sdv"] == ("NotFittedError", ["panel"], 4, sorted(group_panel.columns))
