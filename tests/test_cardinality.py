"""Cardinality: children-per-parent learning, key generation and foreign-key wiring."""

import warnings

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError
from synth_assets.evaluation import cardinality_shape_similarity, referential_integrity
from synth_assets.metadata import Metadata
from synth_assets.multi_table import Cardinality, learn_cardinality
from synth_assets.multi_table.cardinality import _adjust_total, _largest_remainder
from multi_table_demo import make_demo_data


@pytest.fixture(scope="module")
def demo():
    data, metadata = make_demo_data(num_users=300, seed=0)
    return data, Metadata.load_from_dict(metadata)


@pytest.fixture(scope="module")
def cardinality(demo):
    data, metadata = demo
    return learn_cardinality(metadata, data)


def _children_per_parent(parent, pk, child, fk):
    counts = child[fk].dropna().value_counts()
    return parent[pk].map(counts).fillna(0).astype(int).to_numpy()


def _check_integrity(keys, metadata):
    for name, table in metadata.tables.items():
        if table.primary_key:
            assert keys[name][table.primary_key].is_unique, name
            assert keys[name][table.primary_key].notna().all(), name
    for r in metadata.relationships:
        fk = keys[r["child_table_name"]][r["child_foreign_key"]].dropna()
        assert fk.isin(keys[r["parent_table_name"]][r["parent_primary_key"]]).all(), r


def test_learned_distribution_matches_the_real_counts(demo, cardinality):
    data, _ = demo
    real = _children_per_parent(data["users"], "user_id", data["orders"], "user_id")
    learned = cardinality.get_relationship("orders", "user_id")
    distribution = learned.distribution()
    expected = pd.Series(real).value_counts(normalize=True).sort_index()
    np.testing.assert_allclose(distribution.to_numpy(), expected.to_numpy())
    assert list(distribution.index) == list(expected.index)
    assert distribution.index[0] == 0  # childless parents are part of the distribution
    assert learned.max_count == real.max()
    assert learned.null_share == pytest.approx(data["orders"]["user_id"].isna().mean())
    assert cardinality.table_rows == {name: len(frame) for name, frame in data.items()}


def test_primary_relationship_is_the_one_that_pins_the_size(cardinality):
    # order_items: 600 orders with ~2.5 items each fix the total far better than 37 products.
    assert cardinality.primary_relationship("order_items").parent_table_name == "orders"
    assert cardinality.primary_relationship("favorites").child_foreign_key == "user_id"
    assert cardinality.primary_relationship("users") is None
    described = cardinality.describe()
    assert described.groupby("Child Table")["Primary"].sum().to_dict() == {
        "favorites": 1, "order_items": 1, "orders": 1, "transfers": 1,
    }


@pytest.mark.parametrize("scale", [0.1, 1, 3])
def test_keys_are_unique_and_every_foreign_key_has_a_parent(demo, cardinality, scale):
    data, metadata = demo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # settings: 5 x 0.1 rounds to 0
        for seed in range(15):
            keys = cardinality.sample_keys(scale, seed=seed)
            _check_integrity(keys, metadata)
    assert referential_integrity(None, keys, metadata)["Score"].eq(1.0).all()


def test_keys_keep_the_real_format_and_dtype(demo, cardinality):
    data, _ = demo
    keys = cardinality.sample_keys(1.0, seed=0)
    users = keys["users"]["user_id"]
    assert users.dtype == object and users.str.fullmatch(r"U\d{5}").all()
    assert not users.isin(data["users"]["user_id"]).any()  # generated, never a real key
    assert keys["orders"]["order_id"].dtype == np.int64
    assert keys["order_items"]["product_id"].dtype == data["order_items"]["product_id"].dtype
    assert keys["orders"]["user_id"].dtype == object  # string foreign keys stay strings


def test_root_tables_follow_scale_and_tiny_scales_warn(cardinality):
    keys = cardinality.sample_keys(3, seed=0)
    assert len(keys["users"]) == 900 and len(keys["products"]) == 111 and len(keys["settings"]) == 15
    with pytest.warns(UserWarning, match="table 'settings'.*sampling 1 row"):
        keys = cardinality.sample_keys(0.1, seed=0)
    assert len(keys["settings"]) == 1 and len(keys["users"]) == 30


