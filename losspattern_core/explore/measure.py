"""Loss and accuracy of a network at many points along dense directions, over a split.

The values come from the exact batched evaluator (``surface.point_statistics``: the same
kernels and tiles ``surface.evaluate_points`` and the benchmark run), which also accumulates
each point's sum of loss^2 and its number of correctly classified samples (arg-max logit, torch's
first maximum, equal to the label), in float64. The model is never modified and is evaluated in
eval mode (BatchNorm with its running statistics).

Exact by default: every sample of the split. When the split given is a random subsample of n
out of N samples (``population=N``), each value comes with its standard error, the sampling
error of a mean drawn without replacement: s / sqrt(n) * sqrt((N - n) / (N - 1)), with s the
per-sample standard deviation of the loss (or of the 0/1 correctness, for accuracy). Over the
whole split (n = N) the standard error is 0.

The split is prepared (``surface.prepare``) in blocks of samples, once (``SplitPreparation``;
``explore.run.measure_levels`` keeps one per split for every level of the grid), and the points
are measured in batches: ``measure_points`` is a generator of ``Frame``s, one per (batch of
points, block of samples), each a progress tick and a cancellation point. The batch grows or
shrinks so that a frame comes about every ``FRAME_S`` seconds; sums are additive over blocks.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from losspattern_core.frames import Frame
from losspattern_core.surface import Direction, point_statistics, prepare
from losspattern_core.surface.evaluate import default_budget
from losspattern_core.surface.families import FamilyPrepared, on_other_samples
from losspattern_core.surface.family_kernels import general_tiles

BLOCK_ROWS = 16384   # samples per prepared block of flat rows (an MLP's point costs microseconds)
BLOCK_IMAGES = 1024  # samples per prepared block of images (a CNN's point costs ~0.1 ms each)
FRAME_S = 0.5        # aimed seconds of work between two frames (a cancel waits at most ~this)
MAX_POINTS = 4096    # points per batch at most


@dataclass
class PointValues:
    """Per point: mean loss, accuracy and their standard errors (0 when exact)."""

    loss: np.ndarray
    acc: np.ndarray
    loss_se: np.ndarray
    acc_se: np.ndarray

    @classmethod
    def empty(cls, n: int) -> PointValues:
        return cls(*(np.full(n, np.nan) for _ in range(4)))

    def put(self, where, other: PointValues) -> None:
        for name in ("loss", "acc", "loss_se", "acc_se"):
            getattr(self, name)[where] = getattr(other, name)


def _stderr(mean: np.ndarray, mean_sq: np.ndarray, n: int, population: int) -> np.ndarray:
    if n >= population or n < 2:
        return np.zeros_like(mean)
    var = np.clip(mean_sq - mean**2, 0.0, None) * n / (n - 1)
    return np.sqrt(var / n) * math.sqrt((population - n) / (population - 1))


def _moves(model: nn.Module, directions: list[Direction]) -> bool:
    """Whether any direction moves any parameter (an interpolation from a network to itself
    does not)."""
    return any(bool(torch.any(t != 0)) for d in directions for t in d.delta(model).values())


def _stand_in(model: nn.Module) -> list[Direction]:
    """One direction along the last parameter, for measuring the network itself (alpha = 0
    gives theta_0 exactly): the evaluator needs at least one moved parameter."""
    name, p = list(model.named_parameters())[-1]
    return [Direction(tensors={name: torch.ones_like(p.detach())})]


class SplitPreparation:
    """The evaluator's preparation of one split for (model, directions), per block of samples,
    made on first use and kept for every later batch of points (and level of the grid).

    ``block``: samples per block (default ``BLOCK_ROWS`` for flat rows, ``BLOCK_IMAGES`` for
    images), which bounds the memory of one preparation and the work between two frames."""

    def __init__(self, model: nn.Module, directions: list[Direction], X, y, *,
                 block: int | None = None):
        self.model = model
        # no direction, or none that moves anything: every point is theta_0 itself
        self.still = not _moves(model, directions)
        self.directions = _stand_in(model) if self.still else list(directions)
        self.device = next(model.parameters()).device
        self.X, self.y = X, np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
        self.n = len(self.y)
        flat = np.ndim(X) == 2
        self.classes = self._outputs()
        self._prepared: dict[int, object] = {}
        self._kept_block: int | None = None      # the block whose products are kept
        self.batch = 1       # points per batch, as learned by the last measure_points call
        self.block = max(1, int(block or (BLOCK_ROWS if flat else self._image_block())))
        self.blocks = max(1, -(-self.n // self.block))

    def _outputs(self) -> int:
        """The network's output width (heads = 1: the number of classes)."""
        net = copy.deepcopy(self.model).eval()
        x = torch.as_tensor(np.asarray(self.X[:1]), dtype=torch.float32, device=self.device)
        with torch.no_grad():
            return int(net(x).shape[-1])

    def _image_block(self) -> int:
        """The evaluator's own sample block (``family_kernels.general_tiles``) on the general
        path: each call then covers one block, whose first-layer products the evaluator
        computes once per call, with as many points as fill a frame (with several blocks per
        call and few points, those products were recomputed for every few points: +40 % on
        the cnn). ``BLOCK_IMAGES`` on the other paths."""
        one = prepare(self.model, self.directions, self.X[:1], self.y[:1], self.classes,
                      self.device)
        if not isinstance(one, FamilyPrepared) or one.mode != "general":
            return BLOCK_IMAGES
        return general_tiles(dataclasses.replace(one, n=self.n),
                             default_budget(self.device, True))[0]

    def prepared(self, b: int):
        """The preparation of block ``b`` (samples b * block to (b + 1) * block). On the conv
        families' general structure every block shares block 0's network copies and deltas
        (``families.on_other_samples``): a split of 60 000 images has 360 blocks."""
        if b not in self._prepared:
            s0, s1 = b * self.block, min(self.n, (b + 1) * self.block)
            first = self._prepared.get(0)
            if isinstance(first, FamilyPrepared) and first.mode == "general":
                self._prepared[b] = on_other_samples(first, self.X[s0:s1], self.y[s0:s1])
            else:
                self._prepared[b] = prepare(self.model, self.directions, self.X[s0:s1],
                                            self.y[s0:s1], self.classes, self.device)
        self._keep_only(b)
        return self._prepared[b]

    def _keep_only(self, b: int) -> None:
        """Block ``b``'s first-layer products are kept between its batches of points; every
        other block's are dropped (one block's worth of memory at a time)."""
        if self._kept_block != b:
            for k in (self._kept_block, b):
                p = self._prepared.get(k)
                if isinstance(p, FamilyPrepared) and p.mode == "general":
                    p.kept = {} if k == b else None
            self._kept_block = b

    def sums(self, b: int, alphas: np.ndarray, loss: str, budget: int | None) -> np.ndarray:
        """(P, 3) float64 sums over block ``b``: loss, loss^2, correct samples."""
        prep = self.prepared(b)
        got = point_statistics(self.model, self.directions, None, None, alphas,
                               classes=self.classes, loss=loss, device=self.device,
                               budget=budget, prepared=prep)
        return got.sums[:, 0]


