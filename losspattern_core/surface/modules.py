"""Any ``nn.Sequential`` as the family path sees it (conv, BatchNorm, pooling, residual blocks):
detached eval-mode copies of its top-level modules (BatchNorm folded into the convolution before
it where no direction moves either), the directions' deltas per module, and the per-sample
shapes its activations take.

Copies are always in eval mode (BatchNorm uses its running statistics, Dropout is off),
whatever mode the caller's model is in; ``pointwise`` runs them at many points at once.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.errors import ConfigError

from .directions import Direction

# per top-level index of a moved module: {parameter name inside it: (z, *shape) deltas}
ModuleDeltas = dict[int, dict[str, torch.Tensor]]


@dataclass(eq=False)
class ModuleNet:
    """Detached copies of a Sequential's top-level modules and the directions' deltas."""

    mods: list[nn.Module]
    deltas: ModuleDeltas
    z: int
    shapes: list[tuple[int, ...]]       # per-sample shape entering module i; [-1]: the output
    in_shapes: dict[int, tuple]         # id(any submodule) -> per-sample shape entering it
    widest: int                         # the largest per-sample activation (floats)
    channels_last: bool = False         # 4-D activations kept in channels-last layout
    ready: bool = False                 # ``deltas`` hold per-point values (``values_at``)

    def layout(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` in the layout the copies run fastest in (a no-op when it already is)."""
        if self.channels_last and h.ndim == 4:
            return h.contiguous(memory_format=torch.channels_last)
        return h

    @property
    def first(self) -> int:
        """The first top-level module a direction moves."""
        return min(self.deltas)

    @property
    def outputs(self) -> int:
        return math.prod(self.shapes[-1])

    def moved_numel(self, start: int = 0) -> int:
        """Floats of per-point parameters one point needs from module ``start`` on."""
        return sum(d[0].numel() for i, ds in self.deltas.items() if i >= start
                   for d in ds.values())


def module_deltas(model: nn.Sequential, directions: list[Direction],
                  device: torch.device) -> ModuleDeltas:
    """The directions' deltas grouped by top-level module, stacked over directions (zeros where
    a direction leaves a tensor alone); a tensor no direction moves is left out."""
    deltas = [d.delta(model) for d in directions]
    params = dict(model.named_parameters())
    out: ModuleDeltas = {}
    for name in sorted({k for dl in deltas for k in dl}):
        ts = [dl.get(name) for dl in deltas]
        if not any(t is not None and bool(torch.any(t != 0)) for t in ts):
            continue
        like = params[name].detach()
        stacked = torch.stack([torch.zeros_like(like) if t is None else t for t in ts])
        top, _, local = name.partition(".")
        out.setdefault(int(top), {})[local] = stacked.to(device, torch.float32)
    return out


def _copies(model: nn.Sequential, device: torch.device) -> list[nn.Module]:
    """Eval-mode deep copies on ``device`` (the caller's modules are never moved or switched)."""
    mods = []
    for mod in model:
        c = copy.deepcopy(mod).to(device).eval()
        c.requires_grad_(False)
        mods.append(c)
    return mods


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (isinstance(conv, nn.modules.conv._ConvNd) and not conv.transposed
            and isinstance(bn, nn.modules.batchnorm._BatchNorm)
            and bn.running_mean is not None and bn.num_features == conv.out_channels)


def fold_batchnorm(children, path: str, moved: set[str]) -> None:
    """In place, on the copies: every eval-mode BatchNorm right after a convolution, neither
    moved by a direction, folded into the convolution (W s, (b - mean) s + beta, s = gamma /
    sqrt(var + eps)) and replaced by an Identity, so indices (hence the deltas' names) stay.
    Equal to the two modules up to float rounding; exact zeros of W stay exact zeros."""
    def touched(p: str) -> bool:
        return any(n.startswith(p + ".") for n in moved)

    for i, mod in enumerate(children):
        here = f"{path}{i}"
        subs = ([("", mod)] if isinstance(mod, nn.Sequential) else
                [(f".{n}", c) for n, c in mod.named_children() if isinstance(c, nn.Sequential)])
        for suffix, seq in subs:         # residual bodies and shortcuts, nested Sequentials
            fold_batchnorm(seq, f"{here}{suffix}.", moved)
    for i in range(len(children) - 1):
        conv, bn = children[i], children[i + 1]
        if not _foldable(conv, bn) or touched(f"{path}{i}") or touched(f"{path}{i + 1}"):
            continue
        with torch.no_grad():
            s = torch.rsqrt(bn.running_var + bn.eps)
            if bn.weight is not None:
                s = s * bn.weight
            b = conv.bias if conv.bias is not None else torch.zeros_like(s)
            shift = (b - bn.running_mean) * s + (bn.bias if bn.bias is not None else 0.0)
            conv.weight.mul_(s.view(-1, *[1] * (conv.weight.ndim - 1)))
            conv.bias = nn.Parameter(shift, requires_grad=False)
        children[i + 1] = nn.Identity()


