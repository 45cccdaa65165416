"""The network panel's families: the knobs reach the run's config, the layer summary marks the
zeroed layer, an impossible network is refused before Start, a CNN run finishes in the GUI."""

from __future__ import annotations

from app.choice import Choice, config_differences
from app.state import AppState

from .conftest import run_to_end


def _visible(panel, name: str) -> bool:
    return panel.form.isRowVisible(getattr(panel, name))


def test_choosing_cnn_shows_its_knobs_and_the_config_has_them(window, qtbot):
    panel = window.network_panel
    assert _visible(panel, "depth") and not _visible(panel, "channels")
    panel.family.setCurrentIndex(panel.family.findData("cnn"))
    assert window.state.choice.arch == "cnn"
    assert _visible(panel, "channels") and _visible(panel, "batchnorm")
    assert not _visible(panel, "depth") and not _visible(panel, "blocks")
    panel.channels.setText("4,8")
    panel.channels.editingFinished.emit()
    panel.batchnorm.setChecked(True)
    panel.maxpool.setChecked(False)
    cfg = window.state.choice.config()
    assert (cfg.arch, cfg.channels, cfg.batchnorm, cfg.maxpool) == ("cnn", (4, 8), True, False)
    panel.family.setCurrentIndex(panel.family.findData("resnet"))
    assert _visible(panel, "blocks") and _visible(panel, "resnet_bn")
    panel.blocks.setValue(3)
    assert window.state.choice.config().blocks == 3


def test_summary_marks_the_first_conv_zeroed_and_counts_parameters(window):
    panel = window.network_panel
    window.state.choose(arch="cnn", channels=(8, 32, 64), batchnorm=False)
    summary = window.state.network_summary
    assert summary.params == 153_402
    assert "153 402 parameters" in panel.params.text() and "CNN" in panel.params.text()
    text = panel.summary.text()
    assert text.startswith("Conv 1→8 3×3 <b") and "zeroed: all weights (Theorem 1)" in text
    assert "BatchNorm in eval mode" not in text
    window.state.choose(theorem=2, batchnorm=True)
    text = panel.summary.text()
    assert "weights into the z pattern channels" in text
    assert "BatchNorm in eval mode (stored running statistics)" in text


def test_impossible_network_shows_the_message_and_disables_start(window):
    panel, st = window.network_panel, window.state
    st.choose(arch="cnn", channels=(8, 16, 32, 64), maxpool=True)   # 4 pools on 8x8 digits
    assert "at most 3 blocks" in panel.problem.text()
    assert not panel.problem.isHidden()
    assert not window.run_panel.start.isEnabled()
    assert window.start_run() is None and window.controller.run_id is None
    st.choose(channels=(2, 16), z=3)   # z larger than the first layer's channels
    assert "z = 3 needs at least 3" in panel.problem.text()
    assert not window.run_panel.start.isEnabled()
    st.choose(channels=(8, 16), z=2)
    assert panel.problem.isHidden() and window.run_panel.start.isEnabled()


def test_a_mistyped_channel_list_is_not_applied(window):
    panel = window.network_panel
    window.state.choose(arch="cnn", channels=(8, 16))
    panel.channels.setText("8,x")
    panel.channels.editingFinished.emit()
    assert window.state.choice.channels == (8, 16)
    assert "whole numbers" in panel.problem.text()


def test_tiny_cnn_theorem1_run_shows_measured_views_with_the_family(window, qtbot,
                                                                     monkeypatch):
    from app import workers

    monkeypatch.setattr(workers, "COMPARE_WITH_ORDINARY_TRAINING", False)   # not tested here
    st = window.state
    st.choose(arch="cnn", channels=(4, 8), batchnorm=True, activation="relu", theorem=1,
              steps=10, grid=8)
    result = run_to_end(qtbot, window, timeout=120_000)
    assert result.construction.config.arch == "cnn"
    assert result.construction.config.channels == (4, 8)
    qtbot.waitUntil(lambda: st.result is not None and st.shown.origin == "result",
                    timeout=10_000)
    for split in ("train", "test"):
        assert st.shown.measured[split].array.shape == (8, 8)
    from app.captions import heatmap_caption, panel_titles

    t = panel_titles(st.shown)
    assert "CNN" in t["train"] and "CNN" in t["test"] and "measured train" in t["train"]
    caption = heatmap_caption(st.shown)
    assert "CNN 4-8 relu" in caption
    assert "BatchNorm in eval mode (stored running statistics)" in caption
    assert "BatchNorm in eval mode" in window.header.text() and "CNN" in window.header.text()


