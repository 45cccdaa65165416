"""Bundle round trip, the plain-PyTorch script in README.txt, and the CLI end to end."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from losspattern_core.cli import main
from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.io.bundle import load_bundle, save_bundle
from losspattern_core.measure.verify import remeasure


def test_round_trip_remeasures_identically(tiny_t1, tmp_path):
    con, m, metrics, _ = tiny_t1
    out = save_bundle(tmp_path / "b", con, m, metrics)
    b = load_bundle(out)
    assert b.meta["format"] == "losspattern.construction/2"
    assert b.meta["dataset"]["label_counts_train"] == con.resolved.dataset.label_counts().tolist()
    fresh = remeasure(b)
    for split in ("train", "test"):
        np.testing.assert_allclose(fresh[split], m.surfaces[split], rtol=1e-6)
    assert not list(tmp_path.glob(".b.partial-*"))


def test_readme_script_reproduces_the_surface(tiny_t1, tmp_path):
    con, m, metrics, _ = tiny_t1
    out = save_bundle(tmp_path / "b", con, m, metrics)
    text = (out / "README.txt").read_text()
    script = text.split("loss):\n\n")[1].split("\n\nOr:")[0]
    assert len(script.splitlines()) <= 40   # bundle-format.md: at most 40 lines of plain torch
    res = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    nums = [float(x) for x in re.findall(r"[-\d.]+(?:e-?\d+)?", res.stdout.split("stored")[0] +
                                         " " + res.stdout.split("stored")[1])]
    recomputed, stored = nums[0], nums[1]
    assert abs(recomputed - stored) < 1e-5


def test_existing_out_is_not_overwritten(tiny_t1, tmp_path):
    con, m, metrics, _ = tiny_t1
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("mine")
    with pytest.raises(LossPatternError, match="already exists"):
        save_bundle(tmp_path / "b", con, m, metrics)
    assert (tmp_path / "b" / "keep.txt").read_text() == "mine"
    # --overwrite replaces bundles only: never a folder of other files, never a plain file
    with pytest.raises(LossPatternError, match="not a bundle"):
        save_bundle(tmp_path / "b", con, m, metrics, overwrite=True)
    assert (tmp_path / "b" / "keep.txt").read_text() == "mine"
    (tmp_path / "afile").write_text("plain")
    with pytest.raises(LossPatternError, match="not a folder"):
        save_bundle(tmp_path / "afile", con, m, metrics, overwrite=True)
    assert (tmp_path / "afile").read_text() == "plain"
    save_bundle(tmp_path / "c", con, m, metrics)
    (tmp_path / "c" / "extra.txt").write_text("old")
    save_bundle(tmp_path / "c", con, m, metrics, overwrite=True)
    assert not (tmp_path / "c" / "extra.txt").exists()
    load_bundle(tmp_path / "c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "b", "c"]  # nothing stray


def test_unwritable_out(tiny_t1, tmp_path):
    import os
    if os.geteuid() == 0:
        target = "/proc/losspattern-bundle"  # not writable even for root
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "b"
    con, m, metrics, _ = tiny_t1
    with pytest.raises(LossPatternError):
        save_bundle(target, con, m, metrics)


def _corrupt(tmp_path, tiny_t1, edit):
    con, m, metrics, _ = tiny_t1
    out = save_bundle(tmp_path / "b", con, m, metrics)
    edit(out)
    return out


def _drop_checksums(p):
    meta = json.loads((p / "construction.json").read_text())
    del meta["checksums"]
    (p / "construction.json").write_text(json.dumps(meta))


EDITS = [
    (lambda p: (p / "weights.safetensors").unlink(), "weights.safetensors: missing", None),
    (lambda p: (p / "construction.json").write_text("{not json"), "not valid JSON",
     "not valid JSON"),
    (lambda p: (p / "weights.safetensors").write_bytes(b"garbage"), "unreadable", "changed"),
    (lambda p: (p / "target.npy").write_bytes(b"\x93NUMPY garbage"), "target.npy",
     "target.npy: changed"),
    (lambda p: np.save(p / "surface_train.npy", np.zeros((3, 3))), "shape", "changed"),
    (lambda p: np.save(p / "target.npy", np.array([{"a": 1}], dtype=object)), "target.npy",
     "target.npy: changed"),
]


@pytest.mark.parametrize("edit, match, with_checksums", EDITS)
def test_malformed_bundles_are_named(tmp_path, tiny_t1, edit, match, with_checksums):
    """With checksums recorded, a changed file is named as changed; without them (an old
    bundle), the parser still names the file and its problem."""
    out = _corrupt(tmp_path, tiny_t1, edit)
    if with_checksums is not None:
        with pytest.raises(BundleError, match=with_checksums):
            load_bundle(out)
    if (out / "construction.json").read_text().startswith("{not"):
        return
    _drop_checksums(out)
    with pytest.raises(BundleError, match=match):
        load_bundle(out)


def test_checksums_recorded_and_old_bundles_load(tmp_path, tiny_t1):
    out = _corrupt(tmp_path, tiny_t1, lambda p: None)
    meta = json.loads((out / "construction.json").read_text())
    names = {p.name for p in out.iterdir()} - {"construction.json"}
    assert set(meta["checksums"]) == names
    assert "checksums match for" in load_bundle(out).checksums
    (out / "README.txt").write_text("edited")
    with pytest.raises(BundleError, match="README.txt: changed"):
        load_bundle(out)
    _drop_checksums(out)
    assert load_bundle(out).checksums.startswith("no checksums recorded")


def test_newer_format_is_refused(tmp_path, tiny_t1):
    def edit(p):
        meta = json.loads((p / "construction.json").read_text())
        meta["format"] = "losspattern.construction/7"
        meta["network"]["layers"][0]["out"] = 3
        (p / "construction.json").write_text(json.dumps(meta))
    out = _corrupt(tmp_path, tiny_t1, edit)
    with pytest.raises(BundleError, match="newer"):
        load_bundle(out)


def test_cli_construct_and_verify(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["construct", "--pattern", "heart", "--steps", "40", "--width", "16",
               "--grid", "10", "--batch", "256", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "PSNR" in text and "transfer" in text
    for f in ("construction.json", "weights.safetensors", "split.npz", "target.npy",
              "surface_train.npy", "surface_test.npy", "metrics.json", "README.txt", "figure.png"):
        assert (out / f).is_file(), f
    from PIL import Image
    with Image.open(out / "figure.png") as im:
        assert im.size[0] > 800
    assert main(["verify", str(out)]) == 0
    assert "verified" in capsys.readouterr().out
    # a second run into the same folder is refused, the bundle stays intact
    assert main(["construct", "--steps", "5", "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    load_bundle(out)


def test_cli_lists(capsys):
    assert main(["patterns"]) == 0
    listing = capsys.readouterr().out
    for name in ("smiley", "hi-text", "mountains", "bumps", "rings", "checkerboard", "sinc"):
        assert name in listing
    assert main(["datasets"]) == 0
    assert "fashion-mnist" in capsys.readouterr().out


def test_ctrl_c_leaves_no_bundle(tmp_path, monkeypatch, capsys):
    import losspattern_core.constructions.common as common
    real = common.regression

    def interrupted(*a, **k):
        gen = real(*a, **k)
        for i, frame in enumerate(gen):
            if i == 5:
                raise KeyboardInterrupt
            yield frame
    monkeypatch.setattr(common, "regression", interrupted)
    import losspattern_core.constructions.theorem1 as t1
    monkeypatch.setattr(t1, "regression", interrupted)
    rc = main(["construct", "--steps", "50", "--width", "8", "--grid", "6",
               "--out", str(tmp_path / "x"), "--quiet"])
    assert rc == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
