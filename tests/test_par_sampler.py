"""The step sampler (par_sampler.py) draws from the distribution the trained network defines.

The network's teacher-forced forward pass gives P(slot j | earlier slots of the row, earlier
rows); sampled tokens must follow it: the first slot, a later slot given the first (the
per-slot lookup tables of the triangular weights), and the next row given the first (the GRU
step and the row features the sampler rebuilds).
"""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip('torch')

from synth_assets.sequential.encoding import ColumnSpec  # noqa: E402
from synth_assets.sequential.par_model import fit_par  # noqa: E402
from synth_assets.sequential.par_sampler import sample_levels  # noqa: E402

N = 20_000


@pytest.fixture(scope='module')
def model():
    rng = np.random.default_rng(0)
    n, steps = 120, 3
    first = rng.integers(0, 3, n)
    second = (first + rng.integers(0, 2, n)) % 4  # depends on the first column
    rows = []
    for a, b in zip(first, second):
        for t in range(steps):
            rows.append({'a': float((a + t) % 3), 'b': float((b + t) % 4)})
    specs = [ColumnSpec('a', 'discrete', 3), ColumnSpec('b', 'discrete', 4)]
    ctx = rng.normal(size=(n, 1))
    fitted = fit_par(pd.DataFrame(rows), np.full(n, steps), specs, ctx, epochs=15, seed=0,
                     hidden_size=16, embedding_dim=4, head_size=8)
    return fitted


def _probs(net, tokens, ctx, step, slot, levels=None):
    """Teacher-forced P(slot | ...) at `step` for one sequence with these tokens (T, J) and, for
    one continuous column, its levels (T,)."""
    tok = torch.tensor(tokens, dtype=torch.long).unsqueeze(0)
    if levels is None:
        lev = torch.zeros(1, tok.shape[1], 0, dtype=torch.long)
    else:
        lev = torch.tensor(levels, dtype=torch.long).view(1, -1, 1)
    with torch.no_grad():
        logits = net(tok, lev, torch.tensor([tok.shape[1]]), ctx)
    return torch.softmax(logits[0, step, slot], -1).numpy()


def _draw(fitted, ctx, steps):
    gen = torch.Generator().manual_seed(0)
    levels, _ = sample_levels(fitted._net, fitted.layout, ctx.repeat(N, 1), torch.full((N,), steps),
                              steps, gen)
    return levels.numpy()


def test_sampled_tokens_follow_the_network(model):
    net = model._net.eval()
    ctx = torch.tensor([[0.3]], dtype=torch.float32)
    levels = _draw(model, ctx, steps=2)
    p_a = _probs(net, [[0, 0], [0, 0]], ctx, 0, 0)[:3]
    freq_a = np.bincount(levels[:, 0, 0], minlength=3) / N
    np.testing.assert_allclose(freq_a, p_a, atol=0.015)
    a = int(np.argmax(freq_a))
    given_a = levels[levels[:, 0, 0] == a]
    p_b = _probs(net, [[a, 0], [0, 0]], ctx, 0, 1)[:4]
    np.testing.assert_allclose(np.bincount(given_a[:, 0, 1], minlength=4) / len(given_a), p_b, atol=0.02)
    b = int(np.argmax(np.bincount(given_a[:, 0, 1], minlength=4)))
    row = given_a[given_a[:, 0, 1] == b]
    p_next = _probs(net, [[a, b], [0, 0]], ctx, 1, 0)[:3]
    assert len(row) > 2_000
    np.testing.assert_allclose(np.bincount(row[:, 1, 0], minlength=3) / len(row), p_next, atol=0.03)


def test_temperature_divides_the_logits(model):
    ctx = torch.tensor([[0.3]], dtype=torch.float32)
    net = model._net.eval()
    p_a = _probs(net, [[0, 0]], ctx, 0, 0)[:3]
    gen = torch.Generator().manual_seed(1)
    levels, _ = sample_levels(net, model.layout, ctx.repeat(N, 1), torch.ones(N, dtype=torch.long), 1, gen,
                              temperature=0.05)
    sharpened = p_a ** 20 / (p_a ** 20).sum()  # softmax(logits / 0.05)
    freq = np.bincount(levels[:, 0, 0].numpy(), minlength=3) / N
    np.testing.assert_allclose(freq, sharpened, atol=0.01)
    assert freq.max() > p_a.max() + 0.3


def test_scores_are_the_log_likelihood_of_the_drawn_rows(model):
    ctx = torch.tensor([[0.3]], dtype=torch.float32)
    net = model._net.eval()
    gen = torch.Generator().manual_seed(2)
    levels, loglik = sample_levels(net, model.layout, ctx.repeat(5, 1), torch.full((5,), 2), 2, gen, score=True)
    for k in range(5):
        tokens = levels[k].numpy().tolist()
        expected = sum(np.log(_probs(net, tokens, ctx, t, j)[tokens[t][j]]) for t in range(2) for j in range(2))
        assert loglik[k].item() == pytest.approx(expected, abs=1e-4)


@pytest.fixture(scope='module')
def continuous_model():
    """One continuous column in 50 bins, two slots of 7 coarse x 8 fine: the last coarse group
    holds 2 bins, so its fine tokens 2-7 name no bin."""
    rng = np.random.default_rng(1)
    n, steps = 200, 3
    values = pd.DataFrame({'x': rng.normal(size=n * steps)})
    fitted = fit_par(values, np.full(n, steps), [ColumnSpec('x', 'continuous')], rng.normal(size=(n, 1)),
                     epochs=10, seed=0, hidden_size=16, embedding_dim=4, head_size=8,
                     encoder_params=dict(max_bins=50, single_slot_max=8))
    assert fitted.encoder.abs_factor[0] == (7, 8) and fitted._net.n_value_feats == 2
    return fitted


def test_continuous_slots_follow_the_network_and_fine_tokens_stay_in_range(continuous_model):
    net = continuous_model._net.eval()
    ctx = torch.tensor([[0.3]], dtype=torch.float32)
    levels = _draw(continuous_model, ctx, steps=2)[:, :, 0]  # bin = coarse * 8 + fine
    assert levels.max() <= 49
    coarse, fine = levels[:, 0] // 8, levels[:, 0] % 8
    # The last coarse group: the fine slot renormalized over the 2 tokens that name a bin.
    p_last = _probs(net, [[6, 0], [0, 0]], ctx, 0, 1, levels=[0, 0])[:2]
    in_last = fine[coarse == 6]
    assert len(in_last) > 500
    np.testing.assert_allclose(np.bincount(in_last, minlength=2) / len(in_last), p_last / p_last.sum(), atol=0.04)
    # The next row given the first row's level: the GRU input carries the level's value features.
    level = int(np.bincount(levels[:, 0]).argmax())
    row = levels[levels[:, 0] == level]
    p_next = _probs(net, [[level // 8, level % 8], [0, 0]], ctx, 1, 0, levels=[level, 0])[:7]
    assert len(row) > 400
    np.testing.assert_allclose(np.bincount(row[:, 1] // 8, minlength=7) / len(row), p_next, atol=0.05)
