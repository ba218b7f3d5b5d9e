"""Torch engine of the PAR synthesizer: a probabilistic auto-regressive network over steps.

Only this module imports torch; callers import it lazily when a fit or sample happens.

Model. Every step is a row of integer slot tokens (see ``encoding.StepEncoder``). A GRU runs
over the steps; its input at step t is the previous row (slot-token embeddings, plus for every
continuous column its level as an embedding, as a number in [0, 1] and as the bin's place in
value space, ``encoding.level_features``), position features
(t, steps left, length; the length is an input because the wrapper draws it) and the context
vector, which also sets the initial hidden state. The slots of row t are predicted one after
another from [GRU state, previous levels / position / context (a skip), embeddings of the
earlier slots of the same row] through a masked (MADE-style) layer, so within-row dependencies
are modelled and training is one fully vectorized pass with teacher forcing. The loss is the
masked cross-entropy over real rows only; padding never counts.

Sampling runs all requested sequences in batches, carrying the GRU state step to step (O(L)),
and draws ``sample_size`` candidates per sequence in the same batch, keeping the one the model
finds most likely.
"""

from __future__ import annotations

import copy
import math
import os
import time

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from synth_assets.progress import TqdmProgress, check_progress_callback
from synth_assets.sequential.encoding import StepEncoder, level_features, normalize_specs
from synth_assets.sequential.weight_average import WeightAverage
from synth_assets.sequential.par_sampler import sample_levels
from synth_assets.single_table.base import check_finite_float, check_learning_rate

__all__ = ['FittedPAR', 'fit_par', 'resolve_device', 'DEFAULTS']

# Defaults measured on gapminder and Ecdat Males on a 2-core CPU (see fit_par's docstring).
DEFAULTS = dict(
    epochs=None,  # automatic: an update budget, a validation split and early stopping
    batch_size=None,  # auto: about 2,048 rows per batch on CPU, 16,384 on GPU
    learning_rate=2e-2,
    hidden_size=64,
    embedding_dim=8,
    head_size=16,
    weight_decay=0.0,
    validation_split=0.0,
    early_stopping_patience=None,
)
_NEG = -1e9


def resolve_device(device) -> torch.device:
    """'cpu', 'cuda', 'cuda:N' or a torch.device; ValueError when CUDA is asked for but absent."""
    if device is None:
        return torch.device('cpu')
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f'device must be "cpu" or "cuda", got {device!r}') from exc
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device={device!r} was requested but CUDA is not available')
    if dev.type not in ('cpu', 'cuda'):
        raise ValueError(f'device must be "cpu" or "cuda", got {device!r}')
    return dev


