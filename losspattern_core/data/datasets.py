"""Datasets by name, with a deterministic train/test split and their label marginal.

A dataset spec is a string ``name`` or ``name:key=value,key=value`` (for example
``synthetic:classes=10,marginal=skewed`` or ``fashion-mnist:path=/data/fmnist``); a path to an
``.npz`` file (arrays ``X`` and ``y``) is a dataset too. Nothing is downloaded and nothing from a
file is unpickled.
"""

from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from losspattern_core.errors import DatasetError

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
SPLIT_SEED = 20191216  # fixed: a dataset's split never changes between runs


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (N, d) float32, labels ``y`` (N,) int64 and a fixed split."""

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    features: dict = field(default_factory=dict)
    description: str = ""

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        idx = self._indices(which)
        return self.X[idx], self.y[idx]

    def _indices(self, which: str) -> np.ndarray:
        if which == "train":
            return self.train_idx
        if which == "test":
            return self.test_idx
        if which == "all":
            return np.arange(len(self.y))
        raise DatasetError(f"unknown split {which!r}: use 'train', 'test' or 'all'")

    def label_counts(self, which: str = "train") -> np.ndarray:
        return np.bincount(self.y[self._indices(which)], minlength=self.classes)

    def marginal(self, which: str = "train") -> np.ndarray:
        counts = self.label_counts(which)
        return counts / counts.sum()

    def entropy(self, which: str = "train") -> float:
        """H(pi) in nats: the lowest mean cross-entropy a constant prediction can reach."""
        return label_entropy(self.label_counts(which))

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def summary(self) -> str:
        unused = len(self.y) - len(self.train_idx) - len(self.test_idx)
        return (
            f"{self.name}: {len(self.train_idx)} train / {len(self.test_idx)} test"
            f"{f' ({unused} unused to keep the marginals equal)' if unused else ''}, "
            f"{self.n_features} features, {self.classes} classes, H(pi_train) = "
            f"{self.entropy('train'):.4f} nats"
        )


def label_entropy(counts: np.ndarray) -> float:
    p = np.asarray(counts, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def stratified_split(y: np.ndarray, classes: int, test_parts: int = 1, train_parts: int = 4,
                     seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """A split whose train and test label marginals are exactly equal.

    The surface on a split depends on the data only through its label marginal, so any
    difference would move the test surface by sum_k dpi_k * l(p, k) (Observation 1). Each
    class k contributes train_parts * m_k samples to train and test_parts * m_k to test, with
    m_k = floor(n_k / (train_parts + test_parts)); at most parts - 1 samples per class are left
    unused. Classes too small for that fall back to rounding (marginals then differ slightly).
    """
    rng = np.random.default_rng(seed)
    parts = test_parts + train_parts
    counts = np.bincount(y, minlength=classes)
    present = counts > 0
    if (counts[present] >= parts).all():
        take_test = counts // parts * test_parts
        take_train = counts // parts * train_parts
    else:
        take_test = np.rint(counts * test_parts / parts).astype(int)
        take_train = counts - take_test
    train, test = [], []
    for k in range(classes):
        idx = rng.permutation(np.flatnonzero(y == k))
        test.append(idx[: take_test[k]])
        train.append(idx[take_test[k]: take_test[k] + take_train[k]])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _finish(name: str, X: np.ndarray, y: np.ndarray, features: dict, description: str,
            split: tuple[np.ndarray, np.ndarray] | None = None) -> Dataset:
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise DatasetError(f"{name}: expected X of shape (N, d) and y of shape (N,), got "
                           f"{X.shape} and {y.shape}")
    if len(y) < 4:
        raise DatasetError(f"{name}: needs at least 4 samples, has {len(y)}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise DatasetError(f"{name}: labels y must be non-negative integers")
    if not np.isfinite(X).all():
        raise DatasetError(f"{name}: X contains NaN or infinite values")
    y = y.astype(np.int64)
    classes = int(y.max()) + 1
    if classes < 2:
        raise DatasetError(f"{name}: needs at least 2 classes, found {classes}")
    train, test = split if split is not None else stratified_split(y, classes)
    return Dataset(name, X, y, classes, train, test, features, description)


# --- loaders -------------------------------------------------------------------------------

def _digits(opts: dict) -> Dataset:
    _no_options("digits", opts)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise DatasetError("digits needs scikit-learn (pip install scikit-learn)") from exc
    d = load_digits()
    return _finish("digits", d.data / 16.0, d.target,
                   {"source": "sklearn.datasets.load_digits", "scale": 0.0625, "flatten": True},
                   "scikit-learn's 1797 handwritten digits, 8x8, scaled to [0, 1]")


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is truncated (header)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != math.prod(shape):
        raise DatasetError(f"{path} is truncated or corrupt: header says {shape}, "
                           f"file has {len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder} has no {stem}[.gz]")


def _idx_folder(name: str, folder: Path, description: str) -> Dataset:
    if not folder.is_dir():
        raise DatasetError(f"{name}: folder {folder} does not exist")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _read_idx(_find(folder, f"{prefix}-images-idx3-ubyte"))
        labels = _read_idx(_find(folder, f"{prefix}-labels-idx1-ubyte"))
        if len(images) != len(labels):
            raise DatasetError(f"{name}: {prefix} images and labels differ in count")
        parts[split] = (images.reshape(len(images), -1), labels)
    X = np.concatenate([parts["train"][0], parts["test"][0]]).astype(np.float32) / 255.0
    y = np.concatenate([parts["train"][1], parts["test"][1]]).astype(np.int64)
    n_train = len(parts["train"][1])
    split = (np.arange(n_train), np.arange(n_train, len(y)))  # the official split
    return _finish(name, X, y, {"source": str(folder), "scale": 1 / 255.0, "flatten": True},
                   description, split)


def _fashion_mnist(opts: dict) -> Dataset:
    path = opts.pop("path", None)
    _no_options("fashion-mnist", opts)
    if path is None:
        found = [p for p in FASHION_MNIST_DIRS if Path(p).is_dir()]
        if not found:
            raise DatasetError(
                "fashion-mnist is not installed: install the Debian package "
                "'dataset-fashion-mnist' (sudo apt-get install dataset-fashion-mnist) or name a "
                "folder of IDX files with fashion-mnist:path=/your/folder")
        path = found[0]
    return _idx_folder("fashion-mnist", Path(path), "Fashion-MNIST, 28x28, official 60k/10k split")


def _mnist(opts: dict) -> Dataset:
    path = opts.pop("path", None)
    _no_options("mnist", opts)
    if path is None:
        raise DatasetError("mnist is not bundled: name a folder holding its IDX files with "
                           "mnist:path=/your/folder")
    return _idx_folder("mnist", Path(path), "MNIST from a local folder, official 60k/10k split")


MARGINALS = {
    "balanced": lambda k: np.ones(k),
    "skewed": lambda k: 0.6 ** np.arange(k),
}


def _synthetic(opts: dict) -> Dataset:
    try:
        classes = int(opts.pop("classes", 10))
        n = int(opts.pop("n", 2000))
        dim = int(opts.pop("dim", 32))
        seed = int(opts.pop("seed", 0))
        spread = float(opts.pop("spread", 1.0))
    except ValueError as exc:
        raise DatasetError(f"synthetic: bad option value ({exc})") from exc
    marginal = opts.pop("marginal", "balanced")
    _no_options("synthetic", opts)
    if not 2 <= classes <= 1000 or not 10 <= n <= 10_000_000 or not 1 <= dim <= 100_000:
        raise DatasetError("synthetic: need 2 <= classes <= 1000, 10 <= n, 1 <= dim")
    if marginal in MARGINALS:
        weights = MARGINALS[marginal](classes)
    else:
        try:
            weights = np.array([float(w) for w in marginal.split("/")])
        except ValueError as exc:
            raise DatasetError("synthetic: marginal is 'balanced', 'skewed' or weights like "
                               "'3/1/1'") from exc
        if len(weights) != classes or (weights < 0).any() or weights.sum() <= 0:
            raise DatasetError(f"synthetic: marginal needs {classes} non-negative weights")
    weights = weights / weights.sum()
    counts = np.floor(weights * n).astype(int)
    counts[np.argsort(-(weights * n - counts))[: n - counts.sum()]] += 1
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(classes, dim))
    y = np.repeat(np.arange(classes), counts)
    X = centres[y] + spread * rng.normal(0.0, 0.5, size=(n, dim))
    perm = rng.permutation(n)
    name = f"synthetic:classes={classes},n={n},dim={dim},marginal={marginal},seed={seed}"
    return _finish(name, X[perm], y[perm],
                   {"source": "synthetic", "classes": classes, "n": n, "dim": dim,
                    "marginal": marginal, "seed": seed, "spread": spread},
                   f"Gaussian class clusters, {classes} classes, {marginal} marginal")


def _npz(path: Path) -> Dataset:
    if not path.is_file():
        raise DatasetError(f"dataset file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"X", "y"} - set(data.files)
            if missing:
                raise DatasetError(f"{path} lacks array(s) {sorted(missing)}: an .npz dataset "
                                   "needs X (N, d) and y (N,)")
            X, y = data["X"], data["y"]
    except DatasetError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: object arrays would need pickle
        raise DatasetError(f"cannot read {path} as an .npz of numeric arrays: {exc}") from exc
    X = X.reshape(len(X), -1) if X.ndim > 2 else X
    return _finish(f"npz:{path.name}", X, y, {"source": str(path), "flatten": True},
                   f"user arrays from {path}")


def _no_options(name: str, opts: dict) -> None:
    if opts:
        raise DatasetError(f"{name}: unknown option(s) {sorted(opts)}")


LOADERS: dict[str, Callable[[dict], Dataset]] = {
    "digits": _digits,
    "fashion-mnist": _fashion_mnist,
    "mnist": _mnist,
    "synthetic": _synthetic,
}
DESCRIPTIONS = {
    "digits": "scikit-learn's bundled handwritten digits (1797 x 64), always available",
    "fashion-mnist": "Fashion-MNIST (70000 x 784) from Debian's dataset-fashion-mnist or a folder",
    "mnist": "MNIST from a folder of IDX files you already have (mnist:path=...)",
    "synthetic": "Gaussian clusters: synthetic:classes=10,n=2000,dim=32,marginal=balanced|skewed",
    "<file>.npz": "your own arrays X (N, d) and y (N,)",
}


def parse_spec(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    opts = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise DatasetError(f"dataset option {item!r} is not key=value")
        opts[key.strip()] = value.strip()
    return name.strip(), opts


_CACHE: dict[str, Dataset] = {}


def load_dataset(spec: str) -> Dataset:
    """Load a dataset by spec string (cached per process: datasets are immutable)."""
    if spec in _CACHE:
        return _CACHE[spec]
    if spec.endswith(".npz") or os.sep in spec and not spec.split(":")[0] in LOADERS:
        ds = _npz(Path(spec).expanduser())
    else:
        name, opts = parse_spec(spec)
        if name not in LOADERS:
            raise DatasetError(f"unknown dataset {name!r}; choose one of "
                               f"{', '.join(LOADERS)} or a path to an .npz file")
        ds = LOADERS[name](opts)
    for arr in (ds.X, ds.y, ds.train_idx, ds.test_idx):
        arr.setflags(write=False)
    _CACHE[spec] = ds
    return ds


def available_datasets() -> dict[str, str]:
    return dict(DESCRIPTIONS)
