"""Top Hessian eigenpairs and the Hessian's trace, from Hessian-vector products (as PyHessian,
Yao et al. 2020, does), never forming the Hessian.

* ``hvp``: H v by double backprop (``torch.autograd.grad`` of g . v), summed over chunks of
  the split, so H is the Hessian of the mean loss over *every* sample (exact, not a minibatch).
* ``top_eigen``: power iteration with deflation: each new vector is kept orthogonal to the
  eigenvectors already found (Gram-Schmidt after every product), then one Rayleigh-Ritz step
  over the k vectors. Power iteration finds the eigenvalues of largest *magnitude*; at a
  minimum these are the largest (positive) ones. Each pair comes with its residual
  ||H v - lambda v||, which bounds the eigenvalue's error (for a symmetric H some eigenvalue
  lies within the residual of lambda).
* ``hutchinson_trace``: tr(H) ~ mean of v^T H v over Rademacher v, with the number of samples
  and the standard error of the mean (sample std / sqrt(samples)).

Memory: about 5k + 6 parameter-sized float32 vectors (k eigenvectors; their float64 copies and
products in the Rayleigh-Ritz step; v, Hv, the gradient with its graph) plus one chunk's
activations with their graph; ``max_bytes`` refuses a network whose
estimate exceeds it, before any work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.surface import Direction

from .layout import ParamLayout
from .objective import DEFAULT_CHUNK, SplitObjective

MAX_BYTES = 4 << 30
VECTORS = 6          # parameter-sized buffers besides the eigenvectors (see the module doc)


@dataclass
class HessianEigen:
    """Eigenpairs of the full-split Hessian at theta_0, in the order found."""

    eigenvalues: np.ndarray      # (k,)
    directions: list[Direction]  # unit eigenvectors as per-parameter tensors
    residuals: np.ndarray        # (k,) ||H v - lambda v||
    iterations: list[int]        # power iterations of each pair, in the order found
    converged: list[bool]        # whether each pair met the tolerance within max_iter
    hvps: int                    # Hessian-vector products used

    def to_json(self) -> dict:
        return {"eigenvalues": self.eigenvalues.tolist(), "residuals": self.residuals.tolist(),
                "iterations": list(self.iterations), "converged": list(self.converged),
                "hvps": self.hvps, "which": "largest magnitude (power iteration + deflation)"}


class HessianOperator:
    """v -> H v for the mean loss of ``model`` over the whole split (X, y)."""

    def __init__(self, model: nn.Module, X, y, loss: str = "cross_entropy", *,
                 params: Sequence[str] | None = None, chunk: int = DEFAULT_CHUNK,
                 max_bytes: int = MAX_BYTES, vectors: int = 1):
        self.layout = ParamLayout.of(model, params)
        estimate = self.layout.size * 4 * (5 * vectors + VECTORS)
        if estimate > max_bytes:
            raise ConfigError(
                f"the Hessian computation for {self.layout.size:,} parameters needs about "
                f"{estimate / 2**30:.2f} GiB (for {vectors} eigenvector(s)), over "
                f"the limit of {max_bytes / 2**30:.2f} GiB: select fewer parameters, ask for "
                f"fewer eigenvectors, or raise max_bytes")
        self.objective = SplitObjective(model, X, y, loss, chunk)
        own = dict(model.named_parameters())
        self.device = own[self.layout.names[0]].device
        self.fixed = {k: v.detach() for k, v in own.items() if k not in self.layout.names}
        self.theta = {k: own[k].detach().clone() for k in self.layout.names}
        self.products = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v for a flat vector v (on the parameters' device)."""
        p = {k: t.clone().requires_grad_(True) for k, t in self.theta.items()}
        vs = self.layout.unflatten(v.to(device=self.device))
        out = [torch.zeros_like(t) for t in p.values()]
        for part in self.objective.chunk_sums({**self.fixed, **p}):
            grads = torch.autograd.grad(part, list(p.values()), create_graph=True,
                                        allow_unused=True)
            dot = sum((g * vs[k]).sum() for g, k in zip(grads, p, strict=True) if g is not None)
            if not isinstance(dot, torch.Tensor) or not dot.requires_grad:
                continue                       # the gradient is constant here: H v = 0
            hv = torch.autograd.grad(dot, list(p.values()), allow_unused=True)
            for o, h in zip(out, hv, strict=True):
                if h is not None:
                    o += h.detach()
        self.products += 1
        return torch.cat([o.reshape(-1) for o in out])

    def direction(self, v: torch.Tensor) -> Direction:
        """A flat vector as a Direction over the selected parameters."""
        return Direction(tensors={k: t.clone() for k, t in self.layout.unflatten(v).items()})


