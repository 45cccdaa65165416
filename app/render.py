"""Windowless rendering of a construction bundle to PNG (no Qt, no X server).

    render_bundle("bundle_dir", "out.png", view="3d", size=(1200, 900))

vispy's backend is fixed per process, so this module selects EGL (surfaceless Mesa) itself
before creating any canvas and must never import Qt. ``losspattern render`` calls it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

VIEWS = ("3d", "heatmaps")


def _use_egl() -> None:
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    import vispy

    vispy.use(app="egl")


def render_bundle(bundle_dir: str | os.PathLike, out_png: str | os.PathLike, view: str = "3d",
                  size: tuple[int, int] = (1200, 900), source: str = "train") -> Path:
    """Render the bundle's surface (``view='3d'``) or its four heatmaps to ``out_png``."""
    import losspattern_core as lp

    if view not in VIEWS:
        raise lp.ConfigError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    size = lp.check_image_size(size)
    out_png = lp.check_output_file(out_png, ("png",), "PNG")
    arrays_in = lp.read_bundle_arrays(bundle_dir)   # the core's one validated loader
    bundle_dir, meta, heads = Path(bundle_dir), arrays_in.meta, arrays_in.heads
    target, surfaces = arrays_in.target, arrays_in.surfaces
    if arrays_in.z < 2:
        raise lp.BundleError(f"{bundle_dir}: z = 1 has no surface to render; use the CLI figure")
    if target is None:
        raise lp.BundleError(f"{bundle_dir}: this bundle has no target to draw beside its "
                             "surfaces; use `losspattern export` for its surfaces")
    _use_egl()
    from .views.arrays import argmin_xy, plane, shared_levels

    if view == "3d":
        from .views.surface_scene import SurfaceScene

        sc = SurfaceScene(size=size)
        arrays = {"target": plane(target, heads),
                  **{s: plane(a, heads) for s, a in surfaces.items()}}
        levels = shared_levels(list(arrays.values()))
        sc.update_data(arrays[source], levels, argmin_xy(arrays["target"])[:2])
        from vispy import scene

        what = "target T" if source == "target" else (
            f"measured {source} loss on {meta['dataset']['name']} "
            f"({meta['dataset']['n_' + source]} samples)")
        scene.visuals.Text(f"Theorem {meta['theorem']} · {what} · red dot: minimum of T",
                           parent=sc.canvas.scene, pos=(12, 18), anchor_x="left",
                           color="black", font_size=11)
    else:
        from .views.heatmap_scene import HeatmapScene

        sc = HeatmapScene(size=size)
        ds = meta.get("dataset", {})
        titles = {"target": "target T",
                  "train": f"measured train loss ({ds.get('name')}, {ds.get('n_train')} samples)",
                  "test": f"measured test loss ({ds.get('name')}, {ds.get('n_test')} samples)",
                  "error": "error: train - target"}
        header = (f"Theorem {meta.get('theorem')}: pattern '{meta.get('pattern', {}).get('name')}'"
                  f" on {ds.get('name')}")
        sc.set_data(target, surfaces, heads, titles, header)
    image = sc.render(size)
    from PIL import Image

    out_png.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_png.with_name(f".{out_png.name}.partial")
    try:
        Image.fromarray(np.ascontiguousarray(image[..., :3])).save(tmp, format="PNG")
        os.replace(tmp, out_png)
    finally:
        tmp.unlink(missing_ok=True)
    return out_png


def register(sub) -> None:
    """Add ``losspattern render`` to the core's command line (entry point, see pyproject)."""
    r = sub.add_parser("render", help="render a bundle to PNG without a window (EGL)")
    r.add_argument("bundle")
    r.add_argument("--out", required=True, help="PNG path")
    r.add_argument("--view", default="3d", choices=VIEWS)
    r.add_argument("--size", type=int, nargs=2, default=(1200, 900), metavar=("W", "H"))
    r.add_argument("--source", default="train", choices=("target", "train", "test"))
    r.set_defaults(func=_render_command)


def _render_command(args) -> int:
    png = render_bundle(args.bundle, args.out, view=args.view, size=tuple(args.size),
                        source=args.source)
    print(f"wrote {png}")
    return 0
