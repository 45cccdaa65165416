"""Ordinary supervised training: Theorem 2's classifier phase and the yardstick for "ease".

``fit_classifier`` is the one training loop (Adam, one-cycle, minibatch cross-entropy). Theorem 2
uses it for its classifier phase (the x block); the pattern is then shifted to the training loss
*that phase* reaches, not to the ordinary network's.

``train_ordinary`` trains every parameter of a freshly built network of the run's architecture
(every first-layer unit sees x) on the training split, and measures what a normally trained
network reaches: its training loss and train/test accuracy (the yardstick Theorem 2's fit at
alpha* is compared with), its wall time and the step at which it converged: the first
full-split check whose train accuracy is within
``CONVERGED_WITHIN`` of the best the run reaches (digits: 99-100%; Fashion-MNIST: ~90%, which
no 1500-step MLP run reaches 99% of).

Like the constructions it is a generator of ``Frame``s (phase ``"baseline"``) so a GUI can
show its progress and cancel it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.data.datasets import Dataset
from losspattern_core.errors import ConstructionError
from losspattern_core.frames import Frame
from losspattern_core.networks import NetworkSpec, as_input, build_network

STEPS = 1500          # ordinary-training steps (Adam, one-cycle schedule)
CONV_STEPS = 600      # conv families: every step is a batch of image-sized forward passes;
#                       600 x 128 samples (1.3 epochs of Fashion-MNIST) reach ~87-89% there
LR = 1e-3             # 3e-3 left sine nets on Fashion-MNIST at chance (loss 2.303); 1e-3: 90%
BATCH = 128
CHECK_EVERY = 50      # full-train-split loss/accuracy every this many steps
CONVERGED_WITHIN = 0.01   # converged: train accuracy within this of the run's best
CONV_CHECK_SAMPLES = 4096


def ordinary_steps_for(spec: NetworkSpec) -> int:
    """Ordinary training's step budget for ``spec``'s family (and Theorem 2's classifier phase,
    which trains like it): STEPS for MLPs, CONV_STEPS for the conv families."""
    return STEPS if spec.family == "mlp" else CONV_STEPS


@dataclass
class BaselineResult:
    """What ordinary training reached, measured on the full splits unless
    ``measured_samples`` says fewer."""

    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    steps: int
    wall_s: float
    steps_to_converge: int | None      # first check within CONVERGED_WITHIN of the best accuracy
    time_to_converge_s: float | None
    lr: float
    batch: int
    history: list = field(default_factory=list)  # [(step, train loss, train accuracy)]
    model: nn.Module | None = field(default=None, repr=False)
    measured_samples: dict = field(default_factory=dict)  # split -> samples the figures used

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("model")
        out["converged_within"] = CONVERGED_WITHIN
        out["note"] = ("ordinary training of the same architecture (every first-layer unit sees "
                       "x), Adam + minibatch cross-entropy on the same training split")
        return out


def init_for_inputs(model: nn.Sequential, spec: NetworkSpec, generator: torch.Generator,
                    rows: slice | None = None, cols: slice | None = None) -> None:
    """Re-initialise layer 2 of a sine network for features of x (not pattern coordinates).

    ``build_mlp`` gives layer 2 U(-2, 2) because in Theorem 1 it reads alpha in [0, 1]; fed by
    learned features of x through sin(30 .) that is a random hash of the input. Here it gets the
    SIREN hidden-layer init U(+-sqrt(6/n)/w0) instead (only ``rows`` x ``cols`` if given).
    """
    if spec.activation != "sin":
        return
    lin = model[2]
    rows = rows or slice(None)
    cols = cols or slice(None)
    n = len(range(lin.in_features)[cols])
    bound = math.sqrt(6 / max(n, 1)) / spec.sine_w0
    with torch.no_grad():
        lin.weight[rows, cols].uniform_(-bound, bound, generator=generator)


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, chunk: int = 8192,
             forward: Callable | None = None) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over the whole split."""
    forward = forward or model
    loss, correct = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(y), chunk):
            out = forward(X[s:s + chunk])
            loss += float(F.cross_entropy(out.double(), y[s:s + chunk], reduction="sum"))
            correct += int((out.argmax(1) == y[s:s + chunk]).sum())
    return loss / max(len(y), 1), correct / max(len(y), 1)


