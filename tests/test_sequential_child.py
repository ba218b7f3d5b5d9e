"""Sequential child tables modelled by PAR per parent row (issue 14 item 1), on real data:
Lahman players -> their season-by-season batting, and Chinook customers -> their invoices."""

import numpy as np
import pandas as pd
import pytest

from synth_assets.errors import InvalidDataError, SynthesizerInputError
from synth_assets.evaluation import referential_integrity
from synth_assets.metadata import Metadata
from synth_assets.multi_table import IndependentSynthesizer

PAR_FAST = {"epochs": 40, "seed": 0, "enable_gpu": False}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets: one thread is as fast, and busy cores make threads crawl
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def players():
    """Players who debuted in 1990-1991 (361) and their 2,575 batting rows (one per season and team)."""
    from benchmarks.data.lahman import load_players

    return load_players(1990, 1991)


@pytest.fixture(scope="module")
def fitted_players(players):
    data, metadata = players
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("batting", PAR_FAST)
    synthesizer.fit(data)
    return synthesizer


def _seasons(batting, people):
    lengths = batting.groupby("playerID")["yearID"].agg(lambda years: years.max() - years.min() + 1)
    career = people.set_index("playerID").eval("final_year - debut_year + 1")
    return lengths, career.reindex(lengths.index)


def test_par_is_the_default_for_a_child_whose_sequence_key_is_its_foreign_key(players):
    _, metadata = players
    synthesizer = IndependentSynthesizer(metadata)
    assert synthesizer.get_table_parameters("batting")["synthesizer_name"] == "PARSynthesizer"
    assert synthesizer.get_table_parameters("people")["synthesizer_name"] == "GaussianCopulaSynthesizer"
    synthesizer.set_table_parameters("batting", "PARSynthesizer", {"epochs": 3})
    assert synthesizer.get_table_parameters("batting")["synthesizer_parameters"]["epochs"] == 3
    with pytest.raises(SynthesizerInputError, match=r"table 'people'.*sequence_key must be its foreign key"):
        synthesizer.set_table_parameters("people", "PARSynthesizer")


def test_each_synthetic_player_gets_a_career_that_depends_on_him(players, fitted_players):
    data, _ = players
    fitted_players.set_random_state(0)
    synthetic = fitted_players.sample()
    people, batting = synthetic["people"], synthetic["batting"]
    assert batting["playerID"].isin(people["playerID"]).all()  # integrity exact
    # index ordered within every sequence
    assert batting.groupby("playerID", sort=False)["yearID"].apply(lambda y: y.is_monotonic_increasing).all()
    # the career (first to last season) follows the parent's debut and final years: real r = 0.98;
    # sequences drawn regardless of the parent give r ~ 0
    lengths, career = _seasons(batting, people)
    assert np.corrcoef(lengths, career)[0, 1] >= 0.6
    first = batting.groupby("playerID")["yearID"].min()
    debut = people.set_index("playerID")["debut_year"].reindex(first.index)
    assert (first - debut).abs().median() <= 1
    # sequence-length distribution (rows per player) close to the real one: KS complement
    from scipy.stats import ks_2samp

    real_rows = data["batting"].groupby("playerID").size()
    synthetic_rows = batting.groupby("playerID").size()
    assert 1 - ks_2samp(real_rows, synthetic_rows).statistic >= 0.85


@pytest.mark.parametrize("scale", [0.5, 2])
def test_scale_scales_parents_and_each_gets_its_sequence(players, fitted_players, scale):
    data, _ = players
    fitted_players.set_random_state(1)
    synthetic = fitted_players.sample(scale=scale)
    people, batting = synthetic["people"], synthetic["batting"]
    assert len(people) == round(len(data["people"]) * scale)
    assert batting["playerID"].isin(people["playerID"]).all()
    # every real player has batting rows, so every synthetic one gets a sequence
    assert set(batting["playerID"]) == set(people["playerID"])


def test_per_table_steps(players, fitted_players):
    data, metadata = players
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("batting", PAR_FAST)
    assert synthesizer.parent_of_sequences("batting") == "people" and synthesizer.parent_of_sequences("people") is None
    with pytest.raises(InvalidDataError, match=r"table 'batting'.*fit_table\('batting', data, parent_data="):
        synthesizer.fit_table("batting", data["batting"])
    models = {
        "people": synthesizer.fit_table("people", data["people"]),
        "batting": synthesizer.fit_table("batting", data["batting"], parent_data=data["people"]),
    }
    synthesizer.assemble(models, synthesizer.learn_cardinality(data))
    synthesizer.set_random_state(0)
    fitted_players.set_random_state(0)
    one, other = synthesizer.sample(), fitted_players.sample()
    for name in one:
        pd.testing.assert_frame_equal(one[name], other[name])


def test_the_child_can_still_be_modelled_as_independent_rows(players):
    data, metadata = players
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("batting", "GaussianCopulaSynthesizer")
    synthesizer.fit(data)
    synthesizer.set_random_state(0)
    synthetic = synthesizer.sample()
    assert synthetic["batting"]["playerID"].isin(synthetic["people"]["playerID"]).all()
    assert len(synthetic["batting"]) == pytest.approx(len(data["batting"]), rel=0.1)


