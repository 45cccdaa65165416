"""Time every export format on a real 256x256 construction and its recorded snapshots.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/export_timings.py [--steps 2000] [--grid 256]
        [--every 40] [--threads 1] [--out DIR]

Runs a Theorem 1 construction (smiley, digits) with a measured train snapshot every ``--every``
steps, measures its final surfaces, then writes each format once and prints a Markdown table
of wall times and file sizes (the writer libraries are imported before the clock starts). A
z = 3 volume (an analytic 64^3 field) times .vti and the slice animation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def construction(steps: int, grid: int, every: int):
    """The final SurfaceSet and the run's snapshots [(step, train surface, PSNR dB)]."""
    import losspattern_core as lp
    from losspattern_core.exports import SurfaceSet
    from losspattern_core.exports.surfaces import grid_coordinates
    from losspattern_core.measure.metrics import fidelity

    cfg = lp.ConstructionConfig(pattern="smiley", dataset="digits", steps=steps, grid=grid,
                                snapshot_every=every)
    resolved = lp.validate(cfg)
    snaps: list = []
    t0 = time.perf_counter()
    gen = lp.construct(resolved)
    con = None
    while con is None:
        try:
            frame = next(gen)
        except StopIteration as stop:
            con = stop.value
            break
        if frame.surface is not None:
            snaps.append((frame.step, frame.surface, frame.surface))
    span = resolved.loss_range.span
    snaps = [(s, surf, fidelity(surf, con.target, span)["psnr_db"]) for s, surf, _ in snaps]
    m = lp.measure_surfaces(con)
    print(f"construction: {steps} steps, {grid}^2 grid, {len(snaps)} snapshots, "
          f"{time.perf_counter() - t0:.1f} s")
    info = {"title": f"Theorem 1: pattern 'smiley' on digits ({steps} steps)",
            "dataset": "digits", "method": "theorem1",
            "loss_range": [resolved.loss_range.low, resolved.loss_range.high]}
    data = SurfaceSet({**m.surfaces, "target": con.target},
                      grid_coordinates(con.alpha_range, grid), info=info)
    return data, snaps


def volume(n: int = 64):
    from losspattern_core.exports import SurfaceSet

    a = np.linspace(0.0, 1.0, n)
    x, y, z = np.meshgrid(a, a, a, indexing="ij")
    vol = 2.4 + np.sin(6 * x) * np.cos(4 * y) * 0.5 + z**2
    return SurfaceSet({"train": vol, "test": vol + 0.01}, (a, a, a), info={"title": "volume"})


def jobs(data, snaps, vol) -> list[tuple[str, str, object, dict]]:
    n = data.shape[0]
    s = f"{n}x{n} surface"
    return [
        ("h5", s, data, {}), ("vtp", s, data, {}), ("ply", s, data, {}),
        ("obj", s, data, {}), ("glb", s, data, {}), ("stl", s, data, {"exaggeration": 0.2}),
        ("svg", s, data, {}), ("pdf", s, data, {}),
        ("mp4", f"forming, {len(snaps)} snapshots, 960x540", data,
         {"snapshots": snaps, "fps": 10, "size": (960, 540)}),
        ("gif", f"forming, {len(snaps)} snapshots, 640x360", data,
         {"snapshots": snaps, "fps": 10, "size": (640, 360)}),
        ("mp4", "turntable, 72 frames, 800x600", data, {"frames": 72, "size": (800, 600)}),
        ("gif", "turntable, 36 frames, 480x360", data, {"frames": 36, "size": (480, 360)}),
        ("vti", "64^3 volume", vol, {}),
        ("mp4", "64 slices of a 64^3 volume, 800x600", vol, {"size": (800, 600)}),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--grid", type=int, default=256)
    p.add_argument("--every", type=int, default=40, help="steps between snapshots")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="folder for the files (default: a temporary one)")
    args = p.parse_args()

    import h5py  # noqa: F401  (imported before timing)
    import imageio.v3  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import trimesh  # noqa: F401

    from losspattern_core.exports import export_surface
    from losspattern_core.runtime import configure_threads

    configure_threads(args.threads)
    data, snaps = construction(args.steps, args.grid, args.every)
    vol = volume()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="export-timings-"))
    out.mkdir(parents=True, exist_ok=True)
    print("\n| format | what | wall | file |\n|---|---|---|---|")
    for k, (fmt, what, src, opts) in enumerate(jobs(data, snaps, vol)):
        t0 = time.perf_counter()
        path = export_surface(src, fmt, out / f"{k:02d}.{fmt}", overwrite=True, **opts)
        dt = time.perf_counter() - t0
        print(f"| {fmt} | {what} | {dt:.2f} s | {path.stat().st_size / 2**20:.2f} MiB |",
              flush=True)
    print(f"\nfiles in {out}")


if __name__ == "__main__":
    main()
