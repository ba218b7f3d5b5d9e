"""Category layout for the copula: ordered by the number each category column explains best."""

import numpy as np
import pandas as pd

from synth_assets.processing.category_order import DependenceOrder


def dependence_order(categories, numbers):
    return DependenceOrder(numbers).order(categories)


def test_orders_by_mean_rank_of_the_best_explained_number():
    rng = np.random.default_rng(0)
    group = pd.Series(rng.choice(["b", "c", "a", None], 3000))
    level = group.map({"a": 30.0, "b": 10.0, "c": 20.0, None: 40.0}).to_numpy()
    numbers = pd.DataFrame({"noise": rng.normal(size=3000), "level": level + rng.normal(0, 1, 3000)})
    order = dependence_order(group, numbers)
    assert order[:3] == ["b", "c", "a"] and pd.isna(order[3])


def test_no_dependence_or_too_few_categories_keeps_the_order():
    rng = np.random.default_rng(1)
    numbers = pd.DataFrame({"x": rng.normal(size=2000)})
    assert dependence_order(pd.Series(rng.choice(list("abc"), 2000)), numbers) is None
    assert dependence_order(pd.Series(rng.choice(list("ab"), 2000)), numbers) is None
    assert dependence_order(pd.Series(list("abc") * 10), pd.DataFrame(index=range(30))) is None


def test_rare_categories_missing_from_the_sample_keep_a_place(monkeypatch):
    import synth_assets.processing.category_order as category_order

    monkeypatch.setattr(category_order, "_MAX_ROWS", 100)
    rng = np.random.default_rng(2)
    group = pd.Series(np.r_[rng.choice(["a", "b", "c"], 5000), ["rare"]])
    numbers = pd.DataFrame({"x": group.map({"a": 1.0, "b": 3.0, "c": 2.0, "rare": 9.0}) + rng.normal(0, 0.1, 5001)})
    order = dependence_order(group, numbers)
    assert sorted(order) == ["a", "b", "c", "rare"]
    assert [label for label in order if label != "rare"] == ["a", "c", "b"]
