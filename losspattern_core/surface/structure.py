"""Structure detection: what the directions move, which rows repeat, what separates.

Everything here only reads weights and directions (never a grid point) and decides which of the
evaluator's shortcuts are exact for this network (see the package docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .directions import LayerDeltas, stack_deltas
from .layers import ELEMENTWISE, Affine

_HASH_SEED = 1912_07559   # fixed: the row hash must not depend on the global RNG


@dataclass(frozen=True)
class FirstMoved:
    """The first Linear layer a direction moves, split into moved and fixed units.

    Its pre-activation at a point is (W0 + sum_i a_i dW_i) x + b0 + sum_i a_i db_i; the moved
    units (``mcols``) are those some direction changes, the rest (``fcols``) are fixed.
    """

    weight: torch.Tensor        # W0 (out, in)
    bias: torch.Tensor          # b0 (out,)
    dweight: torch.Tensor | None  # (z, out, in), None when no direction moves W0
    dbias: torch.Tensor         # (z, out)
    mcols: torch.Tensor         # moved units
    fcols: torch.Tensor         # fixed units
    reads: torch.Tensor         # (out,) bool: units with a nonzero weight row (they see x)

    @property
    def reads_input(self) -> bool:
        """False when no unit of the layer sees its input (Theorem 1: W0 = 0, no dW)."""
        return bool(self.reads.any()) or self.dweight is not None


def first_moved(layer: Affine, dws: list, dbs: list) -> FirstMoved:
    """Which units of the first moved layer the directions move, and which read the input."""
    W0, b0 = layer.weight, layer.bias
    dW = stack_deltas(dws, W0) if any(t is not None for t in dws) else None   # (z, out, in)
    db = stack_deltas(dbs, b0)                                                 # (z, out)
    colmask = (db != 0).any(0)
    if dW is not None:
        colmask |= (dW != 0).any(2).any(0)
    return FirstMoved(W0, b0, dW, db, torch.nonzero(colmask).view(-1),
                      torch.nonzero(~colmask).view(-1), (W0 != 0).any(1))


def unique_rows(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(keep, inverse) grouping identical rows of ``a`` (N, d), or None when all are distinct.

    Hash first: two fixed random projections per row, viewed as one int64. Distinct hashes
    prove distinct rows (the hash is a function of the row); equal hashes are confirmed by exact
    comparison, falling back to ``torch.unique(dim=0)`` on a collision. The common case of all
    rows distinct costs one thin GEMM and one 1-D sort.
    """
    n = a.shape[0]
    if n <= 1:
        return None
    a2 = a.reshape(n, -1)
    gen = torch.Generator().manual_seed(_HASH_SEED)
    proj = torch.randn(a2.shape[1], 2, generator=gen).to(a2)
    key = (a2 @ proj).contiguous().view(torch.int64).view(-1)
    uniq, inverse = torch.unique(key, return_inverse=True)
    if len(uniq) == n:
        return None
    keep = _first_of_each(inverse, len(uniq), n)
    rep = keep[inverse]
    moved = torch.nonzero(rep != torch.arange(n, device=a.device)).view(-1)
    if len(moved) and not bool((a2[moved] == a2[rep[moved]]).all()):  # hash collision
        _, inverse = torch.unique(a2, dim=0, return_inverse=True)
        keep = _first_of_each(inverse, int(inverse.max()) + 1, n)
        if len(keep) == n:
            return None
    return keep, inverse


def _first_of_each(inverse: torch.Tensor, groups: int, n: int) -> torch.Tensor:
    """The smallest row index of each group."""
    keep = torch.full((groups,), n, dtype=torch.long, device=inverse.device)
    keep.scatter_reduce_(0, inverse, torch.arange(n, device=inverse.device), reduce="amin")
    return keep


def fixed_columns_fold(layers: list, moved: LayerDeltas, first: int, fm: FirstMoved) -> bool:
    """Whether the fixed units of the first moved layer can be folded into the next Linear
    layer's pre-activation once: an elementwise activation then an unmoved Linear follow."""
    nxt = first + 2
    return (len(fm.fcols) > 0 and nxt < len(layers) and isinstance(layers[first + 1], ELEMENTWISE)
            and isinstance(layers[nxt], Affine) and nxt not in moved)


# --- separable networks: logits(alpha, x) = c(x) + g(alpha) -----------------------------------

def _any_nonzero(ts: list, like: torch.Tensor) -> torch.Tensor:
    """Elementwise: does any of the deltas ``ts`` (None = zero) move this entry of ``like``?"""
    mask = torch.zeros_like(like, dtype=torch.bool)
    for t in ts:
        if t is not None:
            mask |= t != 0
    return mask


def _hidden_dependence(mods: list, moved: LayerDeltas, first: int):
    """(dx, da) over the units of the last hidden Linear from ``first`` on: whether each can
    depend on the sample (x) and on the point (alpha), or None when no hidden Linear exists.

    A unit depends on what its inputs with a nonzero weight (or weight delta) depend on, and on
    alpha when a direction moves its row.
    """
    dx = da = None
    for off, mod in enumerate(mods[:-1]):
        if not isinstance(mod, Affine):
            continue
        dws, dbs = moved.get(first + off, ([None], [None]))
        nzd = _any_nonzero(dws, mod.weight)
        moved_rows = nzd.any(1) | _any_nonzero(dbs, mod.bias)
        reads = (mod.weight != 0) | nzd
        if dx is None:   # the first moved layer reads the (x-dependent) prefix
            dx, da = reads.any(1), moved_rows
        else:
            dx = (reads & dx.unsqueeze(0)).any(1)
            da = (reads & da.unsqueeze(0)).any(1) | moved_rows
    return dx, da


def separable_columns(layers: list, moved: LayerDeltas, first: int, classes: int,
                      ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(alpha units, x units) of the last hidden layer when logits = c(x) + g(alpha), else None.

    Every unit from the first moved layer on is classed by what it can depend on (``dx``,
    ``da``). The split is exact when no unit the output layer reads depends on both and the
    directions do not move the output weights of x-dependent units. A single nonzero coupling
    weight makes this return None (the general path is then used).
    """
    mods = layers[first:]
    if not isinstance(mods[-1], Affine) or mods[-1].out_features % classes:
        return None
    if any(not isinstance(m, (Affine, *ELEMENTWISE)) for m in mods):
        return None
    dx, da = _hidden_dependence(mods, moved, first)
    if dx is None:       # only the output layer moves: nothing to separate
        return None
    z = len(next(iter(moved.values()))[0])
    dwl, _ = moved.get(first + len(mods) - 1, ([None] * z, [None] * z))
    Wl = mods[-1].weight
    nzd = _any_nonzero(dwl, Wl)
    rel = ((Wl != 0) | nzd).any(0)    # hidden units the output layer reads
    if bool((rel & dx & da).any()) or bool((nzd.any(0) & dx).any()):
        return None
    acols = torch.nonzero(rel & da).view(-1)
    xcols = torch.nonzero(rel & ~da).view(-1)
    if len(acols) == 0 or not bool((rel & dx).any()):
        return None      # no alpha part (or no x part): the other paths are as good
    return acols, xcols
