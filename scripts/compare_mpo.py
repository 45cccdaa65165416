"""Throughput of the multi-point optimisation's cell evaluation against a plain training loop
of the same network (their Fashion-MNIST CNN, same batch): network evaluations per second,
where one evaluation is a forward and backward pass for one input at one weight vector.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/compare_mpo.py --rounds 2 --cells 4

Rounds interleave the three loops (plain, loop engine, vmap engine) so that load from other
processes on a shared machine hits all of them alike; the median of the rounds is printed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from losspattern_core.constructions.mpo_cells import objective_backward
from losspattern_core.constructions.mpo_plane import Plane
from losspattern_core.networks import NetworkSpec, build_network

SPEC = NetworkSpec(784, 10, family="cnn", activation="relu", input_shape=(1, 28, 28))


def plain(x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """Evaluations per second of ordinary Adam training steps."""
    net = build_network(SPEC)
    opt = torch.optim.Adam(net.parameters(), lr=2.5e-4)
    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return steps * len(y) / (time.perf_counter() - t)


def mpo(x: torch.Tensor, y: torch.Tensor, cells: int, engine: str) -> float:
    """Evaluations per second of one MPO step (``cells`` good and ``cells`` bad cells)."""
    plane = Plane(SPEC, seed=0)
    net = build_network(SPEC).eval().requires_grad_(False)
    opt = torch.optim.Adam(plane.parameters(), lr=2.5e-4)
    rng = np.random.default_rng(0)
    good = torch.as_tensor(rng.integers(-25, 25, (cells, 2)))
    bad = torch.as_tensor(rng.integers(-25, 25, (cells, 2)))
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    objective_backward(plane, net, good, bad, x, y, 2.5, engine, chunk=cells)
    torch.nn.utils.clip_grad_norm_(plane.parameters(), 100.0)
    opt.step()
    return 2 * cells * len(y) / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--cells", type=int, default=4, help="good and bad cells per step, each")
    p.add_argument("--batch", type=int, default=512)
    a = p.parse_args()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((a.batch, 1, 28, 28), generator=gen)
    y = torch.randint(0, 10, (a.batch,), generator=gen)
    plain(x, y, 1)                                     # warm-up
    rates = {"plain": [], "loop": [], "vmap": []}
    for _ in range(a.rounds):
        rates["plain"].append(plain(x, y, 2 * a.cells))
        rates["loop"].append(mpo(x, y, a.cells, "loop"))
        rates["vmap"].append(mpo(x, y, a.cells, "vmap"))
    base = float(np.median(rates["plain"]))
    print(f"torch threads {torch.get_num_threads()}, batch {a.batch}, {2 * a.cells} cells a step")
    for k, v in rates.items():
        med = float(np.median(v))
        print(f"{k:6s} {med:8.1f} evaluations/s  ({med / base:6.1%} of plain training)  "
              f"rounds: {', '.join(f'{r:.1f}' for r in v)}")


if __name__ == "__main__":
    main()
