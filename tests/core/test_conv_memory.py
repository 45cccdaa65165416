"""The conv families' memory check counts what the centre-tap regression really holds: a batch
of alpha points is a batch of channel vectors, so the CLI's default (1024) passes, while an
impossible batch is still refused naming the regression batch."""

import pytest

from losspattern_core.commands.construct_args import CONV_BATCH
from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.errors import ConfigError


@pytest.mark.parametrize("arch", ["cnn", "resnet"])
def test_default_conv_batch_is_accepted(arch, monkeypatch):
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "4G")
    # fashion-mnist at each family's defaults: counted as 1024 image-sized passes (the old
    # rule) this needs ~8 GB and was refused under 4 GB
    cfg = ConstructionConfig(dataset="fashion-mnist", arch=arch, batch=CONV_BATCH, grid=8,
                             steps=1, device="cpu")
    assert validate(cfg).config.batch == CONV_BATCH


def test_impossible_conv_batch_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("LOSSPATTERN_MAX_MEMORY", "4G")
    cfg = ConstructionConfig(dataset="digits", arch="cnn", channels=(8, 16), batch=9_000_000,
                             grid=8, steps=1, device="cpu")
    with pytest.raises(ConfigError, match="regression batch of 9000000 alpha points"):
        validate(cfg)
