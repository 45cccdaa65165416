"""The copies of a network run at many grid points at once.

Activations are either *shared* by every point, (B, *sample) for B samples, or *per point*,
(P, B, *sample); they become per point at the first module a direction moves. A module no
direction moves runs once on all P*B samples. A moved module runs with per-point parameters
theta + sum_i alpha_i delta_i: Linear as a batched product, Conv2d as one convolution per point
(many samples) or one grouped convolution over the points (few samples), eval-mode BatchNorm as a
per-point scale and shift, Sequential and residual blocks module by module; any other module
under ``torch.vmap`` (exact, slower).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from losspattern_core.networks import Residual

from .modules import ModuleNet, bias_view, point_params, sub_deltas


def _halving_max_pool(mod: nn.Module) -> bool:
    """Whether ``mod`` is a plain 2x2, stride-2 max pool without padding (floor mode: an odd
    last row or column is dropped, as ``max_pool2d`` drops it)."""
    if not isinstance(mod, nn.MaxPool2d) or mod.return_indices or mod.ceil_mode:
        return False
    two = {(2, 2), 2}
    return (mod.kernel_size in two and mod.stride in two and mod.padding in ({(0, 0), 0})
            and mod.dilation in ({(1, 1), 1}))


def _max_of_four(h: torch.Tensor) -> torch.Tensor:
    """A 2x2, stride-2 max pool of h (..., C, H, W): the same values bit for bit as
    ``max_pool2d``, without the indices it computes. Odd maps lose their last row or column
    first, as the pool's floor mode does."""
    rows, cols = h.shape[-2] // 2 * 2, h.shape[-1] // 2 * 2
    hwc = h.movedim(-3, -1)
    if hwc.is_contiguous():   # channels-last: max of row pairs (whole rows, one long vector
        return _row_pairs_max(hwc[..., :rows, :, :], cols).movedim(-1, -3)   # op), then columns
    h = h[..., :rows, :cols]
    top = torch.maximum(h[..., 0::2, 0::2], h[..., 0::2, 1::2])
    return torch.maximum(top, torch.maximum(h[..., 1::2, 0::2], h[..., 1::2, 1::2]))


