"""IndependentSynthesizer: API, per-table synthesizers, integrity, bad input, split fitting."""

import logging
import warnings

import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError
from synth_assets.evaluation import cardinality_shape_similarity, referential_integrity
from synth_assets.metadata import Metadata, MetadataError
from synth_assets.multi_table import Cardinality, IndependentSynthesizer, KeysOnlyTable
from multi_table_demo import make_demo_data
from synth_assets.persistence import load_synthesizer
from synth_assets.single_table import GaussianCopulaSynthesizer


@pytest.fixture(scope="module")
def demo():
    return make_demo_data(num_users=200, seed=1)


@pytest.fixture(scope="module")
def fitted(demo):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata, n_jobs=2)  # a thread pool, whatever the machine
    synthesizer.fit(data)
    return synthesizer


def _assert_integrity(synthetic, metadata: Metadata):
    for name, table in metadata.tables.items():
        if table.primary_key:
            assert synthetic[name][table.primary_key].is_unique, name
    for r in metadata.relationships:
        fk = synthetic[r["child_table_name"]][r["child_foreign_key"]].dropna()
        assert fk.isin(synthetic[r["parent_table_name"]][r["parent_primary_key"]]).all(), r


# -- parameters -----------------------------------------------------------------------------------
def test_parameters_defaults_and_copies(demo):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata, locales=["en_US", "fr_FR"])
    assert synthesizer.get_parameters() == {"locales": ["en_US", "fr_FR"], "n_jobs": None, "verbose": False}
    synthesizer.get_parameters()["locales"].append("de_DE")
    assert synthesizer.get_parameters()["locales"] == ["en_US", "fr_FR"]
    table = synthesizer.get_table_parameters("users")
    assert table["synthesizer_name"] == "GaussianCopulaSynthesizer"
    assert table["synthesizer_parameters"]["default_distribution"] == "empirical"
    assert table["synthesizer_parameters"]["locales"] == ["en_US", "fr_FR"]
    copy = synthesizer.get_metadata()
    assert isinstance(copy, Metadata) and copy.to_dict() == Metadata.load_from_dict(metadata).to_dict()
    copy.tables.pop("users")
    assert "users" in synthesizer.get_metadata().tables


def test_set_table_parameters(demo):
    _, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters(
        "orders", "GaussianCopulaSynthesizer",
        {"default_distribution": "truncnorm", "numerical_distributions": {"amount": "gamma"}},
    )
    params = synthesizer.get_table_parameters("orders")["synthesizer_parameters"]
    assert params["default_distribution"] == "truncnorm" and params["numerical_distributions"] == {"amount": "gamma"}
    synthesizer.set_table_parameters("users", "CTGANSynthesizer", {"epochs": 3, "batch_size": 20, "pac": 2})
    table = synthesizer.get_table_parameters("users")
    assert table["synthesizer_name"] == "CTGANSynthesizer"
    ctgan = table["synthesizer_parameters"]
    assert ctgan["epochs"] == 3 and ctgan["batch_size"] == 20 and ctgan["pac"] == 2
    assert ctgan["generator_dim"] == (256, 256) and ctgan["embedding_dim"] == 128  # defaults filled in
    ctgan["epochs"] = 99
    assert synthesizer.get_table_parameters("users")["synthesizer_parameters"]["epochs"] == 3


