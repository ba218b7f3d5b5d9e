"""A small relational dataset with every shape the IndependentSynthesizer handles, for tests,
docs and demos (made up with numpy; no download):

    users (string keys 'U00001') --< orders (10% guest orders: null user) --< order_items >-- products
    users --< transfers >-- users    (two foreign keys to the same parent; 30% null receivers)
    users --< favorites >-- products (a link table: keys only)
    settings                         (no relationships)
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_demo_data(num_users: int = 300, seed: int = 0) -> tuple[dict, dict]:
    """({table: DataFrame}, SDV multi-table metadata dict)."""
    rng = np.random.default_rng(seed)
    users = pd.DataFrame({
        "user_id": [f"U{i:05d}" for i in range(1, num_users + 1)],
        "age": rng.integers(18, 80, num_users),
        "country": rng.choice(["US", "FR", "DE", "BR"], num_users, p=[0.5, 0.2, 0.2, 0.1]),
        "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, num_users), unit="D"),
    })
    num_products = max(num_users // 8, 2)
    products = pd.DataFrame({
        "product_id": np.arange(1, num_products + 1),
        "price": np.round(rng.lognormal(3, 0.6, num_products), 2),
        "category": rng.choice(["book", "game", "tool"], num_products),
    })
    # Orders per user: many with none, a long tail; 10% guest orders have no user.
    per_user = rng.negative_binomial(1, 0.35, num_users)
    order_users = np.repeat(users["user_id"].to_numpy(), per_user)
    num_guests = int(round(len(order_users) / 9))
    order_users = np.concatenate([order_users, np.full(num_guests, None, dtype=object)])
    num_orders = len(order_users)
    orders = pd.DataFrame({
        "order_id": np.arange(1, num_orders + 1),
        "user_id": order_users,
        "amount": np.round(rng.gamma(2.0, 30.0, num_orders), 2),
        "status": rng.choice(["paid", "shipped", "returned"], num_orders, p=[0.3, 0.6, 0.1]),
    })
    per_order = 1 + rng.poisson(1.5, num_orders)
    popularity = rng.dirichlet(np.full(num_products, 0.5))
    num_items = int(per_order.sum())
    order_items = pd.DataFrame({
        "item_id": np.arange(1, num_items + 1),
        "order_id": np.repeat(orders["order_id"].to_numpy(), per_order),
        "product_id": rng.choice(products["product_id"].to_numpy(), num_items, p=popularity),
        "quantity": 1 + rng.poisson(0.4, num_items),
    })
    num_transfers = num_users * 2
    sender_weights = rng.gamma(0.7, 1.0, num_users)
    senders = rng.choice(users["user_id"].to_numpy(), num_transfers, p=sender_weights / sender_weights.sum())
    receivers = rng.choice(users["user_id"].to_numpy(), num_transfers).astype(object)
    receivers[rng.random(num_transfers) < 0.3] = None
    transfers = pd.DataFrame({
        "transfer_id": np.arange(1, num_transfers + 1),
        "sender_id": senders,
        "receiver_id": receivers,
        "value": np.round(rng.exponential(50.0, num_transfers), 2),
    })
    num_favorites = num_users
    favorites = pd.DataFrame({
        "favorite_id": np.arange(1, num_favorites + 1),
        "user_id": rng.choice(users["user_id"].to_numpy(), num_favorites),
        "product_id": rng.choice(products["product_id"].to_numpy(), num_favorites, p=popularity),
    })
    settings = pd.DataFrame({
        "name": ["theme", "language", "timezone", "currency", "region"],
        "value": [1.0, 2.0, 3.5, 0.5, 2.0],
    })
    data = {
        "users": users, "products": products, "orders": orders, "order_items": order_items,
        "transfers": transfers, "favorites": favorites, "settings": settings,
    }
    num = {"sdtype": "numerical"}
    cat = {"sdtype": "categorical"}
    key = {"sdtype": "id"}
    metadata = {
        "METADATA_SPEC_VERSION": "V1",
        "tables": {
            "users": {"primary_key": "user_id", "columns": {
                "user_id": key,
                "age": num, "country": cat, "signup": {"sdtype": "datetime"}}},
            "products": {"primary_key": "product_id", "columns": {"product_id": key, "price": num, "category": cat}},
            "orders": {"primary_key": "order_id", "columns": {
                "order_id": key, "user_id": key, "amount": num, "status": cat}},
            "order_items": {"primary_key": "item_id", "columns": {
                "item_id": key, "order_id": key, "product_id": key, "quantity": num}},
            "transfers": {"primary_key": "transfer_id", "columns": {
                "transfer_id": key, "sender_id": key, "receiver_id": key, "value": num}},
            "favorites": {"primary_key": "favorite_id", "columns": {
                "favorite_id": key, "user_id": key, "product_id": key}},
            "settings": {"columns": {"name": cat, "value": num}},
        },
        "relationships": [
            _relationship("users", "user_id", "orders", "user_id"),
            _relationship("orders", "order_id", "order_items", "order_id"),
            _relationship("products", "product_id", "order_items", "product_id"),
            _relationship("users", "user_id", "transfers", "sender_id"),
            _relationship("users", "user_id", "transfers", "receiver_id"),
            _relationship("users", "user_id", "favorites", "user_id"),
            _relationship("products", "product_id", "favorites", "product_id"),
        ],
    }
    return data, metadata


def _relationship(parent, pk, child, fk) -> dict:
    return {"parent_table_name": parent, "parent_primary_key": pk, "child_table_name": child, "child_foreign_key": fk}
