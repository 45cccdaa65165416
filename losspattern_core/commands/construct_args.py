"""``losspattern construct``'s options and the run configuration they describe."""

from __future__ import annotations

import argparse

from losspattern_core.io import options as opt

CONV_BATCH = 1024  # conv families: an alpha point costs a channel vector's pass (centre-tap
#                    theta_0, constructions.pointwise_fit), not an image-sized one
MLP_STEPS = 2000
CONV_STEPS = 2000  # conv families: the schedule's length; a fit that reaches 40 dB on the
#                    evaluation grid stops early (constructions.common.EarlyStop)
# the network families (networks.FAMILIES; spelled out so --help does not import torch)
ARCHS = ("mlp", "cnn", "resnet")


def channel_list(text: str) -> tuple[int, ...]:
    """``8,32,64`` -> (8, 32, 64): 1..8 positive channel counts."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not 1 <= len(values) <= 8 or not all(1 <= v <= 1024 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: give 1..8 channel counts in 1..1024, "
                                         "e.g. 8,32,64")
    return values


def config_from_args(args):
    """The ``ConstructionConfig`` that ``construct``'s arguments describe."""
    from losspattern_core.config import ConstructionConfig
    from losspattern_core.data.patterns import default_grid

    grid = args.grid if args.grid is not None else default_grid(args.z, args.theorem)
    return ConstructionConfig(
        pattern=args.pattern, dataset=args.dataset, theorem=args.theorem, z=args.z, rgb=args.rgb,
        depth=args.depth, width=args.width if args.width and args.arch != "resnet" else 128,
        activation=args.activation, loss=args.loss, arch=args.arch,
        channels=tuple(args.channels), batchnorm=args.batchnorm, maxpool=args.maxpool,
        blocks=args.blocks, resnet_width=args.width if args.width and args.arch == "resnet"
        else 16,
        loss_range=tuple(args.loss_range) if args.loss_range else None, smooth=args.smooth,
        steps=args.steps or (MLP_STEPS if args.arch == "mlp" else CONV_STEPS), lr=args.lr,
        batch=args.batch or (2048 if args.arch == "mlp" else CONV_BATCH), grid=grid, seed=args.seed,
        device=args.device, snapshot_every=0)


def add_construct_parser(sub, func) -> None:
    """``losspattern construct``'s options (``func`` runs it)."""
    c = sub.add_parser("construct", help="build a network whose loss surface draws a pattern")
    c.add_argument("--pattern", default="mountains",
                   help="built-in name, function[:opts] or image path")
    c.add_argument("--dataset", default="digits")
    c.add_argument("--theorem", type=int, default=1, choices=(1, 2))
    c.add_argument("--z", type=opt.int_range(1, 8), default=2, help="pattern dimension")
    c.add_argument("--rgb", action="store_true", help="three heads draw a colour image")
    c.add_argument("--depth", type=opt.int_range(2, 16), default=3, help="hidden layers")
    c.add_argument("--arch", default="mlp", choices=ARCHS,
                   help="network family: mlp, cnn (VGG-like, Skorokhodov & Burtsev), resnet")
    c.add_argument("--width", type=opt.int_range(1, 8192), default=None,
                   help="mlp: units per hidden layer (default 128); resnet: channels (16)")
    c.add_argument("--channels", type=channel_list, default=(8, 32, 64),
                   help="cnn: channels of the conv blocks, e.g. 8,32,64")
    c.add_argument("--batchnorm", action="store_true", help="cnn: BatchNorm after each conv")
    c.add_argument("--no-maxpool", dest="maxpool", action="store_false",
                   help="cnn: no MaxPool 2 after each block")
    c.add_argument("--blocks", type=opt.int_range(1, 16), default=2,
                   help="resnet: residual blocks")
    c.add_argument("--activation", default="sin", choices=("relu", "tanh", "gelu", "sin"))
    c.add_argument("--loss", default="cross_entropy", choices=("cross_entropy", "mse"))
    c.add_argument("--loss-range", type=opt.finite_float, nargs=2, metavar=("LOW", "HIGH"))
    c.add_argument("--smooth", type=opt.float_range(0.0, 50.0),
                   help="image smoothing sigma in pixels, 0..50 (default 1)")
    c.add_argument("--steps", type=opt.int_range(1, 10_000_000), default=None,
                   help=f"regression steps (default {MLP_STEPS} for mlp, {CONV_STEPS} for the conv "
                        "families, which stop early once the fit reaches 40 dB)")
    c.add_argument("--lr", type=opt.float_range(0.0, 1e30, open_low=True), default=3e-3)
    c.add_argument("--batch", type=opt.int_range(1, 10_000_000), default=None,
                   help="regression batch of alpha points (default 2048 for mlp, 1024 for the "
                        "conv families, fitted on channel vectors)")
    c.add_argument("--grid", type=opt.int_range(2, 2048), default=None,
                   help="grid points per direction (default by z: 256, 64, 24, 10, 6, 4...)")
    c.add_argument("--seed", type=opt.seed, default=0, help="0..2^63-1")
    c.add_argument("--device", default="cpu")
    c.add_argument("--out", type=opt.nonempty_path,
                   help="bundle folder (default: losspattern-out/<name>-<time>)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing bundle folder")
    c.add_argument("--png", type=opt.nonempty_path,
                   help="also write the figure here (.png, .pdf, .svg, .jpg)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--no-baseline", action="store_true",
                   help="Theorem 1: skip the ordinary-training run shown for 'ease'")
    c.set_defaults(func=func)
