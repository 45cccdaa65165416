"""Writing construction bundles (bundle-format.md): every file into a temporary sibling folder,
the SHA-256 of each recorded in construction.json (written last), then one rename, so the
bundle appears complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from losspattern_core.errors import LossPatternError
from losspattern_core.io.atomic import commit_folder, remove_quietly, temporary_folder

FORMAT = "losspattern.construction"
VERSION = 2  # written; construction_schema.READ_VERSIONS are read (1 and 2)
FILES = ("construction.json", "weights.safetensors", "split.npz", "target.npy",
         "surface_train.npy", "surface_test.npy", "metrics.json", "README.txt")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("losspattern")
    except PackageNotFoundError:  # running from a source tree
        pkg = "source"
    return {"torch": torch.__version__, "numpy": np.__version__, "losspattern": pkg}


PATTERN_ARRAY = "pattern.npy"     # an image pattern's values in [0, 1] on a 256^2 grid
PATTERN_ARRAY_SIZE = 256          # the image reader's working resolution: its pixels exactly


def image_source(pattern) -> Path | None:
    """The image file a 2-D pattern was read from (None: a function, an array, a stack)."""
    from losspattern_core.data.pattern_files import IMAGE_SUFFIXES

    path = Path(str(pattern.source).split(":")[0]) if pattern.source else None
    if pattern.z != 2 or path is None or path.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    return path if path.is_file() else None


def pattern_source_keys(pattern) -> dict:
    """For an image pattern: its array's file name, and the provenance a PNG made in the app
    carries ("drawn", "text: WORDS", "clipboard"; text chunk ``losspattern-provenance``)."""
    path = image_source(pattern)
    if path is None:
        return {}
    keys = {"array": PATTERN_ARRAY}
    try:
        from PIL import Image

        with Image.open(path) as im:
            said = getattr(im, "text", {}).get("losspattern-provenance")
    except (OSError, ValueError):
        said = None
    if said:
        keys["provenance"] = str(said)[:200]
    return keys


def construction_json(con) -> dict:
    r, cfg = con.resolved, con.config
    ds = r.dataset
    return {
        "format": f"{FORMAT}/{VERSION}",
        "method": f"theorem{cfg.theorem}",
        "theorem": cfg.theorem,
        "z": cfg.z,
        "network": {"input_shape": r.network.input_spec(), "layers": con.layers},
        "architecture": r.network.family,
        "evaluated_in": "eval mode (BatchNorm uses its stored running statistics)",
        "heads": con.heads,
        "classes": ds.classes,
        "loss": cfg.loss,
        "directions": [d.to_json() for d in con.directions],
        "alpha_range": [list(map(float, a)) for a in con.alpha_range],
        "grid": cfg.grid,
        "pattern": {"source": r.pattern.source, "name": r.pattern.name,
                    "description": r.pattern.description,
                    "loss_low": r.loss_range.low, "loss_high": r.loss_range.high,
                    **pattern_source_keys(r.pattern)},
        "dataset": {"name": cfg.dataset, "features": ds.features,
                    "n_train": int(len(ds.train_idx)), "n_test": int(len(ds.test_idx)),
                    "label_counts_train": ds.label_counts("train").tolist(),
                    "label_counts_test": ds.label_counts("test").tolist()},
        "seed": cfg.seed,
        "device": cfg.device,
        "config": cfg.to_json(),
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _dataset_lines(meta: dict) -> list[str]:
    name, feats = meta["dataset"]["name"], meta["dataset"]["features"]
    if name == "digits":
        return ["from sklearn.datasets import load_digits      # dataset: digits, canonical order",
                f"d = load_digits(); X, Y = d.data * {feats['scale']!r}, d.target"]
    if feats.get("source", "").startswith("/") and feats.get("flatten") and "scale" in feats:
        return ["import gzip; r = lambda f, o: np.frombuffer(gzip.open(%r + f).read(), np.uint8, offset=o)"  # noqa: E501 (a line of the generated script)
                % (feats["source"].rstrip("/") + "/"),
                "X = np.concatenate([r('/train-images-idx3-ubyte.gz', 16), r('/t10k-images-idx3-ubyte.gz', 16)]).reshape(-1, 784) / 255.0",  # noqa: E501 (a line of the generated script)
                "Y = np.concatenate([r('/train-labels-idx1-ubyte.gz', 8), r('/t10k-labels-idx1-ubyte.gz', 8)])"]  # noqa: E501 (a line of the generated script)
    return [f"X, Y = ...  # load dataset {name!r} in its canonical order, features {feats}"]


_LAYER_LINES = {  # plain torch for each layer type the bundle may hold (bundle-format.md)
    "linear": "    if t == 'linear': return nn.Linear(l['in'], l['out'])",
    "conv2d": "    if t == 'conv2d': return nn.Conv2d(l['in'], l['out'], l['kernel'], l['stride'], "
              "l['padding'], groups=l.get('groups', 1))",
    "batchnorm2d": "    if t == 'batchnorm2d': return nn.BatchNorm2d(l['features'], eps=l['eps'])",
    "batchnorm1d": "    if t == 'batchnorm1d': return nn.BatchNorm1d(l['features'], eps=l['eps'])",
    "layernorm": "    if t == 'layernorm': return nn.LayerNorm(l['shape'], eps=l['eps'])",
    "maxpool2d": "    if t == 'maxpool2d': return nn.MaxPool2d(l['kernel'], l['stride'])",
    "avgpool2d": "    if t == 'avgpool2d': return nn.AvgPool2d(l['kernel'], l['stride'])",
    "adaptive_avgpool2d": "    if t == 'adaptive_avgpool2d': return nn.AdaptiveAvgPool2d(l['out'])",
    "flatten": "    if t == 'flatten': return nn.Flatten()",
    "residual": "    if t == 'residual': return Res(seq(l['body']), seq(l['shortcut']))",
}


def _layer_types(layers: list[dict]) -> set[str]:
    out = set()
    for layer in layers:
        out.add(layer["type"])
        if layer["type"] == "residual":
            out |= _layer_types(layer["body"]) | _layer_types(layer["shortcut"])
    return out


def readme_script(meta: dict) -> list[str]:
    """<= 40 lines of plain torch that rebuild the network (any family) and recompute the loss
    at any alpha; only the layer types this network uses are spelled out."""
    types = _layer_types(meta["network"]["layers"])
    res = ["class Res(nn.Module):  # y = body(x) + shortcut(x); an empty shortcut: identity",
           "    def __init__(s, body, shortcut): super().__init__(); s.body, s.shortcut = body, "
           "shortcut",
           "    def forward(s, x): return s.body(x) + s.shortcut(x)"] if "residual" in types else []
    return [
        "import json, numpy as np, torch",
        "from torch import nn",
        "from safetensors.torch import load_file",
        "c = json.load(open('construction.json'))",
        "class Sin(nn.Module):",
        "    def __init__(s, w0): super().__init__(); s.w0 = w0",
        "    def forward(s, x): return torch.sin(s.w0 * x)",
        *res,
        "A = {'relu': nn.ReLU, 'tanh': nn.Tanh, 'gelu': nn.GELU, 'sigmoid': nn.Sigmoid, "
        "'silu': nn.SiLU}",
        "def layer(l):",
        "    t = l['type']",
        *(_LAYER_LINES[k] for k in _LAYER_LINES if k in types),
        "    return Sin(l['w0']) if l['name'] == 'sin' else A[l['name']]()",
        "seq = lambda ls: nn.Sequential(*map(layer, ls))",
        "net = seq(c['network']['layers']); net.load_state_dict(load_file('weights.safetensors'))",
        "net.eval()  # BatchNorm uses its stored running statistics",
        *_dataset_lines(meta),
        "idx = np.load('split.npz')['train_idx']",
        "shape = c['network'].get('input_shape') or [-1]",
        "X = torch.tensor(X[idx], dtype=torch.float32).reshape(len(idx), *shape)",
        "y = torch.tensor(Y[idx], dtype=torch.long)",
        "def loss_at(alpha):  # one coefficient per direction",
        "    p = {k: v.clone() for k, v in net.state_dict().items()}",
        "    for a, d in zip(alpha, c['directions']): p[d['param']].view(-1)[d['index']] += "
        "a * d['scale']",
        "    with torch.no_grad(): out = torch.func.functional_call(net, p, (X,))",
        "    out = out.view(len(y), c['heads'], c['classes'])",
        "    if c['loss'] == 'mse': return [((out[:, h] - nn.functional.one_hot(y, c['classes'])) "
        "** 2).sum(1).mean().item() for h in range(c['heads'])]",
        "    return [nn.functional.cross_entropy(out[:, h], y).item() for h in range(c['heads'])]",
        "G, S = c['grid'], np.load('surface_train.npy')",
        "ij = [G // 3] * len(c['directions'])  # any grid point; or call loss_at with any alpha",
        "alpha = [lo + (hi - lo) * i / (G - 1) for (lo, hi), i in zip(c['alpha_range'], ij)]",
        "print('recomputed', loss_at(alpha), 'stored', S[(Ellipsis, *ij)].ravel().tolist())",
    ]


def readme_text(meta: dict) -> str:
    family = meta.get("architecture", "mlp")
    return (
        f"LossPattern construction bundle (Theorem {meta['theorem']}, z = {meta['z']}, "
        f"{family} network).\n\n"
        f"theta_0 is weights.safetensors, the state_dict of the torch.nn.Sequential listed in\n"
        f"construction.json (evaluated in eval mode: BatchNorm uses its stored running\n"
        f"statistics); direction i adds alpha_i * scale to one scalar of the parameter it\n"
        f"names. target.npy is the pattern T in loss units on the {meta['grid']}^z grid;\n"
        f"surface_train.npy / surface_test.npy are the network's measured mean loss over every\n"
        f"sample of the split (split.npz), on the same grid. metrics.json compares them.\n\n"
        f"Verify with plain PyTorch (run in this folder; prints the recomputed and stored loss):\n\n"  # noqa: E501 (a line of the generated script)
        + "\n".join(readme_script(meta)) + "\n\nOr: losspattern verify <this folder>\n")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def finite_json(value):
    """A copy of ``value`` with non-finite floats as null (JSON has no NaN; a bundle holds
    no non-finite value)."""
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    return value


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse a destination that must not be written: existing (without ``overwrite``), a
    file or a folder that is not a bundle (``overwrite`` replaces bundles only)."""
    if not str(out) or not out.name:
        raise LossPatternError(f"the output folder name {str(out)!r} is empty")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise LossPatternError(f"{out} exists and is not a folder: a bundle is never written "
                               "over a file or a link")
    if out.exists():
        if not overwrite:
            raise LossPatternError(f"{out} already exists: choose another --out or pass "
                                   "--overwrite")
        if any(out.iterdir()) and not (out / "construction.json").is_file():
            raise LossPatternError(f"{out} is a folder but not a bundle (no construction.json): "
                                   "--overwrite only replaces a bundle")
    parent = out.parent
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise LossPatternError(f"cannot create folder {parent}: {exc.strerror}") from exc
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise LossPatternError(f"cannot write to {parent}: not a writable folder")


