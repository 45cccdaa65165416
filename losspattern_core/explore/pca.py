"""PCA of a training trajectory (Li et al. 2018, section 7; loss-landscape's
``plot_trajectory``): the plane that best shows where training went, and how honest it is.

The rows d_t = theta_t - theta_final (every snapshot relative to the final point) are analysed
as scikit-learn's PCA does (centred on their mean); the top components, unit vectors in
parameter space, become directions with origin theta_final. Each snapshot is projected onto
them as loss-landscape does, c_ti = d_t . u_i (uncentred, so theta_final sits at 0).

The picture's error is stated, not hidden:

* ``explained_variance_ratio``: each component's share of the trajectory's (centred) variance,
  and ``explained_share`` their sum: the share of the variance the plane explains;
* ``residual_norm[t]`` = ||d_t - sum_i c_ti u_i||, the distance of snapshot t from its
  projection, and ``plane_share`` = 1 - sum_t residual_t^2 / sum_t ||d_t||^2;
* given a loss function, ``real_loss[t]`` (at theta_t) beside ``projected_loss[t]`` (at its
  projection theta_final + sum_i c_ti u_i, which is what the plane's surface shows there).

Memory: everything is derived from the T x T Gram matrix of the rows, accumulated in float64
over column blocks, so no float64 copy of the (T, D) trajectory is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from losspattern_core.errors import ConfigError
from losspattern_core.surface import Direction

from .layout import Trajectory

BLOCK = 1 << 20      # columns per block of the Gram accumulation


@dataclass
class TrajectoryPCA:
    """Principal directions of a trajectory and the honest error of its picture."""

    directions: list[Direction]
    origin: dict[str, torch.Tensor]          # theta_final
    explained_variance_ratio: np.ndarray     # (c,)
    explained_share: float
    coords: np.ndarray                       # (T, c): c_ti
    residual_norm: np.ndarray                # (T,)
    plane_share: float
    steps: list[int]
    real_loss: np.ndarray | None = None      # (T,) at each snapshot
    projected_loss: np.ndarray | None = None  # (T,) at each projection
    meta: dict = field(default_factory=dict)

    @property
    def loss_error(self) -> np.ndarray | None:
        """projected_loss - real_loss per snapshot (None without a loss function)."""
        if self.real_loss is None:
            return None
        return self.projected_loss - self.real_loss

    def to_json(self) -> dict:
        """The numbers (not the directions) as plain JSON types."""
        out = {"components": len(self.directions), "steps": list(self.steps),
               "explained_variance_ratio": self.explained_variance_ratio.tolist(),
               "explained_share": self.explained_share, "plane_share": self.plane_share,
               "coords": self.coords.tolist(), "residual_norm": self.residual_norm.tolist()}
        if self.real_loss is not None:
            err = self.loss_error
            out.update(real_loss=self.real_loss.tolist(),
                       projected_loss=self.projected_loss.tolist(),
                       max_abs_loss_error=float(np.abs(err).max()))
        return out


def _gram(rows: torch.Tensor) -> np.ndarray:
    """rows rows^T in float64, accumulated over column blocks."""
    g = torch.zeros(len(rows), len(rows), dtype=torch.float64)
    for s in range(0, rows.shape[1], BLOCK):
        b = rows[:, s:s + BLOCK].double()
        g += b @ b.T
    return g.numpy()


def _combine(rows: torch.Tensor, weights: np.ndarray) -> torch.Tensor:
    """weights^T rows: (T, c) x (T, D) -> (c, D) float32, float64 per column block."""
    w = torch.as_tensor(weights, dtype=torch.float64)
    out = torch.empty(w.shape[1], rows.shape[1], dtype=torch.float32)
    for s in range(0, rows.shape[1], BLOCK):
        out[:, s:s + BLOCK] = (w.T @ rows[:, s:s + BLOCK].double()).float()
    return out


def trajectory_pca(trajectory: Trajectory, components: int = 2, *,
                   loss_fn: Callable[[Mapping[str, torch.Tensor]], float] | None = None,
                   ) -> TrajectoryPCA:
    """Top ``components`` (2 or 3) principal directions of ``trajectory`` about its final point.

    ``loss_fn`` ({name: tensor} -> loss, e.g. ``split_loss(model, X, y)``) adds each snapshot's
    real loss and the loss at its projection onto the plane. Signs: each component is flipped
    so the first snapshot's coordinate is >= 0.
    """
    T = len(trajectory)
    if not 1 <= components < T:
        raise ConfigError(f"{components} components need at least {components + 1} snapshots; "
                          f"the trajectory has {T}")
    d = trajectory.points - trajectory.points[-1]                  # (T, D) float32
    G = _gram(d)                                                   # uncentred d_t . d_s
    J = np.eye(T) - 1.0 / T                                        # centring
    Gc = J @ G @ J
    total = float(np.trace(Gc))
    if not total > 0:
        raise ConfigError("the trajectory does not move: every snapshot is the same point")
    evals, evecs = np.linalg.eigh(Gc)
    order = np.argsort(evals)[::-1][:components]
    lam = np.clip(evals[order], 0.0, None)
    if lam[-1] <= total * 1e-14:
        raise ConfigError(f"the trajectory spans fewer than {components} dimensions; ask for "
                          f"fewer components")
    A = J @ evecs[:, order] / np.sqrt(lam)     # u_i = d_c^T a_i / s_i = d^T (J a_i) / s_i
    coords = G @ A                                                 # c_ti = d_t . u_i
    sign = np.where(coords[0] < 0, -1.0, 1.0)
    A, coords = A * sign, coords * sign
    U = _combine(d, A)                                             # (c, D) unit rows
    sq = np.clip(np.diag(G) - (coords**2).sum(1), 0.0, None)
    resid = np.sqrt(sq)
    norms = float(np.diag(G).sum())
    layout = trajectory.layout
    origin = {k: v.clone() for k, v in trajectory.params(T - 1).items()}
    dirs = [Direction(tensors={k: v.clone() for k, v in layout.unflatten(u).items()}) for u in U]
    out = TrajectoryPCA(dirs, origin, lam / total, float(lam.sum() / total), coords, resid,
                        1.0 - float(sq.sum()) / norms if norms > 0 else 1.0,
                        list(trajectory.steps),
                        meta={"relative_to": "final snapshot", "centred": True,
                              "snapshots": T, "parameters": layout.size})
    if loss_fn is not None:
        final = trajectory.points[-1].double()
        real, proj = np.empty(T), np.empty(T)
        for t in range(T):
            real[t] = loss_fn(trajectory.params(t))
            p = (final + torch.as_tensor(coords[t]) @ U.double()).float()
            proj[t] = loss_fn(layout.unflatten(p))
        out.real_loss, out.projected_loss = real, proj
    return out
