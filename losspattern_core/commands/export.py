"""``losspattern export DIR --format FMT --out FILE``: a bundle (or a loss-landscape .h5) to
the formats other tools read (losspattern_core.exports)."""

from __future__ import annotations

import sys

from losspattern_core.errors import ConfigError


def register(subparsers) -> None:
    """Add the ``export`` sub-command to ``losspattern``'s sub-parsers."""
    from losspattern_core.exports import FORMATS  # light: no writer library is imported

    e = subparsers.add_parser(
        "export", help="write a bundle's surfaces as h5 (loss-landscape), vtp/vti (ParaView), "
                       "ply/obj/glb/stl meshes, mp4/gif animations or svg/pdf figures",
        description="Every option is optional; the ones a format does not use are refused.")
    e.add_argument("bundle", help="bundle folder, or a loss-landscape .h5 file")
    e.add_argument("--format", required=True, choices=tuple(FORMATS), dest="fmt")
    e.add_argument("--out", required=True, help="file to write (its suffix must match)")
    e.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    e.add_argument("--source", choices=("target", "train", "test"),
                   help="which surface a mesh, vtp or animation shows (default: train)")
    e.add_argument("--head", type=int, help="head 1, 2, 3 of an RGB construction (default 1)")
    e.add_argument("--slice", type=int, nargs="+", metavar="K",
                   help="z >= 3: grid points (1-based) of directions 3.. for a 2-D format "
                        "(default: the middle)")
    e.add_argument("--exaggeration", type=float, help="vertical scale of meshes (default 1)")
    e.add_argument("--cmap", help="matplotlib colormap of meshes and animations (viridis)")
    e.add_argument("--range", type=float, nargs=2, metavar=("LOW", "HIGH"), dest="value_range",
                   help="loss range the colormap spans (default: the surfaces' range)")
    e.add_argument("--print-size", type=float, metavar="MM",
                   help="stl: the longer side in mm (default 100)")
    e.add_argument("--base", type=float, metavar="MM", help="stl: base thickness (default 5%%)")
    e.add_argument("--animation", choices=("turntable", "slices"),
                   help="mp4/gif: a turntable of the surface or a volume's slices (default: "
                        "slices for z = 3, else turntable)")
    e.add_argument("--fps", type=float, help="mp4/gif frames per second")
    e.add_argument("--frames", type=int, help="turntable: frames per turn (default 72)")
    e.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), help="mp4/gif pixels")
    e.add_argument("--dpi", type=int, help="svg/pdf resolution of embedded images (110)")
    e.add_argument("--quiet", action="store_true", help="no progress")
    e.set_defaults(func=run)


def _options(args) -> dict:
    if args.head is not None and args.head < 1:
        raise ConfigError(f"--head {args.head}: heads are numbered from 1")
    if args.slice is not None and min(args.slice) < 1:
        raise ConfigError(f"--slice {args.slice}: grid points are numbered from 1")
    return {"source": args.source,
            "head": None if args.head is None else args.head - 1,
            "slice_at": None if args.slice is None else tuple(k - 1 for k in args.slice),
            "exaggeration": args.exaggeration, "cmap": args.cmap,
            "value_range": None if args.value_range is None else tuple(args.value_range),
            "size": (args.print_size if args.fmt == "stl"
                     else None if args.size is None else tuple(args.size)),
            "base": args.base, "animation": args.animation, "fps": args.fps,
            "frames": args.frames, "dpi": args.dpi}


class _Progress:
    """Frame counts on stderr, every 10%."""

    def __init__(self) -> None:
        self.decile = -1

    def __call__(self, done: int, total: int) -> None:
        if total > 1 and int(10 * done / total) > self.decile:
            self.decile = int(10 * done / total)
            print(f"  frame {done}/{total}", file=sys.stderr)


def run(args) -> int:
    """Open the bundle or h5, export, print what was written."""
    from losspattern_core.exports import FORMATS, export_surface, open_surfaces

    if args.print_size is not None and args.fmt != "stl":
        raise ConfigError("--print-size applies to --format stl only")
    if args.size is not None and args.fmt == "stl":
        raise ConfigError("--size is the frame size of mp4/gif; for stl use --print-size MM")
    data = open_surfaces(args.bundle)
    progress = None if args.quiet else _Progress()
    path = export_surface(data, args.fmt, args.out, progress=progress,
                          overwrite=args.overwrite, **_options(args))
    size = path.stat().st_size
    print(f"wrote {path} ({FORMATS[args.fmt].label}, {size / 1024:.1f} KiB) from "
          f"{data.info.get('source', args.bundle)}")
    return 0
