"""Thread configuration: explicit value, environment, reserve a core for the GUI."""

import os

import torch

from losspattern_core.runtime import ENV, configure_threads


def test_threads_from_argument_environment_and_reserve(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv(ENV, "2")
        assert configure_threads() == 2 and torch.get_num_threads() == 2
        monkeypatch.setenv(ENV, "not-a-number")
        cores = os.cpu_count() or 1
        assert configure_threads(reserve=1) == max(1, cores - 1)
        monkeypatch.delenv(ENV)
        assert configure_threads(0) == 1   # never fewer than one
    finally:
        torch.set_num_threads(before)