def trace_shapes(mods: list[nn.Module], sample: tuple[int, ...], device: torch.device):
    """Run one zero sample through the copies, recording the shape entering and leaving every
    submodule: (top-level shapes, {id(module): input shape}, widest)."""
    in_shapes: dict[int, tuple] = {}
    widest = [math.prod(sample)]

    def hook(mod, inp, out):
        in_shapes[id(mod)] = tuple(inp[0].shape[1:])
        if isinstance(out, torch.Tensor):
            widest.append(math.prod(out.shape[1:]))

    handles = [m.register_forward_hook(hook) for top in mods for m in top.modules()]
    shapes = [tuple(sample)]
    try:
        with torch.no_grad():
            h = torch.zeros((1, *sample), device=device)
            for mod in mods:
                h = mod(h)
                shapes.append(tuple(h.shape[1:]))
    except (RuntimeError, ValueError, IndexError) as exc:
        raise ConfigError(f"the network does not take samples of shape {tuple(sample)}: {exc}. "
                          "Give X shaped as the network takes it (networks.as_input(X, spec) "
                          "for the conv families)") from exc
    finally:
        for h_ in handles:
            h_.remove()
    return shapes, in_shapes, max(widest)


def module_net(model: nn.Module, directions: list[Direction], sample: tuple[int, ...],
               device: torch.device) -> ModuleNet:
    """The family path's view of ``model`` for samples of shape ``sample``."""
    if not isinstance(model, nn.Sequential):
        raise ConfigError(f"the evaluator needs an nn.Sequential, got {type(model).__name__}")
    deltas = module_deltas(model, directions, device)
    if not deltas:
        raise ConfigError("the directions move no parameter of the network")
    for name, mod in model.named_modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.running_mean is None:
            raise ConfigError(f"{name} is a BatchNorm without running statistics: in eval mode "
                              "it normalises over the batch, so a sample's output would depend "
                              "on the batch; the evaluator needs track_running_stats=True")
    mods = _copies(model, device)
    fold_batchnorm(mods, "", {f"{i}.{k}" for i, d in deltas.items() for k in d})
    channels_last = device.type == "cpu" and any(
        isinstance(m, nn.Conv2d) for top in mods for m in top.modules())
    if channels_last:   # oneDNN's convolutions are ~2x faster in this layout on CPU
        mods = [m.to(memory_format=torch.channels_last) for m in mods]
    shapes, in_shapes, widest = trace_shapes(mods, sample, device)
    return ModuleNet(mods, deltas, len(directions), shapes, in_shapes, widest, channels_last)


def sub_deltas(deltas: dict, prefix: str) -> dict:
    """The deltas of a child module, named inside it."""
    p = prefix + "."
    return {k[len(p):]: v for k, v in deltas.items() if k.startswith(p)}


def point_params(mod: nn.Module, deltas: dict[str, torch.Tensor],
                 alpha: torch.Tensor) -> dict[str, torch.Tensor]:
    """{name: theta + sum_i alpha_i delta_i} for every moved parameter of ``mod``: (P, *shape),
    each one ``addmm`` (theta + alpha @ deltas: one op and one pass, where a tensordot and an
    add were several ops, run for every point of every block)."""
    out = {}
    for k, d in deltas.items():
        theta = getattr(mod, k) if "." not in k else mod.get_parameter(k)
        out[k] = torch.addmm(theta.reshape(1, -1), alpha, d.reshape(len(d), -1)).view(
            len(alpha), *theta.shape)
    return out


def values_at(net: ModuleNet, alpha: torch.Tensor, start: int) -> dict[int, dict]:
    """{module index: {name: (P, *shape)}}: the moved parameters of modules ``start`` on at
    the points ``alpha`` (P, z), each one ``addmm`` for all P points (``point_params``)."""
    return {i: point_params(net.mods[i], d, alpha) for i, d in net.deltas.items() if i >= start}


def at_point(net: ModuleNet, values: dict[int, dict], j: int) -> ModuleNet:
    """``net`` whose moved parameters are point ``j``'s of ``values`` (``values_at``): run it
    with that one point's alpha; nothing is computed per module again."""
    one = {i: {k: v[j:j + 1] for k, v in d.items()} for i, d in values.items()}
    return dataclasses.replace(net, deltas=one, ready=True)


def is_affine(mod: nn.Module) -> bool:
    """A Linear or a (not transposed) convolution: output = W * x + b, linear in (W, b)."""
    return isinstance(mod, nn.Linear) or (isinstance(mod, nn.modules.conv._ConvNd)
                                          and not mod.transposed)


