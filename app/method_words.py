"""Words for a run's method and network, used by every caption (Qt-free, pure functions).

The method is ``cfg.theorem``: 1, 2, or "mpo" (Skorokhodov & Burtsev's multi-point
optimisation); the network is the config's family and knobs. A network with BatchNorm is
always evaluated in eval mode with its stored running statistics, and every caption of such a
run says so.
"""

from __future__ import annotations

BATCHNORM_NOTE = "BatchNorm in eval mode (stored running statistics)"
MPO_PLANE = ("multi-point optimisation (Skorokhodov & Burtsev): a searched plane, not "
             "axis-aligned")
MPO_NOTE = ("Multi-point optimisation (Skorokhodov & Burtsev, 2019), the prior method: it "
            "searches a plane in weight space (origin, right and up vectors, all trained) whose "
            "loss draws a binary icon, minimising J = good cells' loss − bad cells' clamped "
            "loss; a searched plane, not axis-aligned.")
FAMILY_NAMES = {"mlp": "MLP", "cnn": "CNN", "resnet": "ResNet"}


def is_mpo(cfg) -> bool:
    return getattr(cfg, "theorem", None) == "mpo"


def method_words(cfg) -> str:
    """"Theorem 1", "Theorem 2" or "MPO (Skorokhodov & Burtsev)"."""
    return "MPO (Skorokhodov & Burtsev)" if is_mpo(cfg) else f"Theorem {cfg.theorem}"


def has_batchnorm(cfg) -> bool:
    """ResNet blocks always have BatchNorm; the CNN when chosen; MLPs never."""
    arch = getattr(cfg, "arch", "mlp")
    return arch == "resnet" or (arch == "cnn" and bool(getattr(cfg, "batchnorm", False)))


def network_words(cfg) -> str:
    """The network in a few words: "3×128 sin MLP", "CNN 8-32-64 relu (BatchNorm, MaxPool)",
    "ResNet 2 blocks, width 16, relu"."""
    arch = getattr(cfg, "arch", "mlp")
    if arch == "cnn":
        extras = [w for w, on in (("BatchNorm", cfg.batchnorm), ("MaxPool", cfg.maxpool)) if on]
        more = f" ({', '.join(extras)})" if extras else ""
        return f"CNN {'-'.join(str(c) for c in cfg.channels)} {cfg.activation}{more}"
    if arch == "resnet":
        return f"ResNet {cfg.blocks} blocks, width {cfg.resnet_width}, {cfg.activation}"
    return f"{cfg.depth}×{cfg.width} {cfg.activation} MLP"


def batchnorm_sentence(cfg) -> str:
    """" BatchNorm in eval mode (stored running statistics)." or ""."""
    return f" {BATCHNORM_NOTE}." if has_batchnorm(cfg) else ""


def mpo_directions_text() -> str:
    return "α1, α2 = the searched plane's right and up vectors (dense: every weight moves)"


REGRESSION_CURVE = ("regression: fit of σ(g(α)) to T (normalised MSE)", "log10 fit loss", True)
MPO_CURVE = ("MPO objective J = good cells' loss − bad cells' clamped loss (nats; it goes "
             "negative)", "J (nats)", False)


def fit_curve_labels(cfg) -> tuple[str, str, bool]:
    """(title, y-axis label, log scale) of the run panel's fit curve for a run's config: the
    regression's loss on a log axis, or the multi-point optimisation's J on a linear one."""
    return MPO_CURVE if is_mpo(cfg) else REGRESSION_CURVE