def test_set_table_parameters_rejects_bad_input(demo):
    _, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    with pytest.raises(ValueError, match=r"table 'users'.*CTGANSynthesizer has no parameter\(s\) \['epoch'\]"):
        synthesizer.set_table_parameters("users", "CTGANSynthesizer", {"epoch": 3})
    with pytest.raises(ValueError, match=r"table 'users'.*TVAESynthesizer has no parameter\(s\) \['pac'\]"):
        synthesizer.set_table_parameters("users", "TVAESynthesizer", {"pac": 2})
    with pytest.raises(ValueError, match="table_synthesizer.*'HMASynthesizer'"):
        synthesizer.set_table_parameters("users", "HMASynthesizer")
    with pytest.raises(ValueError, match="Table 'nope' is not in the metadata"):
        synthesizer.set_table_parameters("nope")
    with pytest.raises(ValueError, match=r"table 'users'.*batch_size.*multiple of `pac`"):
        synthesizer.set_table_parameters("users", "CTGANSynthesizer", {"batch_size": 30, "pac": 4})
    with pytest.raises(ValueError, match=r"table 'orders'.*'user_id'.*not in table 'orders'"):
        # keys are never modelled, so a distribution for one is refused
        synthesizer.set_table_parameters("orders", "GaussianCopulaSynthesizer", {"numerical_distributions": {"user_id": "norm"}})
    # a refused call leaves the previous choice in place
    assert synthesizer.get_table_parameters("users")["synthesizer_name"] == "GaussianCopulaSynthesizer"


def test_constructor_checks(demo):
    _, metadata = demo
    with pytest.raises(ValueError, match="n_jobs"):
        IndependentSynthesizer(metadata, n_jobs=0)
    with pytest.raises(TypeError, match="verbose"):
        IndependentSynthesizer(metadata, verbose="yes")
    with pytest.raises(ValueError, match="locales"):
        IndependentSynthesizer(metadata, locales=["xx_YY"])


# -- fit / sample ---------------------------------------------------------------------------------
def test_sample_shapes_columns_and_dtypes(demo, fitted):
    data, metadata = demo
    fitted.set_random_state(0)
    synthetic = fitted.sample()
    assert list(synthetic) == list(data)
    for name, frame in data.items():
        assert list(synthetic[name].columns) == list(frame.columns), name
        assert synthetic[name].dtypes.astype(str).to_dict() == frame.dtypes.astype(str).to_dict(), name
    assert len(synthetic["users"]) == len(data["users"])
    assert len(synthetic["orders"]) == pytest.approx(len(data["orders"]), rel=0.05)
    assert synthetic["users"]["country"].isin(data["users"]["country"]).all()
    assert set(fitted.table_fit_seconds) == set(data) and fitted.fit_seconds > 0


@pytest.mark.parametrize("scale", [0.1, 1, 3])
def test_referential_integrity_is_exact(demo, fitted, scale):
    data, metadata = demo
    metadata = Metadata.load_from_dict(metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # settings: 5 x 0.1 rounds to 0
        for seed in range(6):
            fitted.set_random_state(seed)
            synthetic = fitted.sample(scale)
            _assert_integrity(synthetic, metadata)
            assert referential_integrity(data, synthetic, metadata)["Score"].eq(1.0).all()


def test_cardinality_is_close_to_real(demo, fitted):
    data, metadata = demo
    fitted.set_random_state(5)
    scores = cardinality_shape_similarity(data, fitted.sample(), metadata)
    assert scores["Score"].min() >= 0.9, scores


def test_random_state_makes_sampling_reproducible(fitted):
    fitted.set_random_state(42)
    a = fitted.sample(0.5)
    b = fitted.sample(0.5)  # the stream moves on
    fitted.set_random_state(42)
    c = fitted.sample(0.5)
    for name in a:
        pd.testing.assert_frame_equal(a[name], c[name])
    assert not a["orders"]["amount"].equals(b["orders"]["amount"])
    with pytest.raises(TypeError, match="random_state"):
        fitted.set_random_state("1")


def test_learned_distributions_and_loss_values_errors(fitted):
    learned = fitted.get_learned_distributions("orders")
    assert set(learned) == {"amount", "status"} and learned["amount"]["distribution"] == "empirical"  # as SDV: categorical too
    with pytest.raises(ValueError, match=r"table 'orders' uses GaussianCopulaSynthesizer.*neural"):
        fitted.get_loss_values("orders")
    with pytest.raises(ValueError, match=r"table 'favorites' has only key columns"):
        fitted.get_learned_distributions("favorites")
    assert isinstance(fitted.get_table_synthesizer("favorites"), KeysOnlyTable)
    with pytest.raises(ValueError, match="Table 'x' is not in the metadata"):
        fitted.get_learned_distributions("x")


def test_unfitted_synthesizer_refuses_to_sample(demo):
    _, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    for call in (synthesizer.sample, lambda: synthesizer.get_loss_values("users"), lambda: synthesizer.get_learned_distributions("users")):
        with pytest.raises(ValueError, match="has not been fitted"):
            call()


def test_save_and_load_round_trip(fitted, tmp_path):
    path = tmp_path / "independent.pkl"
    fitted.save(path)
    for loaded in (load_synthesizer(path), IndependentSynthesizer.load(path)):
        assert isinstance(loaded, IndependentSynthesizer)
        fitted.set_random_state(3)
        loaded.set_random_state(3)
        a, b = fitted.sample(), loaded.sample()
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name])


