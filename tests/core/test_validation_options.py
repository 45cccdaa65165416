"""Run options: every one checked before any work, memory estimated before allocating."""

from __future__ import annotations

import pytest

from losspattern_core.cli import main
from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.errors import ConfigError, DatasetError
from losspattern_core.io.options import check_image_size

TINY = ["construct", "--steps", "3", "--width", "8", "--depth", "2", "--grid", "4",
        "--batch", "16", "--no-baseline", "--quiet"]


@pytest.mark.parametrize("option, value, match", [
    ("--seed", "-1", "outside 0..9223372036854775807"),
    ("--seed", str(2**64), "outside 0.."),
    ("--seed", "9" * 40, "more than 30 digits"),
    ("--smooth", "inf", "not a finite number"),
    ("--smooth", "nan", "not a finite number"),
    ("--smooth", "1e9", r"outside \[0, 50\]"),
    ("--smooth", "-1", r"outside \[0, 50\]"),
    ("--lr", "nan", "not a finite number"),
    ("--batch", "100000000", "outside 1..10000000"),
    ("--grid", "1", "outside 2..2048"),
    ("--out", "", "is not a usable path"),
    ("--threads", "99999999999999999999", "outside 1..1024"),
])
def test_bad_option_values_are_refused_by_the_parser(tmp_path, capsys, option, value, match):
    argv = [*TINY, "--out", str(tmp_path / "o"), option, value]
    if option == "--threads":
        argv = [option, value, *argv[:-2]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err
    assert __import__("re").search(match, err), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kw, match", [
    ({"seed": -1}, "seed must be an integer in 0..2"), ({"seed": 2**64}, "seed"),
    ({"smooth": float("inf")}, "smoothing sigma"), ({"smooth": float("nan")}, "smoothing"),
    ({"lr": float("nan")}, "lr"), ({"steps": True}, "steps"), ({"z": 2.0}, "pattern dimension"),
    ({"loss_range": (2.4, 1e300)}, "above the limit 1000"),
    ({"loss_range": (1e308, -1e308)}, "low < high"),
    ({"loss_range": (-1e308, 1e308)}, "above the limit"),
    ({"loss_range": (2.5, 2.5000001)}, "narrower than 0.001"),
    ({"device": "cuda:x"}, "unknown device"),
])
def test_config_validate_is_the_same_gate(kw, match):
    with pytest.raises(ConfigError, match=match):
        validate(ConstructionConfig(**kw))


def test_env_threads_and_memory_are_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOSSPATTERN_THREADS", "99999999999999999999")
    assert main([*TINY, "--out", str(tmp_path / "o")]) == 2
    assert "$LOSSPATTERN_THREADS" in capsys.readouterr().err
    monkeypatch.delenv("LOSSPATTERN_THREADS")
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "lots")
    assert main([*TINY, "--out", str(tmp_path / "o")]) == 2
    assert "LOSSPATTERN_MAX_MEMORY" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extra, what", [
    (["--width", "8192", "--depth", "16"], "a 16x8192 network"),
    (["--z", "3", "--grid", "368"], "a 368^3 grid"),
    (["--z", "8", "--grid", "9"], "a 9^8 grid"),
    (["--batch", "5000000", "--width", "128"], "a training batch of 5000000"),
])
def test_huge_runs_are_refused_with_figure_and_limit(tmp_path, capsys, monkeypatch, extra,
                                                     what):
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "1G")
    assert main([*TINY, "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert what in err and "GiB of memory; the limit here is 1.0 GiB" in err, err


def test_measure_grid_is_estimated_first(tiny_t1, tmp_path, capsys, monkeypatch):
    from losspattern_core.io.bundle import save_bundle

    con, m, metrics, _ = tiny_t1
    out = save_bundle(tmp_path / "b", con, m, metrics)
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "1G")
    assert main(["measure", str(out), "--grid", "8000"]) == 2
    assert "measuring a 8000^2 grid" in capsys.readouterr().err
    assert main(["measure", str(out), "--grid", "9000"]) == 2
    assert "at most 64000000 points" in capsys.readouterr().err


@pytest.mark.parametrize("png, match", [
    ("f.xyz", "unknown format '.xyz'"), ("", "is not a usable path"),
    ("missing/f.png", "does not exist"), (".", "is a folder"),
])
def test_png_is_checked_before_any_work(tmp_path, capsys, monkeypatch, png, match):
    monkeypatch.chdir(tmp_path)
    assert main([*TINY, "--out", "o", "--png", png]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_overwrite_replaces_only_bundles(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("keep")
    assert main([*TINY, "--out", "afile", "--overwrite"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    assert (tmp_path / "afile").read_text() == "keep"


def test_figure_is_inside_the_bundle_and_png_copy(tmp_path, capsys):
    out, png = tmp_path / "o", tmp_path / "f.svg"
    assert main([*TINY, "--out", str(out), "--png", str(png)]) == 0
    assert (out / "figure.png").is_file() and png.read_text().startswith("<?xml")
    import json
    assert "figure.png" in json.loads((out / "construction.json").read_text())["checksums"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.svg", "o"]


def test_empty_test_split_is_refused_before_training(tmp_path):
    import numpy as np

    X = np.random.default_rng(0).normal(size=(8, 4))
    y = np.arange(8) % 4               # two samples a class: 20% of each rounds to none
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(DatasetError, match="split is empty"):
        validate(ConstructionConfig(dataset=str(tmp_path / "d.npz")))


def test_render_size_validator():
    assert check_image_size((1200, 900)) == (1200, 900)
    for bad in [(0, 5), (-1, 5), (16385, 10), (10.5, 10), "12", (1, 2, 3)]:
        with pytest.raises(ConfigError, match="image"):
            check_image_size(bad)
