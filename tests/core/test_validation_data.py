"""Datasets and pattern files: malformed inputs are refused with the file and the problem."""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib

import numpy as np
import pytest

from losspattern_core.data.datasets import load_dataset
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import DatasetError, PatternError


@pytest.mark.parametrize("spec, match", [
    ("synthetic:seed=-1", r"seed=-1 is outside 0\.\."),
    ("synthetic:marginal=nan/1,classes=2", "finite non-negative weights"),
    ("synthetic:marginal=1e308/1e308,classes=2", "at most 1e12"),
    ("synthetic:n=" + "9" * 40, "too many digits"),
    ("synthetic:spread=inf", "spread=inf"),
    ("", "empty, too long"),
])
def test_synthetic_options(spec, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset(spec)


def test_synthetic_size_is_estimated_first(monkeypatch):
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "1G")
    with pytest.raises(DatasetError, match=r"synthetic data of 10000000 x 100000 values needs "
                                           r"about 21\.8 TiB"):
        load_dataset("synthetic:n=10000000,dim=100000")


def _npz(tmp_path, **arrays):
    path = tmp_path / f"d{len(list(tmp_path.iterdir()))}.npz"
    np.savez(path, **arrays)
    return str(path)


X = np.random.default_rng(0).normal(size=(40, 6))
Y = np.arange(40) % 4


@pytest.mark.parametrize("arrays, match", [
    ({"X": X.astype(str), "y": Y}, "dtype <U32 is not accepted"),
    ({"X": np.zeros(40, [("a", "f4")]), "y": Y}, "structured arrays are not accepted"),
    ({"X": X.astype(complex), "y": Y}, "dtype complex128 is not accepted"),
    ({"X": np.zeros((40, 2), "M8[s]"), "y": Y}, r"dtype datetime64\[s\] is not accepted"),
    ({"X": X, "y": Y.astype(np.uint64) + np.uint64(2**64 - 10)}, "class numbers 0..99999"),
    ({"X": X, "y": np.where(Y == 1, 10**9, Y)}, "class numbers 0..99999"),
    ({"X": X * 1e300, "y": Y}, r"beyond float32's range"),
    ({"X": np.where(X > 1, np.nan, X), "y": Y}, "NaN or infinite"),
    ({"X": X, "y": Y.astype(float)}, "labels y must be integers"),
    ({"X": X[:, 0], "y": Y}, r"expected X of shape \(N, d...\)"),
])
def test_npz_datasets(tmp_path, arrays, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset(_npz(tmp_path, **arrays))


def test_npz_files_that_are_not_npz(tmp_path):
    (tmp_path / "zero.npz").write_bytes(b"")
    (tmp_path / "npy.npz").write_bytes(b"\x93NUMPY\x01\x00" + b"x" * 50)
    os.mkfifo(tmp_path / "fifo.npz")
    for name, match in (("zero.npz", "not a readable .npz"), ("npy.npz", "is an .npy file"),
                        ("fifo.npz", "FIFO")):
        with pytest.raises(DatasetError, match=match):
            load_dataset(str(tmp_path / name))


def _idx(arr, shape=None):
    shape = arr.shape if shape is None else shape
    head = bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape)
    return gzip.compress(head + arr.astype(np.uint8).tobytes())


