"""Step-by-step sampling from a trained PAR network (see par_model.py for the model).

Sampling is sequential in steps and, within a row, in slots, so its cost on small panels is the
number of torch calls per step, not arithmetic (a call costs ~8 us on one CPU core). Everything
that does not change from step to step is therefore computed once per batch:

- the effect of each slot's token on the later slots of its row (embedding times the masked
  triangular weight) becomes a lookup table per slot and phase (first step / later steps);
- head biases plus vocabulary masks and the change-bin tables are pre-added or stacked, and
  the position features of every step come from the network's own `position` at once;
- the continuous columns' token -> level update runs for all columns at once.

The draws are the same distribution as teacher-forced training implies: inverse-CDF sampling
of every slot given the earlier ones, the GRU state carried step to step; except that a fine
token that names no bin (past the last bin, in a partial last coarse group) is never drawn:
the fine slot's distribution is renormalized over the tokens its coarse token allows.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ['sample_levels']


class _Tables:
    """Per-batch constants of a network and its layout (see the module docstring)."""

    def __init__(self, net, layout, dev, temperature):
        n_slots, m = net.n_slots, net.head_size
        w_tri = (net.head_tri * net.tri_mask).view(n_slots, net.emb_dim, n_slots * m)
        vocab = layout['slot_vocab']
        self.offsets = (net.off_first, net.off_later)
        self.tri = [[net.token_emb.weight[int(off[j]):int(off[j]) + vocab[j]] @ w_tri[j]
                     for j in range(n_slots)] for off in self.offsets]
        scale = 1.0 / float(temperature)
        self.weights = list((net.head_out_w * scale).unbind(0))
        self.last = [int(v) - 1 for v in vocab]
        self.bias = [list(((net.head_out_b + net.vocab_mask[k]) * scale).unbind(0)) for k in (0, 1)]
        slot_start = np.concatenate([[0], np.cumsum(layout['column_n_slots'])[:-1]]).astype(int)
        self._continuous(layout, slot_start, dev)
        self._columns(layout, slot_start, dev)
        self._fine_biases(layout, slot_start)

    def _continuous(self, layout, slot_start, dev):
        cont = layout['continuous']
        coarse = [int(slot_start[c['column']]) for c in cont]
        two = [c['n_slots'] == 2 for c in cont]

        def long(values):
            return torch.tensor(values, dtype=torch.long, device=dev)

        self.coarse = long(coarse)
        self.fine = long([s + 1 if t else s for s, t in zip(coarse, two)])
        self.has_fine = long([int(t) for t in two])
        self.abs_fine = long([c['abs_fine'] for c in cont])
        self.max_bin = long([c['n_bins'] - 1 for c in cont])
        self.is_delta = torch.tensor([c['mode'] == 'delta' for c in cont], dtype=torch.bool, device=dev)
        # Absolute columns point at one dummy change bin (0, 0) so one lookup serves all.
        lo, hi, start = [0.0], [0.0], []
        for c in cont:
            start.append(len(lo) if c['mode'] == 'delta' else 0)
            lo += c.get('delta_lo', [])
            hi += c.get('delta_hi', [])
        self.delta_start = long(start)
        self.delta_fine = long([c.get('delta_fine', 0) for c in cont])
        self.delta_max = long([c.get('delta_bins', 1) - 1 for c in cont])
        self.delta_lo = torch.tensor(lo, dtype=torch.float64, device=dev)
        self.delta_hi = torch.tensor(hi, dtype=torch.float64, device=dev)

    def _fine_biases(self, layout, slot_start):
        """Per phase, {fine slot: (coarse vocabulary, V) biases} for two-slot columns whose last
        coarse group is partial: fine tokens past the last bin are masked given the coarse token
        (clipped, they would all decode to the top bin; the softmax never quite learns they
        do not occur). Rows of coarse tokens the phase never draws keep the plain biases."""
        self.fine_bias = ({}, {})
        for c in layout['continuous']:
            if c['n_slots'] != 2:
                continue
            j = int(slot_start[c['column']]) + 1
            absolute = (c['n_bins'], c['abs_fine'])
            later = (c['delta_bins'], c['delta_fine']) if c['mode'] == 'delta' else absolute
            vocab = (layout['slot_vocab_first'][j - 1], layout['slot_vocab_later'][j - 1])
            for phase, (n_bins, fine) in enumerate((absolute, later)):
                if vocab[phase] * fine <= n_bins:
                    continue
                bias = self.bias[phase][j]
                coarse = torch.arange(layout['slot_vocab'][j - 1], device=bias.device)[:, None]
                valid = coarse * fine + torch.arange(bias.shape[0], device=bias.device)[None, :] < n_bins
                valid |= ~valid.any(dim=1, keepdim=True)
                self.fine_bias[phase][j] = torch.where(valid, bias, torch.full_like(bias, float('-inf')))

    def _columns(self, layout, slot_start, dev):
        modes = layout['column_modes']
        discrete = [c for c, mode in enumerate(modes) if mode == 'discrete']
        self.n_cols = len(modes)
        self.discrete_cols = torch.tensor(discrete, dtype=torch.long, device=dev)
        self.discrete_slots = torch.tensor([int(slot_start[c]) for c in discrete], dtype=torch.long,
                                           device=dev)
        self.continuous_cols = torch.tensor([c['column'] for c in layout['continuous']],
                                            dtype=torch.long, device=dev)


def _draw_row(net, tables, acc, phase, gen, keep_probs):
    """Slot tokens (n, J) of one row, each drawn given the row's earlier slots (and, with
    `keep_probs`, each slot's probabilities and token)."""
    n, n_slots = acc.shape[0], net.n_slots
    acc_flat = acc.view(n, -1)
    u = torch.rand((n, n_slots), generator=gen, device=acc.device).unbind(1)
    bias, tri, weights = tables.bias[phase], tables.tri[phase], tables.weights
    fine_bias = tables.fine_bias[phase]
    toks, probs = [], []
    for j in range(n_slots):
        row_bias = F.embedding(toks[-1], fine_bias[j]) if j in fine_bias else bias[j]
        prob = torch.softmax(torch.addmm(row_bias, F.relu(acc[:, j]), weights[j]), -1)
        cdf = prob.cumsum(-1)
        # Inverse-CDF draw (masked entries have zero mass; the clamp only guards rounding).
        tok = torch.searchsorted(cdf, (u[j] * cdf[:, -1]).unsqueeze(1), right=True).view(-1)
        tok = tok.clamp_(max=tables.last[j])
        toks.append(tok)
        if keep_probs:
            probs.append((prob, tok))
        if j + 1 < n_slots:  # only the later slots of the row depend on this one
            acc_flat += F.embedding(tok, tri[j])
    return torch.stack(toks, 1), probs