class _threads:
    """Temporarily set torch's intra-op threads (None keeps the current setting)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.prev = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(int(self.n))

    def __exit__(self, *exc):
        torch.set_num_threads(self.prev)


def _auto_threads(work: int, dev) -> int | None:
    """Intra-op threads for CPU work of a given size (None: leave torch's setting alone).

    Small tensors are dominated by per-op overhead, where extra threads only add
    synchronization; and OpenMP threads that spin-wait stall badly when the cores are shared
    (measured: a 4 s sampling run took 90 s with 2 threads on a busy 2-core machine). So one
    thread for small work, and at most half the usable cores otherwise.
    """
    if dev.type != 'cpu':
        return None
    if work < 100_000:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), cores // 2))


def _lookup(embedding, ids):
    """Embeddings of ids (..., J) concatenated to (..., J * dim): `embedding(ids).flatten(-2)`,
    as an index_select, whose backward (index_add) is ~3x faster on CPU than nn.Embedding's."""
    rows = embedding.weight.index_select(0, ids.reshape(-1))
    return rows.view(*ids.shape[:-1], ids.shape[-1] * embedding.embedding_dim)


class _PARNet(nn.Module):
    def __init__(self, layout: dict, n_context: int, hidden_size: int, embedding_dim: int,
                 head_size: int, head_skip: str = 'levels'):
        super().__init__()
        self.head_skip = head_skip
        self.layout = layout
        vocab = layout['slot_vocab']
        phased = layout['slot_phased']
        n_slots = len(vocab)
        self.n_slots = n_slots
        self.emb_dim = embedding_dim
        self.head_size = head_size
        self.n_context = n_context
        # One embedding table for every slot; phased slots (level on the first step, change
        # later) have two id ranges because the same token means different things.
        offsets_first, offsets_later, total = [], [], 0
        for v, p in zip(vocab, phased):
            offsets_first.append(total)
            offsets_later.append(total + v if p else total)
            total += 2 * v if p else v
        self.register_buffer('off_first', torch.tensor(offsets_first, dtype=torch.long))
        self.register_buffer('off_later', torch.tensor(offsets_later, dtype=torch.long))
        self.token_emb = nn.Embedding(total, embedding_dim)
        # Level embedding (coarse level bin) for every continuous column.
        cont = layout['continuous']
        self.n_cont = len(cont)
        lev_off, total = [], 0
        for c in cont:
            lev_off.append(total)
            total += c['abs_coarse']
        self.register_buffer('lev_off', torch.tensor(lev_off, dtype=torch.long))
        self.register_buffer(
            'lev_fine', torch.tensor([c['abs_fine'] for c in cont], dtype=torch.long))
        self.register_buffer(
            'lev_bins', torch.tensor([c['n_bins'] for c in cont], dtype=torch.float32))
        self.level_emb = nn.Embedding(max(total, 1), embedding_dim)
        self._level_value_table(cont)
        row_dim = n_slots * embedding_dim + self.n_cont * (embedding_dim + 1 + self.n_value_feats)
        self.row_dim = row_dim
        in_dim = row_dim + 4 + n_context
        self.in_dim = in_dim
        self.gru = nn.GRU(in_dim, hidden_size, batch_first=True)
        if n_context:
            self.h0 = nn.Linear(n_context, hidden_size)
        else:
            self.h0_bias = nn.Parameter(torch.zeros(hidden_size))
        # The slot heads see the GRU state plus a skip of (part of) the GRU input.
        self.skip_from = {'full': 0, 'none': row_dim,
                          'levels': (n_slots + self.n_cont) * embedding_dim}[head_skip]
        self.head_in = nn.Linear(hidden_size + in_dim - self.skip_from, n_slots * head_size)
        # Earlier slots of the same row -> later slots only (strictly lower block triangle).
        self.head_tri = nn.Parameter(
            torch.randn(n_slots * embedding_dim, n_slots * head_size)
            / math.sqrt(max(n_slots * embedding_dim, 1)))
        tri = torch.zeros(n_slots * embedding_dim, n_slots * head_size)
        for i in range(n_slots):
            tri[i * embedding_dim:(i + 1) * embedding_dim, (i + 1) * head_size:] = 1.0
        self.register_buffer('tri_mask', tri)
        v_max = int(max(vocab))
        self.v_max = v_max
        self.head_out_w = nn.Parameter(
            torch.randn(n_slots, head_size, v_max) / math.sqrt(head_size))
        self.head_out_b = nn.Parameter(torch.zeros(n_slots, v_max))
        # Vocabulary masks: first step (levels) and later steps (changes) may differ in size.
        masks = torch.full((2, n_slots, v_max), _NEG)
        for j in range(n_slots):
            masks[0, j, :layout['slot_vocab_first'][j]] = 0.0
            masks[1, j, :layout['slot_vocab_later'][j]] = 0.0
        self.register_buffer('vocab_mask', masks)

    def _level_value_table(self, cont):
        """Every column's per-bin value-space features (encoding.level_features) in one table;
        rebuilt from the layout, not saved with the weights. Layouts from model files written
        before these features have none, and their networks are built as they were."""
        self.n_value_feats = 0
        if not cont or any('level_features' not in c for c in cont):
            return
        table = torch.tensor([row for c in cont for row in c['level_features']], dtype=torch.float32)
        self.n_value_feats = table.shape[1]
        starts = np.cumsum([0] + [len(c['level_features']) for c in cont[:-1]])
        self.register_buffer('value_table', table, persistent=False)
        self.register_buffer('value_off', torch.tensor(starts, dtype=torch.long), persistent=False)

    # -- pieces shared by training and sampling -------------------------------------------
    def initial_state(self, ctx):
        if self.n_context:
            return torch.tanh(self.h0(ctx)).unsqueeze(0)
        return torch.tanh(self.h0_bias).expand(ctx.shape[0], -1).unsqueeze(0).contiguous()

    def token_ids(self, tokens, first):
        """tokens (..., J), first (...) bool -> ids into token_emb."""
        off = torch.where(first.unsqueeze(-1), self.off_first, self.off_later)
        return tokens + off

    def row_features(self, tokens, levels, first):
        """Features of a row: slot embeddings, level embeddings, levels in [0, 1] and the levels'
        value-space features (when the layout has them)."""
        return self.id_features(self.token_ids(tokens, first), levels)

    def id_features(self, ids, levels):
        """`row_features` of token ids (tokens already offset by `token_ids`), and the slot
        embeddings alone; the sampler, which knows the phase of a whole row, calls it directly."""
        emb = _lookup(self.token_emb, ids)
        if not self.n_cont:
            return emb, emb
        lev_emb = _lookup(self.level_emb, levels // self.lev_fine + self.lev_off)
        u = (levels.float() + 0.5) / self.lev_bins
        parts = [emb, lev_emb, u]
        if self.n_value_feats:
            rows = levels + self.value_off
            parts.append(self.value_table.index_select(0, rows.reshape(-1)).view(*rows.shape[:-1], -1))
        return torch.cat(parts, dim=-1), emb

    def step_masks(self, steps):
        """(T, J, V) additive vocabulary masks: the first step, then the later steps."""
        return torch.cat([self.vocab_mask[:1], self.vocab_mask[1:].expand(steps - 1, -1, -1)])

    def forward(self, tokens, levels, lengths, ctx):
        """Teacher-forced logits (B, T, J, V) for padded batches."""
        return self.forward_window(tokens, levels, lengths, ctx)[0]

    def forward_window(self, tokens, levels, lengths, ctx, start=0, state=None):
        """Logits of steps start..start+T-1, and the state that continues the sequences.

        ``state`` is (GRU hidden state, features of row start-1) from the previous window (None
        at start 0); training on windows with the state detached is truncated backpropagation
        through time: the forward pass is exact, gradients stop at the window's start.
        """
        bsz, steps, _ = tokens.shape
        t = torch.arange(start, start + steps, device=tokens.device)
        first = (t == 0).unsqueeze(0).expand(bsz, steps)
        row, emb = self.row_features(tokens, levels, first)
        if state is None:
            h0, before = self.initial_state(ctx), row.new_zeros(bsz, 1, row.shape[-1])
        else:
            h0, before = state
        prev = torch.cat([before, row[:, :-1]], dim=1)
        ctx_steps = ctx.unsqueeze(1).expand(-1, steps, -1)
        x = torch.cat([prev, self.position(t, lengths), ctx_steps], dim=-1)
        h, h_n = self.gru(x, h0)
        z = self.head_in(torch.cat([h, x[..., self.skip_from:]], dim=-1))
        z = z + emb @ (self.head_tri * self.tri_mask)
        z = F.relu(z.view(bsz, steps, self.n_slots, self.head_size))
        logits = torch.einsum('btjm,jmv->btjv', z, self.head_out_w) + self.head_out_b
        mask = self.vocab_mask[1:] if start > 0 else self.step_masks(steps)
        return logits + mask, (h_n.detach(), row[:, -1:].detach())

    def position(self, t, lengths):
        """(B, T, 4): step, steps left, length (scaled by the training max length), first flag."""
        scale = float(self.layout['max_length'])
        t = t.float().unsqueeze(0)
        length = lengths.float().unsqueeze(1)
        return torch.stack([
            (t / scale).expand_as(length * t),
            (length - 1 - t) / scale,
            (length / scale).expand_as(length * t),
            (t == 0).float().expand_as(length * t),
        ], dim=-1)


class _Adam:
    """Adam with foreach ops (torch.optim's constructor imports torch._dynamo: ~1.5 s)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        b1, b2 = self.betas
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        if self.weight_decay:
            grads = torch._foreach_add(grads, self.params, alpha=self.weight_decay)
        torch._foreach_lerp_(self.m, grads, 1 - b1)
        torch._foreach_mul_(self.v, b2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, math.sqrt(1 - b2 ** self.t))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, value=-lr / (1 - b1 ** self.t))


def _masked_nll(logits, tokens, lengths, start=0):
    """Per-row NLL summed over slots, and the validity mask (B, T) of steps start..start+T-1."""
    bsz, steps, n_slots, v = logits.shape
    nll = F.cross_entropy(logits.reshape(-1, v), tokens.reshape(-1), reduction='none')
    nll = nll.view(bsz, steps, n_slots).sum(-1)
    t = torch.arange(start, start + steps, device=logits.device)
    valid = t.unsqueeze(0) < lengths.unsqueeze(1)
    return nll * valid, valid


def _layout(encoder: StepEncoder, max_length: int) -> dict:
    first_vocab, later_vocab = [], []
    continuous = []
    for j, mode in enumerate(encoder.column_modes):
        if mode == 'discrete':
            first_vocab.append(encoder.specs[j].n_categories)
            later_vocab.append(encoder.specs[j].n_categories)
            continue
        n = encoder.column_n_slots[j]
        abs_f = encoder.abs_factor[j]
        d_f = encoder.delta_factor[j] if mode == 'delta' else abs_f
        first_vocab.extend(abs_f[:n])
        later_vocab.extend(d_f[:n])
        info = dict(column=j, mode=mode, n_slots=n,
                    n_bins=encoder.level_binners[j].n_bins,
                    abs_coarse=abs_f[0], abs_fine=abs_f[1],
                    level_features=level_features(encoder.level_binners[j]).tolist())
        if mode == 'delta':
            db = encoder.delta_binners[j]
            info.update(delta_bins=db.n_bins, delta_fine=d_f[1],
                        delta_lo=db.dlo_.astype(np.float64).tolist(),
                        delta_hi=db.dhi_.astype(np.float64).tolist())
        continuous.append(info)
    return dict(
        slot_vocab=[int(v) for v in encoder.slot_vocab],
        slot_vocab_first=[int(v) for v in first_vocab],
        slot_vocab_later=[int(v) for v in later_vocab],
        slot_phased=[bool(p) for p in encoder.slot_phased],
        slot_column=[int(c) for c in encoder.slot_column],
        column_n_slots=list(encoder.column_n_slots),
        column_modes=list(encoder.column_modes),
        continuous=continuous,
        max_length=int(max_length),
    )


def _pad(values: np.ndarray, lengths: np.ndarray, steps: int) -> np.ndarray:
    """(n_rows, k) rows in sequence order -> (n_seq, steps, k), zero padded (vectorized)."""
    out = np.zeros((len(lengths), steps, values.shape[1]), dtype=values.dtype)
    seq = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(len(values)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[seq, pos] = values
    return out


def _check_context(context, n_seq: int, name: str = 'context') -> np.ndarray:
    if context is None:
        return np.zeros((n_seq, 0), dtype=np.float32)
    ctx = np.asarray(context, dtype=np.float64)
    if ctx.ndim == 1 and ctx.size == n_seq:
        ctx = ctx.reshape(n_seq, 1)
    if ctx.ndim != 2 or ctx.shape[0] != n_seq:
        raise ValueError(
            f'{name} must have shape (n_sequences={n_seq}, n_features), got {ctx.shape}')
    if not np.all(np.isfinite(ctx)):
        raise ValueError(f'{name} has NaN or infinite values')
    return ctx.astype(np.float32)


_ROWS_PER_BATCH = {'cpu': 2_048, 'cuda': 16_384}
# Optimizer updates an automatic-length fit (epochs=None) plans for: one per 12 training rows or
# one per training sequence, whichever is more, at least 128 and at most 6,000 (12,000 when 12
# passes over the data need more), in at most 128 epochs of at least 3 batches.
# Measured at learning rate 0.02 (mean of 3 seeds): gapminder
# (1,704 rows, 142 sequences: 3 batches x 48 epochs) 0.905 vs 0.906 for 128 full-batch epochs
# at 0.01, in half the time; 500 Lahman careers (2,555 rows of short sequences) 0.967 vs 0.970
# for 128 epochs (rows alone planned 213 updates: 0.957). Small data also sees fewer passes,
# so it is memorized less. The 2.25M-row panel got 6 passes from 6,000 updates and learned its
# tails less well (0.972 / 0.973 on seeds 0 / 1; with 12 passes 0.975 / 0.985); a flat 12,000
# instead stretched the cosine schedule of panels that stop early (flights: 96 epochs planned,
# stopped at 22 at a still-high rate: 0.828, MSAS 0.884, vs 0.838 / 0.941).
_ROWS_PER_UPDATE = 12
_MIN_UPDATES, _UPDATE_BUDGET, _MAX_UPDATE_BUDGET, _MIN_PASSES = 128, 6_000, 12_000, 12
_MIN_BATCHES = 3
_MAX_EPOCHS = 128
_AUTO_VALIDATION = 0.1  # share of sequences held out when epochs=None and no split is given
# Below this many sequences epochs=None holds nothing out: on gapminder (142) and Males (545) a
# 10% split stopped at epoch 32-36 (the validation NLL turns first) and lost 0.06 of quality.
_MIN_AUTO_VALIDATION = 1_000
_MAX_VALIDATION = 5_000  # sequences: more only slows every epoch's validation pass
# Automatic patience: a quarter of the planned epochs. While the cosine rate is high the
# validation NLL jumps by more than it gains an epoch; a tenth (4 of 37 epochs) stopped flights
# at epoch 22 on such a jump (NLL 19.06, MSAS 0.924 / 0.922 on seeds 0 / 1), where the whole
# schedule kept improving to 18.72 (MSAS 0.951 / 0.945). Panels that overfit (Lahman: best epoch
# 25 of 128) still stop, only later, and keep their best epoch.
_PATIENCE_SHARE = 4
# Weight-average decay per update (fits with a validation split; weight_average.py). Without a
# split the cosine rate has settled by the last update and the live weights are returned:
# averaging them cost gapminder 0.910 vs 0.917 (3 seeds).
_AVERAGE_DECAY = 0.99


def _auto_rows(n_rows: int, device, auto_epochs: bool = False) -> int:
    """Rows per batch: about 2,048 on CPU (16,384 on GPU), where per-update overhead is paid
    off. Small data is split in a few batches: at least 3 with automatic epochs (several
    distinct updates an epoch); with explicit epochs as many as keep an update near 2,048 rows
    (at most 8), so `epochs=128` on a small panel means what it meant before (and does not
    triple the updates: on gapminder that pushed the DCR share near its 60% bound)."""
    target = _ROWS_PER_BATCH['cuda' if device.type == 'cuda' else 'cpu']
    small = _MIN_BATCHES if auto_epochs else min(8, round(target / max(n_rows, 1)))
    n_batches = max(math.ceil(n_rows / target), small, 1)
    return max(1, math.ceil(n_rows / n_batches))


def _auto_updates(n_rows: int, n_sequences: int, per_epoch: int = 1) -> int:
    """Updates an automatic-length fit plans for (see _ROWS_PER_UPDATE); `per_epoch` updates
    make one pass over the training data."""
    wanted = max(math.ceil(n_rows / _ROWS_PER_UPDATE), n_sequences)
    budget = min(_MAX_UPDATE_BUDGET, max(_UPDATE_BUDGET, _MIN_PASSES * per_epoch))
    return int(min(budget, max(_MIN_UPDATES, wanted)))


def _smallest_int(values: np.ndarray) -> np.ndarray:
    """Tokens and levels as int16 where they fit (a quarter of int64's memory at scale)."""
    if values.size and (values.min() < 0 or values.max() > np.iinfo(np.int16).max):
        return values.astype(np.int32)
    return values.astype(np.int16)


class _Batches:
    """Training rows kept flat (no padding); batches are sequences of similar length, padded
    only to the longest of their window (length bucketing: padding costs almost nothing)."""

    def __init__(self, tokens, levels, lengths, ctx, dev, window):
        self.tokens, self.levels = _smallest_int(tokens), _smallest_int(levels)
        self.lengths = lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.ctx, self.dev, self.window = torch.from_numpy(ctx), dev, int(window)

    def plan(self, idx, rng, width=None, rows=None) -> list:
        """Batches of sequence indices, sorted by length (random tie-break), in random order:
        `width` sequences each, or as many as keep (sequences x window steps) <= `rows`."""
        order = idx[np.lexsort((rng.random(len(idx)), self.lengths[idx]))]
        cost = np.minimum(self.lengths[order], self.window)
        batches, i, n = [], 0, len(order)
        while i < n:
            if width:
                j = min(n, i + width)
            else:
                j = min(n, i + max(1, rows // int(cost[i])))
                while j > i + 1 and (j - i) * int(cost[j - 1]) > rows:
                    j = i + max(1, rows // int(cost[j - 1]))
            batches.append(order[i:j])
            i = j
        if not width and len(batches) > 1 and len(batches[-1]) * cost[-1] < rows // 2:
            # A nearly empty last batch would be a noisy full-rate update: merge it.
            batches[-2:] = [np.concatenate(batches[-2:])]
        return [batches[k] for k in rng.permutation(len(batches))]

    def windows(self, seq):
        """(start, tokens, levels, lengths, context, real rows) for each window of a batch."""
        lens = self.lengths[seq]
        ctx, lens_t = self.ctx[seq].to(self.dev), torch.from_numpy(lens).to(self.dev)
        for start in range(0, int(lens.max()), self.window):
            t = start + np.arange(min(self.window, int(lens.max()) - start))
            valid = t[None, :] < lens[:, None]
            pos = np.where(valid, self.offsets[seq][:, None] + t[None, :], 0)
            tok = np.where(valid[..., None], self.tokens[pos], 0).astype(np.int64)
            lev = np.where(valid[..., None], self.levels[pos], 0).astype(np.int64)
            yield (start, torch.from_numpy(tok).to(self.dev), torch.from_numpy(lev).to(self.dev),
                   lens_t, ctx, int(valid.sum()))


def _split(n_seq, validation_split, rng, cap=None):
    order = rng.permutation(n_seq)
    n_val = int(round(n_seq * float(validation_split)))
    n_val = n_val if cap is None else min(n_val, cap)
    if validation_split > 0 and (n_val < 1 or n_val >= n_seq):
        raise ValueError(
            f'validation_split={validation_split} leaves no training or validation sequences '
            f'out of {n_seq}')
    return order[:n_val], order[n_val:]


class _CosineLR:
    """Cosine decay to a tenth over the planned updates: big early steps, fine settling."""

    def __init__(self, learning_rate, total_updates):
        self.lr, self.total = learning_rate, max(1, total_updates)

    def __call__(self, k):
        return self.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(k, self.total) / self.total)))


def _updates(batches, lengths, window) -> int:
    return int(sum(math.ceil(int(lengths[b].max()) / window) for b in batches))


def _check_fit_args(epochs, batch_size, learning_rate, validation_split, early_stopping_patience,
                    head_skip, sizes, sequence_window):
    if epochs is not None and (not isinstance(epochs, (int, np.integer))
                               or isinstance(epochs, bool) or epochs < 1):
        raise ValueError(f'epochs must be a positive integer or None, got {epochs!r}')
    for name, value in (*sizes, ('sequence_window', sequence_window)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f'{name} must be a positive integer, got {value!r}')
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                   or isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f'batch_size must be a positive integer or None, got {batch_size!r}')
    check_learning_rate('learning_rate', learning_rate)
    check_finite_float('validation_split', validation_split, 0.0, 1.0, high_open=True)
    if early_stopping_patience is not None:
        if (not isinstance(early_stopping_patience, (int, np.integer))
                or early_stopping_patience < 1):
            raise ValueError('early_stopping_patience must be a positive integer or None, got '
                             f'{early_stopping_patience!r}')
        if validation_split <= 0:
            raise ValueError('early_stopping_patience needs validation_split > 0')
    if head_skip not in ('levels', 'full', 'none'):
        raise ValueError(f"head_skip must be 'levels', 'full' or 'none', got {head_skip!r}")


def fit_par(steps: pd.DataFrame, seq_lengths, specs, context=None, *, epochs=None,
            batch_size=None, learning_rate=2e-2, hidden_size=64, embedding_dim=8, head_size=16,
            weight_decay=0.0, validation_split=0.0, early_stopping_patience=None, seed=None,
            device='cpu', verbose=False, encoder_params=None, head_skip='levels',
            num_threads=None, progress_callback=None, sequence_window=64) -> 'FittedPAR':
    """Fit the PAR network.

    Args:
        steps: float DataFrame, one row per (sequence, step), sorted by sequence then step.
        seq_lengths: int array, the length of every sequence in row order (all >= 1).
        specs: column specs (``encoding.ColumnSpec``, OutputColumn-like objects, dicts, tuples).
        context: float array (n_sequences, n_features) or None.
        epochs: passes over the sequences, honoured exactly. None (default): as many as a
            budget of one update per 12 training rows or per training sequence, whichever
            is more (at least 128, at most 6,000, or 12,000 when 12 passes need more), allows
            (at most 128); with 1,000 sequences or more
            (or a ``validation_split``) also a validation split (10% of the sequences, at most
            5,000, unless given), early stopping (patience a quarter of the epochs, at least 2,
            unless given) and the best epoch's weights restored.
        batch_size: sequences per mini-batch; None aims at about 2,048 rows per batch on CPU
            (16,384 on GPU), with at least 3 batches per epoch when ``epochs`` is None (a few,
            at most 8, on small data with explicit ``epochs``). Batches hold
            sequences of similar length (little padding).
        learning_rate: Adam learning rate (cosine-decayed to a tenth over the planned updates).
        hidden_size, embedding_dim, head_size: network sizes.
        weight_decay: Adam weight decay.
        validation_split: fraction of sequences held out to compute ``val_loss`` each epoch.
            With a split, what is validated, kept at the best epoch and returned is the running
            average of the weights (``weight_average``, decay 0.99 an update), not the last
            update's weights; without one, the last update's.
        early_stopping_patience: stop after this many epochs without a better ``val_loss`` and
            restore the best weights (needs ``validation_split > 0``).
        seed: makes the fit reproducible (on the same device and torch version).
        device: 'cpu' or 'cuda'.
        verbose: show a tqdm progress bar over epochs with the loss (``TqdmProgress``: the
            same reports as ``progress_callback`` gets).
        encoder_params: keyword arguments for ``encoding.StepEncoder``.
        head_skip: which part of the GRU input the slot heads also see directly: 'levels'
            (continuous levels with their value-space features, position and context; default),
            'full' or 'none'.
        num_threads: torch CPU threads during the fit (None: 1 for small batches, at most half
            the cores otherwise).
        progress_callback: called after every epoch as ``cb(total=epochs, completed=epoch,
            message={'stage': 'fit', 'epoch', 'loss', 'val_loss', 'eta_seconds'})`` (see
            ``synth_assets.progress``); ``val_loss`` only with a validation split. The ETA
            assumes every remaining epoch runs (early stopping may end sooner).
        sequence_window: longer sequences train in windows of this many steps, the GRU state
            carried from window to window (truncated backpropagation, as mostlyai's
            ``max_sequence_window`` bounds the steps one update sees): wide batches instead
            of a few long ones.

    Returns:
        FittedPAR with ``loss_history`` (list of dicts epoch, loss, val_loss; losses are mean
        negative log-likelihood per step, val_loss NaN without validation).
    """
    specs = normalize_specs(specs)
    if not isinstance(steps, pd.DataFrame):
        raise TypeError(f'steps must be a pandas DataFrame, got {type(steps).__name__}')
    lengths = np.asarray(seq_lengths, dtype=np.int64).ravel()
    if lengths.size == 0:
        raise ValueError('seq_lengths is empty: need at least one sequence')
    _check_fit_args(epochs, batch_size, learning_rate, validation_split, early_stopping_patience,
                    head_skip, (('hidden_size', hidden_size), ('embedding_dim', embedding_dim),
                                ('head_size', head_size)), sequence_window)
    dev = resolve_device(device)
    ctx = _check_context(context, len(lengths))
    report = _progress(progress_callback, verbose)
    encoder = StepEncoder(specs, **(encoder_params or {})).fit(steps, lengths)
    layout = _layout(encoder, int(lengths.max()))
    tokens, levels = encoder.encode(steps, lengths)
    data = _Batches(tokens, levels[:, [c['column'] for c in layout['continuous']]], lengths,
                    ctx, dev, sequence_window)
    del tokens, levels
    if seed is None:
        seed = int(np.random.default_rng().integers(2 ** 31 - 1))
    rng = np.random.default_rng(seed)
    plan = dict(epochs=epochs, validation_split=validation_split,
                early_stopping_patience=early_stopping_patience, seed=seed,
                batch_size=batch_size, learning_rate=learning_rate)
    val_idx, train_idx = _plan_fit(plan, data, rng, dev)
    start_time = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _PARNet(layout, ctx.shape[1], hidden_size, embedding_dim, head_size,
                      head_skip).to(dev)
    optim = _Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    if num_threads is None:
        num_threads = _auto_threads(plan['rows'] * len(layout['slot_vocab']), dev)
    try:
        with _threads(num_threads):
            net, history, best = _train(net, optim, data, train_idx, val_idx, plan, rng, report)
    finally:
        report.close()
    params = dict(plan, hidden_size=hidden_size, embedding_dim=embedding_dim,
                  head_size=head_size, weight_decay=weight_decay, head_skip=head_skip,
                  sequence_window=int(sequence_window))
    return FittedPAR(encoder, layout, net, ctx.shape[1], params, history,
                     best_epoch=best[2] if len(val_idx) else len(history),
                     fit_seconds=time.perf_counter() - start_time,
                     validation_index=np.sort(val_idx))


def _plan_fit(plan: dict, data: '_Batches', rng, dev):
    """Fill `plan` (epochs, split, patience, batch shape, updates per epoch); the split."""
    auto = plan['epochs'] is None
    n_seq = len(data.lengths)
    if auto and not plan['validation_split'] and n_seq >= _MIN_AUTO_VALIDATION:
        plan['validation_split'] = _AUTO_VALIDATION
    val_idx, train_idx = _split(n_seq, plan['validation_split'], rng,
                                cap=_MAX_VALIDATION if auto else None)
    width = int(plan['batch_size']) if plan['batch_size'] is not None else None
    train_rows = int(data.lengths[train_idx].sum())
    rows = _auto_rows(train_rows, dev, auto) if width is None else None
    batches = data.plan(train_idx, np.random.default_rng(plan['seed']), width, rows)
    per_epoch = _updates(batches, data.lengths, data.window)
    if auto:
        planned = _auto_updates(train_rows, len(train_idx), per_epoch)
        plan['epochs'] = int(min(_MAX_EPOCHS, max(2, math.ceil(planned / per_epoch))))
        if plan['early_stopping_patience'] is None and len(val_idx):
            plan['early_stopping_patience'] = max(2, math.ceil(plan['epochs'] / _PATIENCE_SHARE))
    plan.update(auto_epochs=auto, width=width, updates_per_epoch=per_epoch,
                rows=rows or width * min(int(data.lengths.max()), data.window),
                batch_size=width or max(len(b) for b in batches))
    return val_idx, train_idx


def _train(net, optim, data, train_idx, val_idx, plan, rng, report):
    """Epochs of updates; with a validation split the running average of the weights is what
    is validated, kept at the best epoch and returned (without one, the live weights)."""
    epochs, patience = plan['epochs'], plan['early_stopping_patience']
    lr_at = _CosineLR(plan['learning_rate'], epochs * plan['updates_per_epoch'])
    average = WeightAverage(net.parameters(), _AVERAGE_DECAY) if len(val_idx) else None
    history, best = [], (math.inf, None, -1)
    started = time.perf_counter()
    net.train()
    for epoch in range(1, epochs + 1):
        train_loss = _train_epoch(net, optim, data, train_idx, plan, rng, lr_at, average)
        val_loss = math.nan
        if average is not None:
            with average.swapped_in():
                val_loss = _evaluate(net, data, val_idx, plan['rows'])
                if val_loss < best[0]:
                    best = (val_loss, copy.deepcopy(net.state_dict()), epoch)
        history.append({'epoch': epoch, 'loss': train_loss, 'val_loss': val_loss})
        _report_epoch(report, epoch, epochs, train_loss, val_loss, time.perf_counter() - started)
        if average is not None and patience is not None and epoch - best[2] >= patience:
            report(total=epoch, completed=epoch, message={
                'stage': 'fit', 'epoch': epoch, 'best_epoch': best[2], 'eta_seconds': 0.0,
                'stopped_early': True})
            break
    if best[1] is not None:
        net.load_state_dict(best[1])
    return net, history, best


def _train_epoch(net, optim, data, train_idx, plan, rng, lr_at, average) -> float:
    """One pass over the training sequences; the mean training NLL per step."""
    total, rows = torch.zeros((), device=data.dev), 0
    for seq in data.plan(train_idx, rng, plan['width'], plan['rows']):
        state = None
        for start, tok, lev, lens, c, n_rows in data.windows(seq):
            logits, state = net.forward_window(tok, lev, lens, c, start, state)
            nll, _ = _masked_nll(logits, tok, lens, start)
            optim.zero_grad()
            (nll.sum() / n_rows).backward()
            optim.step(lr_at(optim.t))
            if average is not None:
                average.update()
            total, rows = total + nll.sum().detach(), rows + n_rows
    return float(total) / max(rows, 1)


def _report_epoch(report, epoch, epochs, train_loss, val_loss, elapsed):
    message = {'stage': 'fit', 'epoch': epoch, 'loss': train_loss}
    if not math.isnan(val_loss):
        message['val_loss'] = val_loss
    message['eta_seconds'] = elapsed / epoch * (epochs - epoch)
    report(total=epochs, completed=epoch, message=message)


@torch.no_grad()
def _evaluate(net, data, idx, rows):
    """Mean NLL per step of the sequences `idx` (whole sequences, window after window)."""
    net.eval()
    total, n = 0.0, 0
    for seq in data.plan(idx, np.random.default_rng(0), rows=4 * rows):
        state = None
        for start, tok, lev, lens, c, n_rows in data.windows(seq):
            logits, state = net.forward_window(tok, lev, lens, c, start, state)
            total += float(_masked_nll(logits, tok, lens, start)[0].sum())
            n += n_rows
    net.train()
    return total / max(n, 1)


class _progress:
    """The caller's progress callback plus, with verbose, a tqdm bar showing the same reports."""

    def __init__(self, progress_callback, verbose):
        self.callback = check_progress_callback(progress_callback)
        self.bar = TqdmProgress(desc='PAR fit', unit='epoch') if verbose else None

    def __call__(self, **report):
        if self.bar is not None:
            self.bar(**report)
        self.callback(**report)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class FittedPAR:
    """A trained PAR network plus its encoder; picklable (weights kept as numpy on CPU)."""

    def __init__(self, encoder, layout, net, n_context, params, loss_history, best_epoch,
                 fit_seconds, validation_index):
        self.encoder = encoder
        self.validation_index = validation_index
        self.layout = layout
        self.n_context = n_context
        self.params = params
        self.loss_history = loss_history
        self.best_epoch = best_epoch
        self.fit_seconds = fit_seconds
        self._net = net.cpu().eval()

    @property
    def columns(self) -> list[str]:
        return self.encoder.columns

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_net'] = None
        state['_weights'] = {k: v.detach().cpu().numpy().copy()
                             for k, v in self._net.state_dict().items()}
        return state

    def __setstate__(self, state):
        weights = state.pop('_weights')
        self.__dict__.update(state)
        p = self.params
        net = _PARNet(self.layout, self.n_context, p['hidden_size'], p['embedding_dim'],
                      p['head_size'], p['head_skip'])
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        self._net = net.eval()

    def log_likelihood(self, steps: pd.DataFrame, seq_lengths, context=None) -> np.ndarray:
        """Model log-likelihood of every sequence in token space (n_sequences,), as trained: the
        fine slot's softmax is not renormalized over the tokens its coarse token allows (the
        sampler's candidate scores are; the two differ by the mass of tokens no data holds)."""
        lengths = np.asarray(seq_lengths, dtype=np.int64).ravel()
        ctx = torch.from_numpy(_check_context(context, len(lengths)))
        tokens, levels = self.encoder.encode(steps, lengths)
        cont_cols = [c['column'] for c in self.layout['continuous']]
        max_len = int(lengths.max())
        tok = torch.from_numpy(_pad(tokens, lengths, max_len))
        lev = torch.from_numpy(_pad(levels[:, cont_cols].astype(np.int64), lengths, max_len))
        lens = torch.from_numpy(lengths)
        with torch.no_grad():
            nll, _ = _masked_nll(self._net(tok, lev, lens, ctx), tok, lens)
        return -nll.sum(1).numpy().astype(np.float64)

    def sample(self, context, lengths, seed=None, sample_size: int = 1, device='cpu',
               batch_size: int = 4096, temperature: float = 1.0,
               num_threads: int | None = None) -> pd.DataFrame:
        """Sample one sequence per context row.

        Args:
            context: float array (n_sequences, n_context_features) (None when no features).
            lengths: int array (n_sequences,), the length of every sequence to draw (>= 1).
            seed: makes sampling reproducible.
            sample_size: candidates drawn per sequence; the most likely one is kept.
            device: 'cpu' or 'cuda'.
            batch_size: sequences (times sample_size) per sampling batch.
            temperature: softmax temperature (1.0 samples the learned distribution).
            num_threads: torch CPU threads while sampling (None: 1 for small batches, at most
                half the cores otherwise).

        Returns:
            float DataFrame with the fitted columns, ``sum(lengths)`` rows in sequence order.
        """
        lengths = np.asarray(lengths, dtype=np.int64).ravel()
        if lengths.size and lengths.min() < 1:
            raise ValueError('lengths must all be >= 1')
        if not isinstance(sample_size, (int, np.integer)) or sample_size < 1:
            raise ValueError(f'sample_size must be a positive integer, got {sample_size!r}')
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature!r}')
        if context is None and self.n_context:
            raise ValueError(f'context is required: the model was fitted with {self.n_context} '
                             'context features')
        ctx = _check_context(context, len(lengths))
        if ctx.shape[1] != self.n_context:
            raise ValueError(f'context has {ctx.shape[1]} features, the model was fitted '
                             f'with {self.n_context}')
        if lengths.size == 0:
            return pd.DataFrame({c: np.zeros(0) for c in self.columns})
        dev = resolve_device(device)
        if seed is None:
            seed = int(np.random.default_rng().integers(2 ** 31 - 1))
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(seed))
        net = self._net.to(dev)
        levels_out = []
        per_batch = max(1, int(batch_size) // sample_size)
        # Sampling works on one row per sequence at a time: small tensors unless many sequences.
        work = min(len(lengths), per_batch) * sample_size * net.n_slots * 8
        try:
            with _threads(num_threads if num_threads is not None else _auto_threads(work, dev)):
                for start in range(0, len(lengths), per_batch):
                    lens = lengths[start:start + per_batch]
                    c = ctx[start:start + per_batch]
                    levels_out.append(self._sample_batch(net, c, lens, gen, sample_size, dev,
                                                         float(temperature)))
        finally:
            self._net = net.cpu()
        levels = np.concatenate(levels_out, axis=0)
        return self.encoder.decode_levels(levels, np.random.default_rng(seed), lengths)

    def _sample_batch(self, net, ctx_np, lengths, gen, sample_size, dev, temperature):
        n = len(lengths)
        ctx = torch.from_numpy(ctx_np).to(dev).repeat_interleave(sample_size, 0)
        lens = torch.from_numpy(lengths).to(dev).repeat_interleave(sample_size, 0)
        levels, loglik = sample_levels(net, self.layout, ctx, lens, int(lengths.max()), gen,
                                       temperature, score=sample_size > 1)
        if sample_size > 1:
            best = loglik.view(n, sample_size).argmax(1)
            levels = levels[torch.arange(n, device=dev) * sample_size + best]
        levels = levels.cpu().numpy()
        # Keep the first L steps of every sequence, rows in sequence order.
        keep = np.arange(levels.shape[1])[None, :] < lengths[:, None]
        return levels[keep]
