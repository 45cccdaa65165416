"""``losspattern explore``: train an ordinary network (or open one from a bundle), measure its
train and test loss and accuracy along random, PCA, Hessian or interpolation directions, and
write a format-2 bundle with dense directions, metrics.json and figure.png.

``--ray auto|ADDRESS`` measures the grid on a Ray cluster instead: the bundle is written
without surfaces into its temporary folder, ``losspattern_core.distributed.ray_surfaces``
measures there (its workers load the folder and the data themselves), then the surfaces are
added and the folder renamed into place.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from losspattern_core.errors import LossPatternError
from losspattern_core.io import options as opt

from .construct_args import ARCHS, channel_list

KINDS = ("random", "pca", "hessian", "interpolation")


def register(subparsers) -> None:
    """Add ``explore`` to ``losspattern``'s sub-parsers."""
    e = subparsers.add_parser(
        "explore", help="an ordinary network's loss landscape: random, PCA, Hessian or "
                        "interpolation directions, train and test, loss and accuracy")
    e.add_argument("--dataset", default="digits")
    e.add_argument("--arch", default="mlp", choices=ARCHS)
    e.add_argument("--directions", default="random", choices=KINDS)
    e.add_argument("--z", type=opt.int_range(1, 3), default=None,
                   help="surface dimension 1..3 (default 2; interpolation 1)")
    e.add_argument("--grid", type=opt.int_range(2, 4096), default=None,
                   help="points per direction (default 51, 25, 11 for z = 1, 2, 3)")
    e.add_argument("--steps", type=opt.int_range(1, 10_000_000), default=300,
                   help="training steps (default 300)")
    e.add_argument("--seed", type=opt.seed, default=0)
    e.add_argument("--range", type=opt.float_range(0.0, 1e4, open_low=True), dest="range_a",
                   help="A: [-A, A] (random, hessian; default 1), [-A, 1+A] (interpolation; "
                        "0.5), the path's extent widened by A (pca; 0.25)")
    e.add_argument("--subsample", type=opt.int_range(2, 100_000_000),
                   help="measure on a stratified subsample of N samples per split (values get "
                        "standard errors); default: every sample, exact")
    e.add_argument("--from", dest="from_bundle", type=opt.nonempty_path,
                   help="open this bundle's network instead of training one")
    e.add_argument("--to", dest="to_bundle", type=opt.nonempty_path,
                   help="interpolation: the line's far end (another bundle's network)")
    e.add_argument("--snapshot-every", type=opt.int_range(1, 10_000_000),
                   help="keep the trajectory every k steps (default steps // 20)")
    e.add_argument("--lr", type=opt.float_range(0.0, 10.0, open_low=True), default=1e-3)
    e.add_argument("--batch", type=opt.int_range(1, 1_000_000), default=128)
    e.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    e.add_argument("--width", type=opt.int_range(1, 8192), default=64,
                   help="mlp: hidden units; cnn: head units; resnet: channels (default 64)")
    e.add_argument("--depth", type=opt.int_range(2, 16), default=2, help="mlp hidden layers")
    e.add_argument("--channels", type=channel_list, default=(8, 16), help="cnn: e.g. 8,16")
    e.add_argument("--blocks", type=opt.int_range(1, 16), default=1, help="resnet blocks")
    e.add_argument("--activation", default="relu", choices=("relu", "tanh", "gelu"))
    e.add_argument("--hessian-max-mb", type=opt.int_range(1, 1 << 24), default=4096,
                   help="memory bound of the Hessian computation (default 4096 MiB)")
    e.add_argument("--ray", metavar="auto|ADDRESS",
                   help="measure the grid on a Ray cluster (pip install -e .[ray])")
    e.add_argument("--device", default="cpu")
    e.add_argument("--out", required=True, type=opt.nonempty_path, help="bundle folder")
    e.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    e.add_argument("--quiet", action="store_true", help="no progress lines")
    e.set_defaults(func=run)


def config_from_args(args):
    """The ``ExploreConfig`` the arguments describe."""
    from losspattern_core.explore.config import ExploreConfig

    z = args.z if args.z is not None else (1 if args.directions == "interpolation" else 2)
    return ExploreConfig(
        dataset=args.dataset, arch=args.arch, directions=args.directions, z=z, grid=args.grid,
        steps=args.steps, seed=args.seed, alpha_range=args.range_a, subsample=args.subsample,
        lr=args.lr, batch=args.batch, snapshot_every=args.snapshot_every,
        optimizer=args.optimizer, width=args.width,
        depth=args.depth, channels=tuple(args.channels), blocks=args.blocks,
        activation=args.activation, from_bundle=args.from_bundle, to_bundle=args.to_bundle,
        hessian_max_bytes=args.hessian_max_mb << 20, device=args.device)


