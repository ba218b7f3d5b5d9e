"""CTGAN, TVAE and CopulaGAN single-table synthesizers (on the `ctgan` library)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from synth_assets.metadata import Metadata
from synth_assets.persistence import load_synthesizer
from synth_assets.single_table.ctgan import CopulaGANSynthesizer, CTGANSynthesizer, TVAESynthesizer

TINY_GAN = {"epochs": 2, "batch_size": 40, "pac": 4, "embedding_dim": 8, "generator_dim": (16,), "discriminator_dim": (16,)}
TINY_VAE = {"epochs": 2, "batch_size": 40, "embedding_dim": 8, "compress_dims": (16,), "decompress_dims": (16,)}
ALL = [(CTGANSynthesizer, TINY_GAN), (TVAESynthesizer, TINY_VAE), (CopulaGANSynthesizer, TINY_GAN)]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # These nets are tiny: one thread is as fast, and on a busy 2-core machine torch's spinning
    # worker threads made fits 10-40x slower.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 200
    data = pd.DataFrame({
        "id": [f"C{i:04d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": np.where(rng.random(n) < 0.2, np.nan, np.round(rng.lognormal(10, 0.5, n), 2)),
        "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        "active": rng.random(n) < 0.7,
        "joined": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "email": [f"user{i}@example.com" for i in range(n)],
    })
    metadata = Metadata.load_from_dict({"tables": {"customers": {"primary_key": "id", "columns": {
        "id": {"sdtype": "id"},
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "income": {"sdtype": "numerical"},
        "plan": {"sdtype": "categorical"},
        "active": {"sdtype": "boolean"},
        "joined": {"sdtype": "datetime"},
        "email": {"sdtype": "email", "pii": True},
    }}}})
    return data, metadata


@pytest.fixture(scope="module")
def fitted(table):
    data, metadata = table
    models = {}
    for cls, params in ALL:
        model = cls(metadata, **params)
        model.fit(data)
        models[cls.__name__] = model
    return models


def test_defaults_are_sdvs(table):
    _, metadata = table
    ctgan = CTGANSynthesizer(metadata).get_parameters()
    assert ctgan == {
        "enforce_min_max_values": True, "enforce_rounding": True, "locales": ["en_US"],
        "embedding_dim": 128, "generator_dim": (256, 256), "discriminator_dim": (256, 256),
        "generator_lr": 2e-4, "generator_decay": 1e-6, "discriminator_lr": 2e-4, "discriminator_decay": 1e-6,
        "batch_size": 500, "discriminator_steps": 1, "log_frequency": True, "verbose": False,
        "epochs": 300, "pac": 10, "enable_gpu": True,
    }
    tvae = TVAESynthesizer(metadata).get_parameters()
    assert {k: tvae[k] for k in ("embedding_dim", "compress_dims", "decompress_dims", "l2scale", "batch_size",
                                 "epochs", "loss_factor", "verbose", "enable_gpu")} == {
        "embedding_dim": 128, "compress_dims": (128, 128), "decompress_dims": (128, 128), "l2scale": 1e-5,
        "batch_size": 500, "epochs": 300, "loss_factor": 2.0, "verbose": False, "enable_gpu": True,
    }
    copulagan = CopulaGANSynthesizer(metadata).get_parameters()
    assert copulagan["numerical_distributions"] == {} and copulagan["default_distribution"] == "empirical"
    assert {k: v for k, v in copulagan.items() if k in ctgan} == ctgan


@pytest.mark.parametrize("cls, params, message", [
    (CTGANSynthesizer, {"epochs": 0}, "`epochs` must be a positive integer"),
    (CTGANSynthesizer, {"batch_size": 55}, "`batch_size` must be even"),
    (CTGANSynthesizer, {"batch_size": 50, "pac": 4}, r"`batch_size` \(50\) must be a multiple of `pac` \(4\)"),
    (CTGANSynthesizer, {"generator_dim": (0, 8)}, "`generator_dim` must be a tuple"),
    (CTGANSynthesizer, {"generator_lr": -1.0}, r"`generator_lr` must be a finite number in \(0, 1\]"),
    (CTGANSynthesizer, {"verbose": 1}, "`verbose` must be True or False"),
    (TVAESynthesizer, {"compress_dims": "big"}, "`compress_dims` must be a tuple"),
    (TVAESynthesizer, {"loss_factor": 0}, r"`loss_factor` must be a finite number in \(0, 1000\]"),
    (TVAESynthesizer, {"l2scale": -1e-5}, r"`l2scale` must be a finite number in \[0, 1\]"),
    (CopulaGANSynthesizer, {"default_distribution": "cauchy"}, "`default_distribution` must be one of"),
    (CopulaGANSynthesizer, {"numerical_distributions": {"salary": "norm"}}, "column 'salary', which is not in table 'customers'"),
])
def test_bad_parameters_are_named(table, cls, params, message):
    _, metadata = table
    with pytest.raises((ValueError, TypeError), match=message):
        cls(metadata, **params)


@pytest.mark.parametrize("name", ["CTGANSynthesizer", "TVAESynthesizer", "CopulaGANSynthesizer"])
def test_sample_has_the_real_columns_dtypes_and_ranges(table, fitted, name):
    data, _ = table
    model = fitted[name]
    model.set_random_state(0)
    synthetic = model.sample(300)
    assert list(synthetic.columns) == list(data.columns) and len(synthetic) == 300
    assert synthetic.dtypes.astype(str).to_dict() == data.dtypes.astype(str).to_dict()
    assert synthetic["plan"].isin(data["plan"]).all()
    assert synthetic["id"].is_unique and not synthetic["id"].isin(data["id"]).any()
    assert not synthetic["email"].isin(data["email"]).any()
    # min/max enforcement and rounding hold whatever the network learned
    assert synthetic["age"].between(data["age"].min(), data["age"].max()).all()
    income = synthetic["income"].dropna()
    assert income.between(data["income"].min(), data["income"].max()).all()
    assert np.allclose(income, income.round(2))
    assert synthetic["joined"].between(data["joined"].min(), data["joined"].max()).all()
    assert model.sample(0).shape == (0, len(data.columns))


@pytest.mark.parametrize("name", ["CTGANSynthesizer", "TVAESynthesizer", "CopulaGANSynthesizer"])
def test_sampling_is_reproducible_and_fits_are_deterministic(table, fitted, name):
    data, metadata = table
    model = fitted[name]
    model.set_random_state(7)
    a = model.sample(50)
    b = model.sample(50)
    model.set_random_state(7)
    pd.testing.assert_frame_equal(a, model.sample(50))
    assert not a["age"].equals(b["age"])
    params = dict(ALL)[type(model)]
    again = type(model)(metadata, **params)
    again.fit({"customers": data})  # SDV's {table: DataFrame} form works too
    again.set_random_state(7)
    pd.testing.assert_frame_equal(a.drop(columns="email"), again.sample(50).drop(columns="email"))


def test_loss_values(fitted):
    gan = fitted["CTGANSynthesizer"].get_loss_values()
    assert list(gan.columns) == ["Epoch", "Generator Loss", "Discriminator Loss"]
    assert list(gan["Epoch"]) == [1, 2] and np.isfinite(gan[["Generator Loss", "Discriminator Loss"]].to_numpy()).all()
    vae = fitted["TVAESynthesizer"].get_loss_values()
    assert list(vae.columns) == ["Epoch", "Loss"] and list(vae["Epoch"]) == [1, 2] and np.isfinite(vae["Loss"]).all()
    assert list(fitted["CopulaGANSynthesizer"].get_loss_values()["Epoch"]) == [1, 2]
    gan.loc[0, "Generator Loss"] = 1e9
    assert fitted["CTGANSynthesizer"].get_loss_values()["Generator Loss"].max() < 1e9  # a copy


def test_copulagan_learned_distributions(table):
    data, metadata = table
    model = CopulaGANSynthesizer(metadata, numerical_distributions={"age": "uniform"}, **TINY_GAN)
    model.fit(data)
    learned = model.get_learned_distributions()
    assert set(learned) == {"age", "income"}
    assert learned["age"]["distribution"] == "uniform" and learned["income"]["distribution"] == "empirical"
    assert learned["age"]["learned_parameters"]["loc"] == pytest.approx(data["age"].min(), abs=1)


def test_unfitted_and_save_load(table, fitted, tmp_path):
    _, metadata = table
    with pytest.raises(ValueError, match="has not been fitted"):
        TVAESynthesizer(metadata).sample(5)
    with pytest.raises(ValueError, match="has not been fitted"):
        CTGANSynthesizer(metadata).get_loss_values()
    model = fitted["CTGANSynthesizer"]
    model.save(tmp_path / "ctgan.pkl")
    loaded = load_synthesizer(tmp_path / "ctgan.pkl")
    model.set_random_state(3)
    loaded.set_random_state(3)
    pd.testing.assert_frame_equal(model.sample(40), loaded.sample(40))


def test_a_table_of_ids_only_needs_no_network():
    metadata = Metadata.load_from_dict({"tables": {"t": {"primary_key": "id", "columns": {"id": {"sdtype": "id"}}}}})
    model = TVAESynthesizer(metadata, epochs=1)
    model.fit(pd.DataFrame({"id": np.arange(10)}))
    assert model.sample(4)["id"].is_unique
    with pytest.raises(ValueError, match="no modelled columns"):
        model.get_loss_values()


def test_tvae_loss_goes_down(table):
    # A net that learns nothing (wrong inputs, no optimiser step) keeps its first-epoch loss.
    # (GAN losses are not monotone and 1-2 s of GAN training gives category shares no better
    # than uniform on this data, so there is no cheap, honest quality threshold for CTGAN.)
    data, metadata = table
    model = TVAESynthesizer(metadata, epochs=20, batch_size=50, embedding_dim=16, compress_dims=(32,), decompress_dims=(32,))
    model.fit(data)
    loss = model.get_loss_values()["Loss"].to_numpy()
    assert loss[-3:].mean() < 0.6 * loss[0], loss


def test_importing_the_module_does_not_import_torch():
    code = "import sys, synth_assets.single_table.ctgan; assert 'torch' not in sys.modules and 'ctgan' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
