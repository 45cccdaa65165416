"""The public evaluator: exact mean loss at many points, and the G^z surface."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.grid import grid_array, range_points
from losspattern_core.losses import LOSSES, per_class_loss

from .directions import Direction
from .families import FamilyPrepared
from .family_kernels import family_sums
from .kernels import tiled_sums
from .prepare import Prepared, prepare
from .separable import separable_sums
from .statistics import PointStatistics

# floats per tile of (points x rows x width). 4 MB keeps a tile's activations in L2/L3 and
# the per-tile Python overhead small on CPU; on a GPU larger tiles are better.
DEFAULT_BUDGET = 2**20
GPU_BUDGET = 2**25
# the family path (conv networks): convolutions want larger batches than a cache-sized tile
FAMILY_BUDGET = 2**22


def default_budget(device: torch.device, family: bool = False) -> int:
    """Floats per tile on ``device`` (``family``: for the family path)."""
    if device.type == "cuda":
        return GPU_BUDGET
    return FAMILY_BUDGET if family else DEFAULT_BUDGET


def evaluate_points(model: nn.Sequential, directions: list[Direction], X, y, alphas,
                    *, classes: int, heads: int = 1, loss: str = "cross_entropy",
                    device: str | torch.device = "cpu", budget: int | None = None,
                    prepared: Prepared | FamilyPrepared | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean loss at each point: returns (loss (P, heads), per-class mean loss (P, heads, K)).

    ``model`` is any ``nn.Sequential`` of the layers ``networks`` builds (MLP, CNN, ResNet with
    BatchNorm, residual blocks) and ``X`` the split as it takes it: (N, d) rows for an MLP,
    (N, C, H, W) for the conv families (``networks.as_input(X, spec)``). The network is always
    evaluated in eval mode (BatchNorm with its running statistics, Dropout off), whatever
    mode the caller's module is in.

    The per-class means L_k (mean loss over the split's samples of class k) give the loss on
    any split with the same per-class behaviour: sum_k pi_k L_k. ``prepared`` (from
    ``prepare``) skips the per-split work when the same split is evaluated again (progressive
    refinement). ``budget`` bounds the floats of one tile (points x rows x width; on the family
    path of any one activation tensor or per-point parameter set of a tile, see
    ``family_kernels``). The model is never moved or modified.
    """
    prep, alphas, budget = _checked(model, directions, X, y, alphas, classes, heads, loss,
                                    device, budget, prepared)
    return _means(prep, _sums(prep, alphas, heads, classes, loss, budget))


def point_statistics(model: nn.Sequential, directions: list[Direction], X, y, alphas,
                     *, classes: int, heads: int = 1, loss: str = "cross_entropy",
                     device: str | torch.device = "cpu", budget: int | None = None,
                     prepared: Prepared | FamilyPrepared | None = None) -> PointStatistics:
    """Per point and head: the loss, loss^2 and correct-count sums over every sample of the
    split (``statistics.PointStatistics``: mean loss, mean loss^2, accuracy).

    Same arguments, paths and tiles as ``evaluate_points`` (its mean loss is this one's, bit
    for bit); the kernels also accumulate loss^2 and the samples whose arg-max logit (torch's
    first maximum) is the label, in float64. On a separable network the loss stays the
    factorised one and loss^2 / accuracy come from c(x) + g(alpha) formed per sample."""
    prep, alphas, budget = _checked(model, directions, X, y, alphas, classes, heads, loss,
                                    device, budget, prepared)
    stats = torch.zeros(len(alphas), heads, 2, dtype=torch.float64, device=prep.device)
    sums = _sums(prep, alphas, heads, classes, loss, budget, stats)
    both = torch.cat([sums.sum(-1, keepdim=True), stats], dim=-1)
    return PointStatistics(both.cpu().numpy(), prep.n)


def _checked(model, directions, X, y, alphas, classes, heads, loss, device, budget, prepared):
    """(prepared, alphas on its device, budget), with the arguments checked."""
    if loss not in LOSSES:
        per_class_loss(torch.zeros(1, 2), loss)  # raises the standard error
    prep = prepared or prepare(model, directions, X, y, classes, device)
    alphas = torch.as_tensor(np.asarray(alphas, dtype=np.float64), dtype=torch.float32,
                             device=prep.device)
    if alphas.ndim != 2 or alphas.shape[1] != prep.z:
        raise ConfigError(f"points must be (P, {prep.z}), got {tuple(alphas.shape)}")
    if prep.outputs != heads * classes:
        raise ConfigError(f"the network has {prep.outputs} outputs; heads x classes = "
                          f"{heads * classes}")
    return prep, alphas, budget or default_budget(prep.device, isinstance(prep, FamilyPrepared))


def _sums(prep, alphas, heads, classes, loss, budget, stats=None) -> torch.Tensor:
    """Per-class loss sums (P, heads, K) on the path ``prep`` chose (``stats`` filled too)."""
    with torch.no_grad():
        if isinstance(prep, FamilyPrepared):
            return family_sums(prep, alphas, heads, classes, loss, budget, stats)
        if prep.sep is not None:
            return separable_sums(prep.sep, alphas, loss, budget, stats)
        return tiled_sums(prep, alphas, heads, classes, loss, budget, stats)


def _means(prep: Prepared, sums: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(mean loss (P, H), per-class mean loss (P, H, K)) from per-class sums."""
    sums = sums.cpu()
    total = sums.sum(-1) / prep.n
    per_class = sums / prep.class_n.cpu().clamp(min=1)
    return total.numpy(), per_class.numpy()


def surface(model, directions, X, y, grid: int, alpha_range=None, **kw) -> np.ndarray:
    """Loss on the G^z grid: shape (G,)*z, or (heads,)+(G,)*z when heads > 1."""
    alphas = range_points(grid, len(directions), alpha_range)
    total, _ = evaluate_points(model, directions, X, y, alphas, **kw)
    return grid_array(total, grid, len(directions))
