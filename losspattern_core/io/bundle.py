"""Construction bundles: a folder anyone can verify with plain PyTorch (see bundle-format.md).

Nothing from a bundle is executed or unpickled: JSON, safetensors and ``np.load(...,
allow_pickle=False)`` only. A bundle is written into a temporary sibling folder and renamed
into place at the end, so an interrupted export leaves no half-written bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.networks import build
from losspattern_core.surface import Direction

FORMAT = "losspattern.construction"
VERSION = 1
FILES = ("construction.json", "weights.safetensors", "split.npz", "target.npy",
         "surface_train.npy", "surface_test.npy", "metrics.json", "README.txt")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("losspattern")
    except PackageNotFoundError:  # running from a source tree
        pkg = "source"
    return {"torch": torch.__version__, "numpy": np.__version__, "losspattern": pkg}


def construction_json(con) -> dict:
    r, cfg = con.resolved, con.config
    ds = r.dataset
    return {
        "format": f"{FORMAT}/{VERSION}",
        "theorem": cfg.theorem,
        "z": cfg.z,
        "network": {"layers": con.layers},
        "heads": con.heads,
        "classes": ds.classes,
        "loss": cfg.loss,
        "directions": [d.to_json() for d in con.directions],
        "alpha_range": [list(map(float, a)) for a in con.alpha_range],
        "grid": cfg.grid,
        "pattern": {"source": r.pattern.source, "name": r.pattern.name,
                    "description": r.pattern.description,
                    "loss_low": r.loss_range.low, "loss_high": r.loss_range.high},
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
                "d = load_digits(); X, Y = d.data * %r, d.target" % feats["scale"]]
    if feats.get("source", "").startswith("/") and feats.get("flatten") and "scale" in feats:
        return ["import gzip; r = lambda f, o: np.frombuffer(gzip.open(%r + f).read(), np.uint8, offset=o)"
                % (feats["source"].rstrip("/") + "/"),
                "X = np.concatenate([r('/train-images-idx3-ubyte.gz', 16), r('/t10k-images-idx3-ubyte.gz', 16)]).reshape(-1, 784) / 255.0",
                "Y = np.concatenate([r('/train-labels-idx1-ubyte.gz', 8), r('/t10k-labels-idx1-ubyte.gz', 8)])"]
    return [f"X, Y = ...  # load dataset {name!r} in its canonical order, features {feats}"]


def readme_text(meta: dict) -> str:
    script = [
        "import json, numpy as np, torch",
        "from safetensors.torch import load_file",
        "c = json.load(open('construction.json'))",
        "class Sin(torch.nn.Module):",
        "    def __init__(s, w0): super().__init__(); s.w0 = w0",
        "    def forward(s, x): return torch.sin(s.w0 * x)",
        "act = lambda l: Sin(l['w0']) if l['name'] == 'sin' else {'relu': torch.nn.ReLU, 'tanh': torch.nn.Tanh, 'gelu': torch.nn.GELU}[l['name']]()",
        "net = torch.nn.Sequential(*[torch.nn.Linear(l['in'], l['out']) if l['type'] == 'linear' else act(l) for l in c['network']['layers']])",
        "net.load_state_dict(load_file('weights.safetensors'))",
        *_dataset_lines(meta),
        "idx = np.load('split.npz')['train_idx']",
        "X, y = torch.tensor(X[idx], dtype=torch.float32), torch.tensor(Y[idx], dtype=torch.long)",
        "def loss_at(alpha):  # one coefficient per direction",
        "    p = {k: v.clone() for k, v in net.state_dict().items()}",
        "    for a, d in zip(alpha, c['directions']): p[d['param']].view(-1)[d['index']] += a * d['scale']",
        "    out = torch.func.functional_call(net, p, (X,)).view(len(y), c['heads'], c['classes'])",
        "    if c['loss'] == 'mse': return [((out[:, h] - torch.nn.functional.one_hot(y, c['classes'])) ** 2).sum(1).mean().item() for h in range(c['heads'])]",
        "    return [torch.nn.functional.cross_entropy(out[:, h], y).item() for h in range(c['heads'])]",
        "G, S = c['grid'], np.load('surface_train.npy')",
        "ij = [G // 3] * len(c['directions'])  # any grid point; or call loss_at with any alpha",
        "alpha = [lo + (hi - lo) * i / (G - 1) for (lo, hi), i in zip(c['alpha_range'], ij)]",
        "print('recomputed', loss_at(alpha), 'stored', S[(Ellipsis, *ij)].ravel().tolist())",
    ]
    return (
        f"LossPattern construction bundle (Theorem {meta['theorem']}, z = {meta['z']}).\n\n"
        f"theta_0 is weights.safetensors, the state_dict of the torch.nn.Sequential listed in\n"
        f"construction.json; direction i adds alpha_i * scale to one scalar of the parameter it\n"
        f"names. target.npy is the pattern T in loss units on the {meta['grid']}^z grid;\n"
        f"surface_train.npy / surface_test.npy are the network's measured mean loss over every\n"
        f"sample of the split (split.npz), on the same grid. metrics.json compares them.\n\n"
        f"Verify with plain PyTorch (run in this folder; prints the recomputed and stored loss):\n\n"
        + "\n".join(script) + "\n\nOr: losspattern verify <this folder>\n")


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise LossPatternError(f"{out} already exists: choose another --out or pass --overwrite")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise LossPatternError(f"cannot create folder {parent}: {exc.strerror}") from exc
    if not os.access(parent, os.W_OK):
        raise LossPatternError(f"cannot write to {parent}: permission denied")


def save_bundle(out: str | os.PathLike, con, measurement, metrics: dict,
                overwrite: bool = False) -> Path:
    """Write the bundle atomically (temporary sibling folder, then rename)."""
    from safetensors.torch import save_file

    out = Path(out)
    _check_out(out, overwrite)
    meta = construction_json(con)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent or "."))
    except OSError as exc:
        raise LossPatternError(f"cannot write to {out.parent}: {exc.strerror}") from exc
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in con.model.state_dict().items()}
        save_file(state, str(tmp / "weights.safetensors"))
        ds = con.resolved.dataset
        np.savez(tmp / "split.npz", train_idx=ds.train_idx.astype(np.int64),
                 test_idx=ds.test_idx.astype(np.int64))
        np.save(tmp / "target.npy", con.target)
        for split in ("train", "test"):
            np.save(tmp / f"surface_{split}.npy", measurement.surfaces[split])
        (tmp / "construction.json").write_text(json.dumps(meta, indent=2))
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))
        (tmp / "README.txt").write_text(readme_text(meta))
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise LossPatternError(f"could not write the bundle to {out}: {exc}") from exc
        raise
    return out


@dataclass
class Bundle:
    path: Path
    meta: dict
    model: torch.nn.Sequential
    directions: list[Direction]
    alpha_range: list[list[float]]
    target: np.ndarray
    surfaces: dict[str, np.ndarray]
    train_idx: np.ndarray
    test_idx: np.ndarray
    metrics: dict = field(default_factory=dict)

    @property
    def heads(self) -> int:
        return int(self.meta.get("heads", 1))

    @property
    def classes(self) -> int:
        return int(self.meta["classes"])


def _require(meta: dict, key: str, kind, path: Path):
    if key not in meta:
        raise BundleError(f"{path}: construction.json lacks the key {key!r}")
    if not isinstance(meta[key], kind):
        raise BundleError(f"{path}: construction.json key {key!r} has the wrong type")
    return meta[key]


def _npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise BundleError(f"{path.parent}: missing {path.name}") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: not a readable numeric .npy/.npz file ({exc})") from exc


def load_bundle(path: str | os.PathLike) -> Bundle:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path} is not a bundle folder (it does not exist or is a file)")
    cj = path / "construction.json"
    try:
        meta = json.loads(cj.read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: missing construction.json") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{cj}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise BundleError(f"{cj}: expected a JSON object")
    fmt = _require(meta, "format", str, path)
    name, _, ver = fmt.partition("/")
    if name != FORMAT or not ver.isdigit():
        raise BundleError(f"{cj}: format {fmt!r} is not a LossPattern construction")
    if int(ver) > VERSION:
        raise BundleError(f"{cj}: format version {ver} is newer than this LossPattern reads "
                          f"(up to {VERSION}); upgrade LossPattern")
    layers = _require(_require(meta, "network", dict, path), "layers", list, path)
    dirs = _require(meta, "directions", list, path)
    grid = _require(meta, "grid", int, path)
    classes = _require(meta, "classes", int, path)
    heads = int(meta.get("heads", 1))
    alpha_range = _require(meta, "alpha_range", list, path)
    if len(alpha_range) != len(dirs) or not dirs:
        raise BundleError(f"{cj}: {len(dirs)} directions but {len(alpha_range)} alpha ranges")
    try:
        model = build(layers)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{cj}: malformed network.layers ({exc})") from exc
    try:
        state = load_file(str(path / "weights.safetensors"))
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: missing weights.safetensors") from exc
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError(f"{path / 'weights.safetensors'}: unreadable ({exc})") from exc
    expected = model.state_dict()
    if set(state) != set(expected):
        raise BundleError(f"{path / 'weights.safetensors'}: keys {sorted(state)} do not match "
                          f"the network's {sorted(expected)}")
    for k, v in state.items():
        if v.shape != expected[k].shape:
            raise BundleError(f"{path / 'weights.safetensors'}: {k} has shape {tuple(v.shape)}, "
                              f"network.layers needs {tuple(expected[k].shape)}")
    model.load_state_dict(state)
    model.eval()
    last = [l for l in layers if l.get("type") == "linear"][-1]
    if last["out"] != heads * classes:
        raise BundleError(f"{cj}: last layer has {last['out']} outputs, heads x classes is "
                          f"{heads * classes}")
    try:
        directions = [Direction(str(d["param"]), int(d["index"]), float(d.get("scale", 1.0)))
                      for d in dirs]
        for d in directions:
            d.delta(model)
    except (KeyError, TypeError, ValueError, LossPatternError) as exc:
        raise BundleError(f"{cj}: malformed directions ({exc})") from exc
    z = len(directions)
    shape = ((heads,) if heads > 1 else ()) + (grid,) * z
    arrays = {}
    for name in ("target", "surface_train", "surface_test"):
        arr = _npy(path / f"{name}.npy")
        if arr.shape != shape:
            raise BundleError(f"{path / (name + '.npy')}: shape {arr.shape}, expected {shape}")
        arrays[name] = arr
    split = _npy(path / "split.npz")
    try:
        train_idx, test_idx = split["train_idx"], split["test_idx"]
    except KeyError as exc:
        raise BundleError(f"{path / 'split.npz'}: needs train_idx and test_idx") from exc
    metrics = {}
    if (path / "metrics.json").exists():
        try:
            metrics = json.loads((path / "metrics.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise BundleError(f"{path / 'metrics.json'}: not valid JSON ({exc})") from exc
    return Bundle(path, meta, model, directions, [list(map(float, a)) for a in alpha_range],
                  arrays["target"], {"train": arrays["surface_train"], "test": arrays["surface_test"]},
                  train_idx.astype(np.int64), test_idx.astype(np.int64), metrics)