def bias_view(mod: nn.Module, bias: torch.Tensor, ndim: int) -> torch.Tensor:
    """A (P, C) bias shaped to broadcast over (P, B, *sample) with ``ndim`` sample dims."""
    p, c = bias.shape
    if isinstance(mod, nn.Linear):                       # the last dim
        return bias.view(p, 1, *[1] * (ndim - 1), c)
    return bias.view(p, 1, c, *[1] * (ndim - 1))       # the channel dim


@dataclass(eq=False)
class AffineSplit:
    """An affine module's output at every point, (W + sum a_i dW_i) * x + b + sum a_i db_i =
    base + sum_i a_i parts_i: every product with x done once, z + 1 of them (linearity)."""

    mod: nn.Module
    base: torch.Tensor                  # (B, *out) = W * x + b (a view of stacked[0] if any)
    stacked: torch.Tensor | None        # (z + 1, B * out): base, then dW_i * x + db_i, flat in
                                        # base's memory order; None: biases only
    dbias: torch.Tensor | None          # (z, C) bias deltas when ``stacked`` is None

    def at(self, alpha: torch.Tensor) -> torch.Tensor:
        """(P, B, *out) for the points ``alpha`` (P, z)."""
        if self.stacked is not None:
            return _combine(self.base, self.stacked, alpha)
        out = self.base.unsqueeze(0).expand(len(alpha), *self.base.shape)
        if self.dbias is None:
            return out.clone()
        return out + bias_view(self.mod, alpha @ self.dbias, self.base.ndim - 1)


def _memory_order(t: torch.Tensor) -> tuple[int, ...]:
    """The dims of ``t`` (B, *sample) from outermost to innermost in memory (channels-last
    activations: B, H, W, C)."""
    if t.ndim == 4 and t.is_contiguous(memory_format=torch.channels_last):
        return (0, 2, 3, 1)
    return tuple(range(t.ndim))


def combine_flat(stacked: torch.Tensor, alpha: torch.Tensor,
                 out: torch.Tensor | None = None) -> torch.Tensor:
    """(P, N): base + sum_i alpha_i parts_i for the points ``alpha`` (P, z), from ``stacked``
    (z + 1, N) = base, parts: one product (P, z + 1) x (z + 1, N) with coefficients (1, alpha),
    a single pass over memory that writes each point's values once (one point on a CPU: z
    vectorised adds, faster than an M = 1 GEMM); into ``out`` (P, N) when given."""
    if len(alpha) == 1 and alpha.device.type == "cpu":
        row = torch.add(stacked[0], stacked[1], alpha=float(alpha[0, 0]),
                        out=None if out is None else out[0])
        for i in range(1, alpha.shape[1]):
            row.add_(stacked[i + 1], alpha=float(alpha[0, i]))
        return row.unsqueeze(0)
    coef = torch.cat([alpha.new_ones(len(alpha), 1), alpha], dim=1)
    return torch.mm(coef, stacked, out=out)


def laid_out_as(flat: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(P, *like.shape) from ``flat`` (P, N): P tensors each laid out in memory as ``like``
    (B, *sample) is (channels-last maps: B, H, W, C), seen with ``like``'s dims (a view)."""
    order = _memory_order(like)
    shape = [like.shape[d] for d in order]
    inverse = [order.index(d) for d in range(like.ndim)]
    return flat.view(len(flat), *shape).permute(0, *(d + 1 for d in inverse))


def _combine(base: torch.Tensor, stacked: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """base + sum_i alpha_i parts_i for every point, (P, B, *out), laid out as ``base`` is."""
    return laid_out_as(combine_flat(stacked, alpha), base)


def affine_split(mod: nn.Module, deltas: dict[str, torch.Tensor], a: torch.Tensor) -> AffineSplit:
    """``AffineSplit`` of an affine module on its (shared) input ``a`` (B, *sample)."""
    base = mod(a)
    dw, db = deltas.get("weight"), deltas.get("bias")
    if dw is None:
        return AffineSplit(mod, base, None, db)
    if isinstance(mod, nn.Linear):
        parts = [F.linear(a, w) for w in dw]
    else:
        # each delta laid out as the module's weight (channels-last copies), so the parts come
        # out in base's layout and stack without a transposing copy
        parts = [mod._conv_forward(a, torch.empty_like(mod.weight).copy_(w), None) for w in dw]
    if db is not None:                                   # direction i's bias on part i
        parts = [t + bias_view(mod, db[i:i + 1], base.ndim - 1)[0] for i, t in enumerate(parts)]
    order = _memory_order(base)      # flat in base's layout, so ``at`` writes that layout
    stacked = torch.stack([t.permute(order).reshape(-1) for t in [base, *parts]])
    base = laid_out_as(stacked[:1], base)[0]   # row 0 of the stack: one copy of it, not two
    return AffineSplit(mod, base, stacked, None)
