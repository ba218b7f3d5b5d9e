"""Per-table sizes and SDV 2.x call forms of IndependentSynthesizer (issue 12 item 7, issue 14)."""

import pandas as pd
import pytest

from synth_assets.errors import NotFittedError, SynthesizerInputError
from synth_assets.multi_table import IndependentSynthesizer
from multi_table_demo import make_demo_data


@pytest.fixture(scope="module")
def demo():
    return make_demo_data(num_users=150, seed=3)


@pytest.fixture(scope="module")
def fitted(demo):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.fit(data)
    return synthesizer


def _roots(fitted):
    return fitted.metadata.get_root_tables()


def test_num_rows_dict_fixes_chosen_root_tables(demo, fitted):
    data, _ = demo
    fitted.set_random_state(0)
    synthetic = fitted.sample(num_rows={"users": 400})
    assert len(synthetic["users"]) == 400
    # children follow their synthetic parents: about 400 / 150 times the real orders
    ratio = len(synthetic["orders"]) / len(data["orders"])
    assert ratio == pytest.approx(400 / 150, rel=0.1)
    fk = synthetic["orders"]["user_id"]
    assert fk.dropna().isin(synthetic["users"]["user_id"]).all()
    # other root tables keep `scale`
    for root in _roots(fitted):
        if root != "users":
            assert len(synthetic[root]) == len(data[root])


def test_num_rows_with_main_table_name_scales_the_rest(demo, fitted):
    data, _ = demo
    fitted.set_random_state(1)
    synthetic = fitted.sample(num_rows=300, main_table_name="users")
    assert len(synthetic["users"]) == 300
    for root in _roots(fitted):
        if root != "users":
            assert len(synthetic[root]) == max(1, round(len(data[root]) * 300 / 150))
    assert len(synthetic["orders"]) / len(data["orders"]) == pytest.approx(2.0, rel=0.1)


def test_sample_scale_is_sample(demo, fitted):
    fitted.set_random_state(2)
    first = fitted.sample_scale(0.5)
    fitted.set_random_state(2)
    second = fitted.sample(scale=0.5)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_rows": {"orders": 10}}, r"num_rows.*'orders'.*has parents"),
        ({"num_rows": {"nope": 10}}, r"num_rows.*'nope'.*not in the metadata"),
        ({"num_rows": {"users": 0}}, r"num_rows.*'users'.*positive integer"),
        ({"num_rows": {"users": 2.5}}, r"num_rows.*'users'.*positive integer"),
        ({"num_rows": 10, "main_table_name": "orders"}, r"main_table_name.*'orders'.*has parents"),
        ({"num_rows": 10}, r"main_table_name"),
        ({"num_rows": {"users": 10}, "main_table_name": "users"}, r"main_table_name.*only with an integer"),
        ({"main_table_name": "users"}, r"main_table_name.*needs.*num_rows"),
        ({"num_rows": "10", "main_table_name": "users"}, r"num_rows"),
    ],
)
def test_bad_sizes_are_refused_with_sdv_errors(fitted, kwargs, match):
    with pytest.raises(SynthesizerInputError, match=match):
        fitted.sample(**kwargs)


def test_unfitted_sample_raises_not_fitted(demo):
    _, metadata = demo
    with pytest.raises(NotFittedError, match="has not been fitted"):
        IndependentSynthesizer(metadata).sample(num_rows={"users": 3})


def test_two_argument_set_table_parameters(demo):
    _, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("users", {"default_distribution": "beta"})
    table = synthesizer.get_table_parameters("users")
    assert table["synthesizer_name"] == "GaussianCopulaSynthesizer"
    assert table["synthesizer_parameters"]["default_distribution"] == "beta"
    # keeps a synthesizer chosen before
    synthesizer.set_table_parameters("users", "CTGANSynthesizer", {"epochs": 2})
    synthesizer.set_table_parameters("users", {"epochs": 3})
    table = synthesizer.get_table_parameters("users")
    assert table["synthesizer_name"] == "CTGANSynthesizer" and table["synthesizer_parameters"]["epochs"] == 3
    with pytest.raises(SynthesizerInputError, match=r"table 'users'.*two dicts"):
        synthesizer.set_table_parameters("users", {"epochs": 3}, {"epochs": 4})
    with pytest.raises(SynthesizerInputError, match=r"table 'users'.*no parameter\(s\) \['epoch'\]"):
        synthesizer.set_table_parameters("users", {"epoch": 3})
    with pytest.raises(SynthesizerInputError, match="Table 'nope' is not in the metadata"):
        synthesizer.set_table_parameters("nope", {"epochs": 3})