def _idx_folder(tmp_path, **override):
    rng = np.random.default_rng(0)
    files = {"train-images-idx3-ubyte.gz": _idx(rng.integers(0, 255, (20, 6, 6))),
             "train-labels-idx1-ubyte.gz": _idx(np.arange(20) % 4),
             "t10k-images-idx3-ubyte.gz": _idx(rng.integers(0, 255, (8, 6, 6))),
             "t10k-labels-idx1-ubyte.gz": _idx(np.arange(8) % 4), **override}
    folder = tmp_path / "idx"
    folder.mkdir(exist_ok=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    return f"mnist:path={folder}"


def test_idx_folders(tmp_path, monkeypatch):
    assert load_dataset(_idx_folder(tmp_path)).X.shape == (28, 36)
    cases = [
        ({"train-images-idx3-ubyte.gz": _idx(np.array(5))}, "rank 0; expected rank 3"),
        ({"t10k-images-idx3-ubyte.gz": _idx(np.zeros((8, 7, 7)))}, "they must match"),
        ({"train-images-idx3-ubyte.gz": gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(
            ">III", 100000, 200, 200))}, r"needs about 18\.6 GiB of memory; the limit"),
        ({"train-images-idx3-ubyte.gz": _idx(np.zeros(20 * 36 + 5000), (20, 6, 6))},
         "more data bytes"),
        ({"train-labels-idx1-ubyte.gz": _idx(np.arange(20))[:-6]}, "cannot read IDX file"),
    ]
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "1G")
    for override, match in cases:
        with pytest.raises(DatasetError, match=match):
            load_dataset(_idx_folder(tmp_path, **override) + ",")  # a fresh cache key


def _png(tmp_path, name="p.png", size=(16, 16)):
    from PIL import Image

    Image.new("L", size, 90).save(tmp_path / name)
    return tmp_path / name


def test_png_with_bad_chunk_crc_is_refused(tmp_path):
    raw = bytearray(_png(tmp_path).read_bytes())
    raw[45] ^= 0x10   # a byte inside IDAT
    (tmp_path / "p.png").write_bytes(bytes(raw))
    with pytest.raises(PatternError, match="fails its CRC check"):
        load_pattern(str(tmp_path / "p.png"))


def test_broken_png_chunk_structure_is_refused(tmp_path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                        zlib.crc32(kind + data))
    # a valid-CRC file whose IHDR is too short: Pillow raises SyntaxError("broken PNG file")
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"\x00\x00") + chunk(b"IEND", b"")
    (tmp_path / "b.png").write_bytes(raw)
    with pytest.raises(PatternError, match="cannot read b.png as an image"):
        load_pattern(str(tmp_path / "b.png"))


def test_every_tiff_page_is_size_checked(tmp_path):
    from PIL import Image

    pages = [Image.new("L", (16, 16), 10), Image.new("L", (16, 16), 200)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    raw = bytearray(buf.getvalue())
    for tag in (256, 257):                    # page 2's width and length: 9000 x 9000
        pos = raw.rfind(struct.pack("<HH", tag, 4))      # LONG entries, as Pillow writes
        assert pos > 0
        raw[pos:pos + 12] = struct.pack("<HHII", tag, 4, 1, 9000)
    (tmp_path / "s.tif").write_bytes(bytes(raw))
    with pytest.raises(PatternError, match=r"9000x9000 pixels \(frame 2\); the limit is 64"):
        load_pattern(str(tmp_path / "s.tif"), z=3)


def test_pattern_arrays(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (10**10,)})
    (tmp_path / "big.npy").write_bytes(buf.getvalue())
    with pytest.raises(PatternError, match="the header claims 10000000000 values"):
        load_pattern(str(tmp_path / "big.npy"))
    with open(tmp_path / "big.csv", "wb") as fh:   # sparse: 200 MB without writing them
        fh.truncate(200 * 2**20)
    with pytest.raises(PatternError, match=r"big.csv is 200.0 MiB; the limit is 64.0 MiB"):
        load_pattern(str(tmp_path / "big.csv"), z=1)
    (tmp_path / "c.csv").write_bytes(b"1,2\n3,1e999\n")
    with pytest.raises(PatternError, match="NaN or infinite"):
        load_pattern(str(tmp_path / "c.csv"))
    os.mkfifo(tmp_path / "f.npy")
    with pytest.raises(PatternError, match="FIFO"):
        load_pattern(str(tmp_path / "f.npy"))
    np.save(tmp_path / "o.npy", np.array([[None, 1]], dtype=object))
    with pytest.raises(PatternError, match="Python objects"):
        load_pattern(str(tmp_path / "o.npy"))