def _orthogonalise(v: torch.Tensor, basis: list[torch.Tensor]) -> torch.Tensor:
    for u in basis:
        v = v - (u @ v) * u
    return v


def _power(op: HessianOperator, v: torch.Tensor, found: list[torch.Tensor], max_iter: int,
           tol: float) -> tuple[torch.Tensor, int, bool]:
    """Power iteration on H deflated by ``found`` (v kept orthogonal to them) from v."""
    v = _orthogonalise(v, found)
    v = v / v.norm()
    for it in range(1, max_iter + 1):
        hv = _orthogonalise(op(v), found)
        lam = float(v @ hv)
        if float((hv - lam * v).norm()) <= tol * abs(lam) or float(hv.norm()) == 0.0:
            return v, it, True
        v = hv / hv.norm()
    return v, max_iter, False


def _rayleigh_ritz(op: HessianOperator, vecs: list[torch.Tensor]
                   ) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
    """The best eigenpairs within span(vecs): eigenvalues by magnitude, (k, D) vectors, and the
    residuals ||H v - lambda v|| of the full (undeflated) H."""
    V = torch.linalg.qr(torch.stack(vecs).double().T)[0].T            # orthonormal rows
    HV = torch.stack([op(v.float()).double() for v in V])
    S = V @ HV.T
    theta, Y = torch.linalg.eigh((S + S.T) / 2)
    order = torch.argsort(theta.abs(), descending=True)
    theta, Y = theta[order], Y[:, order]
    V, HV = Y.T @ V, Y.T @ HV
    res = (HV - theta[:, None] * V).norm(dim=1)
    return theta.cpu().numpy(), V.float(), res.cpu().numpy()


def top_eigen(op: HessianOperator, k: int = 1, *, max_iter: int = 200, tol: float = 1e-4,
              seed: int = 0) -> HessianEigen:
    """The ``k`` eigenpairs of largest magnitude: power iteration with deflation (pair i stops
    when its deflated residual is <= tol * |lambda_i|), then one Rayleigh-Ritz step over the k
    vectors (k more products), which removes what each pair leaked into the next. The reported
    residuals are of the full H."""
    if k < 1 or k > op.layout.size:
        raise ConfigError(f"k must lie in 1..{op.layout.size}, got {k}")
    gen = torch.Generator().manual_seed(int(seed))
    vecs: list[torch.Tensor] = []
    iters, conv = [], []
    start = op.products
    for _ in range(k):
        v0 = torch.randn(op.layout.size, generator=gen, dtype=torch.float32).to(op.device)
        v, it, done = _power(op, v0, vecs, max_iter, tol)
        vecs.append(v)
        iters.append(it)
        conv.append(done)
    vals, V, res = _rayleigh_ritz(op, vecs)
    return HessianEigen(vals, [op.direction(v) for v in V], res, iters, conv,
                        op.products - start)


def hutchinson_trace(op: HessianOperator, samples: int = 100, *, seed: int = 0) -> dict:
    """tr(H) ~ mean_s v_s^T H v_s, v_s Rademacher (+-1): value, standard error, samples."""
    if samples < 2:
        raise ConfigError(f"the trace estimate needs at least 2 samples, got {samples}")
    gen = torch.Generator().manual_seed(int(seed))
    est = np.empty(samples)
    for s in range(samples):
        v = (torch.randint(0, 2, (op.layout.size,), generator=gen) * 2 - 1).float()
        v = v.to(op.device)
        est[s] = float(v.double() @ op(v).double())
    return {"trace": float(est.mean()), "stderr": float(est.std(ddof=1) / np.sqrt(samples)),
            "samples": int(samples), "parameters": op.layout.size,
            "estimator": "Hutchinson, Rademacher vectors"}


def hessian_directions(model: nn.Module, X, y, k: int = 2, *, loss: str = "cross_entropy",
                       params: Sequence[str] | None = None, chunk: int = DEFAULT_CHUNK,
                       max_iter: int = 200, tol: float = 1e-4, seed: int = 0,
                       max_bytes: int = MAX_BYTES) -> HessianEigen:
    """The top-``k`` Hessian eigenvectors at ``model``'s parameters as directions (unit norm),
    with their eigenvalues, for ``evaluate_points`` (origin: ``model`` itself)."""
    op = HessianOperator(model, X, y, loss, params=params, chunk=chunk, max_bytes=max_bytes,
                         vectors=k)
    return top_eigen(op, k, max_iter=max_iter, tol=tol, seed=seed)
