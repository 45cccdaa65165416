"""Theorem 1 on the conv families, fitted on constant maps ("centre-tap" theta_0).

Theorem 1 zeroes the first conv's weights, so layer 0 outputs, for every image, one constant
map per channel (its bias). The construction is free to choose the rest of theta_0, and it
chooses every later conv kernel with **only its always-inside tap non-zero** (the centre tap
of a 3x3 conv with padding 1; the single tap of a 1x1 shortcut conv). Such a conv is a
pointwise linear map of the channels, so a constant map stays constant through it, and
padding, stride, MaxPool, AdaptiveAvgPool, BatchNorm in eval mode and every activation keep it
constant too. The network's output at alpha is then the same function of the C0 channel
values whatever the image size: ``constant_map_forward`` evaluates it on (B, C) vectors, an
MLP's worth of compute per alpha instead of an image-sized pass. Exact, not an approximation:
``check_reduction`` compares it with the full network on full-size images.

Only the regression uses the reduction; every measured surface still comes from the exact
evaluator over the real data (``losspattern_core.surface``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.errors import ConstructionError
from losspattern_core.networks.layers import Residual, Sine

# Where a value is: a map of spatial size (h, w), or flattened (an int r: each channel value
# stands for r equal entries of the real flat vector; Flatten of an h x w map gives r = h * w,
# kept compact until a layer needs the real vector).
Size = tuple[int, int] | int

_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.SiLU, Sine)


def inside_tap(conv: nn.Conv2d) -> tuple[int, int]:
    """The kernel tap that reads a real pixel at every output position: (padding_h,
    padding_w), the centre of a 3x3 conv with padding 1. Refuses convs that have none."""
    ph, pw = conv.padding if isinstance(conv.padding, tuple) else (conv.padding,) * 2
    kh, kw = conv.kernel_size
    if (conv.groups != 1 or conv.dilation != (1, 1) or conv.padding_mode != "zeros"
            or not (0 <= ph < kh and 0 <= pw < kw)):
        raise ConstructionError(f"a conv layer ({conv}) has no tap that reads a real pixel at "
                                "every position: the centre-tap construction needs groups 1, "
                                "dilation 1, zero padding smaller than the kernel")
    return ph, pw


def later_convs(model: nn.Sequential) -> list[nn.Conv2d]:
    """Every Conv2d after layer 0 (residual bodies and shortcuts included)."""
    return [m for m in model[1:].modules() if isinstance(m, nn.Conv2d)]


def centre_tap_masks(model: nn.Sequential) -> list[tuple[nn.Conv2d, torch.Tensor]]:
    """(conv, mask) for every later conv: the mask is 1 on its inside tap, 0 elsewhere."""
    out = []
    for conv in later_convs(model):
        mask = torch.zeros_like(conv.weight)
        ph, pw = inside_tap(conv)
        mask[:, :, ph, pw] = 1.0
        out.append((conv, mask))
    return out


def choose_centre_taps(model: nn.Sequential, scale: bool) -> list[tuple[nn.Conv2d, torch.Tensor]]:
    """theta_0's later convs: every non-inside tap set to exactly 0; with ``scale`` the inside
    tap is multiplied by sqrt(kh * kw), so each conv starts like a 1x1 conv of the same fan-in
    (PyTorch's default init of a kh x kw kernel is sqrt(kh * kw) times smaller per tap).
    Returns the masks."""
    masks = centre_tap_masks(model)
    with torch.no_grad():
        for conv, mask in masks:
            conv.weight.mul_(mask * (math.sqrt(mask[0, 0].numel()) if scale else 1.0))
    return masks


CENTRE_TAP_NOTE = {   # what the run's metrics ("theta0") say was constructed, by theorem
    1: "Theorem 1, conv family: first conv's weights 0; every later conv kernel has only its "
       "centre tap non-zero (1x1 shortcuts are pointwise anyway), so every feature map is "
       "spatially constant and the rest of the network was fitted on channel vectors (exact; "
       "checked against the full network on a real image)",
    2: "Theorem 2, conv family: the z pattern channels of the first conv read nothing; in "
       "every later conv the pattern (alpha) block has only its centre tap non-zero, so its "
       "maps are spatially constant and it was fitted on channel vectors (exact; checked "
       "against the image-sized pass); the classifier (x) block keeps full kernels",
}
SATURATION_FROM = 1.0  # EarlyStop: no saturation stop for a centre-tap fit. On channel
#   vectors a step costs ~10 ms, and the cosine tail is where sharp patterns gain their last dB
#   (a rule judged at 60 % stopped resnet smiley at 21.6 dB; the whole schedule: 24.0)
SCALED_FAMILIES = ("cnn",)  # families whose centre taps start like a 1x1 conv's; measured on
#   fashion-mnist smiley, Theorem 1, 2000 x 1024: cnn 29.6 dB scaled vs 23.3 unscaled; resnet
#   21.3 scaled vs 24.0 unscaled (its BatchNorm'd sin(30 x) bodies start too high-frequency)


def scales_centre_taps(family: str) -> bool:
    """Whether ``choose_centre_taps`` scales the inside tap for this network family."""
    return family in SCALED_FAMILIES


def centre_taps_in_block(model: nn.Sequential, block: dict[str, torch.Tensor],
                         scale: bool) -> None:
    """Theorem 2's alpha block: the same choice as ``choose_centre_taps``, applied only to the
    entries ``block`` (parameter name -> bool mask) marks in every later conv."""
    names = {id(m): n for n, m in model.named_modules()}
    with torch.no_grad():
        for conv, mask in centre_tap_masks(model):
            inside = block[f"{names[id(conv)]}.weight"].to(conv.weight.device)
            factor = math.sqrt(mask[0, 0].numel()) if scale else 1.0
            conv.weight[inside & (mask == 0)] = 0.0
            conv.weight[inside & (mask == 1)] *= factor


def apply_masks(masks: list[tuple[nn.Conv2d, torch.Tensor]]) -> None:
    """Keep the non-inside taps exactly 0 (called after every optimiser step)."""
    with torch.no_grad():
        for conv, mask in masks:
            conv.weight.mul_(mask)


def _out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _pair(v) -> tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _conv(conv: nn.Conv2d, x: torch.Tensor, size: Size) -> tuple[torch.Tensor, Size]:
    ph, pw = inside_tap(conv)
    (kh, kw), (sh, sw) = conv.kernel_size, conv.stride
    size = (_out(size[0], kh, sh, ph), _out(size[1], kw, sw, pw))
    return F.linear(x, conv.weight[:, :, ph, pw], conv.bias), size


def _pool(pool: nn.Module, x: torch.Tensor, size: Size) -> tuple[torch.Tensor, Size]:
    k, s, p = (_pair(v) for v in (pool.kernel_size, pool.stride or pool.kernel_size,
                                  pool.padding))
    if isinstance(pool, nn.AvgPool2d) and p != (0, 0) and pool.count_include_pad:
        raise ConstructionError("an AvgPool with padding mixes zeros into constant maps; "
                                "the centre-tap construction cannot use it")
    if getattr(pool, "ceil_mode", False) or _pair(getattr(pool, "dilation", 1)) != (1, 1):
        raise ConstructionError(f"{pool}: ceil_mode/dilation are not supported by the "
                                "centre-tap construction")
    return x, (_out(size[0], k[0], s[0], p[0]), _out(size[1], k[1], s[1], p[1]))


def _batchnorm(bn: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    if bn.training or bn.running_mean is None:
        raise ConstructionError("BatchNorm must be in eval mode with running statistics for "
                                "the centre-tap construction")
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0,
                        bn.eps)


def _flat(mod: nn.Module, x: torch.Tensor, repeat: int) -> tuple[torch.Tensor, Size]:
    """A layer after Flatten. A Linear reading r equal copies of each value is the Linear of
    the compact vector with its weight summed over the copies (the same function and the same
    gradient for every copy's weight); anything else gets the real vector."""
    if isinstance(mod, nn.Linear) and repeat > 1:
        w = mod.weight.view(mod.out_features, -1, repeat).sum(-1)
        return F.linear(x, w, mod.bias), 1
    if repeat > 1:
        x = x.repeat_interleave(repeat, dim=1)
    if isinstance(mod, nn.Linear):
        return mod(x), 1
    raise ConstructionError(f"the centre-tap construction cannot evaluate {mod} after Flatten")


def _layer(mod: nn.Module, x: torch.Tensor, size: Size) -> tuple[torch.Tensor, Size]:
    """One module on the channel values of constant maps of spatial ``size``."""
    if isinstance(mod, nn.Sequential):
        for m in mod:
            x, size = _layer(m, x, size)
        return x, size
    if isinstance(mod, _ELEMENTWISE):
        return mod(x), size
    if isinstance(size, int):
        return _flat(mod, x, size)
    if isinstance(mod, nn.Conv2d):
        return _conv(mod, x, size)
    if isinstance(mod, nn.BatchNorm2d):
        return _batchnorm(mod, x), size
    if isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
        return _pool(mod, x, size)
    if isinstance(mod, nn.AdaptiveAvgPool2d):
        out = _pair(mod.output_size)
        return x, (out[0] or size[0], out[1] or size[1])
    if isinstance(mod, nn.Flatten):        # channel-major: each value stands for h*w entries
        return x, size[0] * size[1]
    if isinstance(mod, Residual):
        body, bsize = _layer(mod.body, x, size)
        short, ssize = _layer(mod.shortcut, x, size)
        if bsize != ssize:
            raise ConstructionError(f"a residual block adds maps of sizes {bsize} and {ssize}")
        return body + short, bsize
    raise ConstructionError(f"the centre-tap construction cannot evaluate {mod}")


def constant_map_forward(layers: nn.Module, channels: torch.Tensor,
                         size: tuple[int, int]) -> torch.Tensor:
    """``layers`` applied to constant maps of spatial ``size`` whose channel values are
    ``channels`` (B, C): the logits (B, outputs), exactly what the full network gives when
    every later conv has only its inside tap non-zero (``choose_centre_taps``)."""
    out, rest = _layer(layers, channels, size)
    if not isinstance(rest, int):
        raise ConstructionError("the network ends in maps, not in flat logits")
    return out.repeat_interleave(rest, dim=1) if rest > 1 else out


def first_map_size(model: nn.Sequential, input_shape) -> tuple[int, int]:
    """Spatial size of layer 0's output for images of ``input_shape`` (C, H, W)."""
    first = model[0]
    _, h, w = input_shape
    ph, pw = _pair(first.padding)
    (kh, kw), (sh, sw) = first.kernel_size, first.stride
    return _out(h, kh, sh, ph), _out(w, kw, sw, pw)


def check_alphas(z: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """The alphas a reduction is checked at: all 0, all 1 and one point in between."""
    return torch.tensor([[0.0] * z, [1.0] * z, [0.3 + 0.4 * i / max(z, 1) for i in range(z)]],
                        dtype=dtype, device=device)


def relative_difference(full: torch.Tensor, reduced: torch.Tensor) -> float:
    """max |full - reduced|, relative to the largest |full| logit."""
    return float((full - reduced).abs().max() / full.abs().max().clamp_min(1e-12))


def refuse_if_differs(rel: float, rtol: float) -> float:
    """Raise when the reduced evaluation differs from the full one by more than ``rtol``."""
    if rel > rtol:
        raise ConstructionError(f"the centre-tap reduction differs from the full network by "
                                f"{rel:.2e} (relative): the fit cannot be trusted")
    return rel


def check_reduction(model: nn.Sequential, z: int, size0: tuple[int, int], image: torch.Tensor,
                    rtol: float = 1e-4) -> float:
    """Compare the reduced evaluation with the full network on ``image`` (1, C, H, W) at a few
    alphas (first-layer biases); raise if they differ by more than ``rtol`` of the logits'
    scale. Returns the largest relative difference."""
    width = model[0].out_channels
    worst = 0.0
    saved = model[0].bias.detach().clone()
    try:
        with torch.no_grad():
            for a in check_alphas(z, image.dtype, image.device):
                model[0].bias.copy_(F.pad(a, (0, width - z)))
                reduced = constant_map_forward(model[1:], model[0].bias[None], size0)
                worst = max(worst, relative_difference(model(image), reduced))
    finally:
        with torch.no_grad():
            model[0].bias.copy_(saved)
    return refuse_if_differs(worst, rtol)
