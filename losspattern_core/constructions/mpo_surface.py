"""The measured loss and accuracy of a network at many points of a plane, over every sample
of a split: the surface (and their accuracy gap) of a multi-point optimisation result.

The plane's directions are dense and move every layer, so nothing is shared between points:
each point is one forward pass of the whole network over the split (in sample chunks). It is a
generator of ``Frame``s (phase ``"measure"``), so a long measurement shows progress and can be
cancelled; ``drive`` runs it to the end.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.frames import Frame
from losspattern_core.surface import Direction

from .mpo_cells import batched_logits, pick_engine

CHUNK_SAMPLES = 2048


def point_surface(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                  engine: str = "auto", points_per_pass: int = 8,
                  chunk: int = CHUNK_SAMPLES) -> Generator[Frame, None, tuple]:
    """Mean cross-entropy and accuracy over every sample of (X, y) at each point of
    ``alphas`` (P, z): returns (loss (P,), accuracy (P,)) as float64 numpy arrays. X must
    already have the network's input shape. The model is never modified."""
    device = next(model.parameters()).device
    engine = pick_engine(engine, device)
    per = points_per_pass if engine == "vmap" else 1
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    alphas = np.asarray(alphas, dtype=np.float64)
    base = {k: v.detach() for k, v in model.named_parameters()}
    deltas = [d.delta(model) for d in directions]
    loss = np.zeros(len(alphas))
    correct = np.zeros(len(alphas))
    start = time.perf_counter()
    with torch.no_grad():
        for s in range(0, len(alphas), per):
            pts = torch.as_tensor(alphas[s:s + per], dtype=torch.float32, device=device)
            params = {k: v.expand(len(pts), *v.shape).clone() for k, v in base.items()}
            for i, dl in enumerate(deltas):
                for k, t in dl.items():
                    params[k] += pts[:, i].view(-1, *([1] * t.ndim)) * t
            for c in range(0, len(y), chunk):
                logits = batched_logits(model, params, X[c:c + chunk], engine)
                yc = y[c:c + chunk]
                for p in range(len(pts)):
                    loss[s + p] += float(F.cross_entropy(logits[p].double(), yc,
                                                         reduction="sum"))
                    correct[s + p] += float((logits[p].argmax(-1) == yc).sum())
            done = min(s + per, len(alphas))
            yield Frame(done, len(alphas), float(loss[s] / len(y)),
                        time.perf_counter() - start, phase="measure",
                        message=f"{done}/{len(alphas)} points x {len(y)} samples")
    return loss / len(y), correct / len(y)