@pytest.mark.parametrize("scale", [1, 3])
def test_child_totals_follow_scale(demo, cardinality, scale):
    data, _ = demo
    keys = cardinality.sample_keys(scale, seed=4)
    for child in ("orders", "order_items", "transfers", "favorites"):
        assert len(keys[child]) == pytest.approx(scale * len(data[child]), rel=0.05), child


@pytest.mark.parametrize("scale", [1, 3])
def test_cardinality_shape_is_close_to_the_real_one(demo, cardinality, scale):
    data, metadata = demo
    for seed in range(3):
        keys = cardinality.sample_keys(scale, seed=seed)
        scores = cardinality_shape_similarity(data, keys, metadata)
        assert (scores["Score"] >= 0.9).all(), scores


def test_cardinality_threshold_can_fail(demo, cardinality):
    # The same check rejects counts drawn from a wrong distribution (one child per parent).
    data, metadata = demo
    keys = cardinality.sample_keys(1, seed=0)
    orders = keys["orders"].copy()
    users = keys["users"]["user_id"]
    orders.loc[orders["user_id"].notna(), "user_id"] = np.resize(users.to_numpy(), orders["user_id"].notna().sum())
    keys["orders"] = orders
    scores = cardinality_shape_similarity(data, keys, metadata).set_index("Child Table")
    assert scores.loc["orders", "Score"] < 0.9


def test_null_foreign_keys_keep_their_share(demo, cardinality):
    data, _ = demo
    for scale in (1, 3):
        keys = cardinality.sample_keys(scale, seed=1)
        for table, fk in (("orders", "user_id"), ("transfers", "receiver_id"), ("transfers", "sender_id")):
            assert keys[table][fk].isna().mean() == pytest.approx(data[table][fk].isna().mean(), abs=0.01), (table, fk)


def test_secondary_parents_bounds_are_respected(demo, cardinality):
    data, _ = demo
    for table, fk, parent, pk in (
        ("order_items", "product_id", "products", "product_id"),
        ("transfers", "sender_id", "users", "user_id"),
        ("favorites", "product_id", "products", "product_id"),
    ):
        assert cardinality.primary_relationship(table).child_foreign_key != fk
        real_max = cardinality.get_relationship(table, fk).max_count
        for scale, seed in ((1, 0), (3, 1), (1, 2)):
            keys = cardinality.sample_keys(scale, seed=seed)
            counts = _children_per_parent(keys[parent], pk, keys[table], fk)
            assert counts.max() <= real_max, (table, fk, counts.max(), real_max)


def test_multi_level_hierarchy_and_shared_parent(demo, cardinality):
    # order_items -> orders -> users: grandchildren point at synthetic children only, and the
    # two foreign keys of transfers (same parent) both point at synthetic users.
    keys = cardinality.sample_keys(1, seed=3)
    assert keys["order_items"]["order_id"].isin(keys["orders"]["order_id"]).all()
    for fk in ("sender_id", "receiver_id"):
        assert keys["transfers"][fk].dropna().isin(keys["users"]["user_id"]).all()


def test_sampling_is_reproducible(cardinality):
    a = cardinality.sample_keys(1, seed=11)
    b = cardinality.sample_keys(1, seed=11)
    c = cardinality.sample_keys(1, seed=12)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["orders"]["user_id"].equals(c["orders"]["user_id"])


