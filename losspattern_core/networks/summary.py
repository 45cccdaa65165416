"""A compact, Qt-free description of the network a run builds: one row per layer, the parameter
count, and which layer the construction zeroes (for a GUI panel or a command line).

The rows come from the same layer list the run builds (``NetworkSpec.layers``); the parameter
counts from building that list on the meta device (nothing allocated, nothing drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import build

ACTIVATION_NAMES = {"relu": "ReLU", "tanh": "tanh", "gelu": "GELU", "sin": "sin",
                    "sigmoid": "sigmoid", "silu": "SiLU"}


@dataclass(frozen=True)
class LayerRow:
    """One top-level layer: ``text`` says what it is ("Conv 1→8 3×3"), ``params`` its
    parameter count, ``zeroed`` what the construction sets to zero in it ("" for nothing)."""

    text: str
    kind: str
    params: int
    zeroed: str = ""

    def label(self) -> str:
        return f"{self.text} ⟵ {self.zeroed}" if self.zeroed else self.text


@dataclass(frozen=True)
class NetworkSummary:
    """The rows of a network, its family, input shape and parameter count."""

    family: str
    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    params: int

    @property
    def batchnorm(self) -> bool:
        """True when the network has BatchNorm (evaluated in eval mode, stored statistics)."""
        return any(r.kind.startswith("batchnorm") or "BN" in r.text for r in self.rows)

    def text(self, sep: str = " · ") -> str:
        return sep.join(r.label() for r in self.rows)


def _size(k) -> str:
    return "×".join(str(int(v)) for v in k) if isinstance(k, (list, tuple)) else f"{k}×{k}"


def _stride(spec: dict) -> str:
    s = spec.get("stride", 1)
    return f" /{s}" if s not in (1, [1, 1], (1, 1)) else ""


def layer_text(spec: dict) -> str:
    """A few words for one layer item of a layer list."""
    kind = spec.get("type")
    if kind == "linear":
        return f"Linear {spec['in']}→{spec['out']}"
    if kind == "conv2d":
        return f"Conv {spec['in']}→{spec['out']} {_size(spec['kernel'])}{_stride(spec)}"
    if kind in ("batchnorm2d", "batchnorm1d"):
        return "BatchNorm"
    if kind == "activation":
        return ACTIVATION_NAMES.get(spec.get("name"), str(spec.get("name")))
    if kind in ("maxpool2d", "avgpool2d"):
        return f"{'MaxPool' if kind == 'maxpool2d' else 'AvgPool'} {spec['kernel']}"
    if kind == "adaptive_avgpool2d":
        return f"AvgPool→{_size(spec['out'])}"
    if kind == "flatten":
        return "Flatten"
    if kind == "residual":
        body = [b for b in spec.get("body", []) if b.get("type") == "conv2d"]
        cin, cout = body[0]["in"], body[-1]["out"]
        short = " + 1×1 shortcut" if spec.get("shortcut") else ""
        return f"ResBlock {cin}→{cout}{_stride(body[0])} (conv-BN-act-conv-BN{short})"
    return str(kind)


def zeroed_note(theorem: int, family: str) -> str:
    """What the construction zeroes in the first layer (the directions move its biases)."""
    units = "units" if family == "mlp" else "channels"
    if theorem == 2:
        return f"zeroed: weights into the z pattern {units} (Theorem 2)"
    return "zeroed: all weights (Theorem 1)"


def summarise(layers: list[dict], family: str, input_shape, theorem: int | None = 1
              ) -> NetworkSummary:
    """The summary of a layer list; ``theorem`` None marks no layer zeroed (e.g. the
    multi-point optimisation, whose plane moves every weight)."""
    model = build(layers, device="meta")
    rows = []
    for i, (spec, module) in enumerate(zip(layers, model, strict=True)):
        params = sum(p.numel() for p in module.parameters())
        note = zeroed_note(theorem, family) if i == 0 and theorem is not None else ""
        rows.append(LayerRow(layer_text(spec), str(spec.get("type")), int(params), note))
    return NetworkSummary(family, tuple(input_shape), tuple(rows),
                          int(sum(r.params for r in rows)))


def layer_summary(config, dataset, zeroed: bool = True) -> NetworkSummary:
    """The network ``config`` (a ``ConstructionConfig``) builds for ``dataset``: checked as
    ``validate`` checks it (a ``ConfigError`` names what does not fit), then summarised.
    ``zeroed=False``: mark no layer as zeroed."""
    from losspattern_core.config import network_spec

    spec = network_spec(config, dataset)
    spec.validate(config.z)
    return summarise(spec.layers(), spec.family, spec.input_spec(),
                     config.theorem if zeroed else None)
