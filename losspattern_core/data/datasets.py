"""Datasets by name, with a deterministic train/test split and their label marginal.

A dataset spec is a string ``name`` or ``name:key=value,key=value`` (for example
``synthetic:classes=10,marginal=skewed`` or ``fashion-mnist:path=/data/fmnist``); the folder
datasets also take ``name:PATH`` (``cifar10:/data/cifar-10-batches-bin``). A path to an ``.npz``
file (arrays ``X`` and ``y``) or to a folder of MNIST IDX files or CIFAR-10 binary batches is a
dataset too. Image datasets record their sample shape (``features["shape"]``, [C, H, W]): the
conv families see images, an MLP the flat rows. Nothing is downloaded and nothing from a file
is unpickled.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from losspattern_core.data.dataset_files import idx_folder_arrays, npz_arrays
from losspattern_core.data.image_formats import cifar10_folder_arrays, folder_format
from losspattern_core.errors import DatasetError
from losspattern_core.io.limits import check_memory

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
SPLIT_SEED = 20191216  # fixed: a dataset's split never changes between runs
MAX_CLASSES = 100_000
MAX_SPEC = 4096        # characters of a dataset spec
MAX_SEED = 2**63 - 1


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
    """Check the arrays (shapes, label range, finite float32 features), split, wrap."""
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or X.shape[1] < 1:
        raise DatasetError(f"{name}: expected X of shape (N, d) and y of shape (N,), got "
                           f"{X.shape} and {y.shape}")
    if len(y) < 4:
        raise DatasetError(f"{name}: needs at least 4 samples, has {len(y)}")
    if y.dtype.kind not in "iu":
        raise DatasetError(f"{name}: labels y must be non-negative integers, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= MAX_CLASSES:
        raise DatasetError(f"{name}: labels must be class numbers 0..{MAX_CLASSES - 1}, found "
                           f"{y.min()}..{y.max()}")
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"{name}: X must hold real numbers, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise DatasetError(f"{name}: X contains NaN or infinite values")
    with np.errstate(over="ignore"):
        X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise DatasetError(f"{name}: X has values beyond float32's range (|x| > 3.4e38)")
    y = y.astype(np.int64)
    classes = int(y.max()) + 1
    if classes < 2:
        raise DatasetError(f"{name}: needs at least 2 classes, found {classes}")
    train, test = split if split is not None else stratified_split(y, classes)
    for which, idx in (("train", train), ("test", test)):
        if not len(idx):
            raise DatasetError(f"{name}: the {which} split is empty ({len(y)} samples in "
                               f"{classes} classes): each class needs samples in both splits")
    return Dataset(name, X, y, classes, train, test, features, description)


# --- loaders -------------------------------------------------------------------------------

def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(data, target) exactly as ``sklearn.datasets.load_digits`` gives them, read straight
    from the file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``): importing
    ``sklearn.datasets`` (and SciPy with it) costs ~2 s of every start that loads digits.
    Falls back to ``load_digits`` where that file is not found."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")       # locates the package, imports nothing
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            try:
                with gzip.open(path, "rt") as fh:
                    data = np.loadtxt(fh, delimiter=",", ndmin=2)
            except (OSError, ValueError, EOFError) as exc:
                raise DatasetError(f"digits: scikit-learn's data file {path} is unreadable "
                                   f"({exc}); reinstall scikit-learn") from exc
            if data.shape != (1797, 65):
                raise DatasetError(f"digits: scikit-learn's data file {path} holds a "
                                   f"{data.shape[0]} x {data.shape[1]} table, not 1797 x 65; "
                                   "reinstall scikit-learn")
            return data[:, :-1], data[:, -1].astype(int, copy=False)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise DatasetError("digits needs scikit-learn (pip install scikit-learn)") from exc
    d = load_digits()
    return d.data, d.target


def _digits(opts: dict) -> Dataset:
    _no_options("digits", opts)
    data, target = _digits_arrays()
    return _finish("digits", data / 16.0, target,
                   {"source": "sklearn.datasets.load_digits", "scale": 0.0625, "flatten": True},
                   "scikit-learn's 1797 handwritten digits, 8x8, scaled to [0, 1]")


def _idx_folder(name: str, folder: Path, description: str) -> Dataset:
    X, y, n_train, shape = idx_folder_arrays(name, folder)
    split = (np.arange(n_train), np.arange(n_train, len(y)))  # the official split
    return _finish(name, X, y, {"source": str(folder), "scale": 1 / 255.0, "flatten": True,
                                "shape": shape}, description, split)


def _cifar10(opts: dict) -> Dataset:
    path = opts.pop("path", None)
    _no_options("cifar10", opts)
    if path is None:
        raise DatasetError("cifar10 is not bundled: name the folder of its binary batches "
                           "(data_batch_1.bin .. data_batch_5.bin, test_batch.bin) with "
                           "cifar10:/your/cifar-10-batches-bin")
    folder = Path(path).expanduser()
    X, y, n_train = cifar10_folder_arrays("cifar10", folder)
    split = (np.arange(n_train), np.arange(n_train, len(y)))  # the official split
    # no "flatten"/"scale" keys: those describe IDX files to the bundle's README script
    return _finish("cifar10", X, y, {"source": str(folder), "format": "cifar10-binary",
                                     "shape": [3, 32, 32], "pixel_scale": 1 / 255.0},
                   f"CIFAR-10 binary batches from {folder}, 3x32x32, official 50k/10k split",
                   split)


def _folder(folder: Path) -> Dataset:
    """A dataset folder named by its path: MNIST-style IDX files or CIFAR-10 binary batches."""
    if folder_format(folder) == "cifar10":
        return _cifar10({"path": str(folder)})
    return _idx_folder(f"idx:{folder.name}", folder, f"IDX images from {folder}")


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


def _int_opt(opts: dict, key: str, default: int, lo: int, hi: int) -> int:
    text = str(opts.pop(key, default)).strip()
    if len(text.lstrip("+-")) > 20:
        raise DatasetError(f"synthetic: {key}={text[:24]}... has too many digits")
    try:
        value = int(text)
    except ValueError as exc:
        raise DatasetError(f"synthetic: {key}={text!r} is not an integer") from exc
    if not lo <= value <= hi:
        raise DatasetError(f"synthetic: {key}={value} is outside {lo}..{hi}")
    return value


def _marginal(marginal: str, classes: int) -> np.ndarray:
    if marginal in MARGINALS:
        return MARGINALS[marginal](classes)
    try:
        weights = np.array([float(w) for w in marginal.split("/")])
    except ValueError as exc:
        raise DatasetError("synthetic: marginal is 'balanced', 'skewed' or weights like "
                           "'3/1/1'") from exc
    if len(weights) != classes or not np.isfinite(weights).all() or (weights < 0).any():
        raise DatasetError(f"synthetic: marginal needs {classes} finite non-negative weights, "
                           f"got {marginal[:60]!r}")
    with np.errstate(over="ignore"):
        total = weights.sum()
    if not (np.isfinite(total) and total > 0) or weights.max() > 1e12:
        raise DatasetError(f"synthetic: marginal weights {marginal[:60]!r} must be at most 1e12 "
                           "each with a positive sum")
    return weights


def _synthetic(opts: dict) -> Dataset:
    """Gaussian class clusters; every option checked and the memory estimated first."""
    classes = _int_opt(opts, "classes", 10, 2, 1000)
    n = _int_opt(opts, "n", 2000, 10, 10_000_000)
    dim = _int_opt(opts, "dim", 32, 1, 100_000)
    seed = _int_opt(opts, "seed", 0, 0, MAX_SEED)
    try:
        spread = float(opts.pop("spread", 1.0))
    except ValueError as exc:
        raise DatasetError("synthetic: spread must be a number") from exc
    if not (math.isfinite(spread) and 0 <= spread <= 1e6):
        raise DatasetError(f"synthetic: spread={spread} must be a number in [0, 1e6]")
    marginal = opts.pop("marginal", "balanced")
    _no_options("synthetic", opts)
    check_memory(3 * 8 * n * dim, f"synthetic data of {n} x {dim} values", DatasetError,
                 "Use a smaller n or dim")
    weights = _marginal(marginal, classes)
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
    X, y, shape = npz_arrays(path)
    features = {"source": str(path), "flatten": True}
    if shape is not None:
        features["shape"] = shape
    return _finish(f"npz:{path.name}", X, y, features, f"user arrays from {path}"
                   + (f" (images {'x'.join(map(str, shape))})" if shape else ""))


def _no_options(name: str, opts: dict) -> None:
    if opts:
        raise DatasetError(f"{name}: unknown option(s) {sorted(opts)}")


LOADERS: dict[str, Callable[[dict], Dataset]] = {
    "digits": _digits,
    "fashion-mnist": _fashion_mnist,
    "mnist": _mnist,
    "cifar10": _cifar10,
    "synthetic": _synthetic,
}
PATH_DATASETS = ("fashion-mnist", "mnist", "cifar10")   # ``name:PATH`` means name:path=PATH
DESCRIPTIONS = {
    "digits": "scikit-learn's bundled handwritten digits (1797 x 64), always available",
    "fashion-mnist": "Fashion-MNIST (70000 x 784) from Debian's dataset-fashion-mnist or a folder",
    "mnist": "MNIST from a folder of IDX files you already have (mnist:path=...)",
    "cifar10": "CIFAR-10 binary batches from a folder you already have (cifar10:PATH)",
    "synthetic": "Gaussian clusters: synthetic:classes=10,n=2000,dim=32,marginal=balanced|skewed",
    "<file>.npz": "your own arrays X (N, d), (N, H, W) or (N, C, H, W) and y (N,)",
    "<folder>": "a folder of MNIST IDX files or of CIFAR-10 binary batches",
}


def parse_spec(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    if name.strip() in PATH_DATASETS and rest.strip() and "=" not in rest:
        return name.strip(), {"path": rest.strip()}
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
    if not isinstance(spec, str) or not spec.strip() or len(spec) > MAX_SPEC or "\x00" in spec:
        raise DatasetError(f"dataset spec {str(spec)[:60]!r} is empty, too long or not text")
    if spec in _CACHE:
        return _CACHE[spec]
    if spec.split(":")[0] not in LOADERS and Path(spec).expanduser().is_dir():
        ds = _folder(Path(spec).expanduser())
    elif spec.endswith(".npz") or os.sep in spec and spec.split(":")[0] not in LOADERS:
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
