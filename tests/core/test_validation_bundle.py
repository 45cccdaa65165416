"""Bundles: every malformed file is refused with its name and problem, before use."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest

from losspattern_core.cli import main
from losspattern_core.errors import BundleError
from losspattern_core.io.bundle import load_bundle, read_bundle_arrays, save_bundle


@pytest.fixture
def bundle(tiny_t1, tmp_path):
    con, m, metrics, _ = tiny_t1
    return save_bundle(tmp_path / "b", con, m, metrics)


def _meta(path):
    return json.loads((path / "construction.json").read_text())


def _write_meta(path, meta, text=None):
    (path / "construction.json").write_text(text if text is not None else json.dumps(meta))


def _rechecksum(path):
    """Record the files' current SHA-256 (so the parsers behind the checksums are reached)."""
    meta = _meta(path)
    meta["checksums"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                         for p in path.iterdir() if p.name != "construction.json"}
    _write_meta(path, meta)


def _npy_claiming(count):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (count,)})
    return buf.getvalue() + b"\0" * 8


@pytest.mark.parametrize("name, value", [
    ("surface_train.npy", "nan"), ("surface_test.npy", "inf"), ("target.npy", "nan")])
def test_non_finite_surfaces_are_named(bundle, name, value):
    arr = np.load(bundle / name)
    arr.flat[3] = float(value)
    np.save(bundle / name, arr)
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=rf"{name}: holds NaN or infinite values \(the "
                                          rf"first: {value}"):
        load_bundle(bundle)
    with pytest.raises(BundleError, match=name):
        read_bundle_arrays(bundle)


@pytest.mark.parametrize("edit, where", [
    (lambda m: m["directions"][0].update(scale="NaN"), "directions"),
    (lambda m: m["alpha_range"][0].__setitem__(1, "NaN"), "alpha_range"),
    (lambda m: m["network"]["layers"][1].update(w0="NaN"), "w0"),
])
def test_nan_in_construction_json_is_refused(bundle, edit, where):
    meta = _meta(bundle)
    edit(meta)
    text = json.dumps(meta).replace('"NaN"', "NaN")     # a real JSON NaN literal
    _write_meta(bundle, None, text)
    with pytest.raises(BundleError, match="non-finite number NaN"):
        load_bundle(bundle)
    _write_meta(bundle, None, text.replace("NaN", '"NaN"'))   # and as a string
    with pytest.raises(BundleError, match="expected a number"):
        load_bundle(bundle)


def test_nan_weights_are_named(bundle):
    from safetensors.torch import load_file, save_file

    state = load_file(str(bundle / "weights.safetensors"))
    state["2.weight"][0, 0] = float("nan")
    save_file(state, str(bundle / "weights.safetensors"))
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"2\.weight holds non-finite values"):
        load_bundle(bundle)


def test_huge_npy_header_is_refused_with_its_figure(bundle):
    (bundle / "surface_train.npy").write_bytes(_npy_claiming(10**10))
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"surface_train.npy: the header claims 10000000000 "
                                          r"values \(74\.5 GiB\), more than the file holds"):
        load_bundle(bundle)


@pytest.mark.parametrize("name", ["construction.json", "surface_train.npy", "split.npz"])
def test_a_fifo_is_refused_not_read(bundle, name):
    (bundle / name).unlink()
    os.mkfifo(bundle / name)
    with pytest.raises(BundleError, match=rf"{name} is a FIFO \(named pipe\), not a regular"):
        load_bundle(bundle)


@pytest.mark.parametrize("content, match", [
    (b"", "not a readable .npz archive"),
    (None, "not a readable .npz archive .BadZipFile: Bad CRC-32"),
    ("npy", "is an .npy file, not an .npz archive"),
])
def test_zip_errors_are_named(bundle, content, match):
    raw = (bundle / "split.npz").read_bytes()
    if content is None:   # flip one data byte of a stored member: zipfile's CRC check fails
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            info = zf.infolist()[0]
        pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + 300
        content = raw[:pos] + bytes([raw[pos] ^ 1]) + raw[pos + 1:]
    elif content == "npy":
        buf = io.BytesIO()
        np.save(buf, np.arange(3))
        content = buf.getvalue()
    (bundle / "split.npz").write_bytes(content)
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=match):
        load_bundle(bundle)


