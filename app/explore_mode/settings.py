"""What an explore run is asked to do, checked once, and how its views are labelled (Qt-free).

An explore run trains an *ordinary* network (not a construction) of a family on the app's
dataset, then measures its loss surface along one kind of direction. Every number a view
shows says what it is through ``view_label``: which network, which split and quantity, which
directions, which seed and range.
"""

from __future__ import annotations

from dataclasses import dataclass

import losspattern_core as lp

KINDS = {
    "random": "random filter-normalised directions",
    "interpolation": "the line from initialisation (α = 0) to the trained network (α = 1)",
    "pca": "the PCA plane of the training trajectory",
    "hessian": "the top Hessian eigenvectors (unit norm)",
}
KIND_TITLES = {"random": "random filter-normalised",
               "interpolation": "interpolation init → trained",
               "pca": "PCA of the trajectory", "hessian": "Hessian top eigenvectors"}
FAMILIES = ("mlp", "cnn", "resnet")
EXPLORE_ACTIVATIONS = ("relu", "tanh", "gelu")   # ordinary networks; sine needs special init
MAX_GRID = 128
MAX_STEPS = 100_000
SNAPSHOTS = 40          # the trajectory keeps about this many snapshots


@dataclass(frozen=True)
class ExploreSettings:
    """One explore run. ``span``: random and Hessian directions go over α ∈ [−span, span];
    PCA over the path's extent (and 0) widened by span/4 of it at each end; interpolation
    over [−span/2, 1 + span/2]."""

    family: str = "mlp"
    kind: str = "random"
    z: int = 2
    grid: int = 16
    steps: int = 300
    seed: int = 0
    span: float = 1.0
    depth: int = 2
    width: int = 64
    activation: str = "relu"
    lr: float = 1e-3
    batch: int = 128

    @property
    def snapshot_every(self) -> int:
        return max(1, self.steps // SNAPSHOTS)


def check(s: ExploreSettings) -> ExploreSettings:
    """The one gate: a clear ``lp.ConfigError`` naming the bad setting."""
    def bad(msg: str):
        raise lp.ConfigError(msg)

    if s.family not in FAMILIES:
        bad(f"unknown family {s.family!r}; choose from {', '.join(FAMILIES)}")
    if s.kind not in KINDS:
        bad(f"unknown direction kind {s.kind!r}; choose from {', '.join(KINDS)}")
    if s.z not in (1, 2, 3):
        bad(f"z must be 1, 2 or 3, got {s.z}")
    if s.kind == "interpolation" and s.z != 1:
        bad("interpolation is a line: it has z = 1")
    if not 2 <= s.grid <= MAX_GRID:
        bad(f"grid must be 2..{MAX_GRID} points per direction, got {s.grid}")
    if not 1 <= s.steps <= MAX_STEPS:
        bad(f"training steps must be 1..{MAX_STEPS}, got {s.steps}")
    if s.kind == "pca" and s.z == 1:
        bad("PCA directions need z = 2 or 3 (a plane or a volume of the path)")
    if s.kind == "pca" and s.steps < s.z + 1:
        bad(f"the PCA of a trajectory with {s.steps} steps has fewer than {s.z + 1} snapshots")
    if not (s.span > 0 and s.span < 1e6):
        bad(f"range must be a positive number, got {s.span}")
    if s.activation not in EXPLORE_ACTIVATIONS:
        bad(f"activation must be one of {', '.join(EXPLORE_ACTIVATIONS)}")
    return s


def network_text(s: ExploreSettings) -> str:
    """'mlp 2×64 relu' / 'cnn relu' / 'resnet relu'."""
    if s.family == "mlp":
        return f"mlp {s.depth}×{s.width} {s.activation}"
    return f"{s.family} {s.activation}"


def range_text(alpha_range) -> str:
    """α ∈ [lo, hi] (× z when all equal), else each axis."""
    spans = [(float(lo), float(hi)) for lo, hi in alpha_range]
    if all(r == spans[0] for r in spans):
        power = "" if len(spans) == 1 else f"<sup>{len(spans)}</sup>"
        return f"α ∈ [{spans[0][0]:.3g}, {spans[0][1]:.3g}]{power}"
    return "α ∈ " + " × ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in spans)


def view_label(s: ExploreSettings, dataset: str, split: str, metric: str,
               alpha_range=None, plain: bool = False) -> str:
    """What a view shows, in full: 'ordinary network (explore): measured train loss along
    random filter-normalised directions, seed 0, …'."""
    rng = f", {range_text(alpha_range)}" if alpha_range is not None else ""
    text = (f"ordinary network (explore): measured {split} {metric} along {KINDS[s.kind]}, "
            f"seed {s.seed}, {network_text(s)} on {dataset} after {s.steps} Adam steps, "
            f"{s.grid}<sup>{s.z}</sup> grid{rng}, every {split} sample"
            + ("; loss = mean cross-entropy (nats)" if metric == "loss" else ""))
    if plain:
        for a, b in (("<sup>", "^"), ("</sup>", "")):
            text = text.replace(a, b)
    return text
