"""Bad input gets a clear message naming the problem, and no traceback from the CLI."""

import gzip
import struct

import numpy as np
import pytest

from losspattern_core.cli import main
from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.data.datasets import load_dataset
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import ConfigError, ConstructionError, DatasetError, PatternError


def test_missing_zero_byte_corrupt_and_non_image_files(tmp_path):
    with pytest.raises(PatternError, match="does not exist"):
        load_pattern(str(tmp_path / "nope.png"))
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(PatternError, match="empty"):
        load_pattern(str(tmp_path / "empty.png"))
    (tmp_path / "text.png").write_text("hello, not an image")
    with pytest.raises(PatternError, match="cannot read"):
        load_pattern(str(tmp_path / "text.png"))
    from PIL import Image
    Image.new("L", (64, 64), 128).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(PatternError, match="cannot read"):
        load_pattern(str(tmp_path / "cut.png"))


def test_huge_image_refused_before_decoding(tmp_path):
    # A valid PNG header claiming 30000x30000 pixels with almost no data behind it.
    import zlib
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "huge.png").write_bytes(png)
    with pytest.raises(PatternError, match="30000x30000"):
        load_pattern(str(tmp_path / "huge.png"))


def test_loss_range_below_floor_or_inverted():
    with pytest.raises(ConfigError, match=r"below the floor 2\.30"):
        validate(ConstructionConfig(loss_range=(1.0, 3.0)))
    with pytest.raises(ConfigError, match="low < high"):
        validate(ConstructionConfig(loss_range=(3.0, 2.5)))
    with pytest.raises(ConfigError, match="finite"):
        validate(ConstructionConfig(loss_range=(float("nan"), 3.0)))


def test_unknown_names():
    with pytest.raises(PatternError, match="unknown pattern"):
        load_pattern("no-such-pattern")
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("imagenet")
    with pytest.raises(ConfigError, match="activation"):
        validate(ConstructionConfig(activation="swish"))
    with pytest.raises(PatternError, match="unknown option"):
        load_pattern("rings:colour=red")


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"fashion-mnist:path={tmp_path / 'none'}")
    with pytest.raises(DatasetError, match="name a folder"):
        load_dataset("mnist")


def test_idx_folder_and_corrupt_idx(tmp_path):
    rng = np.random.default_rng(0)
    def write(name, arr):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
        with gzip.open(tmp_path / name, "wb") as fh:
            fh.write(header + arr.astype(np.uint8).tobytes())
    write("train-images-idx3-ubyte.gz", rng.integers(0, 255, (40, 28, 28)))
    write("train-labels-idx1-ubyte.gz", np.arange(40) % 10)
    write("t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (20, 28, 28)))
    write("t10k-labels-idx1-ubyte.gz", np.arange(20) % 10)
    ds = load_dataset(f"mnist:path={tmp_path}")
    assert ds.X.shape == (60, 784) and len(ds.train_idx) == 40 and ds.X.max() <= 1.0
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x14abc"))
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        load_dataset(f"fashion-mnist:path={tmp_path}")


def test_npz_dataset_and_pickled_npz(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "mine.npz", X=rng.normal(size=(30, 5)), y=np.arange(30) % 3)
    ds = load_dataset(str(tmp_path / "mine.npz"))
    assert ds.classes == 3 and ds.n_features == 5
    np.savez(tmp_path / "evil.npz", X=np.array([object()], dtype=object), y=np.arange(1))
    with pytest.raises(DatasetError, match=r"evil.npz\[X\]: holds Python objects"):
        load_dataset(str(tmp_path / "evil.npz"))
    np.savez(tmp_path / "nox.npz", y=np.arange(3))
    with pytest.raises(DatasetError, match=r"lacks array\(s\) \['X'\]"):
        load_dataset(str(tmp_path / "nox.npz"))


def test_synthetic_marginals():
    ds = load_dataset("synthetic:classes=4,n=400,marginal=3/1/1/1")
    np.testing.assert_allclose(ds.marginal("all"), [0.5, 1 / 6, 1 / 6, 1 / 6], atol=0.002)
    assert abs(ds.entropy("train") - ds.entropy("test")) < 0.01


def test_divergence_during_training_stops_with_a_message():
    from losspattern_core.constructions import construct, drive
    cfg = ConstructionConfig(steps=50, width=8, batch=16, lr=1e30, activation="relu",
                             loss="mse", loss_range=(1, 3))
    with pytest.raises(ConstructionError, match=r"diverged: its loss became (nan|inf) at step"):
        drive(construct(validate(cfg)))


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["construct", "--loss-range", "1", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "floor" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["verify", str(tmp_path / "missing")]) == 2
    assert "not a bundle folder" in capsys.readouterr().err
