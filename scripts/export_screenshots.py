"""The docs' pictures of the drawn-pattern and export features, from real runs, under Xvfb:

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" \\
        .venv/bin/python scripts/export_screenshots.py [--out docs] [--steps 2000]

1. the sketch pad with a drawing (docs/screenshot-sketch.png, the whole screen), the run it
   produced (screenshot-sketch-run.png), the Export dialog (screenshot-export-dialog.png);
2. through the Export dialog's worker, timed: the construction-forming MP4 of that run, a
   turntable MP4, a .glb; one frame of each animation (anim-forming.png, anim-turntable.png)
   read back from the MP4 files with imageio;
3. a z = 3 run and its z-slices MP4 (anim-slices.png);
4. the .glb read back by trimesh and drawn by vispy offscreen (glb-render.png).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def wait_until(app, cond, timeout: float = 1800.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("gave up waiting")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def draw_heart(pad) -> None:
    """A symmetric drawing: a heart outline and a filled dot, soft brush, mirrored (the
    dialog's own controls set the brush)."""
    canvas = pad.canvas
    pad.symmetric.setChecked(True)
    pad.hardness.setCurrentIndex(1)
    pad.size_spin.setValue(14)
    canvas.begin_stroke()
    for t in np.linspace(0, np.pi, 60):   # the left half of a heart curve
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        canvas.line_to(128 - 5.5 * y - 10, 128 - 6.5 * x)
    canvas.begin_stroke()
    pad.size_spin.setValue(26)
    canvas.line_to(120.0, 128.0)
    canvas.update()


def export(app, dlg, key: str, path: Path, setup=None) -> float:
    """One export through the dialog's worker; its wall time in seconds."""
    dlg.select(key)
    if setup is not None:
        setup(dlg)
    dlg.path.setText(str(path))
    done = {}
    dlg.runner.finished.connect(lambda p: done.setdefault("ok", p))
    dlg.runner.failed.connect(lambda m: done.setdefault("failed", m))
    t0 = time.perf_counter()
    assert dlg.start()
    wait_until(app, lambda: done and not dlg.runner.running)
    dt = time.perf_counter() - t0
    if "failed" in done:
        raise RuntimeError(done["failed"])
    print(f"{key} {path.name}: {dt:.2f} s, {path.stat().st_size / 2**20:.2f} MiB", flush=True)
    return dt


def frame_of(video: Path, index: int, out: Path) -> None:
    import imageio.v3 as iio
    from PIL import Image

    frames = iio.imread(video, index=None, plugin="pyav") if _has_pyav() else \
        np.stack(list(iio.imiter(video, plugin="FFMPEG")))
    Image.fromarray(frames[min(index, len(frames) - 1)]).save(out)
    print(f"saved {out} (frame {index} of {len(frames)} in {video.name})")


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def render_glb(glb: Path, out: Path, size=(1600, 1000)) -> None:
    """The .glb as trimesh reads it, drawn by a vispy offscreen canvas (Qt's GL context)."""
    import trimesh
    from PIL import Image
    from vispy import scene

    mesh = trimesh.load(glb, force="mesh")
    v = np.asarray(mesh.vertices, dtype=np.float32)
    colors = np.asarray(mesh.visual.vertex_colors, dtype=np.float32) / 255.0
    canvas = scene.SceneCanvas(size=size, bgcolor="white", show=False)
    view = canvas.central_widget.add_view()
    scene.visuals.Mesh(vertices=v, faces=np.asarray(mesh.faces), vertex_colors=colors,
                       shading=None, parent=view.scene)
    view.camera = scene.TurntableCamera(elevation=50, azimuth=-35, fov=35)
    view.camera.set_range()
    scene.visuals.Text(f"{glb.name}: {len(v)} vertices, {len(mesh.faces)} faces, read back by "
                       f"trimesh {trimesh.__version__}, drawn by vispy (offscreen)",
                       parent=canvas.scene, pos=(16, 22), anchor_x="left", color="black",
                       font_size=12)
    Image.fromarray(canvas.render()[..., :3]).save(out)
    print(f"saved {out}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="docs")
    p.add_argument("--steps", type=int, default=2000)
    args = p.parse_args()
    out = Path(args.out)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from app import messages
    from app.export_dialog import export_interactive
    from app.main_window import MainWindow
    from app.panels import drawn_patterns
    from app.panels.pattern_makers import open_sketch_pad

    messages.confirm = lambda *a: True
    messages.error = lambda parent, title, text: print(f"message: {title}: {text}")
    work = Path(tempfile.mkdtemp(prefix="export-shots-"))
    drawn_patterns.FOLDER = work / "patterns"
    win = MainWindow(QSettings(str(work / "s.ini"), QSettings.IniFormat), restore=False)
    win.setGeometry(win.screen().availableGeometry())
    win.show()
    wait_until(app, lambda: win.state.ready)
    win.state.choose(steps=args.steps, grid=64, width=64, smooth=2.5)
    pad = open_sketch_pad(win.pattern_panel)
    pad.resize(760, 820)
    pad.move(win.geometry().center() - pad.rect().center())
    draw_heart(pad)
    settle(app, 1.0)
    app.primaryScreen().grabWindow(0).save(str(out / "screenshot-sketch.png"))
    assert pad.use(), "the drawing was refused"
    t0 = time.perf_counter()
    assert win.start_run() is not None
    wait_until(app, lambda: win.state.result is not None and not win.state.running)
    print(f"construction: {args.steps} steps, grid 64: {time.perf_counter() - t0:.1f} s")
    settle(app, 1.5)
    win.heatmaps.flush()
    win.grab().save(str(out / "screenshot-sketch-run.png"))

    dlg = export_interactive(win)
    dlg.select("mp4")
    dlg.move(win.geometry().center() - dlg.rect().center())
    settle(app, 1.0)
    app.primaryScreen().grabWindow(0).save(str(out / "screenshot-export-dialog.png"))
    n = len(win.recording.snapshots_for(win.result))
    export(app, dlg, "mp4", work / "forming.mp4")
    print(f"(forming: {n} snapshots of a {args.steps}-step construction, 960x540)")
    frame_of(work / "forming.mp4", 2 * n // 3, out / "anim-forming.png")

    def turntable(d):
        d.options.animation.setCurrentIndex(d.options.animation.findData("turntable"))
        d.options.width_px.setValue(800)
        d.options.height_px.setValue(600)
    export(app, dlg, "mp4", work / "turntable.mp4", turntable)
    frame_of(work / "turntable.mp4", 4, out / "anim-turntable.png")
    export(app, dlg, "glb", work / "surface.glb",
           lambda d: d.options.exaggeration.setValue(0.25))
    render_glb(work / "surface.glb", out / "glb-render.png")
    dlg.close()

    win.state.choose(z=3, pattern="bumps", grid=24, steps=args.steps)
    assert win.start_run() is not None
    wait_until(app, lambda: win.state.result is not None and not win.state.running
               and win.state.result.config.z == 3)
    dlg = export_interactive(win)

    def slices(d):
        d.options.animation.setCurrentIndex(d.options.animation.findData("slices"))
        d.options.width_px.setValue(800)
        d.options.height_px.setValue(600)
    export(app, dlg, "mp4", work / "slices.mp4", slices)
    frame_of(work / "slices.mp4", 15, out / "anim-slices.png")
    dlg.close()
    win.close()
    print(f"files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