def test_orphan_sequences_are_refused(players):
    data, metadata = players
    synthesizer = IndependentSynthesizer(metadata)
    orphan = data["batting"].copy()
    orphan.loc[0, "playerID"] = "nobody01"
    with pytest.raises(InvalidDataError, match=r"table 'batting', column 'playerID'.*'nobody01'"):
        synthesizer.fit_table("batting", orphan, parent_data=data["people"])
    orphan.loc[0, "playerID"] = None
    with pytest.raises(InvalidDataError, match=r"table 'batting', column 'playerID': 1 rows have no parent.*GaussianCopulaSynthesizer"):
        synthesizer.fit_table("batting", orphan, parent_data=data["people"])


# -- Chinook: customers -> invoices (sequences) -> invoice lines --------------------------------------
@pytest.fixture(scope="module")
def chinook(chinook_tables):
    data, metadata = chinook_tables
    metadata["tables"]["invoice"]["sequence_key"] = "customer_id"
    metadata["tables"]["invoice"]["sequence_index"] = "invoicedate"
    return data, metadata


def test_sequential_child_that_is_a_parent_keeps_exact_integrity(chinook):
    data, metadata = chinook
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("invoice", {"epochs": 30, "seed": 0, "enable_gpu": False})
    synthesizer.fit(data)
    for seed, scale in ((0, 1), (1, 2)):
        synthesizer.set_random_state(seed)
        synthetic = synthesizer.sample(scale=scale)
        scores = referential_integrity(data, synthetic, Metadata.load_from_dict(metadata))
        assert scores["Score"].eq(1.0).all(), scores
        invoice = synthetic["invoice"]
        assert invoice["id"].is_unique and synthetic["invoiceline"]["invoice_id"].isin(invoice["id"]).all()
        assert set(invoice["customer_id"]) == set(synthetic["customer"]["id"])  # every customer has invoices
        # billing country is constant for every real customer: so for every synthetic one
        assert invoice.groupby("customer_id")["billingcountry"].nunique().eq(1).all()
        assert invoice.groupby("customer_id")["invoicedate"].apply(lambda d: d.is_monotonic_increasing).all()


def test_pii_constant_per_parent_is_generated_once_per_parent(chinook):
    """Issue 11 item 3 for multi-table: invoice.billingaddress (PII) is one address per real
    customer; with invoices modelled as independent rows it must still be one per synthetic customer."""
    data, metadata = chinook
    metadata = {**metadata, "tables": {**metadata["tables"]}}
    metadata["tables"]["invoice"] = {k: v for k, v in metadata["tables"]["invoice"].items() if not k.startswith("sequence")}
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.fit(data)
    synthesizer.set_random_state(0)
    invoice = synthesizer.sample(scale=1)["invoice"]
    per_customer = invoice.groupby("customer_id")["billingaddress"].nunique()
    assert (per_customer == 1).all() and per_customer.size > 40
    assert invoice["billingaddress"].nunique() == per_customer.size  # a new fake per customer
    assert not invoice["billingaddress"].isin(data["invoice"]["billingaddress"]).any()
    # a PII column that varies within a parent keeps varying: customer.address per support rep
    customer = synthesizer.sample(scale=1)["customer"]
    assert customer.groupby("support_rep_id")["address"].nunique().max() > 1


def test_sequential_child_with_another_parent_keeps_both_links(chinook):
    """invoiceline as one sequence per invoice; its second foreign key (track_id) is still wired
    by the learned cardinality to synthetic tracks."""
    data, metadata = chinook
    metadata = {**metadata, "tables": {**metadata["tables"]}}
    metadata["tables"]["invoiceline"] = {**metadata["tables"]["invoiceline"], "sequence_key": "invoice_id"}
    synthesizer = IndependentSynthesizer(metadata)
    synthesizer.set_table_parameters("invoiceline", {"epochs": 10, "seed": 0, "enable_gpu": False})
    synthesizer.set_table_parameters("invoice", {"epochs": 10, "seed": 0, "enable_gpu": False})
    synthesizer.fit(data)
    synthesizer.set_random_state(0)
    synthetic = synthesizer.sample(scale=1)
    lines = synthetic["invoiceline"]
    assert lines["invoice_id"].isin(synthetic["invoice"]["id"]).all()
    assert lines["track_id"].isin(synthetic["track"]["id"]).all()
    assert lines["id"].is_unique
    real_lines = data["invoiceline"].groupby("invoice_id").size()
    assert lines.groupby("invoice_id").size().mean() == pytest.approx(real_lines.mean(), rel=0.25)


def test_num_rows_fixes_the_parents_and_each_gets_its_sequence(players, fitted_players):
    fitted_players.set_random_state(2)
    for synthetic in (fitted_players.sample(num_rows={"people": 50}), fitted_players.sample(num_rows=50, main_table_name="people")):
        assert len(synthetic["people"]) == 50
        assert set(synthetic["batting"]["playerID"]) == set(synthetic["people"]["playerID"])
