"""Parameters of the analytic patterns, as the GUI offers them (name, default, low, high, decimals).

Defaults and bounds mirror the core's pattern functions; the core still validates every value.
"""

PARAMS = {
    "bumps": [("n", 5, 1, 50, 0), ("width", 0.12, 0.01, 1.0, 2), ("seed", 3, 0, 100000, 0)],
    "rings": [("freq", 3, 0.5, 20, 1)],
    "checkerboard": [("n", 4, 1, 32, 0), ("sharpness", 4, 0.5, 100, 1)],
    "sinc": [("scale", 14, 1, 100, 1)],
    "waves": [("freq", 2, 0.5, 20, 1)],
    "bowl": [("centre", 0.35, 0, 1, 2)],
}


def spec_for(name: str, values: dict) -> str:
    """``rings:freq=4`` from a name and the values that differ from the defaults."""
    opts = []
    for key, default, _lo, _hi, decimals in PARAMS.get(name, []):
        v = values.get(key, default)
        if abs(v - default) > 1e-12:
            opts.append(f"{key}={int(round(v)) if decimals == 0 else round(v, decimals):g}")
    return name + (":" + ",".join(opts) if opts else "")


def values_of(spec: str) -> dict:
    """The numeric options of a function spec: ``rings:freq=5`` -> {"freq": 5.0}."""
    values = {}
    for kv in filter(None, spec.partition(":")[2].split(",")):
        key, _, value = kv.partition("=")
        try:
            values[key.strip()] = float(value)
        except ValueError:
            pass
    return values
