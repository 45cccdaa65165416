"""Hypothesis strategies for command-line options and environment variables: each case mixes
small valid values with at most a few bad ones (NaN, infinities, negative, huge, empty,
wrong type, impossible combinations); a case with a bad value must be refused, one without
must produce a sound bundle."""

from __future__ import annotations

from hypothesis import strategies as st

from fuzz import seeds
from fuzz.runner import Case

BAD = {
    "--seed": ["-1", str(2**64), "1.5", "x", "9" * 40],
    "--smooth": ["inf", "1e9", "-1", "nan", "x"],
    "--steps": ["0", "-5", str(10**30), "1.5"],
    "--width": ["0", "16384", "-1", "8192 --depth 16"],
    "--depth": ["1", "17", "0"],
    "--batch": ["0", "100000000", "-2"],
    "--grid": ["0", "1", "8000", "368 --z 3", "9 --z 8", "2049"],
    "--z": ["0", "9", "-1"],
    "--lr": ["0", "-1", "nan", "inf", "1e31"],
    "--loss-range": ["nan 3", "2.4 1e300", "1e308 -1e308", "3 2", "1 2", "-inf 3",
                     "2.5 2.5000001"],
    "--png": ["{dir}/f.xyz", "{dir}", "{dir}/missing/f.png", "{dir}/noext"],
    "--out": ["", "{dir}/afile --overwrite", "{dir}/notabundle --overwrite", "{dir}/afile"],
    "--device": ["cuda", "mps", "tpu", "cuda:99", "", "cpu\0"],
    "--pattern": ["", "nonexistent", "rings:freq=nan", "bumps:n=1e9", "x" * 5000,
                  "bumps:seed=-1", "{dir}/afile"],
    "--dataset": ["", "imagenet", "synthetic:n=10000000,dim=100000", "synthetic:seed=-1",
                  "synthetic:marginal=nan/1", "digits:x=1"],
    "--threads": ["0", "99999999999999999999", "-1"],
    "--activation": ["swish", ""],
    "--theorem": ["3", "0"],
}
GOOD = {
    "--seed": st.integers(0, 2**63 - 1).map(str),
    "--smooth": st.floats(0, 5).map(repr),
    "--steps": st.integers(1, 10).map(str),
    "--width": st.integers(4, 16).map(str),
    "--depth": st.sampled_from(["2", "3"]),
    "--batch": st.integers(1, 64).map(str),
    "--grid": st.integers(2, 6).map(str),
    "--z": st.sampled_from(["1 --grid 5", "2 --grid 4", "3 --grid 3"]),
    "--lr": st.floats(1e-4, 0.1).map(repr),
    "--loss-range": st.sampled_from(["2.5 3.5", "2.31 2.4", "3 40"]),
    "--png": st.sampled_from(["{dir}/f.png", "{dir}/f.svg", "{dir}/f.pdf"]),
    "--device": st.just("cpu"),
    "--pattern": st.sampled_from(["bumps", "rings:freq=4", "smiley", "checkerboard:n=3"]),
    "--dataset": st.sampled_from(["digits", "synthetic:n=100,dim=8"]),
    "--activation": st.sampled_from(["relu", "tanh", "gelu", "sin"]),
    "--theorem": st.sampled_from(["1", "1", "2"]),
}
ENV_BAD = {"LOSSPATTERN_THREADS": ["99999999999999999999", "x", "0", "-3"],
           "LOSSPATTERN_MAX_MEMORY": ["abc", "12Q"]}


@st.composite
def construct_options_case(draw) -> Case:
    """construct with 1-3 drawn options (bad values with probability ~1/2 each)."""
    keys = draw(st.lists(st.sampled_from(sorted(BAD)), min_size=1, max_size=3, unique=True))
    argv = ["--threads", "1", "construct", *seeds.TINY, "--grid", "4", "--out", "{dir}/out"]
    bad = []
    for key in keys:
        if key in GOOD and draw(st.booleans()):
            value = draw(GOOD[key])
        else:
            value = draw(st.sampled_from(BAD[key]))
            bad.append(f"{key} {value[:30]}")
        if key == "--threads":
            argv = ["--threads", value, *argv[2:]]
        elif key == "--out":
            argv = [a for a in argv if a != "{dir}/out"]
            argv.remove("--out")
            argv += ["--out", *value.split(" ")] if value else ["--out", ""]
        else:
            argv += [key, *value.split(" ")] if " " in value and "x" * 10 not in value \
                else [key, value]
    env = {}
    if draw(st.integers(0, 9)) == 0:
        name = draw(st.sampled_from(sorted(ENV_BAD)))
        env[name] = draw(st.sampled_from(ENV_BAD[name]))
        bad.append(f"${name}={env[name]}")
        if name == "LOSSPATTERN_THREADS" and argv[:2] == ["--threads", "1"]:
            argv = argv[2:]   # --threads would override the variable
    files = {"afile": b"a plain file", "notabundle/keep.txt": b"mine"}
    name = "construct " + (", ".join(bad) if bad else "valid " + " ".join(argv[-4:]))
    return Case("options", name, argv, files, "refuse" if bad else "any", "bundle", env)


@st.composite
def command_options_case(draw) -> Case:
    """verify / measure / transfer options on the seed bundle."""
    files = {f"b/{k}": v for k, v in seeds.bundle_files("z2").items()}
    command = draw(st.sampled_from(("verify", "measure", "transfer")))
    opts = {
        "verify": {"--tolerance": (["nan", "-1", "inf", "x", "1e400"], ["1e-4", "0.5", "0"]),
                   "--device": (["cuda", "mps", "gpu", ""], ["cpu"])},
        "measure": {"--grid": (["8000", "1", "0", "-3", "99999"], ["5", "9", "12"]),
                    "--out": (["{dir}/m.txt", "{dir}", "{dir}/no/m.npy", ""], ["{dir}/m.npy"]),
                    "--split": (["all", "x"], ["train", "test"]),
                    "--device": (["cuda", "tpu"], ["cpu"])},
        "transfer": {"--dataset": (["imagenet", "synthetic:dim=64,classes=3", "",
                                    "synthetic:dim=32", "synthetic:dim=64,n=3",
                                    "synthetic:dim=64,marginal=1e308/1"],
                                   ["synthetic:dim=64,n=200", "digits"]),
                     "--split": (["x"], ["train", "test", "all"]),
                     "--json": (["{dir}/r.txt", "{dir}"], ["{dir}/r.json"]),
                     "--png": (["{dir}/t.xyz", "{dir}/no/t.png"], ["{dir}/t.png"]),
                     "--device": (["cuda:0", "mps"], ["cpu"])},
    }[command]
    keys = draw(st.lists(st.sampled_from(sorted(opts)), min_size=1, max_size=2, unique=True))
    argv = ["--threads", "1", command, "{dir}/b"]
    if command == "transfer" and "--dataset" not in keys:
        argv += ["--dataset", "digits"]
    bad = []
    for key in keys:
        worse, fine = opts[key]
        if draw(st.booleans()):
            value = draw(st.sampled_from(worse))
            bad.append(f"{key} {value}")
        else:
            value = draw(st.sampled_from(fine))
        argv += [key, value]
    oracle = {"verify": "verified", "measure": "measure", "transfer": "source"}[command]
    name = f"{command} " + (", ".join(bad) if bad else "valid " + " ".join(argv[4:]))
    return Case("options", name, argv, files, "refuse" if bad else "any", oracle)


def options_case():
    return st.one_of(construct_options_case(), command_options_case())
