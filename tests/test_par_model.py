"""Tests of the PAR torch engine (synth_assets.sequential.par_model / encoding)."""

import pickle

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip('torch')

from synth_assets.sequential import par_model  # noqa: E402
from synth_assets.sequential.encoding import (  # noqa: E402
    ColumnSpec,
    QuantileBinner,
    StepEncoder,
    first_step_mask,
    level_features,
)
from synth_assets.sequential.par_model import FittedPAR, fit_par  # noqa: E402

FAST = dict(hidden_size=32, embedding_dim=4, head_size=16)


def _trend_data(n=64, steps=6, seed=0):
    """Per-sequence trend whose sign is the context (+1 / -1), a constant-step gap column."""
    rng = np.random.default_rng(seed)
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    start = rng.normal(0, 1, n)
    t = np.arange(steps)
    values = start[:, None] + sign[:, None] * (1.0 * t[None, :]) + rng.normal(0, 0.05, (n, steps))
    gap = np.tile(np.r_[0.0, np.ones(steps - 1)], n)
    steps_df = pd.DataFrame({'value': values.ravel(), 'gap': gap})
    specs = [ColumnSpec('value', 'continuous'), ColumnSpec('gap', 'continuous')]
    return steps_df, np.full(n, steps), specs, sign[:, None]