class Printer:
    """Progress on stderr: training every 10%, direction phases, each finished surface level."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.decile, self.t0 = stream, -1, time.perf_counter()

    def __call__(self, item) -> None:
        from losspattern_core.explore.run import SurfaceLevel

        if isinstance(item, SurfaceLevel):
            tr = item.surfaces.get("train", {}).get("loss")
            rng = "" if tr is None else f", train loss [{tr.min():.4f}, {tr.max():.4f}]"
            self._line(f"surface {item.size}^{tr.ndim if tr is not None else '?'} of "
                       f"{item.grid} per axis done{rng}")
        elif item.phase == "training":
            if int(10 * item.step / item.total) > self.decile:
                self.decile = int(10 * item.step / item.total)
                self._line(f"training step {item.step}/{item.total}, minibatch loss "
                           f"{item.reg_loss:.4f}")
        elif item.phase == "directions":
            self._line(item.message)

    def _line(self, text: str) -> None:
        self.stream.write(f"[{time.perf_counter() - self.t0:7.1f} s] {text}\n")
        self.stream.flush()


def _ray_fill(address: str, result, progress):
    """``fill(tmp)`` for save_explore_bundle: the surfaces from a Ray cluster."""
    import numpy as np

    def fill(tmp: Path) -> None:
        try:
            from losspattern_core.distributed import ray_surfaces
        except ImportError as exc:
            raise LossPatternError(f"--ray: cluster evaluation is not available here ({exc}); "
                                   "install it with pip install -e .[ray], or run without "
                                   "--ray to evaluate on this machine") from None
        try:
            got = ray_surfaces(tmp, result.points(), splits=("train", "test"), address=address,
                               on_progress=progress)
        except LossPatternError:
            raise
        except Exception as exc:  # noqa: BLE001 (Ray's own errors: unreachable, lost, refused)
            raise LossPatternError(f"--ray {address}: the Ray cluster did not answer or failed "
                                   f"({type(exc).__name__}: {str(exc)[:160]}); run without "
                                   "--ray to evaluate on this machine") from None
        shape = (result.grid,) * result.z
        result.surfaces = {s: {"loss": np.asarray(v["loss"]).reshape(shape),
                               "acc": np.asarray(v["acc"]).reshape(shape),
                               "loss_se": np.zeros(shape), "acc_se": np.zeros(shape)}
                           for s, v in got.items()}
    return fill


def run(args) -> int:
    """Validate, train, measure (here or on Ray), write the bundle with its figure."""
    from losspattern_core.cli import note_written
    from losspattern_core.explore.config import resolve_explore
    from losspattern_core.explore.figure import explore_figure
    from losspattern_core.explore.report import explore_lines, explore_metrics, measured_on
    from losspattern_core.explore.run import explore, prepare_explore
    from losspattern_core.frames import drive
    from losspattern_core.io.bundle_write import check_out
    from losspattern_core.io.explore_bundle import save_explore_bundle

    out = Path(args.out)
    check_out(out, args.overwrite)
    if args.ray and args.subsample:
        raise LossPatternError("--ray measures every sample of both splits: drop --subsample")
    if args.ray:      # an unusable address fails here, not after training
        from losspattern_core.distributed.connect import check_reachable

        check_reachable(args.ray)
    t0 = time.perf_counter()
    resolved = resolve_explore(config_from_args(args))
    cfg = resolved.config
    print(f"{resolved.dataset.summary()}\nexplore: {cfg.arch} network, {cfg.directions} "
          f"directions, z = {cfg.z}, grid {cfg.grid_size}^{cfg.z}, both splits "
          + ("(every sample)" if cfg.subsample is None else
             f"(subsample of {cfg.subsample} per split)"))
    printer = None if args.quiet else Printer()
    fill = None
    if args.ray:
        result = drive(prepare_explore(resolved), printer)
        fill = _ray_fill(args.ray, result, None if args.quiet else (
            lambda done, total: printer._line(f"ray: {done}/{total} points")))
    else:
        result = drive(explore(resolved), printer)
    metrics: dict = {}

    def extras(tmp: Path) -> None:
        metrics.update(explore_metrics(result))
        metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)
        path_xy = None if result.pca is None else result.pca.coords[:, :2]
        explore_figure(tmp / "figure.png", result.surfaces, result.alpha_range,
                       f"{cfg.arch} on {resolved.dataset.name}: {cfg.directions} directions\n"
                       + measured_on(metrics),
                       path_xy)

    save_explore_bundle(out, result, metrics, args.overwrite, extras=extras,
                        on_commit=note_written, fill=fill)
    print("\n".join(explore_lines(metrics)))
    print(f"wall time {time.perf_counter() - t0:.1f} s; bundle {out}; figure "
          f"{out / 'figure.png'}")
    return 0
