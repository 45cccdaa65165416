"""Valid inputs the mutators start from, built once per run and cached on disk: a small real
bundle (made by the CLI in a subprocess, so the parent never runs torch before forking),
images of every format, arrays, an IDX folder, and two bombs (a zip member and a gzip stream
that inflate to gigabytes from a few megabytes)."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tempfile
import zipfile
import zlib
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("LOSSPATTERN_FUZZ_CACHE",
                            Path(tempfile.gettempdir()) / "losspattern-fuzz-cache"))
TINY = ["--steps", "8", "--width", "8", "--depth", "2", "--batch", "32", "--no-baseline",
        "--quiet"]


HONEST_BOMBS = False  # scripts/fuzz.py: real multi-gigabyte streams (built once, cached)


def _build_bundle(name: str, extra: list[str]) -> Path:
    """A bundle made by the CLI in this process (one torch thread, as the children use)."""
    import contextlib
    import io

    from losspattern_core.cli import main

    out = CACHE / name
    if (out / "construction.json").is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["--threads", "1", "construct", *TINY, *extra, "--out", str(out),
                   "--overwrite"])
    if rc != 0:
        raise RuntimeError(f"could not build the seed bundle {name} (exit {rc})")
    return out


@cache
def bundle_files(kind: str = "z2") -> dict[str, bytes]:
    """The files of a seed bundle: 'z2' (bumps, grid 6) or 'z1rgb' (three heads, z = 1)."""
    extra = {"z2": ["--pattern", "bumps", "--grid", "6"],
             "z1rgb": ["--pattern", "waves", "--z", "1", "--rgb", "--grid", "8"]}[kind]
    out = _build_bundle(f"seed-{kind}", extra)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def npz_bytes(compressed: bool = False, **arrays) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (24, 16), mode: str = "L",
                frames: int = 1) -> bytes:
    """A small gradient image in ``fmt`` (PNG, JPEG, GIF, TIFF, BMP, WEBP, PPM)."""
    from PIL import Image

    w, h = size
    base = np.add.outer(np.arange(h) * 7, np.arange(w) * 5).astype(np.uint8)
    ims = []
    for k in range(frames):
        arr = (base + 40 * k).astype(np.uint8)
        im = Image.fromarray(arr, "L")
        ims.append(im.convert(mode) if mode != "L" else im)
    buf = io.BytesIO()
    if frames > 1:
        ims[0].save(buf, fmt, save_all=True, append_images=ims[1:])
    else:
        ims[0].save(buf, fmt)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height with almost no pixel data (valid CRCs)."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return (b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def tiff_with_big_page(pages: int = 2, big: tuple[int, int] = (9000, 9000)) -> bytes:
    """A TIFF whose last page claims ``big`` pixels (the first pages are small)."""
    from PIL import Image

    small = [Image.new("L", (16, 16), 10 * k) for k in range(pages - 1)]
    buf = io.BytesIO()
    small[0].save(buf, "TIFF", save_all=True, append_images=small[1:] + [
        Image.new("L", (16, 16), 200)])
    raw = bytearray(buf.getvalue())
    # patch the last IFD's width/length tags (256, 257) to the big size
    for tag, value in ((256, big[0]), (257, big[1])):
        pos = raw.rfind(struct.pack("<HH", tag, 3))
        kind = 3
        if pos < 0:
            pos, kind = raw.rfind(struct.pack("<HH", tag, 4)), 4
        if pos >= 0:
            raw[pos:pos + 12] = struct.pack("<HHII", tag, 4, 1, value) if kind == 4 else \
                struct.pack("<HHIHH", tag, 3, 1, min(value, 65535), 0)
    return bytes(raw)


def idx_bytes(arr: np.ndarray, gz: bool = True) -> bytes:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    return gzip.compress(raw, 1) if gz else raw


@cache
def idx_folder(n_train: int = 40, n_test: int = 20, side: int = 8) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    return {
        "train-images-idx3-ubyte.gz": idx_bytes(rng.integers(0, 255, (n_train, side, side))),
        "train-labels-idx1-ubyte.gz": idx_bytes(np.arange(n_train) % 10),
        "t10k-images-idx3-ubyte.gz": idx_bytes(rng.integers(0, 255, (n_test, side, side))),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(np.arange(n_test) % 10),
    }


def _cached(name: str, make) -> bytes:
    path = CACHE / name
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
    return path.read_bytes()


def _zero_stream(total: int, compressor) -> bytes:
    block = b"\0" * (1 << 22)
    parts, left = [], total
    while left > 0:
        parts.append(compressor.compress(block[:min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def zip_claiming(size: int = 4_000_000_000) -> bytes:
    """An .npz whose X member's zip headers claim ``size`` uncompressed bytes (the data
    behind is tiny): the cheap bomb, refused from the declared size."""
    raw = bytearray(npz_bytes(X=np.zeros((4, 4)), y=np.arange(4)))
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = raw.find(sig)
        raw[pos + off:pos + off + 4] = struct.pack("<I", size)
    return bytes(raw)


def gzip_lying_idx() -> bytes:
    """A gzip IDX whose header claims 10 tiny images but whose stream runs on (64 MB):
    the reader must stop after the claimed bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = comp.compress(bytes([0, 0, 8, 3]) + struct.pack(">III", 10, 8, 8))
    return head + _zero_stream(64 * 2**20, comp)


def gzip_header_claiming(shape=(100_000, 200, 200)) -> bytes:
    """A gzip IDX whose header claims 4 GB of pixels, with nothing behind it."""
    return gzip.compress(bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", s)
                                                               for s in shape))


@cache
def zip_bomb() -> bytes:
    """The bomb the harness uses: honest (6.3 GB) in the full run, else declared."""
    return _honest_zip_bomb() if HONEST_BOMBS else zip_claiming()


@cache
def gzip_bomb() -> bytes:
    return _honest_gzip_bomb() if HONEST_BOMBS else gzip_lying_idx()


def _honest_zip_bomb() -> bytes:
    """An .npz whose X member inflates to 6.3 GB of zeros (a real, honest deflate stream)."""
    def make() -> bytes:
        n = 6_300_000_000 // 8
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (n // 64, 64)})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            with zf.open("X.npy", "w", force_zip64=True) as fh:
                fh.write(header.getvalue())
                block = b"\0" * (1 << 24)
                left = n * 8
                while left > 0:
                    fh.write(block[:min(left, len(block))])
                    left -= len(block)
            zf.writestr("y.npy", npy_bytes(np.arange(n // 64) % 2))
        return buf.getvalue()
    return _cached("zip-bomb.npz", make)


def _honest_gzip_bomb() -> bytes:
    """A gzip IDX image file whose header claims (100000, 200, 200) and whose stream
    really inflates to those 4 GB."""
    def make() -> bytes:
        shape = (100_000, 200, 200)
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        head = comp.compress(bytes([0, 0, 8, 3]) + b"".join(struct.pack(">I", s)
                                                             for s in shape))
        return head + _zero_stream(int(np.prod(shape)), comp)
    return _cached("gzip-bomb-idx3.gz", make)
