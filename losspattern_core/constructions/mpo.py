"""Skorokhodov & Burtsev (2019), "Loss Landscape Sightseeing with Multi-Point Optimization"
(arXiv 1910.03867, code universome/loss-patterns): the prior method Czarnecki et al. answer.

It *searches* a plane in weight space (``mpo_plane``) whose cells draw a binary icon: each
iteration, on one minibatch, it samples up to 50 "good" and 50 "bad" cells of the icon's
boundary band (``mpo_mask``), and minimises

    J = mean_good CE(w_c) - mean_bad clamp(CE(w_c), 0, tau)

with gradient-norm clipping and Adam; up to ``epochs`` epochs, stopped early (after
``warmup_epochs``) when the good-minus-bad accuracy on the training split falls below
``min_acc_gap``, their ``good_and_bad_val_acc_diff_threshold``. Defaults are their Fashion-MNIST
run (``configs/icons-mask-hpo.yml``): batch 512, 50 + 50 cells, tau 2.5, Adam lr 2.5e-4, clip
100, scale 0.1, 100 epochs, warm-up 30, threshold 0.01, ``up_orthogonal``, centred origin.

``construct`` is a generator of ``Frame``s (phase ``"mpo"``): every step is a cancellation
point. ``steps`` caps the iterations for a quick run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.data.pattern_core import Pattern
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import ConstructionError
from losspattern_core.frames import Frame
from losspattern_core.networks import NetworkSpec, as_input, build_network
from losspattern_core.surface import Direction

from .mpo_cells import objective_backward, pick_engine, validation_gap
from .mpo_checks import check_config, network_for
from .mpo_mask import BAD, GOOD, binary_icon, cells_of, centred, check_mask, ternary_mask
from .mpo_plane import Plane, alpha_range


@dataclass(frozen=True)
class MpoConfig:
    """One multi-point optimisation run (defaults: their Fashion-MNIST icon runs)."""

    pattern: str = "smiley"
    dataset: str = "fashion-mnist"
    arch: str = "cnn"
    grid: int = 50                 # the icon is grid x grid cells
    steps: int | None = None       # cap on iterations (None: epochs x steps per epoch)
    epochs: int = 100
    batch: int = 512
    good_cells: int = 50
    bad_cells: int = 50
    tau: float = 2.5               # their neg_loss_clip_threshold
    lr: float = 2.5e-4
    clip: float = 100.0
    scale: float = 0.1
    warmup_epochs: int = 30
    min_acc_gap: float = 0.01
    good: str = "dark"             # which side of the 0.5 threshold is the shape
    smooth: float | None = None    # image smoothing, as for our constructions (None: 1 px)
    engine: str = "auto"
    chunk: int = 10                # cells per vmap pass
    seed: int = 0
    device: str = "cpu"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MpoRun:
    """A validated run: its data, icon, ternary mask and network."""

    config: MpoConfig
    dataset: Dataset
    pattern: Pattern
    network: NetworkSpec
    icon: np.ndarray        # (G, G) 0/1, row 0 on top
    mask: np.ndarray        # (G, G) 1 good, -1 bad, 0 ignored


@dataclass
class MpoResult:
    """The origin network (``model``), the plane as two dense directions with the alpha range
    that puts the G x G cells on the grid, the mask, timings and the work spent."""

    run: MpoRun
    model: nn.Sequential
    directions: list[Direction]
    alpha_range: list[list[float]]
    timings: dict
    evaluations: dict
    plane: dict
    stopped: str
    history: list = field(default_factory=list)   # per step: J, good/bad loss and accuracy
    checks: list = field(default_factory=list)    # their per-epoch validations

    @property
    def grid(self) -> int:
        return self.run.config.grid

    @property
    def config(self) -> MpoConfig:
        return self.run.config


def validate_mpo(cfg: MpoConfig, dataset: Dataset | None = None,
                 pattern: Pattern | None = None) -> MpoRun:
    """Check every option, load the data and the icon, build the mask; raise the core's
    errors with a message naming the problem before any work starts."""
    check_config(cfg)
    ds = dataset or load_dataset(cfg.dataset)
    pat = pattern or load_pattern(cfg.pattern, z=2, smooth=cfg.smooth)
    icon = binary_icon(pat, cfg.grid, cfg.good)
    mask = ternary_mask(icon)
    check_mask(mask, pat.name)
    return MpoRun(cfg, ds, pat, network_for(ds, cfg.arch), icon, mask)


def _sample(rng: np.random.Generator, cells: torch.Tensor, k: int) -> torch.Tensor:
    """Up to k distinct cells, uniformly (their ``random.sample``)."""
    pick = rng.choice(len(cells), size=min(k, len(cells)), replace=False)
    return cells[torch.as_tensor(pick, device=cells.device)]


def _origin_model(run: MpoRun, plane: Plane, device: str) -> nn.Sequential:
    model = build_network(run.network)
    model.load_state_dict({k: v.cpu() for k, v in plane.origin_state().items()})
    return model.to(device).eval()


def _plane_figures(plane: Plane) -> dict:
    with torch.no_grad():
        r, u = plane.right.double(), plane.up.double()
        return {"scale": float(plane.scale), "norm_right": float(r.norm()),
                "norm_up": float(u.norm()),
                "cos_up_right": float(torch.dot(r, u) / (r.norm() * u.norm()))}


def _setup(run: MpoRun, device: torch.device):
    """The plane, the network its cells run through (parameters replaced at every call), the
    training split on the device and the centred good and bad cells."""
    cfg = run.config
    plane = Plane(run.network, cfg.seed, cfg.scale).to(device)
    net = build_network(run.network).to(device).eval().requires_grad_(False)
    X, y = run.dataset.split("train")
    X = as_input(torch.as_tensor(X), run.network).to(device)
    y = torch.as_tensor(y, dtype=torch.long, device=device)
    good = torch.as_tensor(centred(cells_of(run.mask, GOOD), run.mask.shape), device=device)
    bad = torch.as_tensor(centred(cells_of(run.mask, BAD), run.mask.shape), device=device)
    return plane, net, X, y, good, bad


def construct(run: MpoRun) -> Generator[Frame, None, MpoResult]:
    """Their training loop; yields a Frame per step, returns an ``MpoResult``."""
    cfg = run.config
    device = torch.device(cfg.device)
    engine = pick_engine(cfg.engine, device)
    rng = np.random.default_rng(cfg.seed)
    plane, net, X, y, good, bad = _setup(run, device)
    opt = torch.optim.Adam(plane.parameters(), lr=cfg.lr)
    per_epoch = math.ceil(len(y) / cfg.batch)
    total = cfg.epochs * per_epoch if cfg.steps is None else min(cfg.steps,
                                                                 cfg.epochs * per_epoch)
    history, checks, step, passes, cells_run = [], [], 0, 0, 0
    stopped = "epochs"
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.as_tensor(rng.permutation(len(y)), device=device)
        for b in range(min(per_epoch, total - step)):
            idx = perm[b * cfg.batch:(b + 1) * cfg.batch]
            g, bd = _sample(rng, good, cfg.good_cells), _sample(rng, bad, cfg.bad_cells)
            opt.zero_grad(set_to_none=True)
            stats = objective_backward(plane, net, g, bd, X[idx], y[idx], cfg.tau, engine,
                                       cfg.chunk)
            if not math.isfinite(stats["J"]):
                raise ConstructionError(f"the multi-point optimisation diverged at step "
                                        f"{step + 1} (J = {stats['J']}); try a lower --lr")
            torch.nn.utils.clip_grad_norm_(plane.parameters(), cfg.clip)
            opt.step()
            step += 1
            cells_run += len(g) + len(bd)
            passes += (len(g) + len(bd)) * len(idx)
            history.append({"step": step, **stats})
            yield Frame(step, total, stats["J"], time.perf_counter() - start, phase="mpo",
                        message=f"epoch {epoch}: J {stats['J']:.3f}; good loss "
                                f"{stats['good_loss']:.3f} acc {stats['good_acc']:.2f}; bad "
                                f"loss {stats['bad_loss']:.3f} acc {stats['bad_acc']:.2f}")
        if step >= total:
            stopped = "epochs" if cfg.steps is None or total < cfg.steps else "steps"
            break
        if epoch > cfg.warmup_epochs:   # their validate(): train split, one cell per batch
            check = validation_gap(plane, net, X, y, good, bad, cfg.batch, rng)
            checks.append({"epoch": epoch, **check})
            if check["acc_gap"] < cfg.min_acc_gap:
                stopped = (f"early stop at epoch {epoch}: good - bad accuracy "
                           f"{check['acc_gap']:.4f} < {cfg.min_acc_gap:g}")
                break
    return MpoResult(
        run, _origin_model(run, plane, cfg.device), plane.directions(),
        alpha_range(*run.mask.shape),
        timings={"mpo_s": time.perf_counter() - start, "steps": step,
                 "epochs": round(step / per_epoch, 4), "engine": engine},
        evaluations={"sample_passes": passes, "cell_passes": cells_run,
                     "unit": "one forward+backward of the network for one input at one "
                             "weight vector"},
        plane=_plane_figures(plane), stopped=stopped, history=history, checks=checks)
