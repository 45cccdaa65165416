"""The digits dataset is read straight from the file scikit-learn ships (no import of
sklearn.datasets and SciPy, ~2 s of every start), and equals load_digits exactly."""

from __future__ import annotations

import gzip
import importlib.util
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from losspattern_core.data import datasets
from losspattern_core.errors import DatasetError


def test_digits_read_from_the_shipped_file_equal_load_digits_without_importing_it(monkeypatch):
    ref = load_digits()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)   # importing it now fails
    data, target = datasets._digits_arrays()
    assert data.dtype == ref.data.dtype and target.dtype == ref.target.dtype
    np.testing.assert_array_equal(data, ref.data)
    np.testing.assert_array_equal(target, ref.target)


def test_digits_fall_back_to_load_digits_where_the_file_is_not_found(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    data, target = datasets._digits_arrays()
    np.testing.assert_array_equal(data, load_digits().data)
    np.testing.assert_array_equal(target, load_digits().target)


def test_a_damaged_shipped_file_is_a_clear_dataset_error(tmp_path, monkeypatch):
    """A truncated or malformed digits.csv.gz names the file; no traceback of numpy's."""
    data = tmp_path / "sklearn" / "datasets" / "data"
    data.mkdir(parents=True)
    spec = type("Spec", (), {"submodule_search_locations": [str(tmp_path / "sklearn")]})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    for content, what in ((b"not gzip", "unreadable"), (gzip.compress(b"1,2\n3,4\n"), "2 x 2")):
        (data / "digits.csv.gz").write_bytes(content)
        with pytest.raises(DatasetError, match=what) as info:
            datasets._digits_arrays()
        assert "digits.csv.gz" in str(info.value)
