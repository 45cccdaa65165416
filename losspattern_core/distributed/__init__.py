"""Surfaces that outgrow one machine: grid chunks evaluated as Ray tasks (optional extra
``pip install -e ".[ray]"``; nothing here imports Ray until it is used).

``ray_surfaces(bundle_dir, points, ...)`` evaluates a format-2 bundle's network at many points
on a Ray cluster (or a local instance) and returns exactly what the local exact evaluator
returns; ``connect`` finds the cluster with bounded waits and clear messages; ``chunk`` is what a
worker runs (Ray-free). See docs/ray.md.
"""

from .connect import CONNECT_TIMEOUT_S, RayUnavailable
from .surfaces import ray_surfaces

__all__ = ["CONNECT_TIMEOUT_S", "RayUnavailable", "ray_surfaces"]