def fit_classifier(forward: Callable[[torch.Tensor], torch.Tensor], params: list,
                   X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, batch: int,
                   seed: int, phase: str, check_every: int = CHECK_EVERY,
                   check_samples: int | None = None, final_on_subset: bool = False,
                   ) -> Generator[Frame, None, dict]:
    """Adam (one-cycle) on minibatch cross-entropy of ``forward``; a Frame every step.

    Every ``check_every`` steps the loss and accuracy are measured (in eval mode) on the whole
    split, or, with ``check_samples``, on that many evenly spaced samples; the last check is
    on the whole split unless ``final_on_subset``. Returns {"steps", "wall_s", "steps_to_converge",
    "time_to_converge_s", "history", "checked_samples"}.
    """
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.1)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    n = len(y)
    batch = min(batch, n)
    start = time.perf_counter()
    history, times = [], []
    sub = (torch.linspace(0, n - 1, check_samples).round().long().to(X.device)
           if check_samples and n > check_samples else None)
    perm, pos = torch.randperm(n, generator=gen), 0
    for step in range(1, steps + 1):
        if pos + batch > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + batch].to(X.device)
        pos += batch
        loss = F.cross_entropy(forward(X[idx]), y[idx])
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ConstructionError(f"{phase}: training diverged (loss {value}) at step {step}; "
                                    f"try a lower learning rate than {lr:g}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        msg = ""
        if step % check_every == 0 or step == steps:
            whole = sub is None or (step == steps and not final_on_subset)
            Xc, yc = (X, y) if whole else (X[sub], y[sub])
            tl, ta = _checked(forward, Xc, yc)
            history.append((step, tl, ta))
            times.append(time.perf_counter() - start)
            msg = f"train loss {tl:.4f}, train accuracy {ta:.4f}"
        yield Frame(step, steps, value, time.perf_counter() - start, phase=phase, message=msg)
    wall = time.perf_counter() - start
    best = max(h[2] for h in history)
    first = next(i for i, h in enumerate(history) if h[2] >= best - CONVERGED_WITHIN)
    # the check's own cost (a full-split pass) is inside these times: the figure is an upper bound
    return {"steps": steps, "wall_s": wall, "steps_to_converge": history[first][0],
            "time_to_converge_s": times[first], "best_accuracy": best, "history": history,
            "checked_samples": n if sub is None else len(sub),
            "final_samples": n if sub is None or not final_on_subset else len(sub)}


def _checked(forward, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """``evaluate`` in eval mode (BatchNorm must not learn from a measurement)."""
    was = forward.training if isinstance(forward, nn.Module) else None
    if was:
        forward.eval()
    try:
        return evaluate(None, X, y, forward=forward)
    finally:
        if was:
            forward.train()


def check_samples_for(spec: NetworkSpec) -> int | None:
    """Conv families check convergence on CONV_CHECK_SAMPLES samples (a full-split pass of a
    CNN every 50 steps would cost more than the training); MLPs on the whole split."""
    return None if spec.family == "mlp" else CONV_CHECK_SAMPLES


def _evenly(n: int, samples: int | None) -> np.ndarray | slice:
    return (np.linspace(0, n - 1, samples).round().astype(int) if samples and n > samples
            else slice(None))


def train_ordinary(dataset: Dataset, network: NetworkSpec, *, steps: int | None = None,
                   lr: float | None = None, batch: int | None = None, seed: int = 0,
                   device: str = "cpu", measure_samples: int | None = None,
                   ) -> Generator[Frame, None, BaselineResult]:
    """Train a fresh network of ``network``'s architecture (any family, one head) normally,
    ``steps`` (default: ``ordinary_steps_for``) Adam steps. Its final train and test figures
    are on the whole splits, or with ``measure_samples`` on that many evenly spaced samples
    of each (recorded in ``measured_samples``)."""
    steps = steps or ordinary_steps_for(network)
    lr, batch = lr or LR, batch or BATCH
    spec = dataclasses.replace(network, heads=1)
    gen = torch.Generator().manual_seed(int(seed))   # build and re-init: one local stream
    model = build_network(spec, generator=gen)
    if spec.family == "mlp":
        init_for_inputs(model, spec, gen)
    model = model.to(device)
    X, y = (torch.as_tensor(np.asarray(a), device=device) for a in dataset.split("train"))
    X, y = as_input(X.float(), spec), y.long()
    fit = yield from fit_classifier(model, list(model.parameters()), X, y, steps=steps, lr=lr,
                                    batch=batch, seed=seed, phase="baseline",
                                    check_samples=measure_samples or check_samples_for(spec),
                                    final_on_subset=measure_samples is not None)
    model.eval()
    train_loss, train_acc = fit["history"][-1][1:]
    Xt, yt = dataset.split("test")
    keep = _evenly(len(yt), measure_samples)
    Xt, yt = (torch.as_tensor(np.asarray(a[keep]), device=device) for a in (Xt, yt))
    test_loss, test_acc = evaluate(model, as_input(Xt.float(), spec), yt.long())
    return BaselineResult(train_loss, train_acc, test_loss, test_acc, steps, fit["wall_s"],
                          fit["steps_to_converge"], fit["time_to_converge_s"], lr, batch,
                          fit["history"], model,
                          measured_samples={"train": fit["final_samples"], "test": len(yt)})
