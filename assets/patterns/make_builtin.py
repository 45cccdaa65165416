"""Draws the built-in pattern images shipped in this folder (run once; the PNGs are committed).

    python assets/patterns/make_builtin.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
S = 256


def smiley() -> Image.Image:
    im = Image.new("L", (S, S), 255)
    d = ImageDraw.Draw(im)
    d.ellipse((20, 20, S - 20, S - 20), fill=150, outline=0, width=10)
    d.ellipse((80, 75, 110, 120), fill=0)
    d.ellipse((146, 75, 176, 120), fill=0)
    d.arc((64, 90, 192, 200), start=20, end=160, fill=0, width=12)
    return im


def text() -> Image.Image:
    im = Image.new("L", (S, S), 255)
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=150)
    d.text((S / 2, S / 2), "Hi!", fill=0, font=font, anchor="mm")
    return im


def mountains() -> Image.Image:
    y, x = np.mgrid[0:S, 0:S] / (S - 1)
    rng = np.random.default_rng(7)
    h = np.zeros((S, S))
    for _ in range(9):
        cx, cy = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        w, a = rng.uniform(0.08, 0.22), rng.uniform(0.4, 1)
        h += a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w**2))
    h += 0.25 * np.sin(5 * x + 2 * y)
    h = (h - h.min()) / (h.max() - h.min())
    return Image.fromarray((255 * h).astype(np.uint8))


def heart() -> Image.Image:
    y, x = np.mgrid[0:S, 0:S] / (S - 1)
    u, v = 2.6 * (x - 0.5), 2.6 * (0.45 - y) + 0.1
    inside = (u**2 + v**2 - 1) ** 3 - u**2 * v**3 <= 0
    im = Image.fromarray(np.where(inside, 40, 235).astype(np.uint8))
    return im.filter(ImageFilter.GaussianBlur(1.5))


def sunset() -> Image.Image:
    """A colour image for three-head (RGB) patterns."""
    y, x = np.mgrid[0:S, 0:S] / (S - 1)
    r = 0.95 - 0.35 * y + 0.05 * np.sin(6 * x)
    g = 0.35 + 0.45 * y * (1 - y) * 2 + 0.1 * np.cos(4 * x)
    b = 0.2 + 0.7 * y
    sun = np.exp(-((x - 0.35) ** 2 + (y - 0.55) ** 2) / 0.01)
    rgb = np.stack([r + 0.4 * sun, g + 0.5 * sun, b - 0.3 * sun], -1)
    return Image.fromarray((255 * np.clip(rgb, 0, 1)).astype(np.uint8), "RGB")


if __name__ == "__main__":
    for name, make in [("smiley", smiley), ("hi-text", text), ("mountains", mountains),
                       ("heart", heart), ("sunset", sunset)]:
        make().save(HERE / f"{name}.png", optimize=True)
        print("wrote", name)
