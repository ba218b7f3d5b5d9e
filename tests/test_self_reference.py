"""Self-referencing tables generated as forests (issue 14 item 2), on Chinook's employee.reports_to."""

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError, InvalidMetadataError
from synth_assets.metadata import Metadata
from synth_assets.multi_table import IndependentSynthesizer
from synth_assets.multi_table.self_reference import SelfReference, row_depths


@pytest.fixture(scope="module")
def chinook(chinook_tables):
    data, metadata = chinook_tables
    tables = ("employee", "customer")
    sub = {t: data[t] for t in tables}
    meta = {
        "tables": {t: metadata["tables"][t] for t in tables},
        "relationships": [r for r in metadata["relationships"] if r["child_table_name"] in tables],
    }
    return sub, meta


@pytest.fixture(scope="module")
def fitted(chinook):
    data, metadata = chinook
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.fit(data)
    return synthesizer


def _forest_checks(frame):
    ids, refs = frame["id"], frame["reports_to_id"]
    assert ids.is_unique
    assert refs.dropna().isin(ids).all()  # every reference names an existing row
    depth = row_depths(frame, "employee", "id", "reports_to_id")  # raises on a cycle
    assert (refs.isna().to_numpy() == (depth == 0)).all()  # roots, and only roots, keep null
    return depth


def _share_similarity(real, synthetic):
    """1 - total variation distance between two integer distributions."""
    real = pd.Series(real).value_counts(normalize=True)
    synthetic = pd.Series(synthetic).value_counts(normalize=True)
    return 1 - 0.5 * real.subtract(synthetic, fill_value=0).abs().sum()


def _spans(frame):
    return frame["id"].map(frame["reports_to_id"].value_counts()).fillna(0).astype(int).to_numpy()


def test_metadata_accepts_self_references_and_refuses_real_cycles(chinook):
    _, metadata = chinook
    Metadata.load_from_dict(metadata).validate()
    meta = Metadata.load_from_dict(metadata)
    with pytest.raises(InvalidMetadataError, match=r"cycle \(.*customer.*employee.*\)"):
        meta.add_relationship("customer", "employee", "id", "title")
    assert meta.topological_order() == ["employee", "customer"]
    assert meta.get_root_tables() == ["employee"]


@pytest.mark.parametrize("scale", [1, 5, 20])
def test_forest_integrity_no_cycles_roots_null(chinook, fitted, scale):
    data, _ = chinook
    for seed in range(3):
        fitted.set_random_state(seed)
        synthetic = fitted.sample(scale=scale)
        employee = synthetic["employee"]
        assert len(employee) == 8 * scale
        _forest_checks(employee)
        assert synthetic["customer"]["support_rep_id"].isin(employee["id"]).all()  # ordinary child too


def test_depth_and_span_follow_the_real_forest(chinook, fitted):
    data, _ = chinook
    real = data["employee"]
    fitted.set_random_state(7)
    synthetic = fitted.sample(scale=25)["employee"]
    depth = _forest_checks(synthetic)
    real_depth = row_depths(real, "employee", "id", "reports_to_id")
    assert _share_similarity(real_depth, depth) >= 0.95
    assert _share_similarity(_spans(real), _spans(synthetic)) >= 0.8
    assert (synthetic["reports_to_id"].isna().mean()) == pytest.approx(1 / 8, abs=0.01)


def test_columns_keep_their_dependence_on_depth(chinook, fitted):
    data, _ = chinook
    real = data["employee"]
    real_depth = row_depths(real, "employee", "id", "reports_to_id")
    fitted.set_random_state(3)
    synthetic = fitted.sample(scale=25)["employee"]
    depth = row_depths(synthetic, "employee", "id", "reports_to_id")
    # Real: depth 0 is the General Manager, depth 1 managers, depth 2 staff and agents.
    real_titles = real.groupby(real_depth)["title"].agg(set)
    def agreement(titles):
        return np.mean([t in real_titles[d] for t, d in zip(titles, depth)])

    assert agreement(synthetic["title"]) >= 0.65
    # the same titles placed regardless of depth agree about 47% of the time
    shuffled = np.random.default_rng(0).permutation(synthetic["title"].to_numpy())
    assert agreement(shuffled) < 0.55