def _next_batch(batch: int, took: float, points: int) -> int:
    """Points in the next batch, from the last call's seconds per point (``took`` for
    ``points`` points): enough for about ``FRAME_S`` seconds, growing at most 8x a call."""
    per_point = max(took, 1e-9) / max(1, points)
    return max(1, min(8 * batch, MAX_POINTS, int(FRAME_S / per_point)))


def measure_points(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                   loss: str = "cross_entropy", population: int | None = None,
                   phase: str = "surface", block: int | None = None, points: int | None = None,
                   prepared: SplitPreparation | None = None, budget: int | None = None,
                   ) -> Generator[Frame, None, PointValues]:
    """Mean loss and accuracy over every sample of (X, y) at each point of ``alphas`` (P, z).

    ``X`` has the network's input shape. ``population``: the size of the split that (X, y) is
    a random subsample of (None: (X, y) is the whole split, the values are exact).
    ``phase`` names the frames (progress displays restart on a new phase). ``block``: samples
    per prepared block; ``points``: points per batch (None: adapted so that a frame comes
    about every ``FRAME_S`` s); ``prepared``: a ``SplitPreparation`` of this model, these
    directions and this split to reuse (``X``, ``y`` and ``block`` are then its own);
    ``budget``: the evaluator's tile budget. Blocks are the outer loop, batches of points the
    inner one; frames count (point, block) pairs: step of total = P x blocks.
    """
    prep = prepared or SplitPreparation(model, directions, X, y, block=block)
    alphas = np.asarray(alphas, dtype=np.float64).reshape(len(alphas), len(directions))
    if prep.still:
        alphas = np.zeros((len(alphas), 1))
    n, total, nb = prep.n, len(alphas), prep.blocks
    sums = np.zeros((total, 3))
    start, batch = time.perf_counter(), points or prep.batch
    for b in range(nb):          # blocks outer: a block's work is shared by its batch's points
        prep.prepared(b)
        seen, s = min(n, (b + 1) * prep.block), 0
        while s < total:
            e = min(total, s + batch)
            t = time.perf_counter()
            sums[s:e] += prep.sums(b, alphas[s:e], loss, budget)
            took = time.perf_counter() - t
            yield Frame(b * total + e, total * nb, float(sums[e - 1, 0] / seen),
                        time.perf_counter() - start, phase=phase,
                        message=f"block {b + 1}/{nb} of {n} samples: {e}/{total} points")
            if points is None:
                batch = prep.batch = _next_batch(batch, took, e - s)
            s = e
    mean, mean_sq, acc = sums[:, 0] / n, sums[:, 1] / n, sums[:, 2] / n
    population = n if population is None else int(population)
    return PointValues(mean, acc, _stderr(mean, mean_sq, n, population),
                       _stderr(acc, acc, n, population))
