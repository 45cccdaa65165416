"""The family path's loss sums: one row per point, c(x) + g(alpha), or the general tiles.

Memory: a tile holds at most ``budget`` floats in any one activation tensor (points x samples x
the widest per-sample activation) and in the per-point parameters of moved modules; a few such
tensors are alive at once (a residual block's input, body and output), and the general path
keeps the first moved module's z + 1 products for a block of samples (under (z + 1) / 4 budget).
"""

from __future__ import annotations

import dataclasses

import torch

from losspattern_core.losses import per_class_loss

from .families import FamilyPrepared, run_plain
from .first_stage import StageBuffers, group_size, through_unmoved, unmoved_stop
from .modules import affine_split, at_point, bias_view, is_affine, values_at
from .pointwise import run_points
from .separable import separable_sums

# samples per block from which the general path runs one point at a time
ONE_POINT_BLOCK = 64


def _points_per_tile(prep: FamilyPrepared, samples: int, budget: int) -> int:
    """Points per tile so that points x samples x widest and the per-point parameters fit."""
    net = prep.net
    pts = max(1, budget // (samples * net.widest))
    moved = net.moved_numel()
    return max(1, min(pts, budget // moved)) if moved else pts


def general_tiles(prep: FamilyPrepared, budget: int) -> tuple[int, int]:
    """(samples per block, points per tile) of the general path. With enough samples in a
    block every point runs alone: each per-point convolution then takes the block as its
    batch and writes its own output (no stack of the points' outputs to copy), and the
    activations between modules stay one point's."""
    pairs = max(1, budget // prep.net.widest)
    block = min(prep.n, max(1, pairs // 4))
    if block >= ONE_POINT_BLOCK:
        return block, 1
    return block, _points_per_tile(prep, block, budget)


def one_row_sums(prep: FamilyPrepared, alphas: torch.Tensor, heads: int, classes: int,
                 loss: str, budget: int, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Every sample gives the same logits: the first moved module outputs its bias at the
    point as constant maps, the rest of the network runs with batch = points, and the sums are
    l(p, k) times the class counts (loss^2: sum_k n_k l_k^2; correct: n of the arg-max class)."""
    net = prep.net
    f, mod = net.first, net.mods[net.first]
    out_shape = net.shapes[f + 1]
    bias = mod.bias if mod.bias is not None else mod.weight.new_zeros(mod.weight.shape[0])
    db = net.deltas[f].get("bias")
    pts = _points_per_tile(prep, 1, budget)
    sums = torch.zeros(len(alphas), heads, classes, dtype=torch.float64, device=prep.device)
    for s in range(0, len(alphas), pts):
        a = alphas[s:s + pts]
        b = bias.expand(len(a), -1) if db is None else bias + a @ db          # (p, C)
        h = bias_view(mod, b, len(out_shape)).expand(len(a), 1, *out_shape)
        out, _ = run_points(net, f + 1, len(net.mods), h, a, True)
        logits = out.reshape(len(a), heads, classes)
        ell = per_class_loss(logits, loss)
        sums[s:s + pts] = ell.double() * prep.class_n
        if stats is not None:
            stats[s:s + pts, :, 0] += (ell.double().square() * prep.class_n).sum(-1)
            stats[s:s + pts, :, 1] += prep.class_n[logits.argmax(-1)]
    return sums


def _sample_sums(out: torch.Tensor, y: torch.Tensor, onehot: torch.Tensor, heads: int,
                 classes: int, loss: str, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class loss sums (p, H, K) float64 from logits (p, B, H*K) of B labelled samples;
    ``stats`` (p, H, 2), if given, gets their loss^2 and correct counts added."""
    p, b = out.shape[:2]
    logits = out.reshape(p, b, heads, classes)
    ell = per_class_loss(logits, loss)
    ell = ell.gather(3, y.view(1, b, 1, 1).expand(p, b, heads, 1)).squeeze(3)     # (p, B, H)
    if stats is not None:
        stats[..., 0] += ell.double().square().sum(1)
        stats[..., 1] += (logits.argmax(3) == y.view(1, b, 1)).sum(1).double()
    return torch.matmul(ell.transpose(1, 2).double(), onehot)


def _block_products(prep: FamilyPrepared, s0: int, s1: int, block: int):
    """(input of the first moved module, its ``AffineSplit`` or None) for samples s0:s1, taken
    from ``prep.kept`` when an earlier call made them."""
    if prep.kept is not None and (s0, s1) in prep.kept:
        return prep.kept[(s0, s1)]
    net, f = prep.net, prep.net.first
    a = net.layout(run_plain(net, f, prep.X[s0:s1], block))
    split = affine_split(net.mods[f], net.deltas[f], a) if is_affine(net.mods[f]) else None
    if prep.kept is not None:
        prep.kept[(s0, s1)] = (a, split)
    return a, split


def _grouped_points(prep: FamilyPrepared, split, alphas: torch.Tensor, stop: int, budget: int):
    """One block's points in groups (``first_stage``): the first moved module and the unmoved
    modules after it up to ``stop`` for the whole group, the rest one point at a time with the
    group's moved parameters made together. Yields (first point's index, the group's logits)."""
    net = prep.net
    group = group_size(net, split, stop, budget)
    buffers = StageBuffers(group)
    for t0 in range(0, len(alphas), group):
        al = alphas[t0:t0 + group]
        hs = through_unmoved(net, split, al, stop, buffers)
        if stop < len(net.mods):
            values = values_at(net, al, stop)
            hs = torch.cat([run_points(at_point(net, values, j), stop, len(net.mods),
                                       hs[j:j + 1], al[j:j + 1], True)[0]
                            for j in range(len(al))])
        yield t0, hs


def general_sums(prep: FamilyPrepared, alphas: torch.Tensor, heads: int, classes: int,
                 loss: str, budget: int, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Blocks of samples (outer) x tiles of points (inner): the unmoved prefix runs once per
    sample, an affine first moved module is z + 1 products per sample (``AffineSplit``), the
    rest runs per point (``run_points``). On a CPU with one point per tile, an affine first
    moved module followed by unmoved modules (a ReLU and a pool) runs for groups of points, a
    chunk of samples at a time (``first_stage``)."""
    net = prep.net
    f, n = net.first, prep.n
    block, pts = general_tiles(prep, budget)
    stop = unmoved_stop(net, f + 1)
    # on a CPU the grouped, chunked first stage keeps the first layer's maps in its caches
    staged = pts == 1 and stop > f + 1 and prep.device.type == "cpu"
    sums = torch.zeros(len(alphas), heads, classes, dtype=torch.float64, device=prep.device)

    def add(t0: int, out: torch.Tensor, y, oh) -> None:
        t1 = t0 + len(out)
        sums[t0:t1] += _sample_sums(out, y, oh, heads, classes, loss,
                                    None if stats is None else stats[t0:t1])

    for s0 in range(0, n, block):
        s1 = min(n, s0 + block)
        a, split = _block_products(prep, s0, s1, block)
        y, oh = prep.y[s0:s1], prep.onehot[s0:s1]
        if staged and split is not None and split.stacked is not None:
            for t0, out in _grouped_points(prep, split, alphas, stop, budget):
                add(t0, out, y, oh)
        else:
            for t0 in range(0, len(alphas), pts):
                al = alphas[t0:t0 + pts]
                if split is not None:
                    h, start = split.at(al), f + 1
                else:
                    h, start = a, f
                out, _ = run_points(net, start, len(net.mods), h, al, split is not None)
                add(t0, out, y, oh)
        del split
    return sums


def family_sums(prep: FamilyPrepared, alphas: torch.Tensor, heads: int, classes: int,
                loss: str, budget: int, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class loss sums (P, heads, K), float64, on the structure ``prep`` found; ``stats``
    (P, heads, 2), if given, is filled too (``statistics``)."""
    if prep.mode == "one_row":
        return one_row_sums(prep, alphas, heads, classes, loss, budget, stats)
    if prep.mode == "separable":
        return separable_sums(dataclasses.replace(prep.sep, budget=budget), alphas, loss, budget,
                              stats)
    return general_sums(prep, alphas, heads, classes, loss, budget, stats)