def _row_loglik(probs):
    """Log-probability of a drawn row (to rank candidates when sample_size > 1)."""
    total = 0
    for prob, tok in probs:
        total = total + prob.gather(1, tok.unsqueeze(1)).squeeze(1).clamp_(min=1e-30).log_()
    return total


def _next_levels(tables, toks, level, first, gen):
    """Levels of the continuous columns after a row of tokens (changes add to `level`)."""
    coarse = toks[:, tables.coarse]
    fine = toks[:, tables.fine] * tables.has_fine
    absolute = coarse * tables.abs_fine + fine
    if first:
        new = absolute
    else:
        kbin = torch.minimum(coarse * tables.delta_fine + fine, tables.delta_max) + tables.delta_start
        lo, hi = tables.delta_lo[kbin], tables.delta_hi[kbin]
        r = torch.rand(lo.shape, generator=gen, device=lo.device, dtype=lo.dtype)
        change = torch.minimum(torch.floor(lo + r * (hi - lo + 1)), hi).long()
        new = torch.where(tables.is_delta, level + change, absolute)
    return torch.minimum(new.clamp_(min=0), tables.max_bin)


@torch.no_grad()
def sample_levels(net, layout, ctx, lens, steps, gen, temperature=1.0, score=False):
    """Column levels (n, steps, n_columns) of sequences with context `ctx` and lengths `lens`;
    with `score`, also each sequence's log-likelihood over its real steps (else None)."""
    dev = ctx.device
    tables = _Tables(net, layout, dev, temperature)
    n = ctx.shape[0]
    h = net.initial_state(ctx)[0]
    prev = ctx.new_zeros(n, net.row_dim)
    level = torch.zeros(n, len(layout['continuous']), dtype=torch.long, device=dev)
    levels = torch.zeros(n, steps, tables.n_cols, dtype=torch.long, device=dev)
    loglik = torch.zeros(n, device=dev) if score else None
    positions = net.position(torch.arange(steps, device=dev), lens)  # (n, steps, 4), once
    gru = net.gru
    for t in range(steps):
        phase = 0 if t == 0 else 1
        x = torch.cat([prev, positions[:, t], ctx], dim=-1)
        h = torch.gru_cell(x, h, gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
        acc = net.head_in(torch.cat([h, x[:, net.skip_from:]], dim=-1)).view(n, net.n_slots, -1)
        toks, probs = _draw_row(net, tables, acc, phase, gen, score)
        if loglik is not None:
            loglik += _row_loglik(probs) * (t < lens)
        level = _next_levels(tables, toks, level, t == 0, gen)
        levels[:, t, tables.discrete_cols] = toks[:, tables.discrete_slots]
        levels[:, t, tables.continuous_cols] = level
        prev = net.id_features(toks + tables.offsets[phase], level)[0]
    return levels, loglik

