"""Datasets from files: IDX folders (MNIST, Fashion-MNIST) and ``.npz`` arrays.

Files are read through the safe readers: regular files within their size limit, the IDX
header's shape checked against memory before the data is inflated (a gzip bomb stops at the
size the header claims), the gzip CRC checked, and numeric dtypes only (nothing unpickled).
"""

from __future__ import annotations

import gzip
import io
import math
import zlib
from pathlib import Path

import numpy as np

from losspattern_core.data.image_formats import image_shape_of
from losspattern_core.errors import DatasetError
from losspattern_core.io.limits import check_memory, human, memory_limit
from losspattern_core.io.safe_read import read_bytes, read_npz

MAX_DATASET_FILE = 8 * 2**30   # bytes of one file (also capped by the memory limit)
IDX_UBYTE = 0x08


def _idx_stream(raw: bytes, path: Path):
    return gzip.GzipFile(fileobj=io.BytesIO(raw)) if path.suffix == ".gz" else io.BytesIO(raw)


def read_idx(path: Path, expect_ndim: int) -> np.ndarray:
    """An unsigned-byte IDX array of rank ``expect_ndim``, its size checked before reading."""
    raw = read_bytes(path, DatasetError, MAX_DATASET_FILE, f"IDX file {path}")
    try:
        fh = _idx_stream(raw, path)
        head = fh.read(4)
        if len(head) < 4 or head[:3] != bytes([0, 0, IDX_UBYTE]):
            raise DatasetError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
        ndim = head[3]
        if ndim != expect_ndim:
            raise DatasetError(f"{path}: an IDX array of rank {ndim}; expected rank "
                               f"{expect_ndim} ({'images' if expect_ndim == 3 else 'labels'})")
        dims = fh.read(4 * ndim)
        if len(dims) < 4 * ndim:
            raise DatasetError(f"{path} is truncated (header)")
        shape = tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
        count = math.prod(shape)
        check_memory(5 * count, f"IDX file {path} (shape {shape})", DatasetError)
        data = fh.read(count)
        if len(data) != count or fh.read(1):
            raise DatasetError(f"{path} is truncated or corrupt: header says {shape}, the file "
                               f"has {'fewer' if len(data) != count else 'more'} data bytes")
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # BadGzipFile is an OSError
        raise DatasetError(f"cannot read IDX file {path}: {type(exc).__name__}: "
                           f"{str(exc)[:120]}") from exc
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder} has no {stem}[.gz]")


def idx_folder_arrays(name: str, folder: Path):
    """(X float32 in [0, 1] (N, H*W), y int64, n_train, image shape [1, H, W]) of an IDX
    folder's train + t10k files."""
    if not folder.is_dir():
        raise DatasetError(f"{name}: folder {folder} does not exist")
    parts = {}
    for prefix in ("train", "t10k"):
        images_file = _find(folder, f"{prefix}-images-idx3-ubyte")
        labels_file = _find(folder, f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(images_file, 3), read_idx(labels_file, 1)
        if len(images) != len(labels):
            raise DatasetError(f"{name}: {images_file} has {len(images)} images but "
                               f"{labels_file} has {len(labels)} labels: the counts must match")
        if not len(images):
            raise DatasetError(f"{name}: the {prefix} files hold no samples")
        parts[prefix] = (images, labels)
    if parts["train"][0].shape[1:] != parts["t10k"][0].shape[1:]:
        raise DatasetError(f"{name}: train images are {parts['train'][0].shape[1:]} pixels "
                           f"but test images {parts['t10k'][0].shape[1:]}: they must match")
    n = len(parts["train"][1]) + len(parts["t10k"][1])
    check_memory(4 * n * math.prod(parts["train"][0].shape[1:]), f"{name} as float32 "
                 f"({n} images)", DatasetError)
    X = np.concatenate([parts["train"][0].reshape(len(parts["train"][0]), -1),
                        parts["t10k"][0].reshape(len(parts["t10k"][0]), -1)])
    X = X.astype(np.float32) / np.float32(255.0)
    y = np.concatenate([parts["train"][1], parts["t10k"][1]]).astype(np.int64)
    return X, y, len(parts["train"][1]), image_shape_of(parts["train"][0].shape[1:])


def npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, list[int] | None]:
    """X (N, d) real numbers, y (N,) integers and the samples' image shape [C, H, W] from an
    .npz (read without pickle): X of shape (N, H, W) or (N, C, H, W) is a set of images (kept
    as that shape for the conv families, flat rows here), (N, d) a set of feature vectors."""
    if not path.exists() and not path.is_symlink():
        raise DatasetError(f"dataset file {path} does not exist")
    limit = min(MAX_DATASET_FILE, memory_limit())
    arrays = read_npz(path, DatasetError, limit, ("X", "y"), kinds="biuf",
                      what=f"dataset file {path}")
    X, y = arrays["X"], arrays["y"]
    if y.dtype.kind not in "iu":
        raise DatasetError(f"{path}: labels y must be integers, got dtype {y.dtype}")
    if not 2 <= X.ndim <= 4 or y.ndim != 1 or len(X) != len(y):
        raise DatasetError(f"{path}: expected X of shape (N, d...) (rows (N, d), images "
                           f"(N, H, W) or (N, C, H, W)) and y of shape (N,) with the same N, "
                           f"got {X.shape} and {y.shape}")
    if not len(X) or not X[0].size:
        raise DatasetError(f"{path}: X of shape {X.shape} holds no samples or no features")
    check_memory(4 * X.size, f"{path}: X as float32 ({human(4 * X.size)})", DatasetError)
    return X.reshape(len(X), -1), y, image_shape_of(X.shape[1:])
