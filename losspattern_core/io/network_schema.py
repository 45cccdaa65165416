"""The bundle's ``network`` description: layer schemas (format 1 and 2) and a shape walk.

The walk follows the input shape through every layer, so a network whose layers do not fit
together (a linear layer's ``in`` that is not the previous output, a conv's channels, a
residual whose branches differ) is refused before torch builds anything, and the parameter
count (hence the memory the weights need) is known before a single tensor is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from losspattern_core.io.schema import Bool, Float, Int, Lazy, List, Obj, SchemaError, Str, Tagged

MAX_UNITS = 2**24          # features/channels of one layer
MAX_KERNEL = 1024
MAX_LAYERS = 4096
MAX_SPATIAL = 2**16
ACTIVATIONS_1 = ("relu", "tanh", "gelu", "sin")
ACTIVATIONS_2 = ACTIVATIONS_1 + ("sigmoid", "silu")

_units = Int(1, MAX_UNITS)
_eps = Float(0.0, 1.0, positive=True)


def _activation(names: tuple[str, ...]) -> Obj:
    return Obj({"type": Str(), "name": Str(choices=names)},
               {"w0": Float(-1e6, 1e6), "inplace": Bool()})


LAYERS_1 = Tagged("type", {
    "linear": Obj({"type": Str(), "in": _units, "out": _units}, {"bias": Bool()}),
    "activation": _activation(ACTIVATIONS_1),
}, "layer type")

_pool = Obj({"type": Str(), "kernel": Int(1, MAX_KERNEL)}, {"stride": Int(1, MAX_KERNEL)})
LAYERS_2 = Tagged("type", {
    "linear": LAYERS_1.cases["linear"],
    "conv2d": Obj({"type": Str(), "in": _units, "out": _units, "kernel": Int(1, MAX_KERNEL)},
                  {"stride": Int(1, MAX_KERNEL), "padding": Int(0, MAX_KERNEL),
                   "groups": Int(1, MAX_UNITS), "bias": Bool()}),
    "batchnorm2d": Obj({"type": Str(), "features": _units}, {"eps": _eps, "momentum": Float(0, 1)}),
    "batchnorm1d": Obj({"type": Str(), "features": _units}, {"eps": _eps, "momentum": Float(0, 1)}),
    "layernorm": Obj({"type": Str(), "shape": List(_units, 1, 4)}, {"eps": _eps}),
    "maxpool2d": _pool,
    "avgpool2d": _pool,
    "adaptive_avgpool2d": Obj({"type": Str(), "out": List(Int(1, MAX_SPATIAL), 2, 2)}),
    "flatten": Obj({"type": Str()}),
    "activation": _activation(ACTIVATIONS_2),
    "residual": Obj({"type": Str(), "body": List(Lazy(lambda: LAYERS_2), 1, MAX_LAYERS)},
                    {"shortcut": List(Lazy(lambda: LAYERS_2), 0, MAX_LAYERS)}),
}, "layer type")


@dataclass
class NetworkInfo:
    """What the walk found: parameters (name -> shape), buffers, output shape, largest
    activation per sample (values)."""

    params: dict[str, tuple[int, ...]] = field(default_factory=dict)
    buffers: dict[str, tuple[int, ...]] = field(default_factory=dict)
    output: tuple[int, ...] = ()
    widest: int = 0

    @property
    def n_params(self) -> int:
        return sum(math.prod(s) for s in self.params.values())


def _out_size(size: int, kernel: int, stride: int, padding: int, where: str) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise SchemaError(f"{where}: kernel {kernel} does not fit an input of size {size} "
                          f"(padding {padding})")
    return out


def _need(shape: tuple, rank: int, where: str, what: str) -> None:
    if len(shape) != rank:
        raise SchemaError(f"{where}: {what} needs an input of rank {rank}, gets shape "
                          f"{list(shape)}")


def _layer(spec: dict, shape: tuple, prefix: str, where: str, info: NetworkInfo) -> tuple:
    """One layer: record its parameters, return its output shape (per sample).

    One function for every layer type on purpose (65 lines): each branch is the shape rule of
    one type, and reading them side by side is how they are checked against torch's."""
    kind = spec["type"]
    if kind == "linear":
        if shape[-1] != spec["in"]:
            raise SchemaError(f"{where}: linear in = {spec['in']} but its input has "
                              f"{shape[-1]} features (shape {list(shape)})")
        info.params[prefix + "weight"] = (spec["out"], spec["in"])
        if spec.get("bias", True):
            info.params[prefix + "bias"] = (spec["out"],)
        return shape[:-1] + (spec["out"],)
    if kind == "conv2d":
        _need(shape, 3, where, "conv2d")
        c, h, w = shape
        g = spec.get("groups", 1)
        if c != spec["in"] or spec["in"] % g or spec["out"] % g:
            raise SchemaError(f"{where}: conv2d in = {spec['in']}, out = {spec['out']}, groups "
                              f"= {g} does not fit {c} input channels")
        k, s, p = spec["kernel"], spec.get("stride", 1), spec.get("padding", 0)
        info.params[prefix + "weight"] = (spec["out"], spec["in"] // g, k, k)
        if spec.get("bias", True):
            info.params[prefix + "bias"] = (spec["out"],)
        return (spec["out"], _out_size(h, k, s, p, where), _out_size(w, k, s, p, where))
    if kind in ("batchnorm2d", "batchnorm1d"):
        if kind == "batchnorm2d":
            _need(shape, 3, where, kind)
        elif len(shape) not in (1, 2):
            raise SchemaError(f"{where}: batchnorm1d needs (C,) or (C, L) inputs, gets "
                              f"{list(shape)}")
        if shape[0] != spec["features"]:
            raise SchemaError(f"{where}: {kind} features = {spec['features']} but its input "
                              f"has {shape[0]} channels")
        f = (spec["features"],)
        info.params.update({prefix + "weight": f, prefix + "bias": f})
        info.buffers.update({prefix + "running_mean": f, prefix + "running_var": f,
                             prefix + "num_batches_tracked": ()})
        return shape
    if kind == "layernorm":
        norm = tuple(spec["shape"])
        if shape[-len(norm):] != norm:
            raise SchemaError(f"{where}: layernorm shape {list(norm)} is not the trailing "
                              f"shape of its input {list(shape)}")
        info.params.update({prefix + "weight": norm, prefix + "bias": norm})
        return shape
    if kind in ("maxpool2d", "avgpool2d"):
        _need(shape, 3, where, kind)
        k = spec["kernel"]
        s = spec.get("stride", k)
        return (shape[0], _out_size(shape[1], k, s, 0, where), _out_size(shape[2], k, s, 0, where))
    if kind == "adaptive_avgpool2d":
        _need(shape, 3, where, kind)
        return (shape[0], *spec["out"])
    if kind == "flatten":
        return (math.prod(shape),)
    if kind == "activation":
        return shape
    if kind == "residual":
        body = walk(spec["body"], shape, f"{prefix}body.", f"{where}.body", info)
        cut = walk(spec.get("shortcut", []), shape, f"{prefix}shortcut.", f"{where}.shortcut",
                   info)
        if body != cut:
            raise SchemaError(f"{where}: residual body gives shape {list(body)}, shortcut "
                              f"{list(cut)}: they must match")
        return body
    raise SchemaError(f"{where}: unknown layer type {kind!r}")  # pragma: no cover - schema


def walk(layers: list, shape: tuple, prefix: str = "", where: str = "network.layers",
         info: NetworkInfo | None = None) -> tuple:
    """Follow ``shape`` through ``layers`` (already schema-checked), recording parameters."""
    info = info if info is not None else NetworkInfo()
    for i, spec in enumerate(layers):
        shape = _layer(spec, shape, f"{prefix}{i}.", f"{where}[{i}]", info)
        size = math.prod(shape)
        if size > MAX_UNITS * 16:
            raise SchemaError(f"{where}[{i}]: output of {size} values per sample is too large")
        info.widest = max(info.widest, size)
    return shape


def network_info(layers: list, input_shape: tuple) -> NetworkInfo:
    """Parameters, buffers and output shape of a schema-checked layer list."""
    info = NetworkInfo(widest=math.prod(input_shape))
    info.output = walk(layers, tuple(input_shape), info=info)
    return info
