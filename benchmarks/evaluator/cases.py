"""The networks and directions the benchmark evaluates, built through the public core API.

* ``theorem1``: a real Theorem 1 construction (``lp.construct``, sine MLP, W1 = 0); its
  directions are the first-layer biases of the pattern units;
* ``theorem2``: a network with Theorem 2's structure (``lp.build_theorem2_network``: pattern
  units that read no input, an alpha block and an x block meeting only at the output), trained
  at alpha = 0 by minibatch cross-entropy with every exact zero held at zero;
* ``zero-rows``: Theorem 2's directions on an ordinarily trained MLP (no block structure): the
  first-layer weight rows of two units set to zero, directions = their biases;
* ``dense``: the ordinarily trained MLP with two random filter-normalised directions over every
  parameter.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

import losspattern_core as lp
import losspattern_core.surface as S

ACTIVATION = "relu"   # the trained networks (theorem2, zero-rows, dense)
DEPTH, WIDTH = 3, 128


@dataclass
class Case:
    """A model, its directions, the plane's range and what it is, in words."""

    name: str
    model: object
    directions: list
    alpha_range: list[list[float]]
    description: str
    facts: dict = field(default_factory=dict)


def resolved_for(ds, theorem: int, activation: str, steps: int, device: str):
    """A validated config for ``ds`` (the public gate; the dataset is not loaded again)."""
    cfg = lp.ConstructionConfig(dataset=ds.name, theorem=theorem, activation=activation,
                                depth=DEPTH, width=WIDTH, steps=steps, snapshot_every=0,
                                device=device)
    return lp.validate(cfg, dataset=ds)


def train_ordinary(ds, steps: int, device: str) -> tuple[object, dict]:
    """An ordinarily trained ReLU MLP (``lp.train_ordinary``) and what it reached."""
    spec = resolved_for(ds, 2, ACTIVATION, steps, device).network
    t0 = time.perf_counter()
    res = lp.drive(lp.train_ordinary(ds, spec, steps=steps, seed=0, device=device))
    return res.model.eval(), {"train_steps": steps, "train_s": round(time.perf_counter() - t0, 2),
                              "trained_accuracy": round(res.train_accuracy, 4)}


def first_linear(model) -> tuple[str, torch.nn.Linear]:
    """The name and module of the network's first Linear layer (the one the pattern units and
    Theorem 2's directions live in)."""
    return next((n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear))


def _exact_zeros(model) -> int:
    return sum(int((p == 0).sum()) for p in model.parameters())


def train_keeping_zeros(model, X, y, steps: int, seed: int = 0, lr: float = 1e-3,
                        batch: int = 128) -> float:
    """Adam on minibatch cross-entropy at alpha = 0; every parameter entry that is exactly zero
    stays exactly zero (its gradient is masked, so Adam's update there is 0). Returns the
    training accuracy. Raises if a zero moved (the structure would be broken)."""
    params = list(model.parameters())
    masks = [(p != 0).to(p.dtype) for p in params]
    zeros = _exact_zeros(model)
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(y), (min(batch, len(y)),), generator=gen).to(y.device)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p, m in zip(params, masks, strict=True):
            p.grad.mul_(m)
        opt.step()
    if _exact_zeros(model) < zeros:
        raise RuntimeError("an exact zero of the Theorem 2 structure moved during training")
    with torch.no_grad():
        return float((model(X).argmax(1) == y).float().mean())


def theorem1(ds, steps: int, device: str) -> Case:
    """A Theorem 1 construction (``steps`` regression steps) and its directions."""
    resolved = resolved_for(ds, 1, "sin", steps, device)
    t0 = time.perf_counter()
    con = lp.drive(lp.construct(resolved))
    desc = (f"Theorem 1 construction (lp.construct, pattern {resolved.config.pattern}, sine MLP "
            f"{DEPTH}x{WIDTH}, W1 = 0, {steps} regression steps); directions = first-layer "
            f"biases {', '.join(str(d.index) for d in con.directions)}")
    return Case("theorem1", con.model.eval(), con.directions, con.alpha_range, desc,
                {"train_steps": steps, "train_s": round(time.perf_counter() - t0, 2)})


def theorem2(ds, steps: int, device: str) -> Case:
    """A network with Theorem 2's block structure, its classifier trained at alpha = 0."""
    resolved = resolved_for(ds, 2, ACTIVATION, steps, device)
    model = lp.build_theorem2_network(resolved)
    X, y = ds.split("train")
    X = torch.as_tensor(X, dtype=torch.float32, device=device)
    y = torch.as_tensor(y, dtype=torch.long, device=device)
    t0 = time.perf_counter()
    acc = train_keeping_zeros(model, X, y, steps)
    z = resolved.config.z
    desc = (f"Theorem 2 network (lp.build_theorem2_network: ReLU {DEPTH}x{WIDTH}, z = {z} "
            "pattern units that read no input, an alpha block and an x block that meet only at "
            f"the output; {_exact_zeros(model)} exact zeros), trained at alpha = 0 by "
            f"minibatch cross-entropy for {steps} steps with every exact zero held at zero; "
            "directions = the pattern units' biases")
    name, _ = first_linear(model)
    dirs = [S.Direction(f"{name}.bias", i) for i in range(z)]
    return Case("theorem2", model.eval(), dirs, [[0.0, 1.0]] * z, desc,
                {"train_steps": steps, "train_s": round(time.perf_counter() - t0, 2),
                 "trained_accuracy": round(acc, 4)})


def zero_rows(trained, facts: dict) -> Case:
    """Theorem 2's directions on the ordinary MLP: no block structure to exploit."""
    model = copy.deepcopy(trained)
    name, lin = first_linear(model)
    with torch.no_grad():
        lin.weight[:2] = 0
    desc = (f"Theorem 2's directions on an ordinarily trained ReLU MLP {DEPTH}x{WIDTH} "
            "(lp.train_ordinary; no block structure): first-layer weight rows of units 0, 1 "
            "set to zero, directions = their biases")
    return Case("zero-rows", model, [S.Direction(f"{name}.bias", i) for i in range(2)],
                [[0.0, 1.0], [0.0, 1.0]], desc, dict(facts))


def dense(trained, facts: dict) -> Case:
    """Random filter-normalised directions over every parameter of the ordinary MLP."""
    desc = (f"ordinarily trained ReLU MLP {DEPTH}x{WIDTH} (lp.train_ordinary), 2 random "
            "Gaussian filter-normalised directions over every parameter")
    dirs = [S.random_direction(trained, 1), S.random_direction(trained, 2)]
    return Case("dense", trained, dirs, [[-1.0, 1.0], [-1.0, 1.0]], desc, dict(facts))
