"""Image datasets from folders: the CIFAR-10 *binary* batches, and which format a folder holds.

CIFAR-10's binary version is six files of fixed-size records: one label byte (0..9) then
3 x 32 x 32 pixel bytes (red plane, green, blue; rows top to bottom). ``data_batch_1.bin`` ..
``data_batch_5.bin`` are the training split, ``test_batch.bin`` the test split. (Its *python*
version is pickles, which are never unpickled from a user's folder: it is refused with a
pointer to the binary version.) Every file's length is checked against the record size and its
labels against 0..9 before any array is built; errors name the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from losspattern_core.errors import DatasetError
from losspattern_core.io.limits import check_memory, memory_limit
from losspattern_core.io.safe_read import read_bytes

CIFAR10_SHAPE = (3, 32, 32)
CIFAR10_RECORD = 1 + 3 * 32 * 32          # one label byte + the pixels
CIFAR10_CLASSES = 10
CIFAR10_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = "test_batch.bin"
MAX_BATCH_FILE = 2**30                    # bytes of one batch file (the real ones are 30 MB)
IDX_TRAIN_IMAGES = "train-images-idx3-ubyte"


def _cifar10_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 3072), labels uint8 (n,)) of one binary batch file."""
    raw = read_bytes(path, DatasetError, min(MAX_BATCH_FILE, memory_limit()),
                     f"CIFAR-10 batch {path}")
    if not raw or len(raw) % CIFAR10_RECORD:
        raise DatasetError(f"{path}: {len(raw)} bytes is not a whole number of CIFAR-10 "
                           f"records ({CIFAR10_RECORD} bytes each: a label byte and 3x32x32 "
                           "pixels); the file is truncated or not a CIFAR-10 binary batch")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR10_RECORD)
    labels = records[:, 0]
    if labels.max() >= CIFAR10_CLASSES:
        bad = int(np.flatnonzero(labels >= CIFAR10_CLASSES)[0])
        raise DatasetError(f"{path}: record {bad} has label {int(labels[bad])}; CIFAR-10 labels "
                           "are 0..9 (is this the CIFAR-100 binary version?)")
    return records[:, 1:], labels


def cifar10_folder_arrays(name: str, folder: Path):
    """(X float32 (N, 3072) in [0, 1], y int64, n_train) from a CIFAR-10 binary folder; X's
    rows are C x H x W = 3 x 32 x 32 images flattened in that order."""
    if not folder.is_dir():
        raise DatasetError(f"{name}: folder {folder} does not exist")
    missing = [f for f in (*CIFAR10_TRAIN, CIFAR10_TEST) if not (folder / f).is_file()]
    if missing:
        hint = (" (it holds the python version's pickles, which are never loaded: use the "
                "binary version, cifar-10-binary.tar.gz)"
                if (folder / "data_batch_1").is_file() else "")
        raise DatasetError(f"{name}: {folder} lacks {', '.join(missing)}: a CIFAR-10 binary "
                           f"folder has {', '.join(CIFAR10_TRAIN)} and {CIFAR10_TEST}{hint}")
    sizes = [(folder / f).stat().st_size for f in (*CIFAR10_TRAIN, CIFAR10_TEST)]
    check_memory(5 * sum(sizes), f"{name} from {folder} ({sum(sizes)} bytes as float32)",
                 DatasetError)
    train = [_cifar10_batch(folder / f) for f in CIFAR10_TRAIN]
    test = _cifar10_batch(folder / CIFAR10_TEST)
    images = np.concatenate([b[0] for b in train] + [test[0]])
    y = np.concatenate([b[1] for b in train] + [test[1]]).astype(np.int64)
    X = images.astype(np.float32) / np.float32(255.0)
    return X, y, sum(len(b[1]) for b in train)


def folder_format(folder: Path) -> str:
    """``"idx"`` (MNIST-style IDX files) or ``"cifar10"`` (binary batches) for a dataset
    folder, from the files it holds; else DatasetError saying what a folder must hold."""
    if not folder.is_dir():
        raise DatasetError(f"dataset folder {folder} does not exist")
    if any((folder / f"{IDX_TRAIN_IMAGES}{s}").is_file() for s in ("", ".gz")):
        return "idx"
    if (folder / CIFAR10_TRAIN[0]).is_file() or (folder / CIFAR10_TEST).is_file():
        return "cifar10"
    if (folder / "data_batch_1").is_file():
        raise DatasetError(f"{folder} holds CIFAR-10's python version (pickles, never loaded "
                           "from a folder): use the binary version (data_batch_1.bin ...)")
    raise DatasetError(f"{folder} is not a dataset folder LossPattern reads: expected MNIST IDX "
                       f"files ({IDX_TRAIN_IMAGES}[.gz], train-labels-idx1-ubyte[.gz], "
                       f"t10k-...) or CIFAR-10 binary batches ({CIFAR10_TRAIN[0]} .. "
                       f"{CIFAR10_TRAIN[-1]}, {CIFAR10_TEST})")


def image_shape_of(sample_shape: tuple[int, ...]) -> list[int] | None:
    """The (C, H, W) a dataset records for samples of ``sample_shape``: (H, W) images are one
    channel, (C, H, W) stay as they are, flat feature vectors have none."""
    if len(sample_shape) == 2:
        return [1, int(sample_shape[0]), int(sample_shape[1])]
    if len(sample_shape) == 3:
        return [int(s) for s in sample_shape]
    return None
