"""Hypothesis strategies for bundles: a real seed bundle with one file mutated (bytes, JSON,
arrays), replaced by a FIFO, link or huge sparse file, with checksums kept, recomputed (so the
parsers behind them are reached) or stripped (an old bundle); run through verify, measure,
transfer and the picture loader."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from hypothesis import strategies as st

from fuzz import seeds
from fuzz.mutate import mutated
from fuzz.runner import Case, Special

COMMANDS = {
    "verify": (["--threads", "1", "verify", "{dir}/b"], "verified"),
    "measure": (["--threads", "1", "measure", "{dir}/b", "--grid", "7", "--out", "{dir}/m.npy"],
                "measure"),
    "transfer": (["--threads", "1", "transfer", "{dir}/b", "--dataset", "digits"], "source"),
    "arrays": (["{dir}/b"], "pictures"),
}
ARRAY_FILES = ("target.npy", "surface_train.npy", "surface_test.npy")


def _rechecksum(files: dict[str, bytes]) -> dict[str, bytes]:
    try:
        meta = json.loads(files["construction.json"])
    except ValueError:  # the mutation broke the JSON itself: nothing to record
        return files
    if isinstance(meta, dict) and isinstance(meta.get("checksums"), dict):
        meta["checksums"] = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()
                             if k != "construction.json" and isinstance(v, bytes)}
        files["construction.json"] = json.dumps(meta).encode()
    return files


def _strip(files: dict[str, bytes]) -> dict[str, bytes]:
    try:
        meta = json.loads(files["construction.json"])
        meta.pop("checksums", None)
    except (ValueError, AttributeError):
        return files
    files["construction.json"] = json.dumps(meta).encode()
    return files


def _json_edit(draw, meta: dict) -> tuple[object, str]:
    """One structural edit of construction.json: drop, retype, NaN, huge, deep, ..."""
    paths = [("network", "layers", 0, "in"), ("network", "layers", 0, "out"),
             ("network", "layers", 1, "name"), ("network", "layers", 1, "w0"),
             ("directions", 0, "scale"), ("directions", 0, "index"), ("directions", 0, "param"),
             ("alpha_range", 0, 0), ("alpha_range", 1), ("grid",), ("heads",), ("classes",),
             ("format",), ("z",), ("theorem",), ("loss",), ("pattern", "loss_low"),
             ("pattern", "loss_high"), ("dataset", "name"), ("dataset", "label_counts_train"),
             ("dataset", "n_train"), ("network", "layers", 2), ("network",), ("directions",),
             ("checksums", "weights.safetensors")]
    values = [None, "x", True, -1, 0, 1, 2, 10**12, 10**40, 1e308, -1e308, [], {}, [1, 2],
              "NaN", float("nan"), float("inf"), "losspattern.construction/2",
              "losspattern.construction/999", {"type": "lstm", "in": 3}, "0" * 64,
              "mse", "sin", "fashion-mnist", [[0, 1], [0, 1], [0, 1]]]
    path = draw(st.sampled_from(paths))
    op = draw(st.sampled_from(("set", "set", "delete")))
    node = meta
    try:
        for key in path[:-1]:
            node = node[key]
        if op == "delete":
            del node[path[-1]]
            return meta, f"delete {path}"
        value = draw(st.sampled_from(values))
        node[path[-1]] = value
        return meta, f"{path} = {value!r}"[:80]
    except (KeyError, IndexError, TypeError):
        return meta, f"no-op {path}"


def _whole_json(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(("array", "deep", "digits", "latin-1", "nan", "empty",
                                 "string", "utf16")))
    return {
        "array": b"[1, 2, 3]", "deep": b"[" * 100_000 + b"]" * 100_000,
        "digits": b'{"format": "losspattern.construction/1", "grid": ' + b"9" * 5000 + b"}",
        "latin-1": '{"format": "losspattern.construction/1", "n": "\xe9"}'.encode("latin-1"),
        "nan": b'{"format": "losspattern.construction/1", "grid": NaN}', "empty": b"",
        "string": b'"losspattern.construction/1"',
        "utf16": '{"format": "losspattern.construction/1"}'.encode("utf-16"),
    }[kind], f"construction.json: {kind}"


def _array_edit(draw, files: dict, name: str) -> str:
    arr = np.load(__import__("io").BytesIO(files[name]))
    kind = draw(st.sampled_from(("nan", "inf", "complex", "str", "int", "shape", "object",
                                 "claims", "bool", "2-d", "scalar")))
    new = {"nan": np.where(arr > arr.mean(), np.nan, arr), "inf": arr * np.inf,
           "complex": arr.astype(complex), "str": arr.astype(str), "int": arr.astype(int),
           "shape": arr.ravel()[:-1], "object": np.array([None, 1], dtype=object),
           "bool": arr > arr.mean(), "2-d": np.atleast_2d(arr.ravel()), "scalar":
           np.array(1.0), "claims": None}[kind]
    if new is None:
        import io

        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                                   "shape": (10**10,)})
        files[name] = buf.getvalue() + b"\0" * 8
    else:
        files[name] = seeds.npy_bytes(new)
    return f"{name}: {kind}"


def _split_edit(draw, files: dict) -> str:
    s = np.load(__import__("io").BytesIO(files["split.npz"]))
    tr, te = s["train_idx"], s["test_idx"]
    kind = draw(st.sampled_from(("bool", "2-d", "negative", "out of range", "duplicate",
                                 "float", "overlap", "missing", "renamed npy", "empty test")))
    arrays = {"train_idx": tr, "test_idx": te}
    if kind == "bool":
        arrays["train_idx"] = np.ones(len(tr), bool)
    elif kind == "2-d":
        arrays["train_idx"] = np.stack([tr, tr])
    elif kind == "negative":
        arrays["train_idx"] = tr - 5
    elif kind == "out of range":
        arrays["test_idx"] = te + 10**6
    elif kind == "duplicate":
        arrays["train_idx"] = np.full_like(tr, tr[1])
    elif kind == "float":
        arrays["train_idx"] = tr.astype(float)
    elif kind == "overlap":
        arrays["test_idx"] = tr[:len(te)]
    elif kind == "missing":
        del arrays["test_idx"]
    elif kind == "empty test":
        arrays["test_idx"] = te[:0]
    files["split.npz"] = (seeds.npy_bytes(tr) if kind == "renamed npy"
                          else seeds.npz_bytes(**arrays))
    return f"split.npz: {kind}"


def _weights_edit(draw, files: dict) -> str:
    from safetensors.numpy import load, save

    state = load(files["weights.safetensors"])
    key = draw(st.sampled_from(sorted(state)))
    kind = draw(st.sampled_from(("nan", "inf", "int", "shape", "missing", "extra", "f64")))
    if kind == "nan":
        state[key] = np.full_like(state[key], np.nan)
    elif kind == "inf":
        state[key] = state[key] * np.inf
    elif kind == "int":
        state[key] = state[key].astype(np.int32)
    elif kind == "shape":
        state[key] = np.zeros(state[key].shape + (2,), state[key].dtype)
    elif kind == "missing":
        del state[key]
    elif kind == "extra":
        state["99.weight"] = np.zeros(3, np.float32)
    else:
        state[key] = state[key].astype(np.float64)
    files["weights.safetensors"] = save(state)
    return f"weights {key}: {kind}"


@st.composite
def bundle_case(draw) -> Case:
    files = dict(seeds.bundle_files(draw(st.sampled_from(("z2", "z2", "z1rgb")))))
    command = draw(st.sampled_from(sorted(COMMANDS)))
    argv, oracle = COMMANDS[command]
    kind = draw(st.sampled_from(("bytes", "json", "json", "whole-json", "array", "split",
                                 "weights", "special", "none")))
    sums = draw(st.sampled_from(("keep", "recompute", "recompute", "strip")))
    expect = "refuse"
    if kind == "bytes":
        name = draw(st.sampled_from(sorted(files)))
        files[name], ops = draw(mutated(files[name]))
        what = f"{name} mutated {ops}"
        expect = "any"  # a flipped bit may leave a valid (then re-measured) bundle
    elif kind == "json":
        meta, what = _json_edit(draw, json.loads(files["construction.json"]))
        files["construction.json"] = json.dumps(meta).encode()
        expect = "any"  # an edit may leave a valid document: the oracle judges the outcome
    elif kind == "whole-json":
        files["construction.json"], what = _whole_json(draw)
        sums = "keep"
    elif kind == "array":
        what = _array_edit(draw, files, draw(st.sampled_from(ARRAY_FILES)))
    elif kind == "split":
        what = _split_edit(draw, files)
    elif kind == "weights":
        what = _weights_edit(draw, files)
        expect = "any" if what.endswith("f64") else "refuse"
    elif kind == "special":
        name = draw(st.sampled_from(sorted(files)))
        special = draw(st.sampled_from(("fifo", "dir", "zero", "sparse", "loop")))
        files[name] = {"fifo": Special("fifo"), "dir": Special("dir"),
                       "zero": Special("symlink", "/dev/zero"),
                       "sparse": Special("sparse", size=5 * 2**30),
                       "loop": Special("symlink", f"{{dir}}/b/{name}")}[special]
        what, sums = f"{name} is a {special}", "keep"
    else:
        what, expect = "unchanged", "any"
    if sums == "recompute" and kind not in ("whole-json", "special"):
        files = _rechecksum(files)
    elif sums == "strip" and kind not in ("whole-json", "special"):
        files = _strip(files)
    call = "losspattern_core.io.bundle:read_bundle_arrays" if command == "arrays" else ""
    picture_files = ("construction.json", *ARRAY_FILES)
    if command == "arrays" and (kind in ("split", "weights") or kind in ("bytes", "special")
                                and not any(f in what for f in picture_files)):
        expect = "any"  # the picture loader reads only construction.json and the arrays
    return Case("bundles", f"{command}: {what} (checksums {sums})", list(argv),
                {f"b/{k}": v for k, v in files.items()}, expect, oracle, call=call)
