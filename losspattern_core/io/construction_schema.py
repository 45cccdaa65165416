"""The schema of ``construction.json`` (formats 1 and 2, bundle-format.md) and ``metrics.json``.

``validate_construction`` checks the whole document (types, ranges, sizes, and the rules that
tie keys together: one alpha range per direction, label counts per class, the network's output
equal to heads x classes, one-hot directions inside the parameter they name) before any of it
is used, and returns what loading needs next (the network's parameter shapes, z, heads).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from losspattern_core.io.network_schema import (
    LAYERS_1,
    LAYERS_2,
    MAX_LAYERS,
    MAX_UNITS,
    NetworkInfo,
    network_info,
)
from losspattern_core.io.schema import (
    AnyJSON,
    Bool,
    Const,
    Float,
    Int,
    List,
    Obj,
    SchemaError,
    Str,
    Tagged,
    check,
)

FORMAT = "losspattern.construction"
READ_VERSIONS = (1, 2)
MAX_Z = 8
MAX_GRID = 65536
MAX_POINTS = 64_000_000    # grid^z
MAX_CLASSES = 100_000
MAX_HEADS = 64
MAX_ALPHA = 1e6
METHODS = ("theorem1", "theorem2", "explore", "mpo")
CHECKSUM = re.compile(r"[0-9a-f]{64}")
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")

_count = Int(0, 2**40)
_counts = List(_count, 2, MAX_CLASSES)
_alpha = Float(-MAX_ALPHA, MAX_ALPHA)
ONE_HOT = Obj({"param": Str(256), "index": Int(0, 2**40)}, {"scale": Float(-1e6, 1e6)})
DENSE = Obj({"dense": Const(True)}, {"norm": Float(0, 1e12), "kind": Str(64)}, extra=True)


def _dense_or_one_hot(fmt: int):
    if fmt == 1:
        return ONE_HOT
    return Tagged("dense", {True: DENSE, None: ONE_HOT}, "direction kind")


def _pattern_rule(p: dict, where: str) -> None:
    if not p["loss_low"] < p["loss_high"]:
        raise SchemaError(f"{where}: loss_low {p['loss_low']:g} is not below loss_high "
                          f"{p['loss_high']:g}")


PATTERN = Obj({"source": Str(), "name": Str(), "loss_low": Float(-1e6, 1e6),
               "loss_high": Float(-1e6, 1e6)}, {"description": Str(), "mask": Str(128)},
              extra=True, rule=_pattern_rule)
DATASET = Obj({"name": Str(), "features": AnyJSON(dict), "n_train": _count, "n_test": _count,
               "label_counts_train": _counts, "label_counts_test": _counts}, extra=True)


def _checksums_rule(c: dict, where: str) -> None:
    for name, digest in c.items():
        if not FILE_NAME.fullmatch(name) or name == "construction.json":
            raise SchemaError(f"{where}: {name[:60]!r} is not a file name of the bundle")
        if type(digest) is not str or not CHECKSUM.fullmatch(digest):
            raise SchemaError(f"{where}.{name}: expected 64 lowercase hex digits (SHA-256)")


CHECKSUMS = Obj(extra=True, rule=_checksums_rule)
COMMON = {"heads": Int(1, MAX_HEADS), "seed": Int(-(2**63), 2**64), "device": Str(64),
          "config": AnyJSON(dict), "versions": AnyJSON(dict), "created": Str(64),
          "checksums": CHECKSUMS, "description": Str()}


def document_schema(fmt: int) -> Obj:
    """The top-level schema of format ``fmt`` (unknown top-level keys are ignored)."""
    base = {"format": Str(64), "classes": Int(2, MAX_CLASSES),
            "loss": Str(choices=("cross_entropy", "mse")),
            "directions": List(_dense_or_one_hot(fmt), 1, MAX_Z),
            "alpha_range": List(List(_alpha, 2, 2), 1, MAX_Z), "grid": Int(2, MAX_GRID),
            "dataset": DATASET}
    if fmt == 1:
        network = Obj({"layers": List(LAYERS_1, 1, MAX_LAYERS)})
        return Obj({**base, "theorem": Int(1, 2), "z": Int(1, MAX_Z), "network": network,
                    "pattern": PATTERN}, COMMON, extra=True)
    network = Obj({"input_shape": List(Int(1, MAX_UNITS), 1, 3),
                   "layers": List(LAYERS_2, 1, MAX_LAYERS)})
    return Obj({**base, "method": Str(choices=METHODS), "network": network},
               {**COMMON, "theorem": Int(1, 2), "z": Int(1, MAX_Z), "pattern": PATTERN,
                "training": AnyJSON(dict), "has_target": Bool()}, extra=True)


@dataclass(frozen=True)
class Checked:
    """A validated construction.json and what follows from it."""

    meta: dict
    version: int
    z: int
    heads: int
    classes: int
    grid: int
    network: NetworkInfo

    @property
    def surface_shape(self) -> tuple[int, ...]:
        return ((self.heads,) if self.heads > 1 else ()) + (self.grid,) * self.z

    @property
    def has_target(self) -> bool:
        return self.meta.get("method") != "explore" or bool(self.meta.get("has_target"))


def format_version(meta, label: str) -> int:
    """The format version of a document, refusing other formats and newer versions."""
    if type(meta) is not dict:
        raise SchemaError(f"{label}: expected a JSON object, got "
                          f"{'an array' if type(meta) is list else type(meta).__name__}")
    fmt = meta.get("format")
    if type(fmt) is not str:
        raise SchemaError(f"{label}: the key 'format' is missing or not a string")
    name, _, ver = fmt.partition("/")
    if name != FORMAT or not (ver.isdigit() and len(ver) <= 6):
        raise SchemaError(f"{label}: format {fmt[:60]!r} is not a LossPattern construction")
    if int(ver) > max(READ_VERSIONS):
        raise SchemaError(f"{label}: format version {int(ver)} is newer than this LossPattern "
                          f"reads (up to {max(READ_VERSIONS)}); upgrade LossPattern")
    if int(ver) not in READ_VERSIONS:
        raise SchemaError(f"{label}: format version {int(ver)} is not known")
    return int(ver)


def _cross_checks(meta: dict, fmt: int, info: NetworkInfo) -> tuple[int, int]:
    z = len(meta["directions"])
    if len(meta["alpha_range"]) != z or meta.get("z", z) != z:
        raise SchemaError(f"{z} directions but {len(meta['alpha_range'])} alpha ranges and z = "
                          f"{meta.get('z', z)}")
    for k, (lo, hi) in enumerate(meta["alpha_range"]):
        if not lo < hi:
            raise SchemaError(f"alpha_range[{k}]: low {lo:g} is not below high {hi:g}")
    if fmt == 2 and meta["method"] in ("theorem1", "theorem2", "mpo") and "pattern" not in meta:
        raise SchemaError(f"method {meta['method']} needs the key 'pattern'")
    heads, classes, grid = meta.get("heads", 1), meta["classes"], meta["grid"]
    if grid**z > MAX_POINTS:
        raise SchemaError(f"grid {grid}^{z} = {grid**z} points; at most {MAX_POINTS}")
    if info.output != (heads * classes,):
        raise SchemaError(f"network.layers: the network outputs shape {list(info.output)}, "
                          f"heads x classes is {heads * classes}")
    ds = meta["dataset"]
    for split in ("train", "test"):
        counts = ds[f"label_counts_{split}"]
        if len(counts) != classes:
            raise SchemaError(f"dataset.label_counts_{split}: {len(counts)} counts for "
                              f"{classes} classes")
        if sum(counts) != ds[f"n_{split}"]:
            raise SchemaError(f"dataset.label_counts_{split} sums to {sum(counts)}, n_{split} "
                              f"is {ds[f'n_{split}']}")
    for i, d in enumerate(meta["directions"]):
        if d.get("dense"):
            continue
        shape = info.params.get(d["param"])
        if shape is None:
            raise SchemaError(f"directions[{i}].param: {d['param'][:60]!r} is not a parameter "
                              f"of the network")
        if d["index"] >= math.prod(shape):
            raise SchemaError(f"directions[{i}].index: {d['index']} is outside {d['param']} "
                              f"({math.prod(shape)} entries)")
    return z, heads


def validate_construction(meta, label: str = "construction.json") -> Checked:
    """Check a parsed construction.json completely; raises SchemaError naming the key."""
    fmt = format_version(meta, label)
    try:
        check(document_schema(fmt), meta, "")
        layers = meta["network"]["layers"]
        if fmt == 1:
            if layers[0]["type"] != "linear" or layers[-1]["type"] != "linear":
                raise SchemaError("network.layers: format 1 networks start and end with a "
                                  "linear layer")
            shape = (layers[0]["in"],)
        else:
            shape = tuple(meta["network"]["input_shape"])
        info = network_info(layers, shape)
        z, heads = _cross_checks(meta, fmt, info)
    except SchemaError as exc:
        raise SchemaError(f"{label}: {exc}") from None
    return Checked(meta, fmt, z, heads, meta["classes"], meta["grid"], info)


METRICS = AnyJSON(dict)


def validate_metrics(doc, label: str = "metrics.json") -> dict:
    """metrics.json is free-form figures: an object (finite numbers, bounded nesting and
    integers are enforced by the parser)."""
    try:
        return check(METRICS, doc, "")
    except SchemaError as exc:
        raise SchemaError(f"{label}: {exc}") from None
