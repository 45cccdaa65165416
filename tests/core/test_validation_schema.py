"""construction.json against its schema: formats 1 and 2, wrong types, sizes, cross-checks."""

from __future__ import annotations

import copy
import json

import pytest

from losspattern_core.errors import BundleError
from losspattern_core.io.construction_schema import validate_construction
from losspattern_core.io.safe_read import parse_json
from losspattern_core.io.schema import SchemaError

FORMAT1 = {
    "format": "losspattern.construction/1", "theorem": 1, "z": 2,
    "network": {"layers": [{"type": "linear", "in": 64, "out": 8},
                           {"type": "activation", "name": "sin", "w0": 1.0},
                           {"type": "linear", "in": 8, "out": 10}]},
    "heads": 1, "classes": 10, "loss": "cross_entropy",
    "directions": [{"param": "0.bias", "index": 0, "scale": 1.0},
                   {"param": "0.bias", "index": 1, "scale": 1.0}],
    "alpha_range": [[0.0, 1.0], [0.0, 1.0]], "grid": 6,
    "pattern": {"source": "function:bumps", "name": "bumps", "loss_low": 2.4, "loss_high": 3.9},
    "dataset": {"name": "digits", "features": {}, "n_train": 20, "n_test": 10,
                "label_counts_train": [2] * 10, "label_counts_test": [1] * 10},
    "seed": 0, "device": "cpu",
}
FORMAT2 = {
    "format": "losspattern.construction/2", "method": "explore",
    "network": {"input_shape": [1, 8, 8], "layers": [
        {"type": "conv2d", "in": 1, "out": 4, "kernel": 3, "stride": 1, "padding": 1},
        {"type": "batchnorm2d", "features": 4, "eps": 1e-5},
        {"type": "activation", "name": "relu"},
        {"type": "residual", "body": [
            {"type": "conv2d", "in": 4, "out": 4, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "activation", "name": "silu"}], "shortcut": []},
        {"type": "maxpool2d", "kernel": 2, "stride": 2},
        {"type": "adaptive_avgpool2d", "out": [2, 2]},
        {"type": "flatten"},
        {"type": "layernorm", "shape": [16], "eps": 1e-5},
        {"type": "linear", "in": 16, "out": 10}]},
    "classes": 10, "loss": "cross_entropy",
    "directions": [{"dense": True, "norm": 1.5, "kind": "random-filter-normalised"},
                   {"param": "3.body.0.weight", "index": 7, "scale": 0.5}],
    "alpha_range": [[-1.0, 1.0], [-1.0, 1.0]], "grid": 5,
    "dataset": FORMAT1["dataset"],
}


def test_both_formats_are_accepted():
    c1 = validate_construction(copy.deepcopy(FORMAT1))
    assert c1.version == 1 and c1.surface_shape == (6, 6) and c1.network.n_params == 610
    c2 = validate_construction(copy.deepcopy(FORMAT2))
    assert c2.version == 2 and not c2.has_target
    assert "3.body.0.weight" in c2.network.params and "1.running_var" in c2.network.buffers


def _refused(doc, match):
    with pytest.raises(SchemaError, match=match):
        validate_construction(doc)


@pytest.mark.parametrize("path, value, match", [
    (("heads",), "x", r"heads: expected an integer, got a string 'x'"),
    (("grid",), 0, r"grid: 0 is outside 2\.\.65536"),
    (("grid",), 1, r"grid: 1 is outside"),
    (("network", "layers", 0, "in"), 10**12, r"network\.layers\[0\]\.in: 1000000000000 is "
                                              "outside"),
    (("network", "layers", 1), "relu", r"network\.layers\[1\]: expected an object"),
    (("network", "layers", 1, "type"), "lstm", r"layers\[1\]: unknown layer type type 'lstm'"),
    (("alpha_range", 0), "0..1", r"alpha_range\[0\]: expected an array"),
    (("alpha_range", 0), [1.0, 0.0], r"alpha_range\[0\]: low 1 is not below high 0"),
    (("directions", 0, "index"), 999, r"directions\[0\]\.index: 999 is outside 0\.bias"),
    (("directions", 0, "param"), "9.weight", r"is not a parameter of the network"),
    (("network", "layers", 2, "out"), 7, r"outputs shape \[7\], heads x classes is 10"),
    (("network", "layers", 2, "in"), 9, r"linear in = 9 but its input has 8 features"),
    (("dataset", "label_counts_train"), [1] * 10, r"sums to 10, n_train is 20"),
    (("format",), "losspattern.construction/3", "newer than this LossPattern reads"),
    (("format",), "something/1", "is not a LossPattern construction"),
])
def test_format1_violations_name_the_key(path, value, match):
    doc = copy.deepcopy(FORMAT1)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _refused(doc, match)


@pytest.mark.parametrize("key", ["network", "directions", "grid", "classes", "dataset",
                                 "alpha_range", "loss"])
def test_missing_keys(key):
    doc = copy.deepcopy(FORMAT1)
    del doc[key]
    _refused(doc, f"the key '{key}' is missing")


def test_format1_takes_no_format2_layers():
    doc = copy.deepcopy(FORMAT1)
    doc["network"]["layers"].insert(1, {"type": "flatten"})
    _refused(doc, r"layers\[1\]: unknown layer type type 'flatten'")


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["network"]["layers"][0].update(**{"in": 3}), "conv2d in = 3"),
    (lambda d: d["network"]["layers"][3]["body"][0].update(out=5),
     r"residual body gives shape \[5, 8, 8\], shortcut \[4, 8, 8\]"),
    (lambda d: d["network"]["layers"].__setitem__(4, {"type": "maxpool2d", "kernel": 99}),
     "kernel 99 does not fit"),
    (lambda d: d["network"]["layers"].insert(2, {"type": "gru", "hidden": 3}),
     r"network\.layers\[2\]: unknown layer type type 'gru'"),
    (lambda d: d.pop("method"), "the key 'method' is missing"),
    (lambda d: d["directions"][0].update(dense=False), "unknown direction kind"),
])
def test_format2_violations(edit, match):
    doc = copy.deepcopy(FORMAT2)
    edit(doc)
    _refused(doc, match)


@pytest.mark.parametrize("raw, match", [
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"grid": ' + b"9" * 5000 + b"}", "an integer of 5000 digits"),
    (b'{"grid": 1e999}', "overflows"),
    (b'{"grid": Infinity}', "non-finite number Infinity"),
    ('{"x": "\xe9"}'.encode("latin-1"), "not UTF-8"),
    (b"", "not valid JSON"),
])
def test_parser_limits(raw, match):
    with pytest.raises(BundleError, match=match):
        parse_json(raw, "construction.json", BundleError)


def test_a_json_array_or_string_document():
    for doc in ([1, 2], "losspattern.construction/1", None):
        _refused(doc, "expected a JSON object")


def test_format2_bundle_in_memory_roundtrip_of_json():
    """What a format-2 writer will produce passes through JSON unchanged."""
    doc = json.loads(json.dumps(FORMAT2))
    assert validate_construction(doc).z == 2