def test_cyclic_references_are_refused_naming_the_table(chinook):
    data, metadata = chinook
    employee = data["employee"].copy()
    employee.loc[0, "reports_to_id"] = 7.0  # 1 -> 7 -> 6 -> 1
    with pytest.raises(InvalidDataError, match=r"table 'employee', column 'reports_to_id'.*cycle"):
        IndependentSynthesizer(metadata).fit({**data, "employee": employee})
    employee.loc[0, "reports_to_id"] = 1.0  # a row that reports to itself
    with pytest.raises(InvalidDataError, match="cycle"):
        SelfReference.learn("employee", "id", "reports_to_id", employee)


def test_per_table_steps_match_fit(chinook, fitted):
    data, metadata = chinook
    synthesizer = IndependentSynthesizer(metadata)
    models = {t: synthesizer.fit_table(t, data[t]) for t in data}
    synthesizer.assemble(models, synthesizer.learn_cardinality(data))
    synthesizer.set_random_state(0)
    _forest_checks(synthesizer.sample(scale=3)["employee"])


def test_two_self_references_are_refused():
    metadata = {
        "tables": {"node": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "a": {"sdtype": "id"}, "b": {"sdtype": "id"}}}},
        "relationships": [
            {"parent_table_name": "node", "parent_primary_key": "id", "child_table_name": "node", "child_foreign_key": fk}
            for fk in ("a", "b")
        ],
    }
    with pytest.raises(InvalidMetadataError, match=r"table 'node': 2 self-references"):
        IndependentSynthesizer(metadata)


def test_save_and_load_keeps_the_forest(fitted, tmp_path):
    path = tmp_path / "chinook.pkl"
    fitted.save(path)
    loaded = IndependentSynthesizer.load(path)
    fitted.set_random_state(4)
    loaded.set_random_state(4)
    first, second = fitted.sample(scale=2), loaded.sample(scale=2)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_multi_table_quality_handles_the_self_reference(chinook, fitted):
    from synth_assets.evaluation import evaluate_multi_table_quality

    data, metadata = chinook
    fitted.set_random_state(1)
    report = evaluate_multi_table_quality(data, fitted.sample(scale=1), metadata)
    trends = report.get_details("Intertable Trends")
    own = trends[(trends["Parent Table"] == "employee") & (trends["Child Table"] == "employee")]
    assert len(own) and set(own["Column 1"]) <= set(data["employee"].columns)  # parent side named apart
    assert 0.3 < report.get_score() <= 1.0
    identical = evaluate_multi_table_quality(data, data, metadata)
    assert identical.get_score() == pytest.approx(1.0)


def test_self_reference_in_a_table_that_also_has_a_parent(chinook):
    """employee gains an ordinary parent (its office, one per real city) besides reports_to."""
    data, metadata = chinook
    employee = data["employee"].copy()
    offices = pd.DataFrame({"office_id": range(employee["city"].nunique()), "city": employee["city"].unique()})
    employee["office_id"] = employee["city"].map(offices.set_index("city")["office_id"])
    meta = {**metadata, "tables": {**metadata["tables"]}, "relationships": list(metadata["relationships"])}
    meta["tables"]["office"] = {"primary_key": "office_id", "columns": {"office_id": {"sdtype": "id"}, "city": {"sdtype": "categorical"}}}
    meta["tables"]["employee"] = {**meta["tables"]["employee"], "columns": {**meta["tables"]["employee"]["columns"], "office_id": {"sdtype": "id"}}}
    meta["relationships"].append({"parent_table_name": "office", "parent_primary_key": "office_id",
                                  "child_table_name": "employee", "child_foreign_key": "office_id"})
    synthesizer = IndependentSynthesizer(meta)
    synthesizer.fit({**data, "employee": employee, "office": offices})
    for seed, scale in ((0, 1), (1, 4), (2, 0.5)):
        synthesizer.set_random_state(seed)
        synthetic = synthesizer.sample(scale=scale)
        _forest_checks(synthetic["employee"])
        assert synthetic["employee"]["office_id"].isin(synthetic["office"]["office_id"]).all()
        assert synthetic["customer"]["support_rep_id"].isin(synthetic["employee"]["id"]).all()