def _row_pairs_max(t: torch.Tensor, cols: int) -> torch.Tensor:
    """2x2 max pool of channels-last maps t (..., H, W, C) with H even: the max of each pair
    of rows (each row W * C contiguous floats), then of each pair of columns; (..., H/2,
    cols/2, C). About twice as fast as four strided views with few channels."""
    *lead, h, w, c = t.shape
    pairs = t.reshape(*lead, h // 2, 2, w * c)
    m = torch.maximum(pairs[..., 0, :], pairs[..., 1, :])[..., :cols * c]
    m = m.reshape(*lead, h // 2, cols // 2, 2, c)
    return torch.maximum(m[..., 0, :], m[..., 1, :])


def _plain(net: ModuleNet, mod: nn.Module, h: torch.Tensor, per_point: bool) -> torch.Tensor:
    """An unmoved module on every sample (of every point)."""
    if isinstance(mod, nn.Identity):
        return h
    if per_point and _halving_max_pool(mod) and min(h.shape[-2:]) >= 2:
        return _max_of_four(h)
    if not per_point:
        return mod(net.layout(h))
    p, b = h.shape[:2]
    return mod(net.layout(h.flatten(0, 1))).unflatten(0, (p, b))


def _linear(mod: nn.Linear, params: dict, h: torch.Tensor) -> torch.Tensor:
    """(P, B, out) from h (B, in) or (P, B, in)."""
    w = params.get("weight", mod.weight)
    out = torch.matmul(h, w.transpose(-1, -2))
    b = params.get("bias", mod.bias)
    if b is not None:
        out = out + (b.unsqueeze(-2) if b.ndim == 2 else b)
    return out


def _conv(net: ModuleNet, mod: nn.Conv2d, params: dict, h: torch.Tensor, p: int,
          per_point: bool) -> torch.Tensor:
    """(P, B, C', H', W') from h (B, C, H, W) or (P, B, C, H, W)."""
    w, b = params.get("weight"), params.get("bias")
    if w is None:     # shared weight: one convolution, then the per-point bias
        x = h.flatten(0, 1) if per_point else h
        out = mod._conv_forward(net.layout(x), mod.weight, None)
        out = out.unflatten(0, h.shape[:2]) if per_point else out.unsqueeze(0)
        bias = b if b is not None else (mod.bias.expand(p, -1) if mod.bias is not None else None)
        return out if bias is None else out + bias_view(mod, bias, 3)
    if b is None and mod.bias is not None:
        b = mod.bias.expand(p, -1)
    if not per_point:
        h = h.unsqueeze(0).expand(p, *h.shape)
    n = h.shape[1]
    if p == 1:        # one point: its convolution, no copy into a stack
        return mod._conv_forward(net.layout(h[0]), net.layout(w[0]),
                                 None if b is None else b[0]).unsqueeze(0)
    if n >= p:        # many samples per point: one convolution per point
        return torch.stack([mod._conv_forward(net.layout(h[j]), net.layout(w[j]),
                                              None if b is None else b[j]) for j in range(p)])
    c = h.shape[2]    # few samples: the points as groups of one convolution
    x = h.permute(1, 0, 2, 3, 4).reshape(n, p * c, *h.shape[3:])
    out = F.conv2d(x, w.flatten(0, 1), None if b is None else b.flatten(), mod.stride,
                   mod.padding, mod.dilation, mod.groups * p)
    return out.view(n, p, -1, *out.shape[2:]).transpose(0, 1)


def _batchnorm(mod: nn.Module, params: dict, h: torch.Tensor) -> torch.Tensor:
    """Eval-mode BatchNorm with per-point weight/bias on h (P, B, C, *spatial): h * scale +
    shift per channel (scale = weight / sqrt(var + eps), shift = bias - mean * scale)."""
    w = params.get("weight", mod.weight)
    b = params.get("bias", mod.bias)
    scale = w * torch.rsqrt(mod.running_var + mod.eps)              # (P, C) or (C,)
    shift = b - mod.running_mean * scale
    p, c = len(next(iter(params.values()))), mod.num_features
    view = (p, 1, c, *[1] * (h.ndim - 3))
    return h * scale.expand(p, c).reshape(view) + shift.expand(p, c).reshape(view)


def _vmapped(mod: nn.Module, params: dict, h: torch.Tensor, per_point: bool) -> torch.Tensor:
    def f(prm, x):
        return functional_call(mod, prm, (x,))
    return torch.vmap(f, in_dims=(0, 0 if per_point else None))(params, h)


def apply_points(net: ModuleNet, mod: nn.Module, deltas: dict, h: torch.Tensor,
                 alpha: torch.Tensor, per_point: bool) -> tuple[torch.Tensor, bool]:
    """``mod`` (its deltas named inside it) on ``h`` at the points ``alpha`` (P, z)."""
    if not deltas:
        return _plain(net, mod, h, per_point), per_point
    if isinstance(mod, nn.Sequential):
        for i, child in enumerate(mod):
            h, per_point = apply_points(net, child, sub_deltas(deltas, str(i)), h, alpha,
                                        per_point)
        return h, per_point
    if isinstance(mod, Residual):
        body, pb = apply_points(net, mod.body, sub_deltas(deltas, "body"), h, alpha, per_point)
        short, ps = apply_points(net, mod.shortcut, sub_deltas(deltas, "shortcut"), h, alpha,
                                 per_point)
        return (body if pb else body.unsqueeze(0)) + (short if ps else short.unsqueeze(0)), True
    params = deltas if net.ready else point_params(mod, deltas, alpha)
    p = len(alpha)
    sample_ndim = h.ndim - (2 if per_point else 1)
    if isinstance(mod, nn.Linear) and sample_ndim == 1:
        return _linear(mod, params, h), True
    if isinstance(mod, nn.Conv2d) and mod.padding_mode == "zeros" and sample_ndim == 3:
        return _conv(net, mod, params, h, p, per_point), True
    if (isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.running_mean is not None
            and sample_ndim >= 1):
        x = h if per_point else h.unsqueeze(0)
        return _batchnorm(mod, params, x), True
    return _vmapped(mod, params, h, per_point), True


def _unmoved_relu(net: ModuleNet, i: int) -> bool:
    return isinstance(net.mods[i], nn.ReLU) and i not in net.deltas


def run_points(net: ModuleNet, start: int, stop: int, h: torch.Tensor, alpha: torch.Tensor,
               per_point: bool) -> tuple[torch.Tensor, bool]:
    """Top-level modules ``start:stop`` on ``h`` at the points ``alpha`` (P, z); returns
    (h, per_point).

    Two exact shortcuts for unmoved ReLUs on per-point activations: a ReLU followed by a max
    pool runs after it, on the pooled (smaller) tensor (max commutes with the monotone ReLU:
    relu(max x) = max relu(x), bit for bit), and a ReLU works in place on an activation this
    call produced (never on ``h`` as given, which the caller may reuse)."""
    given = h.untyped_storage().data_ptr()
    i = start
    while i < stop:
        if per_point and _unmoved_relu(net, i):
            pool = i + 1 < stop and isinstance(net.mods[i + 1], nn.MaxPool2d) and (
                i + 1 not in net.deltas)
            if pool:
                h, per_point = apply_points(net, net.mods[i + 1], {}, h, alpha, per_point)
            h = h.relu_() if h.untyped_storage().data_ptr() != given else h.relu()
            i += 2 if pool else 1
            continue
        h, per_point = apply_points(net, net.mods[i], net.deltas.get(i, {}), h, alpha, per_point)
        i += 1
    return h, per_point
