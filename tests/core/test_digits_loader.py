"""The digits dataset is read straight from the file scikit-learn ships (no import of
sklearn.datasets and SciPy, ~2 s of every start), and equals load_digits exactly."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
from sklearn.datasets import load_digits

from losspattern_core.data import datasets


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
