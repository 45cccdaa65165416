"""Hypothesis strategies for input files: pattern images, pattern arrays (.npy/.npz/.csv) and
datasets (.npz, IDX folders, synthetic specs). Each draws a ``Case`` running a tiny
``construct`` on the file (or ``transfer`` for datasets)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from fuzz import seeds
from fuzz.mutate import mutated
from fuzz.runner import Case, Special

TINY = [*seeds.TINY, "--threads", "1"]


def construct(*extra: str) -> list[str]:
    return ["--threads", "1", "construct", *seeds.TINY, "--grid", "4", "--out", "{dir}/out",
            *extra]


@st.composite
def through_loader(draw, case_st):
    """Three cases in four call the loader directly (fuzz.entry, a fraction of a second);
    the fourth runs the whole ``construct`` on the input (end to end, a few seconds)."""
    case = draw(case_st)
    if draw(st.integers(0, 3)) == 0 or "construct" not in case.argv:
        return case
    argv = case.argv
    value = {k: argv[i + 1] for i, k in enumerate(argv[:-1]) if k.startswith("--")}
    if "--pattern" in value:
        call, args = "fuzz.entry:pattern", [value["--pattern"], value.get("--z", "2"),
                                            "rgb" if "--rgb" in argv else ""]
    elif "--dataset" in value:
        call, args = "fuzz.entry:dataset", [value["--dataset"]]
    else:
        return case
    oracle = "printed-ok" if case.oracle else ""
    return Case(case.family, case.name + " [loader]", args, case.files, case.expect, oracle,
                case.env, call)


SPECIALS = {
    "fifo": Special("fifo"), "folder": Special("dir"),
    "link to /dev/zero": Special("symlink", "/dev/zero"),
    "dangling link": Special("symlink", "{dir}/nowhere"),
    "link loop": Special("symlink", "{dir}/input.png"),
    "sparse 300 MB": Special("sparse", size=300 * 2**20), "empty": b"",
}

IMAGE_FORMATS = [("PNG", "png", "L"), ("PNG", "png", "RGBA"), ("JPEG", "jpg", "RGB"),
                 ("BMP", "bmp", "L"), ("GIF", "gif", "P"), ("TIFF", "tif", "L"),
                 ("WEBP", "webp", "RGB"), ("PPM", "ppm", "RGB")]


@st.composite
def image_case(draw) -> Case:
    kind = draw(st.sampled_from(("mutated", "mutated", "special", "claims", "stack",
                                 "crc", "text")))
    fmt, ext, mode = draw(st.sampled_from(IMAGE_FORMATS))
    rgb = ["--rgb"] if draw(st.booleans()) else []
    name = f"input.{ext}"
    if kind == "special":
        label = draw(st.sampled_from(sorted(SPECIALS)))
        return Case("images", f"{label} as {name}", construct("--pattern", f"{{dir}}/{name}"),
                    {name: SPECIALS[label]})
    if kind == "claims":
        w, h = draw(st.sampled_from([(30000, 30000), (100000, 1), (1, 100000), (9000, 9000),
                                     (0, 5), (2**31 - 1, 2**31 - 1)]))
        return Case("images", f"png claiming {w}x{h}", construct("--pattern", "{dir}/big.png"),
                    {"big.png": seeds.png_claiming(w, h)})
    if kind == "stack":
        pages = draw(st.integers(2, 5))
        if draw(st.booleans()):
            raw, what = seeds.tiff_with_big_page(pages), f"tiff, page {pages} 81 Mpx"
            expect = "refuse"
        else:
            raw, what = seeds.image_bytes("TIFF", frames=pages), f"{pages}-page tiff"
            expect = "any"
        return Case("images", what, construct("--pattern", "{dir}/s.tif", "--z", "3"),
                    {"s.tif": raw}, expect, "bundle")
    if kind == "crc":
        raw = bytearray(seeds.image_bytes("PNG", mode="L"))
        pos = draw(st.integers(33, len(raw) - 13))  # inside a chunk after IHDR
        raw[pos] ^= 0x20
        return Case("images", f"png with a bad chunk CRC (byte {pos})",
                    construct("--pattern", "{dir}/c.png"), {"c.png": bytes(raw)})
    if kind == "text":
        text = draw(st.sampled_from([b"hello", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00",
                                     b"\xff\xd8\xff"]))
        return Case("images", f"{text[:8]!r} as {name}", construct("--pattern", f"{{dir}}/{name}"),
                    {name: text})
    raw = seeds.image_bytes(fmt, mode=mode)
    bad, ops = draw(mutated(raw))
    # a mutated file may still be a valid image (a PNG whose duplicated bytes form whole
    # chunks plus trailing data after IEND decodes to the original): the oracle judges it;
    # the "crc" cases above are the ones that must be refused
    expect = "any"
    return Case("images", f"{fmt} {mode} mutated {ops}", construct("--pattern",
                f"{{dir}}/{name}", *rgb), {name: bad}, expect, "bundle")


@np.errstate(over="ignore")
def _arrays() -> dict[str, np.ndarray]:
    g = np.add.outer(np.linspace(0, 1, 6), np.linspace(0, 2, 5))
    return {
        "float": g, "int": (g * 10).astype(np.int32), "bool": g > 1,
        "complex": g.astype(np.complex128), "str": g.astype(str), "object":
        np.array([[{"a": 1}, None]], dtype=object), "datetime": np.arange(4).astype("M8[D]"),
        "structured": np.zeros(4, dtype=[("a", "f8"), ("b", "i4")]),
        "nan": np.where(g > 1, np.nan, g), "inf": np.where(g > 1.5, np.inf, g),
        "huge": g * 1e308, "1-d": np.linspace(0, 1, 7), "scalar": np.array(3.0),
        "empty": np.zeros((0, 5)), "3-d": np.ones((3, 4, 2)), "float16": g.astype(np.float16),
        "big-endian": g.astype(">f8"), "fortran": np.asfortranarray(g),
    }


def _npy_claiming(count: int) -> bytes:
    header = {"descr": "<f8", "fortran_order": False, "shape": (count,)}
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + b"\0" * 16


def _csv(kind: str) -> bytes:
    return {"ok": b"0,1,2\n3,4,5\n", "nan": b"0,nan\n1,2\n", "ragged": b"1,2,3\n4,5\n",
            "latin-1": "1,2\n3,\xe9\n".encode("latin-1"), "words": b"a,b\nc,d\n",
            "huge": b"1e308,1e308\n-1e308,1\n", "overflow": b"1e999,1\n2,3\n",
            "comments": b"# c\n1;2\n3;4\n", "empty": b"\n\n"}[kind]


@st.composite
def array_case(draw) -> Case:
    z = draw(st.sampled_from(["1", "2", "3"]))
    kind = draw(st.sampled_from(("npy", "npy", "mutated", "claims", "csv", "special",
                                 "renamed")))
    args = ("--pattern", "{dir}/p.npy", "--z", z)
    if kind == "npy":
        label = draw(st.sampled_from(sorted(_arrays())))
        ok = label in ("float", "int", "bool", "1-d", "3-d", "float16", "big-endian", "fortran")
        return Case("arrays", f".npy {label} z={z}", construct(*args),
                    {"p.npy": seeds.npy_bytes(_arrays()[label])}, "any" if ok else "refuse",
                    "bundle")
    if kind == "mutated":
        bad, ops = draw(mutated(seeds.npy_bytes(_arrays()["float"])))
        return Case("arrays", f".npy mutated {ops}", construct(*args), {"p.npy": bad}, "any",
                    "bundle")
    if kind == "claims":
        count = draw(st.sampled_from([10**10, 2**62, 10**6, 2**40]))
        return Case("arrays", f".npy header claiming {count} values", construct(*args),
                    {"p.npy": _npy_claiming(count)})
    if kind == "csv":
        label = draw(st.sampled_from(["ok", "nan", "ragged", "latin-1", "words", "huge",
                                      "overflow", "comments", "empty"]))
        ok = label in ("ok", "comments")
        return Case("arrays", f".csv {label}", construct("--pattern", "{dir}/p.csv", "--z", z),
                    {"p.csv": _csv(label)}, "any" if ok else "refuse", "bundle")
    if kind == "renamed":
        return Case("arrays", ".npz renamed .npy", construct(*args),
                    {"p.npy": seeds.npz_bytes(a=np.ones(3))})
    label = draw(st.sampled_from(sorted(SPECIALS)))
    return Case("arrays", f"{label} as p.npy", construct(*args),
                {"p.npy": SPECIALS[label].__class__(**{**SPECIALS[label].__dict__,
                                                        "target": "{dir}/p.npy"})
                 if label == "link loop" else SPECIALS[label]})


@np.errstate(over="ignore")
def _xy(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 64)), np.arange(40) % 10
    return {
        "ok": (X, y), "nan X": (np.where(X > 2, np.nan, X), y), "inf X": (X * np.inf, y),
        "huge X": (X * 1e308, y), "label 1e9": (X, np.where(y == 3, 10**9, y)),
        "uint64 labels": (X, y.astype(np.uint64) + np.uint64(2**64 - 20)),
        "negative labels": (X, y - 5), "float labels": (X, y.astype(float)),
        "bool labels": (X, y > 4), "2-d labels": (X, y.reshape(20, 2)),
        "string X": (X.astype(str), y), "complex X": (X.astype(complex), y),
        "datetime X": (np.zeros((40, 3), "M8[s]"), y),
        "structured X": (np.zeros(40, [("a", "f4")]), y),
        "object X": (np.array([None] * 40, dtype=object), y),
        "short y": (X, y[:30]), "one class": (X, y * 0), "3 samples": (X[:3], y[:3]),
        "empty": (X[:0], y[:0]), "1-d X": (X[:, 0], y),
        "test split empty": (X[:8], np.arange(8) % 4),
    }[kind]


SYNTH_KEYS = ["classes", "n", "dim", "seed", "spread", "marginal", "bogus"]
SYNTH_VALUES = ["10", "2", "1", "0", "-1", "nan", "inf", "1e308", "10000000", "100000",
                "2000000000", "9" * 40, "", "x", "balanced", "skewed", "3/1/1", "nan/1",
                "1e308/1e308", "-1/2", "0/0", "1.5"]


@st.composite
def dataset_case(draw) -> Case:
    kind = draw(st.sampled_from(("npz", "npz", "mutated", "idx", "synthetic", "synthetic",
                                 "special", "bomb")))
    if kind == "npz":
        label = draw(st.sampled_from(["ok", "nan X", "inf X", "huge X", "label 1e9",
                                      "uint64 labels", "negative labels", "float labels",
                                      "bool labels", "2-d labels", "string X", "complex X",
                                      "datetime X", "structured X", "object X", "short y",
                                      "one class", "3 samples", "empty", "1-d X",
                                      "test split empty"]))
        X, y = _xy(label)
        raw = seeds.npz_bytes(draw(st.booleans()), X=X, y=y)
        return Case("datasets", f".npz {label}", construct("--dataset", "{dir}/d.npz"),
                    {"d.npz": raw}, "any" if label == "ok" else "refuse", "bundle")
    if kind == "mutated":
        X, y = _xy("ok")
        bad, ops = draw(mutated(seeds.npz_bytes(draw(st.booleans()), X=X, y=y)))
        return Case("datasets", f".npz mutated {ops}", construct("--dataset", "{dir}/d.npz"),
                    {"d.npz": bad}, "any", "bundle")
    if kind == "idx":
        files = dict(seeds.idx_folder())
        what = draw(st.sampled_from(["ok", "mutate", "ndim 0", "sizes differ", "no labels",
                                     "gzip bomb", "count mismatch", "header claims"]))
        name = draw(st.sampled_from(sorted(files)))
        expect = "refuse"
        if what == "ok":
            expect = "any"
        elif what == "mutate":
            files[name], ops = draw(mutated(files[name]))
            what, expect = f"{name} mutated {ops}", "any"
        elif what == "ndim 0":
            files[name] = seeds.idx_bytes(np.array(5))
        elif what == "sizes differ":
            files["t10k-images-idx3-ubyte.gz"] = seeds.idx_bytes(np.zeros((20, 9, 9)))
        elif what == "header claims":
            files[name] = seeds.gzip_header_claiming()
        elif what == "no labels":
            del files["t10k-labels-idx1-ubyte.gz"]
        elif what == "gzip bomb":
            files["train-images-idx3-ubyte.gz"] = seeds.gzip_bomb()
            what = ("gzip bomb (4 GB stream)" if seeds.HONEST_BOMBS
                    else "gzip running past its header")
        else:
            files["train-labels-idx1-ubyte.gz"] = seeds.idx_bytes(np.arange(39) % 10)
        return Case("datasets", f"IDX {what}", construct("--dataset", "mnist:path={dir}/idx"),
                    {f"idx/{k}": v for k, v in files.items()}, expect, "bundle")
    if kind == "synthetic":
        opts = draw(st.dictionaries(st.sampled_from(SYNTH_KEYS), st.sampled_from(SYNTH_VALUES),
                                    max_size=4))
        spec = "synthetic:" + ",".join(f"{k}={v}" for k, v in opts.items())
        return Case("datasets", spec, ["--threads", "1", "transfer", "{dir}/b", "--dataset",
                                       spec], _bundle(), "any", "source")
    if kind == "bomb":
        what = "6.3 GB zip bomb" if seeds.HONEST_BOMBS else "zip claiming 4 GB"
        return Case("datasets", f"{what} .npz", construct("--dataset", "{dir}/d.npz"),
                    {"d.npz": seeds.zip_bomb()})
    label = draw(st.sampled_from(sorted(SPECIALS)))
    return Case("datasets", f"{label} as d.npz", construct("--dataset", "{dir}/d.npz"),
                {"d.npz": SPECIALS[label] if label != "link loop" else
                 Special("symlink", "{dir}/d.npz")})


def _bundle() -> dict:
    return {f"b/{k}": v for k, v in seeds.bundle_files("z2").items()}
