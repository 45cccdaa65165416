"""A bundle's network and directions: weights read only after the schema's shape walk has
sized them, every tensor checked for its key, shape, dtype and finiteness."""

from __future__ import annotations

import math

import torch

from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.io.construction_schema import Checked
from losspattern_core.io.limits import check_memory

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _tensors(files, name: str, limit: int) -> dict[str, torch.Tensor]:
    from safetensors.torch import load as load_bytes

    raw = files.read(name, limit)
    try:
        return load_bytes(raw)
    except Exception as exc:  # SafetensorError, and others on malformed headers
        raise BundleError(f"{files.path / name}: unreadable safetensors file "
                          f"({type(exc).__name__}: {str(exc)[:120]})") from exc


def _check_tensor(t: torch.Tensor, key: str, want: tuple, label: str) -> None:
    if tuple(t.shape) != tuple(want):
        raise BundleError(f"{label}: {key} has shape {tuple(t.shape)}, network.layers needs "
                          f"{tuple(want)}")
    if t.dtype not in FLOAT_DTYPES and key.split(".")[-1] != "num_batches_tracked":
        raise BundleError(f"{label}: {key} has dtype {t.dtype}; parameters must be floats")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise BundleError(f"{label}: {key} holds non-finite values (NaN or infinity)")


def _directions(files, checked: Checked, params: dict[str, torch.Tensor]) -> list:
    from losspattern_core.surface import Direction

    meta, label = checked.meta, str(files.path / "directions.safetensors")
    dense = {i for i, d in enumerate(meta["directions"]) if d.get("dense")}
    tensors = {}
    if dense:
        n = sum(p.numel() for p in params.values())
        tensors = _tensors(files, "directions.safetensors", 8 * n * len(dense) + 2**20)
    out = []
    for i, d in enumerate(meta["directions"]):
        if i not in dense:
            out.append(Direction(d["param"], d["index"], float(d.get("scale", 1.0))))
            continue
        mine = {k.split(".", 1)[1]: t for k, t in tensors.items() if k.startswith(f"d{i}.")}
        if not mine:
            raise BundleError(f"{label}: dense direction {i} has no tensor d{i}.<param>")
        for key, t in mine.items():
            if key not in params:
                raise BundleError(f"{label}: d{i}.{key} names no parameter of the network")
            _check_tensor(t, f"d{i}.{key}", tuple(params[key].shape), label)
        out.append(Direction(tensors={k: t.float() for k, t in mine.items()}))
    stray = [k for k in tensors if not any(k.startswith(f"d{i}.") for i in dense)]
    if stray:
        raise BundleError(f"{label}: tensor {stray[0]!r} belongs to no dense direction")
    return out


def load_model(files, checked: Checked):
    """The network in eval mode with its weights, and the directions (one-hot or dense)."""
    from losspattern_core.networks import build

    info = checked.network
    weight_bytes = 4 * (info.n_params + sum(math.prod(s) for s in info.buffers.values()))
    check_memory(3 * weight_bytes, f"{files.path}: a network of {info.n_params} parameters",
                 BundleError)
    cj = files.path / "construction.json"
    label = str(files.path / "weights.safetensors")
    state = _tensors(files, "weights.safetensors", 2 * weight_bytes + 2**20)
    expected = {**info.params, **info.buffers}
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise BundleError(f"{label}: keys do not match network.layers (missing {missing[:4]}, "
                          f"unexpected {extra[:4]})")
    for key, t in state.items():
        _check_tensor(t, key, expected[key], label)
    try:
        # built on the meta device, then given memory: no random init for weights that the
        # file replaces anyway
        model = build(checked.meta["network"]["layers"], device="meta").to_empty(device="cpu")
        model.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in state.items()})
    except (LossPatternError, RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise BundleError(f"{cj}: the network cannot be built ({exc})") from exc
    model.eval()
    params = dict(model.named_parameters())
    return model, _directions(files, checked, params)