def test_joint_null_pattern_is_kept():
    # Each payment has exactly one of card_id / account_id: the pattern survives wiring.
    rng = np.random.default_rng(0)
    cards = pd.DataFrame({"card_id": np.arange(50)})
    accounts = pd.DataFrame({"account_id": np.arange(80)})
    n = 400
    use_card = rng.random(n) < 0.4
    payments = pd.DataFrame({
        "payment_id": np.arange(n),
        "card_id": np.where(use_card, rng.integers(0, 50, n), np.nan),
        "account_id": np.where(~use_card, rng.integers(0, 80, n), np.nan),
    })
    metadata = Metadata.load_from_dict({
        "tables": {
            "cards": {"primary_key": "card_id", "columns": {"card_id": {"sdtype": "id"}}},
            "accounts": {"primary_key": "account_id", "columns": {"account_id": {"sdtype": "id"}}},
            "payments": {"primary_key": "payment_id", "columns": {
                "payment_id": {"sdtype": "id"}, "card_id": {"sdtype": "id"}, "account_id": {"sdtype": "id"}}},
        },
        "relationships": [
            {"parent_table_name": "cards", "parent_primary_key": "card_id", "child_table_name": "payments", "child_foreign_key": "card_id"},
            {"parent_table_name": "accounts", "parent_primary_key": "account_id", "child_table_name": "payments", "child_foreign_key": "account_id"},
        ],
    })
    data = {"cards": cards, "accounts": accounts, "payments": payments}
    cardinality = Cardinality.learn(metadata, data)
    for scale in (0.5, 1, 2):
        keys = cardinality.sample_keys(scale, seed=0)
        out = keys["payments"]
        assert (out["card_id"].isna() ^ out["account_id"].isna()).all()
        assert out["card_id"].notna().mean() == pytest.approx(use_card.mean(), abs=0.02)
        assert out["card_id"].dtype == np.float64  # ints with nulls, as in the real column
        _check_integrity(keys, metadata)


def test_learning_rejects_bad_keys(demo):
    data, metadata = demo
    orphan = dict(data, orders=data["orders"].assign(user_id=data["orders"]["user_id"].replace("U00001", "U99999")))
    with pytest.raises(InvalidDataError, match=r"table 'orders', column 'user_id'.*U99999"):
        learn_cardinality(metadata, orphan)
    users = data["users"].copy()
    users.loc[1, "user_id"] = users.loc[0, "user_id"]
    with pytest.raises(InvalidDataError, match=r"table 'users', column 'user_id'.*duplicate"):
        learn_cardinality(metadata, dict(data, users=users))
    with pytest.raises(InvalidDataError, match=r"'ghost'.*not in the metadata"):
        learn_cardinality(metadata, dict(data, ghost=data["settings"]))
    with pytest.raises(InvalidDataError, match=r"'settings'.*missing from the data"):
        learn_cardinality(metadata, {k: v for k, v in data.items() if k != "settings"})


def test_scale_must_be_positive(cardinality):
    for bad in (0, -1, float("nan"), "2", True):
        with pytest.raises(ValueError, match="scale"):
            cardinality.sample_keys(bad)


def test_secondary_bound_is_relaxed_with_a_warning_only_when_infeasible():
    # 2 secondary parents that held at most 3 children each cannot take 10 children: warn, relax.
    metadata = Metadata.load_from_dict({
        "tables": {
            "a": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}}},
            "b": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}}},
            "c": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "a_id": {"sdtype": "id"}, "b_id": {"sdtype": "id"}}},
        },
        "relationships": [
            {"parent_table_name": "a", "parent_primary_key": "id", "child_table_name": "c", "child_foreign_key": "a_id"},
            {"parent_table_name": "b", "parent_primary_key": "id", "child_table_name": "c", "child_foreign_key": "b_id"},
        ],
    })
    data = {
        "a": pd.DataFrame({"id": np.arange(6)}),
        "b": pd.DataFrame({"id": np.arange(2)}),
        "c": pd.DataFrame({"id": np.arange(6), "a_id": np.arange(6), "b_id": [0, 0, 0, 1, 1, 1]}),
    }
    cardinality = Cardinality.learn(metadata, data)
    keys = cardinality.sample_keys(1, seed=0)
    assert keys["c"]["b_id"].value_counts().max() <= 3
    cardinality._tables["b"].num_rows = 1  # now one parent must hold all 6 children
    with pytest.warns(UserWarning, match=r"table 'c', column 'b_id'.*allowing up to 6"):
        keys = cardinality.sample_keys(1, seed=0)
    _check_integrity(keys, metadata)


def test_helpers():
    rng = np.random.default_rng(0)
    allocation = _largest_remainder(np.array([0.5, 0.3, 0.2]), 7, rng)
    assert allocation.sum() == 7 and np.all(np.abs(allocation - np.array([3.5, 2.1, 1.4])) < 1)
    counts = _adjust_total(np.array([0, 5, 2, 9]), 20, cap=9, rng=rng)
    assert counts.sum() == 20 and counts.max() <= 9 and counts.min() >= 0
    counts = _adjust_total(np.array([0, 5, 2, 9]), 3, cap=9, rng=rng)
    assert counts.sum() == 3 and counts.min() >= 0