def test_zero_byte_and_corrupt_npy(bundle):
    (bundle / "target.npy").write_bytes(b"")
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"target.npy: empty or truncated .npy file \(0 bytes"):
        load_bundle(bundle)
    (bundle / "target.npy").write_bytes(b"\x93NUMPY\x01\x00\x00\x10{'descr': '<f8', 'sh")
    _rechecksum(bundle)
    with pytest.raises(BundleError, match="target.npy: .npy header of 4096 bytes is truncated"):
        load_bundle(bundle)
    (bundle / "target.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '''<f8'}\n")
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"target.npy: corrupt .npy header"):
        load_bundle(bundle)


@pytest.mark.parametrize("dtype", ["complex", "str", "int"])
def test_surfaces_must_be_float(bundle, dtype):
    np.save(bundle / "surface_test.npy", np.load(bundle / "surface_test.npy").astype(dtype))
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"surface_test.npy: dtype .* is not accepted here "
                                          r"\(need float\)"):
        read_bundle_arrays(bundle)


@pytest.mark.parametrize("edit, match", [
    (lambda s: {**s, "train_idx": np.stack([s["train_idx"]] * 2)}, "shape"),
    (lambda s: {**s, "train_idx": np.ones(len(s["train_idx"]), bool)}, "dtype bool"),
    (lambda s: {**s, "test_idx": s["test_idx"] + 10**6}, "outside dataset digits"),
    (lambda s: {**s, "train_idx": np.full_like(s["train_idx"], 5)}, "an index repeats"),
    (lambda s: {**s, "test_idx": s["train_idx"][:len(s["test_idx"])]}, "overlap"),
])
def test_split_indices_are_checked(bundle, edit, match):
    split = dict(np.load(bundle / "split.npz"))
    np.savez(bundle / "split.npz", **edit(split))
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=match):
        b = load_bundle(bundle)
        from losspattern_core.measure.verify import verify
        verify(b)


def test_changed_file_is_named_and_old_bundles_load(bundle, capsys):
    with open(bundle / "surface_test.npy", "r+b") as fh:
        fh.seek(-1, 2)
        fh.write(b"\x01")
    with pytest.raises(BundleError, match=r"surface_test.npy: changed since the bundle was "
                                          "written"):
        load_bundle(bundle)
    assert main(["verify", str(bundle)]) == 2
    assert "surface_test.npy: changed" in capsys.readouterr().err
    meta = _meta(bundle)
    del meta["checksums"]
    _write_meta(bundle, meta)
    b = load_bundle(bundle)   # an old bundle: loads, and says nothing was checked
    assert b.checksums.startswith("no checksums recorded")


def test_latin1_metrics_json(bundle):
    (bundle / "metrics.json").write_bytes('{"note": "caf\xe9"}'.encode("latin-1"))
    _rechecksum(bundle)
    with pytest.raises(BundleError, match=r"metrics.json: not UTF-8 text \(byte 0xe9"):
        load_bundle(bundle)


def test_read_bundle_arrays_for_pictures(bundle):
    arrays = read_bundle_arrays(bundle)
    assert arrays.z == 2 and arrays.grid == 12 and arrays.heads == 1
    assert arrays.surfaces["train"].shape == (12, 12) and np.isfinite(arrays.target).all()
    _write_meta(bundle, None, "[1, 2]")
    with pytest.raises(BundleError, match="expected a JSON object, got an array"):
        read_bundle_arrays(bundle)


def test_cli_device_and_tolerance_are_checked(bundle, capsys):
    import torch

    for argv in (["verify", str(bundle), "--tolerance", "nan"],
                 ["verify", str(bundle), "--tolerance", "-1"]):
        assert main(argv) == 2
        assert "--tolerance" in capsys.readouterr().err
    if not torch.cuda.is_available():
        for cmd in (["verify", str(bundle)], ["measure", str(bundle)],
                    ["transfer", str(bundle), "--dataset", "digits"]):
            assert main([*cmd, "--device", "cuda"]) == 2
            assert "no CUDA GPU" in capsys.readouterr().err


def test_verify_never_passes_nan(bundle, monkeypatch):
    import losspattern_core.measure.verify as v

    b = load_bundle(bundle)
    real = v.evaluate_points

    def nan_points(*a, **k):
        total, per = real(*a, **k)
        total[0] = np.nan
        return total, per
    monkeypatch.setattr(v, "evaluate_points", nan_points)
    with pytest.raises(BundleError, match="non-finite"):
        v.verify(b)
    with pytest.raises(Exception, match="tolerance"):
        v.check_tolerance(float("nan"))