def save_state(folder: Path, model, name: str = "weights.safetensors") -> None:
    """theta_0: the model's state_dict (buffers included) as safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              str(folder / name))


def save_dense_directions(folder: Path, directions) -> None:
    """directions.safetensors: tensor ``d{i}.{param}`` per dense direction i (bundle-format)."""
    from safetensors.torch import save_file

    save_file({f"d{i}.{k}": t.detach().cpu().contiguous() for i, d in enumerate(directions)
               if d.tensors for k, t in d.tensors.items()}, str(folder / "directions.safetensors"))


def save_split(folder: Path, train_idx, test_idx) -> None:
    np.savez(folder / "split.npz", train_idx=np.asarray(train_idx, np.int64),
             test_idx=np.asarray(test_idx, np.int64))


def commit_bundle(out: str | os.PathLike, meta: dict, write_files: Callable[[Path], None],
                  metrics: dict, overwrite: bool = False,
                  extras: Callable[[Path], None] | None = None,
                  on_commit: Callable[[Path], None] | None = None) -> Path:
    """The one atomic bundle writer: every bundle (constructions, baselines) goes through it.

    Checks the destination, then in a temporary sibling folder: ``write_files(tmp)`` (the
    arrays and tensors), ``extras(tmp)`` (a figure; it may still update ``metrics``),
    metrics.json, and construction.json last with the SHA-256 of every other file; then one
    rename puts the bundle in place (``on_commit`` runs then, before a held Ctrl+C is
    delivered). On any failure the temporary folder is removed: nothing half-written stays.
    """
    out = Path(out)
    check_out(out, overwrite)
    tmp = temporary_folder(out)
    try:
        write_files(tmp)
        if extras is not None:
            extras(tmp)
        (tmp / "metrics.json").write_text(json.dumps(finite_json(metrics), indent=2,
                                                     allow_nan=False))
        meta["checksums"] = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())
                             if p.is_file() and p.name != "construction.json"}
        (tmp / "construction.json").write_text(json.dumps(finite_json(meta), indent=2,
                                                          allow_nan=False))
        commit_folder(tmp, out, on_commit)
    except BaseException as exc:
        remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise LossPatternError(f"could not write the bundle to {out}: {exc}") from exc
        raise
    return out


def save_bundle(out: str | os.PathLike, con, measurement, metrics: dict,
                overwrite: bool = False, extras: Callable[[Path], None] | None = None,
                on_commit: Callable[[Path], None] | None = None) -> Path:
    """Write a construction's bundle atomically (``commit_bundle``).

    ``extras(tmp)`` may add files (the CLI's figure.png) before metrics.json is written, and
    may update ``metrics``; every file's SHA-256 goes into construction.json. ``on_commit``
    is called once the bundle is in place, before a held Ctrl+C is delivered.
    """
    meta = construction_json(con)
    for name, value in (("surface_train", measurement.surfaces["train"]),
                        ("surface_test", measurement.surfaces["test"]), ("target", con.target)):
        if not np.isfinite(value).all():
            raise LossPatternError(f"refusing to write {name}.npy: it holds non-finite values")

    def write_files(tmp: Path) -> None:
        save_state(tmp, con.model)
        ds = con.resolved.dataset
        save_split(tmp, ds.train_idx, ds.test_idx)
        np.save(tmp / "target.npy", con.target)
        if "array" in meta["pattern"]:   # the image the target came from (axis k = direction k)
            np.save(tmp / PATTERN_ARRAY,
                    con.resolved.pattern.grid(PATTERN_ARRAY_SIZE).astype(np.float32))
        for split in ("train", "test"):
            np.save(tmp / f"surface_{split}.npy", measurement.surfaces[split])
        (tmp / "README.txt").write_text(readme_text(meta))

    return commit_bundle(out, meta, write_files, metrics, overwrite, extras, on_commit)
