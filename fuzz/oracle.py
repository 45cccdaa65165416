"""Independent checks of what the program accepted: written without LossPattern's loaders
(stdlib JSON, numpy, safetensors, plain torch), so a validation bug cannot hide itself.

Each oracle returns None when the acceptance is correct, else a sentence saying what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

TOL = 1e-3  # loss units: recomputed vs stored (float32 network, float64 sums)


def _strict_json(path: Path):
    def refuse(text):
        raise ValueError(f"non-finite {text}")
    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=refuse)


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data / 16.0, d.target


def _mlp(layers: list[dict]):
    import torch

    class Sin(torch.nn.Module):
        def __init__(self, w0):
            super().__init__()
            self.w0 = w0

        def forward(self, x):
            return torch.sin(self.w0 * x)

    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}
    mods = []
    for spec in layers:
        if spec["type"] == "linear":
            mods.append(torch.nn.Linear(spec["in"], spec["out"]))
        elif spec["name"] == "sin":
            mods.append(Sin(spec.get("w0", 1.0)))
        else:
            mods.append(acts[spec["name"]]())
    return torch.nn.Sequential(*mods)


def _recompute(folder: Path, meta: dict, stored: np.ndarray, compare: bool,
               points: int = 3) -> str | None:
    """Mean train loss at a few grid points with plain torch: finite, and (``compare``)
    equal to the stored surface."""
    import torch
    from safetensors.torch import load_file

    if meta["dataset"]["name"] != "digits" or any(
            spec["type"] not in ("linear", "activation") for spec in meta["network"]["layers"]):
        return None  # only digits has an independent loader here, and only MLPs a builder
    X, Y = _digits()
    net = _mlp(meta["network"]["layers"])
    net.load_state_dict(load_file(str(folder / "weights.safetensors")))
    idx = np.load(folder / "split.npz")["train_idx"]
    x = torch.tensor(X[idx], dtype=torch.float32)
    y = torch.tensor(Y[idx], dtype=torch.long)
    heads, classes, grid = meta.get("heads", 1), meta["classes"], meta["grid"]
    rng = np.random.default_rng(1)
    for _ in range(points):
        ij = [int(v) for v in rng.integers(0, grid, len(meta["directions"]))]
        p = {k: v.clone() for k, v in net.state_dict().items()}
        for (lo, hi), i, d in zip(meta["alpha_range"], ij, meta["directions"], strict=True):
            a = lo + (hi - lo) * i / (grid - 1)
            p[d["param"]].view(-1)[d["index"]] += a * d.get("scale", 1.0)
        with torch.no_grad():
            out = torch.func.functional_call(net, p, (x,)).view(len(y), heads, classes)
            if meta["loss"] == "mse":
                one = torch.nn.functional.one_hot(y, classes).float()
                loss = [((out[:, h] - one) ** 2).sum(1).mean().item() for h in range(heads)]
            else:
                loss = [torch.nn.functional.cross_entropy(out[:, h].double(), y).item()
                        for h in range(heads)]
        want = stored[(slice(None), *ij)] if heads > 1 else stored[tuple(ij)]
        got = np.array(loss if heads > 1 else loss[0])
        if not np.isfinite(got).all():
            return f"plain torch gives non-finite losses {got} at grid point {ij}"
        if compare and not np.all(np.abs(got - want) <= TOL * np.maximum(1.0, np.abs(got))):
            return f"stored loss {want} at grid point {ij} but plain torch gives {got}"
    return None


def check_bundle(folder: Path, mode: str = "compare") -> str | None:
    """A bundle is sound: strict JSON, checksums, finite float arrays of the right shape,
    finite weights, in-range split, and (digits) losses recomputed with plain torch that are
    finite (``mode`` "run") and equal to the stored surface ("compare": what verify claims)."""
    try:
        meta = _strict_json(folder / "construction.json")
        if meta["format"] not in ("losspattern.construction/1", "losspattern.construction/2"):
            return f"accepted format {meta['format']!r} that this oracle cannot check"
        pictures = mode == "pictures"  # what read_bundle_arrays reads: JSON and the arrays
        for name, digest in (meta.get("checksums") or {}).items():
            if pictures and not name.endswith(".npy"):
                continue
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                return f"{name} does not match its recorded checksum"
        if not pictures:
            _strict_json(folder / "metrics.json")
        z, heads, grid = len(meta["directions"]), meta.get("heads", 1), meta["grid"]
        shape = ((heads,) if heads > 1 else ()) + (grid,) * z
        arrays = {}
        for name in ("target", "surface_train", "surface_test"):
            arr = np.load(folder / f"{name}.npy", allow_pickle=False)
            if arr.dtype.kind != "f" or arr.shape != shape or not np.isfinite(arr).all():
                return f"{name}.npy is {arr.dtype} {arr.shape} (want float {shape}, finite)"
            arrays[name] = arr
        for a in meta["alpha_range"]:
            if not all(math.isfinite(v) for v in a) or not a[0] < a[1]:
                return f"alpha_range {a} accepted"
        if pictures:
            return None
        split = np.load(folder / "split.npz", allow_pickle=False)
        for key in ("train_idx", "test_idx"):
            idx = split[key]
            if idx.dtype.kind not in "iu" or idx.ndim != 1 or len(np.unique(idx)) != len(idx):
                return f"split {key} is {idx.dtype} {idx.shape} or repeats indices"
        from safetensors.numpy import load_file

        for key, t in load_file(str(folder / "weights.safetensors")).items():
            if t.dtype.kind == "f" and not np.isfinite(t).all():
                return f"weights {key} hold non-finite values"
        if mode == "none":
            return None
        return _recompute(folder, meta, arrays["surface_train"], mode == "compare")
    except Exception as exc:  # the oracle's own reading failed: the bundle is unsound
        return f"independent check failed: {type(exc).__name__}: {str(exc)[:120]}"


def bundle_oracle(rel: str, mode: str = "compare"):
    def oracle(case, folder: Path, stdout: str) -> str | None:
        return check_bundle(folder / rel, mode)
    return oracle


def measure_oracle(case, folder: Path, stdout: str) -> str | None:
    """``measure --out m.npy`` wrote a finite float32 surface of the bundle's heads/z."""
    problem = check_bundle(folder / "b", "run")
    if problem:
        return problem
    out = folder / "m.npy"
    if not out.is_file():
        return None  # no --out given: printing levels is all
    arr = np.load(out, allow_pickle=False)
    if arr.dtype != np.float32 or not np.isfinite(arr).all():
        return f"m.npy is {arr.dtype} with non-finite values"
    return None


def printed_ok(case, folder: Path, stdout: str) -> str | None:
    """A ``fuzz.entry`` loader accepted the input and found what it returned sound."""
    lines = stdout.strip().splitlines()
    return None if lines and lines[-1] == "ok" else (lines[-1] if lines else "no verdict")


ORACLES = {
    "printed-ok": printed_ok,
    "bundle": bundle_oracle("out"),
    "verified": bundle_oracle("b", "compare"),
    "source": bundle_oracle("b", "run"),
    "pictures": bundle_oracle("b", "pictures"),
    "measure": measure_oracle,
}