def test_parallel_and_sequential_fits_agree(demo, fitted):
    data, metadata = demo
    sequential = IndependentSynthesizer(metadata, n_jobs=1)
    sequential.fit(data)
    sequential.set_random_state(9)
    fitted.set_random_state(9)
    a, b = sequential.sample(), fitted.sample()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_progress_is_logged_per_table(demo, caplog):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata, n_jobs=2)
    with caplog.at_level(logging.INFO, logger="synth_assets.multi_table.independent"):
        synthesizer.fit(data)
    fitted_tables = {r.args[0] for r in caplog.records if r.getMessage().startswith("fitted table")}
    assert fitted_tables == set(data)


# -- split fitting (one step per table + assemble) -------------------------------------------------
def test_fit_table_learn_cardinality_assemble_equals_fit(demo, fitted):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    models = {name: synthesizer.fit_table(name, frame) for name, frame in data.items()}
    assert not synthesizer._fitted  # fit_table does not change the synthesizer
    assert isinstance(models["orders"], GaussianCopulaSynthesizer)
    assert set(models["orders"].metadata.tables["orders"].columns) == {"amount", "status"}  # keys not modelled
    cardinality = synthesizer.learn_cardinality({name: frame[synthesizer.key_columns(name)] for name, frame in data.items()})
    assert isinstance(cardinality, Cardinality)
    assert synthesizer.assemble(models, cardinality) is synthesizer
    synthesizer.set_random_state(1)
    fitted.set_random_state(1)
    a, b = synthesizer.sample(), fitted.sample()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_assemble_checks_its_pieces(demo, fitted):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    models = {name: fitted.get_table_synthesizer(name) for name in data}
    cardinality = fitted.get_cardinality()
    with pytest.raises(ValueError, match=r"missing \['settings'\]"):
        synthesizer.assemble({k: v for k, v in models.items() if k != "settings"}, cardinality)
    with pytest.raises(ValueError, match=r"table 'users': the model was fitted for other columns"):
        synthesizer.assemble(dict(models, users=models["products"]), cardinality)
    unfitted = GaussianCopulaSynthesizer(models["users"].metadata)
    with pytest.raises(ValueError, match=r"table 'users'.*not fitted"):
        synthesizer.assemble(dict(models, users=unfitted), cardinality)
    synthesizer.set_table_parameters("users", "TVAESynthesizer", {"epochs": 1})
    with pytest.raises(ValueError, match=r"table 'users': expected a fitted TVAESynthesizer"):
        synthesizer.assemble(models, cardinality)
    other = Cardinality.learn(Metadata.load_from_dict({"tables": {"users": metadata["tables"]["users"]}}), {"users": data["users"]})
    synthesizer.set_table_parameters("users")
    with pytest.raises(ValueError, match="learned for other metadata"):
        synthesizer.assemble(models, other)
    assert not synthesizer._fitted


