"""layer_summary: rows, parameter counts (= the built network's) and the zeroed first layer."""

from __future__ import annotations

import pytest

import losspattern_core as lp


@pytest.fixture(scope="module")
def digits():
    return lp.load_dataset("digits")


def _built_params(cfg, ds) -> int:
    return sum(p.numel() for p in lp.build_network(lp.network_spec(cfg, ds)).parameters())


@pytest.mark.parametrize("kw", [dict(arch="mlp", depth=2, width=32),
                                dict(arch="cnn"), dict(arch="cnn", batchnorm=True),
                                dict(arch="resnet", blocks=3, resnet_width=8)])
def test_parameter_count_is_the_built_networks(digits, kw):
    cfg = lp.ConstructionConfig(**kw)
    s = lp.layer_summary(cfg, digits)
    assert s.params == _built_params(cfg, digits)
    assert s.params == sum(r.params for r in s.rows)
    assert s.family == kw["arch"]


def test_their_cnn_has_their_parameter_count(digits):
    """Skorokhodov & Burtsev's CNN 1-8-32-64 without BatchNorm: 153 402 parameters."""
    s = lp.layer_summary(lp.ConstructionConfig(arch="cnn", channels=(8, 32, 64)), digits)
    assert s.params == 153_402 and not s.batchnorm
    assert s.input_shape == (1, 8, 8)


def test_first_conv_is_marked_zeroed_per_theorem(digits):
    t1 = lp.layer_summary(lp.ConstructionConfig(arch="cnn"), digits)
    assert t1.rows[0].text == "Conv 1→8 3×3" and "all weights" in t1.rows[0].zeroed
    assert all(not r.zeroed for r in t1.rows[1:])
    assert t1.text().startswith("Conv 1→8 3×3 ⟵ zeroed")
    t2 = lp.layer_summary(lp.ConstructionConfig(arch="cnn", theorem=2), digits)
    assert "pattern channels" in t2.rows[0].zeroed
    mpo = lp.layer_summary(lp.ConstructionConfig(arch="cnn"), digits, zeroed=False)
    assert not any(r.zeroed for r in mpo.rows)


def test_batchnorm_is_reported(digits):
    assert lp.layer_summary(lp.ConstructionConfig(arch="cnn", batchnorm=True), digits).batchnorm
    res = lp.layer_summary(lp.ConstructionConfig(arch="resnet"), digits)
    assert res.batchnorm and any(r.text.startswith("ResBlock") for r in res.rows)
    assert not lp.layer_summary(lp.ConstructionConfig(arch="mlp"), digits).batchnorm


@pytest.mark.parametrize("kw, words", [
    (dict(arch="cnn", channels=(8, 16, 32, 64)), "at most 3 blocks"),
    (dict(arch="cnn", channels=(2, 16), z=3), "z = 3 needs at least 3"),
])
def test_impossible_networks_raise_the_validate_message(digits, kw, words):
    cfg = lp.ConstructionConfig(**kw)
    with pytest.raises(lp.ConfigError, match=words) as summary_err:
        lp.layer_summary(cfg, digits)
    with pytest.raises(lp.ConfigError) as validate_err:
        lp.validate(cfg, dataset=digits)
    assert str(summary_err.value) == str(validate_err.value)