def test_settings_keep_the_family_and_drop_bad_values():
    st = AppState()
    st.choose(arch="resnet", blocks=3, resnet_width=8, theorem="mpo", mpo_grid=16)
    saved = st.saved()
    other = AppState()
    other.restore(saved)
    c = other.choice
    assert (c.arch, c.blocks, c.resnet_width, c.theorem, c.mpo_grid) == ("resnet", 3, 8,
                                                                          "mpo", 16)
    fields = Choice.fields_from_json({"arch": "vgg", "channels": [0, 9], "theorem": 7,
                                      "batchnorm": "yes", "blocks": -2, "width": 64})
    assert fields == {"width": 64}


def test_every_config_field_is_chosen_or_named():
    """The app does not repeat ConstructionConfig's fields by hand: each one is a Choice field
    or deliberately not chosen."""
    import dataclasses

    import losspattern_core as lp
    from app.choice import CONFIG_FIELDS, NOT_CHOSEN

    names = {f.name for f in dataclasses.fields(lp.ConstructionConfig)}
    assert names == set(CONFIG_FIELDS) | set(NOT_CHOSEN)
    a, b = Choice(dataset="digits").config(), Choice(dataset="digits", theorem="mpo").config()
    assert "theorem" in config_differences(a, b)


def test_every_caption_of_a_batchnorm_network_says_eval_mode():
    """Qt-free: the heatmap caption, the z = 1 curves' title and the 3-D views' provenance of
    a network with BatchNorm say how it is evaluated; an MLP's do not."""
    from app.captions import curves_title, heatmap_caption, view3d_provenance

    st = AppState()
    st.choose(dataset="digits")
    st.choose(arch="resnet", blocks=1, resnet_width=4, z=1, grid=16)
    note = "BatchNorm in eval mode (stored running statistics)"
    assert st.shown.origin == "preview" and "ResNet" in curves_title(st.shown)
    for text in (heatmap_caption(st.shown), curves_title(st.shown),
                 view3d_provenance(st.shown)):
        assert note in text
    st.choose(arch="mlp")
    assert note not in heatmap_caption(st.shown) and note not in curves_title(st.shown)


def test_remeasure_of_a_cnn_run_feeds_images(window, qtbot, monkeypatch):
    """Re-measure hands the conv network image-shaped input (flat rows would be refused)."""
    from app import workers

    monkeypatch.setattr(workers, "COMPARE_WITH_ORDINARY_TRAINING", False)
    window.state.choose(arch="cnn", channels=(4, 8), activation="relu", theorem=1,
                        steps=10, grid=8)
    result = run_to_end(qtbot, window, timeout=120_000)
    failures = []
    window.controller.failed.connect(lambda *a: failures.append(a))
    with qtbot.waitSignal(window.controller.remeasured, timeout=60_000) as blocker:
        assert window.remeasure(12) is not None
    r = blocker.args[0]
    assert not failures
    assert r.grid == 12 and r.surfaces["train"].shape == (12, 12)
    # the 8-point run's grid nests in neither way; its corners are the same points
    for split in ("train", "test"):
        saved = result.measurement.surfaces[split]
        assert abs(r.surfaces[split][0, 0] - saved[0, 0]) <= 1e-5 * abs(saved[0, 0])
        assert abs(r.surfaces[split][-1, -1] - saved[-1, -1]) <= 1e-5 * abs(saved[-1, -1])
