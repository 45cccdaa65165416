"""Image-shaped datasets: .npz images, MNIST IDX folders and CIFAR-10 binary batches, written
here in their real byte formats (nothing is downloaded), and the errors bad files give."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from losspattern_core.config import ConstructionConfig, image_shape, network_spec
from losspattern_core.data.datasets import load_dataset
from losspattern_core.errors import DatasetError
from losspattern_core.networks import as_input

RECORD = 1 + 3 * 32 * 32


def _idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def _idx_folder(tmp_path, gz=True, h=5, w=7, **override):
    rng = np.random.default_rng(1)
    files = {"train-images-idx3-ubyte": _idx_bytes(rng.integers(0, 256, (24, h, w))),
             "train-labels-idx1-ubyte": _idx_bytes(np.arange(24) % 3),
             "t10k-images-idx3-ubyte": _idx_bytes(rng.integers(0, 256, (9, h, w))),
             "t10k-labels-idx1-ubyte": _idx_bytes(np.arange(9) % 3)}
    files.update(override)
    folder = tmp_path / f"idx{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    for name, raw in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


def _cifar_batch(labels, seed=0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (len(labels), RECORD - 1))
    records = np.concatenate([np.asarray(labels)[:, None], pixels], axis=1).astype(np.uint8)
    return records.tobytes()


def _cifar_folder(tmp_path, **override):
    folder = tmp_path / f"cifar{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    files = {f"data_batch_{i}.bin": _cifar_batch(np.arange(4) % 2 + (i % 3) * 0, i)
             for i in range(1, 6)}
    files["test_batch.bin"] = _cifar_batch(np.array([0, 1, 1, 0]), 9)
    files.update(override)
    for name, raw in files.items():
        if raw is not None:
            (folder / name).write_bytes(raw)
    return folder


def test_npz_images_keep_their_shape_for_conv_families_and_flatten_for_mlps(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((30, 2, 6, 5)).astype(np.float32)
    np.savez(tmp_path / "img.npz", X=X, y=np.arange(30) % 3)
    ds = load_dataset(str(tmp_path / "img.npz"))
    assert ds.X.shape == (30, 60) and ds.features["shape"] == [2, 6, 5]
    assert image_shape(ds) == (2, 6, 5)
    cnn = network_spec(ConstructionConfig(arch="cnn", channels=(4,)), ds)
    Xtr, _ = ds.split("train")
    images = as_input(Xtr, cnn)
    assert images.shape[1:] == (2, 6, 5)
    np.testing.assert_array_equal(images.numpy(), X[ds.train_idx])   # same pixels, same place
    assert as_input(Xtr, network_spec(ConstructionConfig(), ds)).shape == (len(Xtr), 60)
    np.savez(tmp_path / "gray.npz", X=rng.random((30, 4, 9)), y=np.arange(30) % 3)
    assert load_dataset(str(tmp_path / "gray.npz")).features["shape"] == [1, 4, 9]
    np.savez(tmp_path / "rows.npz", X=rng.random((30, 7)), y=np.arange(30) % 3)
    assert "shape" not in load_dataset(str(tmp_path / "rows.npz")).features


def test_npz_of_five_dimensions_is_refused(tmp_path):
    np.savez(tmp_path / "five.npz", X=np.zeros((30, 1, 2, 2, 2)), y=np.arange(30) % 3)
    with pytest.raises(DatasetError, match=r"five\.npz.*\(N, C, H, W\)"):
        load_dataset(str(tmp_path / "five.npz"))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_by_path_is_image_shaped(tmp_path, gz):
    folder = _idx_folder(tmp_path, gz=gz)
    ds = load_dataset(str(folder))
    assert ds.X.shape == (33, 35) and ds.features["shape"] == [1, 5, 7]
    assert len(ds.train_idx) == 24 and len(ds.test_idx) == 9         # the official split
    assert load_dataset(f"mnist:{folder}").features["shape"] == [1, 5, 7]
    raw = gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes()) if gz else (
        folder / "train-images-idx3-ubyte").read_bytes()
    first = np.frombuffer(raw[16:16 + 35], np.uint8).reshape(5, 7) / 255.0
    np.testing.assert_allclose(as_input(ds.X[:1], network_spec(
        ConstructionConfig(arch="cnn", channels=(4,)), ds))[0, 0].numpy(), first, rtol=1e-6)


@pytest.mark.parametrize("override, match", [
    ({"train-images-idx3-ubyte": b"\x00\x00\x08\x03" + struct.pack(">3I", 24, 5, 7) + b"x"},
     r"train-images-idx3-ubyte.* truncated"),
    ({"t10k-labels-idx1-ubyte": b"\x00\x00\x0d\x01" + struct.pack(">I", 9) + bytes(9)},
     r"t10k-labels-idx1-ubyte.*bad magic"),
    ({"t10k-labels-idx1-ubyte": _idx_bytes(np.arange(8) % 3)},
     r"t10k-images-idx3-ubyte has 9 images but .*t10k-labels-idx1-ubyte has 8 labels"),
])
def test_bad_idx_files_are_named(tmp_path, override, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset(str(_idx_folder(tmp_path, gz=False, **override)))


def test_cifar10_binary_folder(tmp_path):
    folder = _cifar_folder(tmp_path)
    for spec in (str(folder), f"cifar10:{folder}", f"cifar10:path={folder}"):
        ds = load_dataset(spec)
        assert ds.name == "cifar10" and ds.X.shape == (24, 3072)
        assert ds.features["shape"] == [3, 32, 32]
        assert len(ds.train_idx) == 20 and len(ds.test_idx) == 4
    raw = (folder / "data_batch_2.bin").read_bytes()
    second = np.frombuffer(raw[RECORD * 1 + 1: RECORD * 2], np.uint8).reshape(3, 32, 32)
    images = as_input(ds.X[4:6], network_spec(ConstructionConfig(arch="cnn"), ds))
    np.testing.assert_allclose(images[1].numpy(), second / 255.0, rtol=1e-6)  # R, G, B planes
    assert ds.y[5] == raw[RECORD]


@pytest.mark.parametrize("override, match", [
    ({"data_batch_3.bin": bytes(RECORD * 2 - 5)}, r"data_batch_3\.bin: 6141 bytes is not a whole"),
    ({"test_batch.bin": b""}, r"test_batch\.bin: 0 bytes"),
    ({"data_batch_4.bin": _cifar_batch([1, 12])}, r"data_batch_4\.bin: record 1 has label 12"),
    ({"data_batch_5.bin": None}, r"lacks data_batch_5\.bin"),
])
def test_bad_cifar10_files_are_named(tmp_path, override, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset(str(_cifar_folder(tmp_path, **override)))


def test_folders_that_are_no_dataset(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a dataset folder.*CIFAR-10 binary"):
        load_dataset(str(tmp_path / "empty"))
    (tmp_path / "pickles").mkdir()
    (tmp_path / "pickles" / "data_batch_1").write_bytes(b"\x80\x04")
    with pytest.raises(DatasetError, match="python version"):
        load_dataset(str(tmp_path / "pickles"))
    with pytest.raises(DatasetError, match="cifar10:/your"):
        load_dataset("cifar10")


def test_a_cnn_construction_runs_on_npz_images(tmp_path):
    import losspattern_core as lp

    rng = np.random.default_rng(3)
    np.savez(tmp_path / "img.npz", X=rng.random((60, 8, 6)), y=np.arange(60) % 3)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset=str(tmp_path / "img.npz"), steps=3,
                                batch=8, grid=3, arch="cnn", channels=(4,), snapshot_every=0)
    r = lp.validate(cfg)
    assert r.network.input_shape == (1, 8, 6)
    con = lp.drive(lp.construct(r))
    assert lp.measure_surfaces(con, splits=("test",)).surfaces["test"].shape == (3, 3)
