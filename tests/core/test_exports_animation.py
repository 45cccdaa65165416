"""MP4 and GIF animations read back with imageio (ffmpeg's decoder, Pillow): frame count, size,
frame rate, content that changes; progress reports; a cancel leaves nothing on disk."""

from __future__ import annotations

import imageio.v2 as iio2
import imageio.v3 as iio3
import numpy as np
import pytest
from test_exports_support import surface_2d, volume

from losspattern_core.errors import ConfigError
from losspattern_core.exports import ExportCancelled, SurfaceSet, export_surface

SIZE = (160, 120)


def frames_of(path) -> tuple[np.ndarray, float]:
    """All frames and the frame rate, read by a reader unrelated to the writer's code."""
    if path.suffix == ".gif":
        frames = iio3.imread(path, index=None, plugin="pillow", mode="RGB")
        duration_ms = iio3.immeta(path, index=0, plugin="pillow")["duration"]
        return frames, 1000.0 / duration_ms
    reader = iio2.get_reader(path, format="FFMPEG")
    try:
        fps = reader.get_meta_data()["fps"]
        return np.stack([f for f in reader]), fps
    finally:
        reader.close()


def snapshots(data: SurfaceSet, n: int = 6) -> list:
    target, train = data.surfaces["target"], data.surfaces["train"]
    return [(100 * (k + 1), target + (train - target) * (k + 1) / n + (n - k) * 0.3,
             10.0 + 5 * k) for k in range(n)]


def distinct(frames: np.ndarray) -> int:
    return len({f.tobytes() for f in frames})


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_forming_animation_one_frame_per_snapshot(tmp_path, fmt):
    data = surface_2d(9, 6)
    seen = []
    out = export_surface(data, fmt, tmp_path / f"form.{fmt}", snapshots=snapshots(data),
                         total_steps=600, fps=5, size=SIZE,
                         progress=lambda done, total: seen.append((done, total)))
    frames, fps = frames_of(out)
    assert frames.shape == (6, SIZE[1], SIZE[0], 3)
    assert fps == pytest.approx(5.0, rel=0.02)
    assert distinct(frames) == 6                      # each snapshot draws something else
    assert seen == [(k, 6) for k in range(7)]


def test_forming_of_a_curve(tmp_path):
    x = np.linspace(0, 1, 30)
    data = SurfaceSet({"train": np.sin(3 * x) + 3, "target": np.sin(3 * x) + 3.1}, (x,))
    snaps = [(s, np.sin(3 * x) + 3 + 0.5 / s, 20.0) for s in (1, 2, 3)]
    frames, _ = frames_of(export_surface(data, "gif", tmp_path / "c.gif", snapshots=snaps,
                                         size=SIZE))
    assert frames.shape[0] == 3 and distinct(frames) == 3


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_turntable(tmp_path, fmt):
    out = export_surface(surface_2d(20, 15), fmt, tmp_path / f"turn.{fmt}", frames=8, fps=12,
                         size=(200, 150))
    frames, fps = frames_of(out)
    assert frames.shape == (8, 150, 200, 3)
    assert fps == pytest.approx(12.0, rel=0.05)
    assert distinct(frames) == 8


def test_volume_slices_one_frame_per_plane(tmp_path):
    frames, _ = frames_of(export_surface(volume(5, 4, 7), "mp4", tmp_path / "v.mp4",
                                         size=SIZE))
    assert frames.shape == (7, SIZE[1], SIZE[0], 3) and distinct(frames) == 7


def test_mp4_rounds_odd_sizes_up_gif_keeps_them(tmp_path):
    data = surface_2d()
    mp4, _ = frames_of(export_surface(data, "mp4", tmp_path / "o.mp4", frames=2,
                                      size=(161, 121)))
    gif, _ = frames_of(export_surface(data, "gif", tmp_path / "o.gif", frames=2,
                                      size=(161, 121)))
    assert mp4.shape[1:3] == (122, 162) and gif.shape[1:3] == (121, 161)


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
@pytest.mark.parametrize("stop_after", [0, 3])
def test_cancel_leaves_nothing(tmp_path, fmt, stop_after):
    seen = []

    def progress(done, total):
        seen.append(done)

    with pytest.raises(ExportCancelled, match="nothing was written"):
        export_surface(surface_2d(), fmt, tmp_path / f"c.{fmt}", frames=10, size=SIZE,
                       progress=progress, cancel=lambda: len(seen) > stop_after)
    assert list(tmp_path.iterdir()) == []
    assert max(seen) <= stop_after + 1


def test_cancel_of_a_file_format_leaves_nothing(tmp_path):
    with pytest.raises(ExportCancelled):
        export_surface(surface_2d(), "vtp", tmp_path / "s.vtp", cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_animation_inputs_are_checked(tmp_path):
    data = surface_2d()
    with pytest.raises(ConfigError, match="snapshot at step 5 has shape"):
        export_surface(data, "gif", tmp_path / "a.gif", snapshots=[(5, np.zeros((3, 3)), 1.0)])
    with pytest.raises(ConfigError, match="needs the run's snapshots"):
        export_surface(data, "gif", tmp_path / "a.gif", animation="forming")
    with pytest.raises(ConfigError, match="frame size"):
        export_surface(data, "gif", tmp_path / "a.gif", size=(4, 4))
    with pytest.raises(ConfigError, match="frame rate"):
        export_surface(data, "mp4", tmp_path / "a.mp4", fps=0)
    with pytest.raises(Exception, match="z = 1 curve has no surface to turn"):
        x = np.linspace(0, 1, 5)
        export_surface(SurfaceSet({"train": x}, (x,)), "gif", tmp_path / "a.gif")
    assert list(tmp_path.iterdir()) == []
