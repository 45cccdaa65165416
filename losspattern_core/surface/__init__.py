"""Exact loss surfaces: the real network's mean loss over every sample of a split.

``evaluate_points`` never mutates (or moves) the model and never samples: every value is the mean
loss over every sample of the split, with the network in eval mode. ``X`` is the split as the
network takes it: rows (N, d) for an MLP, images (N, C, H, W) for the conv families
(``networks.as_input``). Two paths share one interface:

**The family path** (``families``; any ``nn.Sequential`` of the layers ``networks`` builds:
conv, BatchNorm, pooling, residual blocks, LayerNorm, and any move of a non-Linear parameter)
proves one of three structures from exact zeros, cheapest first: *one row* (the first moved
layer is a Linear/Conv with all weights exactly zero: every sample gives the same output, one
row per point, cost independent of N); *separable* (a per-channel walk, ``dependence``, shows
logits = c(x) + g(alpha): c once over the split, g on one sample per point); *general* (blocks
of samples x tiles of points, per-point parameters, the first moved layer as z + 1 products).
BatchNorm is folded into the unmoved convolution before it; tiles are bounded by ``budget``.

**The Linear-layer path** (MLPs whose directions move only Linear layers, rows (N, d)):

* **prefix caching**: activations before the first layer any direction moves are computed once;
* **shared + per-direction split** of that layer: (W0 + sum_i a_i dW_i) x + b0 + sum_i a_i db_i
  = (W0 x + b0) + sum_i a_i (dW_i x + db_i), so a grid point costs one fused multiply-add there,
  not a matrix product (all products of that layer are one stacked GEMM done once);
* **moved columns**: when the directions move only some units of that layer (axis-aligned
  biases, as in the theorems) the next Linear layer's pre-activation is
  C + phi(moved units) W[:, moved]^T, where C (rows x width) is computed once from the fixed
  units. When the moved units are also identical across samples (Theorem 1 and Theorem 2
  networks: their first-layer weight rows are zero) that is C + 1 v(alpha)^T: per point a
  broadcast add, not a matrix product;
* **unique rows**: samples whose inputs to the first moved layer are identical give identical
  outputs at every point; they are evaluated once and weighted by their label counts. A cheap
  hash (two random projections) finds duplicates, an exact comparison confirms them, and when
  every hash differs nothing more is done. With zero first-layer weights (Theorem 1) the whole
  split is one row without looking at the inputs at all;
* **separable networks**: when exact zeros in the weights keep every unit the output layer
  reads either sample-only or point-only (Theorem 2's block structure: an alpha block and an x
  block that meet only at the output), logits(alpha, x) = c(x) + g(alpha). c is computed once,
  g on one row per point, and the cross-entropy needs only sum_k exp(c_ik) exp(g_ak): a
  (points x K)(K x rows) product and a log per (point, row); MSE is closed form. A single
  nonzero coupling weight makes the detection fall back to the general path;
* bias + ReLU after a product is one fused pass (``aten._add_relu``) on the CPU;
* later moved layers get per-point weights W + sum_i a_i dW_i (batched GEMM), or, when only a
  handful of rows remain, one stacked GEMM against [W; dW_1; ...] shared by every point;
* the last layer writes its logits transposed (classes x rows), where the loss's reductions
  over a handful of classes are an order of magnitude faster than ``log_softmax`` on rows;
* work is tiled over points *and* rows so each tile's activations stay in cache and memory stays
  bounded (``budget`` floats per tile); loss sums are accumulated in float64.

Where each step lives: ``directions`` (Direction, random_direction, params_at, per-layer
deltas), ``layers`` (detached copies of the network on the target device), ``structure``
(first moved layer, moved units, unique rows, separability), ``prepare`` (the per-split
precomputation), ``kernels`` (the tiled general path), ``separable`` (the c(x) + g(alpha)
path; its cross-entropy is ``losses.separable_cross_entropy_sums``), ``evaluate``
(``evaluate_points``, ``surface``, ``point_statistics``: loss, loss^2 and accuracy per point,
filled by the same kernels through ``statistics``) and ``reference`` (``naive_surface``,
``outputs_at``).
The family path: ``modules`` (eval-mode copies, deltas per module, BatchNorm folding, shapes),
``pointwise`` (modules at many points at once), ``dependence`` (the separability walk),
``families`` (its ``prepare``) and ``family_kernels`` (its loss sums).
"""

from losspattern_core.grid import grid_array, grid_points, range_points

from .directions import Direction, params_at, random_direction
from .evaluate import (
    DEFAULT_BUDGET,
    FAMILY_BUDGET,
    GPU_BUDGET,
    evaluate_points,
    point_statistics,
    surface,
)
from .prepare import Prepared, prepare
from .reference import naive_surface, outputs_at
from .statistics import PointStatistics

__all__ = [
    "DEFAULT_BUDGET",
    "FAMILY_BUDGET",
    "GPU_BUDGET",
    "Direction",
    "PointStatistics",
    "Prepared",
    "evaluate_points",
    "grid_array",
    "grid_points",
    "naive_surface",
    "outputs_at",
    "params_at",
    "point_statistics",
    "prepare",
    "random_direction",
    "range_points",
    "surface",
]
