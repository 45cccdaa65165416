"""Directions for looking at ordinary networks' loss surfaces, and training that keeps a
trajectory. Every direction is a ``losspattern_core.surface.Direction`` (dense ``tensors``)
usable by ``evaluate_points`` and ``naive_surface``.

Where each kind lives: ``filters`` (random filter-normalised directions, Li et al. 2018),
``interpolation`` (the line between two networks, Goodfellow et al. 2015), ``pca`` (principal
directions of a training trajectory and the honest error of that plane), ``hessian`` (top
Hessian eigenvectors by Hessian-vector products, Hutchinson's trace), ``training`` (ordinary
training that keeps snapshots), ``objective`` (the full-split loss as a function of parameters)
and ``layout`` (named parameters <-> flat vectors, trajectories).

The product on top: ``config`` (``ExploreConfig``, ``resolve_explore``), ``origin`` (train or
open theta_0, choose the directions), ``measure`` (loss, accuracy and standard errors at many
points), ``run`` (``explore``: the Qt-free generator the CLI and the GUI drive; facade name
``explore_run``), ``report`` (metrics.json, printed lines), ``figure`` (figure.png), ``cheat``
and ``cheat_report`` (the paper's warning: a Theorem 2 network beside an ordinary one).
"""

from .filters import filter_normalized_direction, filter_normalized_directions
from .hessian import (
    HessianEigen,
    HessianOperator,
    hessian_directions,
    hutchinson_trace,
    top_eigen,
)
from .interpolation import Interpolation, first_mismatch, interpolation
from .layout import ParamLayout, Trajectory, model_at, param_dict
from .objective import SplitObjective, split_loss
from .pca import TrajectoryPCA, trajectory_pca
from .training import TrainingResult, train_trajectory

__all__ = [
    "HessianEigen",
    "HessianOperator",
    "Interpolation",
    "ParamLayout",
    "SplitObjective",
    "Trajectory",
    "TrainingResult",
    "TrajectoryPCA",
    "filter_normalized_direction",
    "filter_normalized_directions",
    "first_mismatch",
    "hessian_directions",
    "hutchinson_trace",
    "interpolation",
    "model_at",
    "param_dict",
    "split_loss",
    "top_eigen",
    "train_trajectory",
    "trajectory_pca",
]