# -- bad input ------------------------------------------------------------------------------------
def _bad_inputs(data):
    orders = data["orders"].copy()
    orders.loc[orders.index[0], "user_id"] = "U77777"
    users = data["users"].copy()
    users.loc[3, "user_id"] = users.loc[2, "user_id"]
    return {
        "orphan foreign key": (dict(data, orders=orders), r"table 'orders', column 'user_id'.*U77777"),
        "duplicate primary key": (dict(data, users=users), r"table 'users', column 'user_id'.*duplicate"),
        "unknown table": (dict(data, extra=data["settings"]), r"\['extra'\] are in the data but not in the metadata"),
        "missing table": ({k: v for k, v in data.items() if k != "products"}, r"\['products'\].*missing from the data"),
        "unknown column": (
            dict(data, products=data["products"].assign(colour="red")),
            r"table 'products'.*\['colour'\].*not in the metadata",
        ),
    }


@pytest.mark.parametrize("case", ["orphan foreign key", "duplicate primary key", "unknown table", "missing table", "unknown column"])
def test_bad_data_is_refused_and_nothing_is_fitted(demo, fitted, case):
    data, metadata = demo
    bad, message = _bad_inputs(data)[case]
    synthesizer = IndependentSynthesizer(metadata)
    with pytest.raises(InvalidDataError, match=message):
        synthesizer.fit(bad)
    assert not synthesizer._fitted
    with pytest.raises(ValueError, match="has not been fitted"):
        synthesizer.sample()


def test_failed_refit_keeps_the_previous_model(demo):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.fit(data)
    synthesizer.set_random_state(0)
    before = synthesizer.sample()
    bad, _ = _bad_inputs(data)["orphan foreign key"]
    with pytest.raises(InvalidDataError):
        synthesizer.fit(bad)
    synthesizer.set_random_state(0)
    after = synthesizer.sample()
    pd.testing.assert_frame_equal(before["orders"], after["orders"])


def test_wrong_values_are_refused_before_any_table_is_fitted(demo):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata, n_jobs=2)
    broken = data["products"].assign(price="not a number")
    with pytest.raises(InvalidDataError, match=r"table 'products', column 'price'"):
        synthesizer.fit(dict(data, products=broken))
    assert not synthesizer._fitted


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_table_that_fails_to_fit_leaves_the_synthesizer_unfitted(demo, monkeypatch, n_jobs):
    data, metadata = demo
    synthesizer = IndependentSynthesizer(metadata, n_jobs=n_jobs)
    fit_table = synthesizer._fit_validated_table  # what fit runs per table, after validating once

    def failing(name, frame, **kwargs):
        if name == "orders":
            raise RuntimeError("table 'orders': out of memory")
        return fit_table(name, frame, **kwargs)

    monkeypatch.setattr(synthesizer, "_fit_validated_table", failing)
    with pytest.raises(RuntimeError, match="table 'orders'"):
        synthesizer.fit(data)
    assert not synthesizer._fitted and synthesizer._table_synthesizers is None


def test_bad_metadata_is_refused_at_creation(demo):
    _, metadata = demo
    unknown_column = {**metadata, "relationships": [*metadata["relationships"], {
        "parent_table_name": "users", "parent_primary_key": "user_id",
        "child_table_name": "orders", "child_foreign_key": "customer"}]}
    with pytest.raises(MetadataError, match=r"'customer' is not a column of table 'orders'"):
        IndependentSynthesizer(unknown_column)
    cycle = {
        "tables": {
            "a": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "b_id": {"sdtype": "id"}}},
            "b": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "a_id": {"sdtype": "id"}}},
        },
        "relationships": [
            {"parent_table_name": "a", "parent_primary_key": "id", "child_table_name": "b", "child_foreign_key": "a_id"},
            {"parent_table_name": "b", "parent_primary_key": "id", "child_table_name": "a", "child_foreign_key": "b_id"},
        ],
    }
    with pytest.raises(MetadataError, match=r"cycle \((a -> b -> a|b -> a -> b)\)"):
        IndependentSynthesizer(cycle)
    twice = {**metadata, "relationships": [*metadata["relationships"], {
        "parent_table_name": "products", "parent_primary_key": "product_id",
        "child_table_name": "orders", "child_foreign_key": "user_id"}]}
    with pytest.raises(MetadataError, match=r"table 'orders', column 'user_id'.*two relationships"):
        IndependentSynthesizer(twice)