def _event_data(n=60, seed=0):
    """Categorical events always in the order A(0) -> B(1) -> C(2), lengths 1..3."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 4, n)
    codes = np.concatenate([np.arange(length) for length in lengths]).astype(float)
    flag = rng.integers(0, 2, codes.size).astype(float)  # noise column, independent
    steps_df = pd.DataFrame({'event': codes, 'flag': flag})
    specs = [ColumnSpec('event', 'discrete', 3), ColumnSpec('flag', 'discrete', 2)]
    return steps_df, lengths, specs


@pytest.fixture(scope='module')
def trend_model():
    steps_df, lengths, specs, ctx = _trend_data()
    model = fit_par(steps_df, lengths, specs, ctx, epochs=60, batch_size=16, seed=3, **FAST)
    return model, steps_df, lengths, specs, ctx


# -- encoder ---------------------------------------------------------------------------------

def test_binner_point_masses_and_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(300), rng.lognormal(0, 1, 700)])
    binner = QuantileBinner(max_bins=64).fit(x)
    decoded = binner.inverse(binner.transform(x), rng)
    assert decoded.min() >= x.min() and decoded.max() <= x.max()
    # The zeros are a point mass: exactly as many zeros come back, and nothing else is 0.
    assert np.sum(decoded == 0.0) == 300
    # A decoded value re-encodes to its own bin.
    bins = binner.transform(x)
    assert np.array_equal(binner.transform(binner.inverse(bins, rng)), bins)
    # Quantile bins: the decoded distribution is close to the real one.
    qs = np.linspace(0.05, 0.95, 19)
    assert np.allclose(np.quantile(decoded, qs), np.quantile(x, qs), rtol=0.1, atol=0.02)


def test_encoder_round_trip_modes():
    rng = np.random.default_rng(1)
    n, steps = 50, 5
    lengths = np.full(n, steps)
    level = rng.normal(100, 20, n)
    df = pd.DataFrame({
        # Persistent: a slow trend -> modelled as level changes.
        'slow': (level[:, None] + np.arange(steps)[None, :] * 0.5).ravel(),
        # Noisy, no persistence -> absolute levels; a point mass at 0.
        'noisy': np.where(rng.random(n * steps) < 0.3, 0.0, rng.exponential(5, n * steps)),
        'cat': rng.integers(0, 4, n * steps).astype(float),
        'years': (np.tile(np.arange(steps), n) + np.repeat(rng.integers(0, 10, n), steps)) * 1.0,
    })
    specs = [ColumnSpec('slow', 'continuous'), ColumnSpec('noisy', 'continuous'),
             {'name': 'cat', 'kind': 'discrete', 'n_categories': 4}, ('years', 'continuous')]
    enc = StepEncoder(specs).fit(df, lengths)
    assert enc.column_modes == ['delta', 'absolute', 'discrete', 'delta']
    tokens, levels = enc.encode(df, lengths)
    assert tokens.shape == (len(df), enc.n_slots)
    assert np.all(tokens >= 0) and np.all(tokens < enc.slot_vocab[None, :])
    back = enc.decode(tokens, lengths, rng=0)
    assert list(back.columns) == ['slow', 'noisy', 'cat', 'years']
    assert np.array_equal(back['cat'].to_numpy(), df['cat'].to_numpy())
    # Integer experience-like column: every value is its own bin, changes are exact.
    assert np.array_equal(back['years'].to_numpy(), df['years'].to_numpy())
    assert np.array_equal(back['noisy'].to_numpy() == 0, df['noisy'].to_numpy() == 0)
    for col in ('slow', 'noisy'):
        assert back[col].min() >= df[col].min() and back[col].max() <= df[col].max()
        assert np.corrcoef(back[col], df[col])[0, 1] > 0.99
    assert np.array_equal(enc.tokens_to_levels(tokens, lengths, rng=0)[:, 3], levels[:, 3])


def test_encoder_rejects_bad_input():
    df = pd.DataFrame({'a': [0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="'a'"):
        StepEncoder([ColumnSpec('a', 'discrete', 2)]).fit(df, [3])
    with pytest.raises(ValueError, match='seq_lengths'):
        StepEncoder([ColumnSpec('a', 'continuous')]).fit(df, [2])
    with pytest.raises(ValueError, match='missing'):
        StepEncoder([ColumnSpec('b', 'continuous')]).fit(df, [3])
    with pytest.raises(ValueError, match='kind'):
        StepEncoder([ColumnSpec('a', 'numerical')])
    with pytest.raises(ValueError, match='NaN'):
        StepEncoder([ColumnSpec('a', 'continuous')]).fit(pd.DataFrame({'a': [0.0, np.nan]}), [2])
    assert first_step_mask(np.array([2, 1, 3])).tolist() == [1, 0, 1, 1, 0, 0]


# -- model -----------------------------------------------------------------------------------

def test_masked_loss_ignores_padding(trend_model):
    model, steps_df, lengths, specs, ctx = trend_model
    net = model._net
    lens = torch.tensor([6, 2, 4])
    tok, lev = model.encoder.encode(steps_df.iloc[:18], lengths[:3])
    cont = [c['column'] for c in model.layout['continuous']]
    tok = torch.from_numpy(par_model._pad(tok, lengths[:3], 6))
    lev = torch.from_numpy(par_model._pad(lev[:, cont], lengths[:3], 6))
    c = torch.tensor(ctx[:3], dtype=torch.float32)
    with torch.no_grad():
        nll, valid = par_model._masked_nll(net(tok, lev, lens, c), tok, lens)
        tok2, lev2 = tok.clone(), lev.clone()
        tok2[1, 2:] = torch.randint(0, 2, tok2[1, 2:].shape)
        lev2[1, 2:] = 1
        lev2[2, 4:] = 1
        nll2, _ = par_model._masked_nll(net(tok2, lev2, lens, c), tok2, lens)
    assert valid.sum() == 12
    assert torch.all(nll[~valid] == 0)
    assert torch.allclose(nll, nll2)
    # Public view of the same property: a sequence scores the same alone or padded in a batch.
    ll_batch = model.log_likelihood(steps_df.iloc[:12], [6, 2, 4], ctx[:3])
    ll_alone = model.log_likelihood(steps_df.iloc[6:8], [2], ctx[1:2])
    assert ll_batch[1] == pytest.approx(ll_alone[0], rel=1e-5)


def test_trend_sign_follows_context(trend_model):
    model = trend_model[0]
    n = 200
    ctx = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
    out = model.sample(ctx, np.full(n, 6), seed=11)
    assert list(out.columns) == ['value', 'gap']
    assert len(out) == n * 6
    values = out['value'].to_numpy().reshape(n, 6)
    slope = np.polyfit(np.arange(6), values.T, 1)[0]
    assert np.mean(np.sign(slope) == ctx[:, 0]) >= 0.95
    # Smooth: per-step changes are close to +-1 (the real ones are +-1 with noise 0.05).
    steps = np.diff(values, axis=1) * ctx
    assert np.median(np.abs(steps - 1.0)) < 0.25
    gap = out['gap'].to_numpy().reshape(n, 6)
    assert np.mean(gap[:, 0] == 0.0) > 0.97 and np.mean(gap[:, 1:] == 1.0) > 0.97


def test_event_order_and_length_one():
    steps_df, lengths, specs = _event_data()
    assert (lengths == 1).sum() > 10
    model = fit_par(steps_df, lengths, specs, None, epochs=40, batch_size=16, seed=0, **FAST)
    assert len(model.loss_history) == 40
    losses = [h['loss'] for h in model.loss_history]
    assert losses[-1] < losses[0]
    want = np.array([1, 1, 3, 2, 3, 1] * 20)
    out = model.sample(None, want, seed=5)
    assert len(out) == want.sum()
    events = out['event'].to_numpy().astype(int)
    expected = np.concatenate([np.arange(length) for length in want])
    assert np.mean(events == expected) >= 0.97
    assert set(np.unique(out['flag'])) == {0.0, 1.0}


def test_all_sequences_of_length_one():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({'x': rng.normal(size=40), 'c': rng.integers(0, 3, 40).astype(float),
                       'k': np.full(40, 3.5)})
    specs = [ColumnSpec('x', 'continuous'), ColumnSpec('c', 'discrete', 3),
             ColumnSpec('k', 'continuous')]
    model = fit_par(df, np.ones(40, dtype=int), specs, rng.normal(size=40), epochs=5, seed=0,
                    **FAST)
    out = model.sample(rng.normal(size=7), np.ones(7, dtype=int), seed=0)
    assert out.shape == (7, 3)
    assert np.isfinite(out.to_numpy()).all()
    assert np.all(out['k'] == 3.5)  # a constant column decodes exactly


def test_seed_reproducibility(trend_model):
    model, steps_df, lengths, specs, ctx = trend_model
    again = fit_par(steps_df, lengths, specs, ctx, epochs=60, batch_size=16, seed=3, **FAST)
    assert [h['loss'] for h in again.loss_history] == [h['loss'] for h in model.loss_history]
    a = model.sample(ctx, lengths, seed=7)
    b = again.sample(ctx, lengths, seed=7)
    c = model.sample(ctx, lengths, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_pickle_round_trip(trend_model):
    model, _, lengths, _, ctx = trend_model
    clone = pickle.loads(pickle.dumps(model))
    assert isinstance(clone, FittedPAR)
    pd.testing.assert_frame_equal(pd.DataFrame(clone.loss_history),
                                  pd.DataFrame(model.loss_history))
    pd.testing.assert_frame_equal(clone.sample(ctx, lengths, seed=4),
                                  model.sample(ctx, lengths, seed=4))


def test_sample_size_prefers_likely_candidates(trend_model):
    model = trend_model[0]
    n = 100
    ctx = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
    lengths = np.full(n, 6)
    single = model.sample(ctx, lengths, seed=2, sample_size=1)
    best = model.sample(ctx, lengths, seed=2, sample_size=8)
    ll_single = model.log_likelihood(single, lengths, ctx)
    ll_best = model.log_likelihood(best, lengths, ctx)
    assert ll_best.mean() > ll_single.mean() + 1.0
    assert np.mean(ll_best > ll_single) > 0.75


def test_early_stopping_restores_best_weights():
    steps_df, lengths, specs, ctx = _trend_data(n=40, steps=5, seed=2)
    # A large learning rate and many epochs on tiny data: the validation loss turns up.
    model = fit_par(steps_df, lengths, specs, ctx, epochs=300, batch_size=8, learning_rate=0.03,
                    validation_split=0.25, early_stopping_patience=5, seed=0, **FAST)
    hist = pd.DataFrame(model.loss_history)
    assert len(hist) < 300
    best = int(hist['val_loss'].idxmin())
    assert model.best_epoch == hist['epoch'][best]
    assert hist['epoch'].iloc[-1] == model.best_epoch + 5
    # The restored weights are the best epoch's: recompute the validation loss.
    val = model.validation_index
    assert len(val) == 10
    rows = np.concatenate([np.arange(5) + 5 * i for i in val])
    ll = model.log_likelihood(steps_df.iloc[rows], lengths[val], ctx[val])
    assert -ll.sum() / (5 * len(val)) == pytest.approx(hist['val_loss'][best], rel=1e-4)


def test_validation_without_early_stopping_and_history():
    steps_df, lengths, specs, ctx = _trend_data(n=20, steps=4, seed=3)
    model = fit_par(steps_df, lengths, specs, ctx, epochs=3, validation_split=0.2, seed=0, **FAST)
    assert [h['epoch'] for h in model.loss_history] == [1, 2, 3]
    assert all(np.isfinite(h['val_loss']) for h in model.loss_history)
    plain = fit_par(steps_df, lengths, specs, ctx, epochs=2, seed=0, **FAST)
    assert all(np.isnan(h['val_loss']) for h in plain.loss_history)


def test_verbose_progress_bar(capsys):
    steps_df, lengths, specs, ctx = _trend_data(n=10, steps=3)
    fit_par(steps_df, lengths, specs, ctx, epochs=2, verbose=True, seed=0, **FAST)
    err = capsys.readouterr().err
    assert 'PAR fit' in err and 'loss=' in err


def test_bad_parameters():
    steps_df, lengths, specs, ctx = _trend_data(n=10, steps=3)
    with pytest.raises(ValueError, match='early_stopping_patience'):
        fit_par(steps_df, lengths, specs, ctx, epochs=1, early_stopping_patience=3)
    with pytest.raises(ValueError, match='batch_size'):
        fit_par(steps_df, lengths, specs, ctx, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match='context'):
        fit_par(steps_df, lengths, specs, np.zeros((3, 1)), epochs=1)
    with pytest.raises(ValueError, match='validation_split'):
        fit_par(steps_df, lengths, specs, ctx, epochs=1, validation_split=1.5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='CUDA'):
            fit_par(steps_df, lengths, specs, ctx, epochs=1, device='cuda')
    model = fit_par(steps_df, lengths, specs, ctx, epochs=1, seed=0, **FAST)
    with pytest.raises(ValueError, match='sample_size'):
        model.sample(ctx, lengths, sample_size=0)
    with pytest.raises(ValueError, match='features'):
        model.sample(np.zeros((10, 2)), lengths)
    with pytest.raises(ValueError, match='lengths'):
        model.sample(ctx[:2], [3, 0])


# -- progress ---------------------------------------------------------------------------------

def test_progress_callback_reports_every_epoch_with_loss_val_loss_and_eta():
    steps_df, lengths, specs, ctx = _trend_data(n=40)
    reports = []
    model = fit_par(steps_df, lengths, specs, ctx, epochs=5, batch_size=16, seed=0,
                    validation_split=0.25, progress_callback=lambda **kw: reports.append(kw),
                    **FAST)
    assert [r['completed'] for r in reports] == [1, 2, 3, 4, 5]
    assert all(r['total'] == 5 for r in reports)
    for report, row in zip(reports, model.loss_history):
        message = report['message']
        assert message['stage'] == 'fit' and message['epoch'] == row['epoch']
        assert message['loss'] == pytest.approx(row['loss'])
        assert message['val_loss'] == pytest.approx(row['val_loss'])
        assert np.isfinite(message['val_loss'])
        assert message['eta_seconds'] >= 0
    assert reports[-1]['message']['eta_seconds'] == 0


def test_progress_without_validation_has_no_val_loss_and_early_stop_is_reported():
    steps_df, lengths, specs, ctx = _trend_data(n=40)
    reports = []
    fit_par(steps_df, lengths, specs, ctx, epochs=2, batch_size=16, seed=0, **FAST,
            progress_callback=lambda **kw: reports.append(kw))
    assert [set(r['message']) for r in reports] == [{'stage', 'epoch', 'loss', 'eta_seconds'}] * 2
    reports.clear()
    model = fit_par(steps_df, lengths, specs, ctx, epochs=200, batch_size=16, seed=0, **FAST,
                    learning_rate=0.2, validation_split=0.25, early_stopping_patience=1,
                    progress_callback=lambda **kw: reports.append(kw))
    stopped = len(model.loss_history)
    assert stopped < 200
    assert reports[-1]['message']['stopped_early'] is True
    assert reports[-1]['total'] == reports[-1]['completed'] == stopped
    assert reports[-1]['message']['best_epoch'] == model.best_epoch


def test_progress_callback_must_be_callable_and_is_checked_before_fitting():
    steps_df, lengths, specs, ctx = _trend_data(n=8)
    with pytest.raises(TypeError, match='progress_callback'):
        fit_par(steps_df, lengths, specs, ctx, epochs=1, progress_callback='log', **FAST)


# -- training at scale: windows, length buckets, automatic length, compact storage --------------

def test_windows_with_carried_state_give_the_full_forward_pass():
    steps_df, lengths, specs, ctx = _trend_data(n=6, steps=10)
    lengths = np.array([10, 7, 3, 10, 1, 5])
    keep = np.concatenate([np.arange(i * 10, i * 10 + n) for i, n in enumerate(lengths)])
    model = fit_par(steps_df.iloc[keep], lengths, specs, ctx, epochs=2, seed=0, **FAST)
    net = model._net
    tokens, levels = model.encoder.encode(steps_df.iloc[keep], lengths)
    cont = [c['column'] for c in model.layout['continuous']]
    tok = torch.from_numpy(par_model._pad(tokens, lengths, 10))
    lev = torch.from_numpy(par_model._pad(levels[:, cont].astype(np.int64), lengths, 10))
    lens, c = torch.from_numpy(lengths), torch.from_numpy(ctx.astype(np.float32))
    with torch.no_grad():
        full = net(tok, lev, lens, c)
        state, parts = None, []
        for start in (0, 4, 8):
            logits, state = net.forward_window(tok[:, start:start + 4], lev[:, start:start + 4],
                                               lens, c, start, state)
            parts.append(logits)
    valid = (torch.arange(10)[None, :] < lens[:, None])
    assert torch.allclose(torch.cat(parts, 1)[valid], full[valid], atol=1e-5)


def test_length_buckets_pad_little_and_windows_bound_batch_rows():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, 400)
    data = par_model._Batches(np.zeros((lengths.sum(), 2), np.int64), np.zeros((lengths.sum(), 0), np.int64),
                              lengths, np.zeros((400, 0), np.float32), torch.device('cpu'), window=64)
    batches = data.plan(np.arange(400), rng, rows=2048)
    assert sorted(np.concatenate(batches)) == list(range(400))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded < 1.1 * lengths.sum()  # random batches would pad to ~1.9x
    assert all(len(b) * min(lengths[b].max(), 64) <= 2048 or len(b) == 1 for b in batches)
    seq = batches[0]
    windows = list(data.windows(seq))
    assert [w[0] for w in windows] == list(range(0, int(lengths[seq].max()), 64))
    assert sum(w[5] for w in windows) == lengths[seq].sum()


def test_no_nearly_empty_remainder_batch():
    # 545 sequences of 8 steps in ~1,454-row batches: 181, 181, 183 (not 181, 181, 181, 2).
    lengths = np.full(545, 8)
    data = par_model._Batches(np.zeros((lengths.sum(), 1), np.int64), np.zeros((lengths.sum(), 0), np.int64),
                              lengths, np.zeros((545, 0), np.float32), torch.device('cpu'), window=64)
    batches = data.plan(np.arange(545), np.random.default_rng(0), rows=1454)
    assert sorted(len(b) for b in batches) == [181, 181, 183]


def test_tokens_are_stored_compactly():
    data = par_model._Batches(np.arange(12).reshape(6, 2), np.full((6, 1), 40_000), np.array([6]),
                              np.zeros((1, 0), np.float32), torch.device('cpu'), window=64)
    assert data.tokens.dtype == np.int16 and data.levels.dtype == np.int32


def test_automatic_length_plans_a_validation_split_and_early_stopping():
    lengths = np.full(1500, 300)
    data = par_model._Batches(np.zeros((lengths.sum(), 1), np.int64), np.zeros((lengths.sum(), 0), np.int64),
                              lengths, np.zeros((1500, 0), np.float32), torch.device('cpu'), window=64)
    plan = dict(epochs=None, validation_split=0.0, early_stopping_patience=None, seed=0,
                batch_size=None, learning_rate=0.01)
    val_idx, train_idx = par_model._plan_fit(plan, data, np.random.default_rng(0), torch.device('cpu'))
    assert len(val_idx) == 150 and len(train_idx) == 1350 and not set(val_idx) & set(train_idx)
    # 405,000 rows in ~2,048-row batches: 31 sequences x 5 windows of 64 steps, 44 batches
    assert plan['updates_per_epoch'] == 44 * 5
    assert plan['epochs'] == min(128, -(-par_model._UPDATE_BUDGET // plan['updates_per_epoch'])) < 128
    # patience a quarter of the planned epochs: a tenth stopped flights at epoch 22 of 37 on the
    # noise of a still-high learning rate (validation NLL 19.06; the full schedule reached 18.72)
    assert plan['epochs'] == 28 and plan['early_stopping_patience'] == 7
    explicit = dict(plan, epochs=7, validation_split=0.0, early_stopping_patience=None)
    val_idx, _ = par_model._plan_fit(explicit, data, np.random.default_rng(0), torch.device('cpu'))
    assert explicit['epochs'] == 7 and len(val_idx) == 0 and explicit['early_stopping_patience'] is None
    small = par_model._Batches(np.zeros((300, 1), np.int64), np.zeros((300, 0), np.int64), np.full(100, 3),
                               np.zeros((100, 0), np.float32), torch.device('cpu'), window=64)
    plan_small = dict(epochs=None, validation_split=0.0, early_stopping_patience=None, seed=0,
                      batch_size=None, learning_rate=0.01)
    val_idx, _ = par_model._plan_fit(plan_small, small, np.random.default_rng(0), torch.device('cpu'))
    # small panels: 3 batches an epoch, at least 128 updates (300 rows / 12 is fewer): 43 epochs
    assert len(val_idx) == 0 and plan_small['updates_per_epoch'] == 3 and plan_small['epochs'] == 43
    mid = par_model._Batches(np.zeros((6000, 1), np.int64), np.zeros((6000, 0), np.int64), np.full(500, 12),
                             np.zeros((500, 0), np.float32), torch.device('cpu'), window=64)
    plan_mid = dict(epochs=None, validation_split=0.0, early_stopping_patience=None, seed=0,
                    batch_size=None, learning_rate=0.02)
    par_model._plan_fit(plan_mid, mid, np.random.default_rng(0), torch.device('cpu'))
    # 6,000 rows: one update per 12 rows = 500 updates, 3 batches an epoch: 167 epochs, capped at 128
    assert plan_mid['updates_per_epoch'] == 3 and plan_mid['epochs'] == 128
    # one update per 12 rows or per sequence, whichever is more, 128..6,000 (12 passes: up to 12,000)
    assert par_model._auto_updates(1_704, 142) == 142  # gapminder
    assert par_model._auto_updates(2_555, 500) == 500  # 500 short Lahman careers: rows alone say 213
    assert par_model._auto_updates(300, 100) == 128
    assert par_model._auto_updates(2_250_000, 45_000) == 6_000
    assert par_model._auto_updates(2_025_000, 45_000, per_epoch=989) == 11_868  # 2.25M rows: 12 passes
    assert par_model._auto_updates(2_250_000, 45_000, per_epoch=5_000) == 12_000
    assert par_model._auto_updates(256_000, 3_000, per_epoch=125) == 6_000  # flights: 48 passes already


def test_explicit_epochs_are_honoured_exactly():
    steps_df, lengths, specs, ctx = _trend_data(n=30, steps=4)
    model = fit_par(steps_df, lengths, specs, ctx, epochs=3, seed=0, validation_split=0.2, **FAST)
    assert [row['epoch'] for row in model.loss_history] == [1, 2, 3]


def test_cuda_device_selection_on_a_cpu_machine(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert par_model.resolve_device('cuda') == torch.device('cuda')
    assert par_model.resolve_device('cuda:1') == torch.device('cuda', 1)
    cuda = torch.device('cuda')
    assert par_model._auto_threads(10 ** 9, cuda) is None  # torch's threads left alone on GPU
    assert par_model._auto_rows(2 ** 24, cuda) == 16_384
    assert par_model._auto_rows(2 ** 24, torch.device('cpu')) == 2_048
    with pytest.raises(ValueError, match='cpu'):
        par_model.resolve_device('mps')


def test_sequences_longer_than_the_window_keep_their_trend_past_it():
    # 30-step trends trained in windows of 8 steps (the exactness of the carried state is the
    # forward-pass test above): sampled sequences keep direction and smooth steps across
    # window boundaries.
    steps_df, lengths, specs, ctx = _trend_data(n=64, steps=30, seed=2)
    model = fit_par(steps_df, lengths, specs, ctx, epochs=20, batch_size=32, seed=0,
                    sequence_window=8, **FAST)
    n = 100
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
    values = model.sample(sign, np.full(n, 30), seed=5)['value'].to_numpy().reshape(n, 30)
    late = np.diff(values[:, 16:], axis=1) * sign  # steps after two window boundaries
    assert np.median(late) == pytest.approx(1.0, abs=0.3)
    assert np.mean(np.sign(values[:, -1] - values[:, 0]) == sign[:, 0]) >= 0.95


def test_well_filled_bins_decode_by_their_own_quantiles():
    """Heavy tails at scale: a wide tail bin decodes to its real, skewed spread (issue 13)."""
    rng = np.random.default_rng(0)
    level = rng.lognormal(3, 1, 400_000)
    balance = level + rng.normal(0, 1, level.size)
    spend = rng.gamma(2.0, level / 10)
    decoded = []
    for values in (balance, spend):
        binner = QuantileBinner().fit(values)
        assert binner.knots_ is not None and not np.isnan(binner.knots_).any()
        decoded.append(binner.inverse(binner.transform(values), rng))
    real_corr = np.corrcoef(balance, spend)[0, 1]
    assert abs(np.corrcoef(*decoded)[0, 1] - real_corr) < 0.04  # uniform decoding: 0.12 lower
    assert decoded[0].std() == pytest.approx(balance.std(), rel=0.03)
    assert binner.transform(decoded[1]).tolist() == binner.transform(spend).tolist()  # same bins
    from synth_assets.safe_unpickle import safe_loads

    restored = safe_loads(pickle.dumps(binner))  # knots pass the model-file allow-list
    assert np.array_equal(restored.knots_, binner.knots_)
    old = QuantileBinner().fit(balance)
    del old.knots_  # a model file from before knots: uniform decoding, still valid values
    again = old.inverse(old.transform(balance), rng)
    assert again.min() >= balance.min() and again.max() <= balance.max()


def test_sparse_bins_keep_uniform_decoding():
    values = np.random.default_rng(1).normal(size=5_000)  # ~5 values a bin
    binner = QuantileBinner().fit(values)
    assert binner.knots_ is None


def test_fine_tokens_past_the_last_bin_are_never_drawn():
    """50 bins in two slots (7 coarse x 8 fine): the last coarse group holds only 2 bins. A
    fine token past them used to be clipped into the top bin, so an unsure fine head piled mass
    there (issue 13: the top spend bin at 7x its real share). With every head made uniform, the
    last group's two bins share its 1/7 equally."""
    values = np.random.default_rng(0).normal(size=2_000)
    steps_df = pd.DataFrame({'value': values})
    model = fit_par(steps_df, np.full(400, 5), [ColumnSpec('value', 'continuous')], None,
                    epochs=1, seed=0, encoder_params=dict(max_bins=50, single_slot_max=8), **FAST)
    binner = model.encoder.level_binners[0]
    assert (binner.n_bins, model.encoder.abs_factor[0]) == (50, (7, 8))
    with torch.no_grad():
        model._net.head_out_w.zero_()
        model._net.head_out_b.zero_()
    sampled = model.sample(None, np.full(4_000, 5), seed=1)['value']
    share = np.bincount(binner.transform(sampled), minlength=50) / len(sampled)
    assert share[49] == pytest.approx(1 / 14, abs=0.01)  # clipped: 7/8 of 1/7 = 0.125
    assert share[48] == pytest.approx(1 / 14, abs=0.01)
    assert share[:48].mean() == pytest.approx(1 / 56, abs=0.003)


