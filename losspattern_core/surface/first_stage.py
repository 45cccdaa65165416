"""The first moved affine module and the unmoved per-sample modules after it (a ReLU, a max
pool, an eval-mode BatchNorm), for a group of points, a chunk of samples at a time.

On the general path one point at a time, the first moved module's output at a point is
base + sum_i alpha_i parts_i (``modules.AffineSplit``): for a conv network on images the
largest activation of the network (the cnn's 8 x 28 x 28 maps, 4 MB for a block of 167
images), written and read again by the pool after it, with every part read from memory
again for every point. Here a group of G points is done together, a chunk of samples at a
time: one product (G, z + 1) x (z + 1, chunk) into a small buffer that stays in cache, then the
unmoved modules on that chunk (``run_points``, the same exact operations), whose much smaller
output (the pooled maps) is what is kept. The parts are read once per group instead of once per
point, and the full-size maps never reach main memory. Same values as one point at a time (the
same products and modules on the same samples; a chunk boundary changes no sample's value).
"""

from __future__ import annotations

import math

import torch

from .modules import AffineSplit, ModuleNet, combine_flat, laid_out_as
from .pointwise import run_points

GROUP = 8                   # points per group at most
CHUNK_FLOATS = 1 << 19      # floats of the combined activation per chunk (2 MB)


def unmoved_stop(net: ModuleNet, start: int) -> int:
    """The first top-level module from ``start`` on that a direction moves (or the end)."""
    moved = [i for i in net.deltas if i >= start]
    return min(moved) if moved else len(net.mods)


def group_size(net: ModuleNet, split: AffineSplit, stop: int, budget: int) -> int:
    """Points per group: at most ``GROUP``, and the group's kept activations (G x samples x
    the per-sample size entering ``stop``) within half the tile budget."""
    samples = split.base.shape[0]
    kept = samples * math.prod(net.shapes[stop])
    return max(1, min(GROUP, budget // (2 * max(1, kept))))


class StageBuffers:
    """The chunk buffer and the output of ``through_unmoved``, kept from one group of points to
    the next (fresh memory for every group cost page faults and cold writes)."""

    def __init__(self, rows: int):
        self.rows = rows            # points per group at most
        self.chunk: torch.Tensor | None = None
        self.out: torch.Tensor | None = None

    def get(self, name: str, shape: tuple, make) -> torch.Tensor:
        """The first shape[0] rows of the kept buffer ``name`` if its rows have ``shape``'s
        size, else of a new one, ``make()`` (then kept)."""
        have = getattr(self, name)
        if have is None or tuple(have.shape[1:]) != tuple(shape[1:]) or len(have) < shape[0]:
            have = make()
            setattr(self, name, have)
        return have[:shape[0]]


def through_unmoved(net: ModuleNet, split: AffineSplit, alpha: torch.Tensor, stop: int,
                    buffers: StageBuffers | None = None) -> torch.Tensor:
    """(G, B, *shape entering ``stop``): the first moved module (``split``, module
    ``net.first``) at the points ``alpha`` (G, z) and the unmoved modules after it up to
    ``stop``, over the split's B samples in chunks of about ``CHUNK_FLOATS`` floats. The
    result may live in ``buffers`` (valid until the next call with them)."""
    base, f = split.base, net.first
    b, per = base.shape[0], base[0].numel()
    g = len(alpha)
    buffers = buffers or StageBuffers(g)
    rows = max(g, buffers.rows)
    chunk = max(1, CHUNK_FLOATS // (rows * per))
    stack = split.stacked.view(len(split.stacked), b, per)
    buf = buffers.get("chunk", (g, chunk * per), lambda: base.new_empty(rows, chunk * per))
    out = None
    for s0 in range(0, b, chunk):
        n = min(chunk, b - s0)
        parts = stack[:, s0:s0 + n].reshape(len(stack), n * per)
        h = laid_out_as(combine_flat(parts, alpha, buf[:, :n * per]), base[:n])
        h, _ = run_points(net, f + 1, stop, h, alpha, True)
        if out is None:
            out = buffers.get("out", (g, b, *h.shape[2:]),
                              lambda h=h: _empty_like_chunk(h, b, rows))
        out[:, s0:s0 + n] = h
    return out


def _empty_like_chunk(h: torch.Tensor, b: int, g: int) -> torch.Tensor:
    """An empty (g, b, *sample) tensor laid out in memory as the chunk ``h`` (G, n, *sample)
    is (channels-last maps stay channels-last, so each point's slice is what its
    convolution takes without a copy)."""
    rest = sorted(range(2, h.ndim), key=lambda d: -h.stride(d))
    order = [0, 1, *rest]
    full = h.new_empty([g, b, *[h.shape[d] for d in rest]])
    return full.permute(*[order.index(d) for d in range(h.ndim)])