# -- neural table synthesizers --------------------------------------------------------------------
@pytest.fixture
def one_torch_thread():
    # Tiny nets: one thread is as fast, and spinning torch threads crawl on a busy 2-core machine.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_table_synthesizer_is_selectable(demo, one_torch_thread):
    data, metadata = demo
    small = {
        "users": data["users"], "products": data["products"], "orders": data["orders"].head(120),
    }
    small["orders"] = small["orders"][small["orders"]["user_id"].isna() | small["orders"]["user_id"].isin(small["users"]["user_id"])]
    meta = {
        "tables": {t: metadata["tables"][t] for t in small},
        "relationships": [r for r in metadata["relationships"] if r["child_table_name"] in small and r["parent_table_name"] in small],
    }
    tiny = {"epochs": 2, "batch_size": 20, "embedding_dim": 8}
    synthesizer = IndependentSynthesizer(meta)
    synthesizer.set_table_parameters("users", "CTGANSynthesizer", {**tiny, "pac": 2, "generator_dim": (16,), "discriminator_dim": (16,)})
    synthesizer.set_table_parameters("orders", "TVAESynthesizer", {**tiny, "compress_dims": (16,), "decompress_dims": (16,), "loss_factor": 1.5})
    synthesizer.set_table_parameters("products", "CopulaGANSynthesizer", {
        **tiny, "pac": 2, "generator_dim": (16,), "discriminator_dim": (16,), "default_distribution": "norm"})
    synthesizer.fit(small)
    assert type(synthesizer.get_table_synthesizer("users")).__name__ == "CTGANSynthesizer"
    assert synthesizer.get_table_synthesizer("orders").loss_factor == 1.5
    users_loss = synthesizer.get_loss_values("users")
    assert list(users_loss.columns) == ["Epoch", "Generator Loss", "Discriminator Loss"] and list(users_loss["Epoch"]) == [1, 2]
    assert list(synthesizer.get_loss_values("orders").columns) == ["Epoch", "Loss"]
    assert list(synthesizer.get_loss_values("products")["Epoch"]) == [1, 2]
    assert synthesizer.get_learned_distributions("products")["price"]["distribution"] == "norm"
    with pytest.raises(ValueError, match=r"table 'users' uses CTGANSynthesizer.*learned distributions exist only"):
        synthesizer.get_learned_distributions("users")
    synthesizer.set_random_state(0)
    first = synthesizer.sample()
    synthesizer.set_random_state(0)
    second = synthesizer.sample()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])
    _assert_integrity(first, Metadata.load_from_dict(meta))
    assert first["users"]["country"].isin(small["users"]["country"]).all()


# -- validation runs once per fit ----------------------------------------------------------------
def _pii_warnings(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if "real values will be copied" in str(w.message)]


def test_fit_warns_once_per_categorical_pii_column():
    """The data is validated once per fit, so a categorical column that looks like PII warns once
    (it used to warn three times: fit, fit_table, and the table's own synthesizer)."""
    metadata = Metadata.load_from_dict({
        "tables": {
            "users": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}, "email": {"sdtype": "categorical"},
                                                       "age": {"sdtype": "numerical"}}},
        },
    })
    data = {"users": pd.DataFrame({"id": range(30), "email": [f"user{i}@example.com" for i in range(30)],
                                   "age": [20 + i % 40 for i in range(30)]})}
    messages = _pii_warnings(lambda: IndependentSynthesizer(metadata).fit(data))
    assert len(messages) == 1 and "'email'" in messages[0]
    messages = _pii_warnings(lambda: IndependentSynthesizer(metadata).fit_table("users", data["users"]))
    assert len(messages) == 1 and "'email'" in messages[0]