def test_level_features_place_tail_bins_in_value_space():
    """Quantile bins hide how wide the tail bins are; the per-bin features show it (issue 13)."""
    values = np.r_[np.random.default_rng(0).lognormal(3, 1, 200_000), np.zeros(20_000)]
    binner = QuantileBinner().fit(values)
    feats = level_features(binner)
    assert feats.shape == (binner.n_bins, 2) and feats.dtype == np.float32
    assert np.all(np.diff(feats[:, 0]) > 0)  # position rises with the bin
    np.testing.assert_allclose(feats.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(feats.std(axis=0), 1, rtol=1e-4)
    assert feats[-1, 1] == feats[:, 1].max() and feats[-1, 1] > 3  # the top bin is the widest
    assert feats[0, 1] == feats[:, 1].min()  # the point mass at zero has no width
    assert not level_features(QuantileBinner().fit(np.ones(10))).any()  # one bin: all zero


def test_value_features_are_rebuilt_from_the_layout_and_old_files_still_load(monkeypatch):
    steps_df, lengths, specs, ctx = _trend_data(n=32, steps=5, seed=1)
    model = fit_par(steps_df, lengths, specs, ctx, epochs=2, seed=0, **FAST)
    assert model._net.n_value_feats == 2
    assert 'value_table' not in model._net.state_dict()  # not saved with the weights
    # A model file from before the features: its layout has none, its network is built as it was.
    real_layout = par_model._layout

    def old_layout(*args):
        layout = real_layout(*args)
        for column in layout['continuous']:
            del column['level_features']
        return layout

    monkeypatch.setattr(par_model, '_layout', old_layout)
    old = fit_par(steps_df, lengths, specs, ctx, epochs=2, seed=0, **FAST)
    monkeypatch.undo()
    clone = pickle.loads(pickle.dumps(old))
    assert clone._net.n_value_feats == 0 and clone._net.in_dim == model._net.in_dim - 2 * 2
    pd.testing.assert_frame_equal(clone.sample(ctx, lengths, seed=4), old.sample(ctx, lengths, seed=4))



def test_weight_average_follows_the_live_weights_exponentially():
    from synth_assets.sequential.weight_average import WeightAverage

    p = torch.nn.Parameter(torch.zeros(3))
    average = WeightAverage([p], decay=0.5, warmup=0)
    for value in (4.0, 8.0):
        with torch.no_grad():
            p.fill_(value)
        average.update()
    # 0 -> 0.5 * 0 + 0.5 * 4 = 2 -> 0.5 * 2 + 0.5 * 8 = 5; the live weights are untouched
    assert torch.allclose(average.shadow[0], torch.full((3,), 5.0)) and float(p.detach()[0]) == 8.0
    with average.swapped_in():
        assert float(p.detach()[0]) == 5.0
    assert float(p.detach()[0]) == 8.0


def test_validated_fits_keep_the_averaged_weights_of_their_best_epoch(monkeypatch):
    """With a validation split the network validated (and returned) is the running average of
    the weights: at a learning rate whose single steps overshoot, its validation NLL beats the
    live weights' (here 4.449 vs 4.482; Lahman careers: 20.14 vs 20.28, MSAS 0.968 vs 0.951)."""
    steps_df, lengths, specs, ctx = _trend_data(n=200, steps=6, seed=4)
    args = dict(epochs=12, batch_size=8, learning_rate=0.3, validation_split=0.25, seed=0, **FAST)
    averaged = fit_par(steps_df, lengths, specs, ctx, **args)
    monkeypatch.setattr(par_model, '_AVERAGE_DECAY', 0.0)  # the average is the live weights
    live = fit_par(steps_df, lengths, specs, ctx, **args)
    best = [min(h['val_loss'] for h in m.loss_history) for m in (averaged, live)]
    assert best[0] < best[1] - 0.02
    val = averaged.validation_index
    rows = np.concatenate([np.arange(6) + 6 * i for i in val])
    ll = averaged.log_likelihood(steps_df.iloc[rows], lengths[val], ctx[val])
    assert -ll.sum() / (6 * len(val)) == pytest.approx(best[0], rel=1e-4)


def test_fits_without_validation_return_the_live_weights(monkeypatch):
    steps_df, lengths, specs, ctx = _trend_data(n=40, steps=5, seed=5)
    args = dict(epochs=6, batch_size=8, seed=0, **FAST)
    first = fit_par(steps_df, lengths, specs, ctx, **args)
    monkeypatch.setattr(par_model, '_AVERAGE_DECAY', 0.5)
    second = fit_par(steps_df, lengths, specs, ctx, **args)
    for a, b in zip(first._net.parameters(), second._net.parameters()):
        assert torch.equal(a, b)
