"""pyproject lists every package (the list is explicit because assets/ is mapped to
``losspattern_assets``), and the installed assets resolve."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_directory_is_listed():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for top in ("losspattern_core", "app") for p in (ROOT / top).rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert "losspattern_assets" in listed and cfg["package-dir"]["losspattern_assets"] == "assets"


def test_builtin_patterns_resolve_through_the_assets_package():
    import losspattern_assets

    import losspattern_core as lp

    images = lp.builtin_images()
    assert {"smiley", "mountains", "hi-text"} <= set(images)
    assert all(p.is_file() and p.parent == losspattern_assets.path("patterns") for p in
               images.values())


def test_every_facade_name_resolves_even_after_its_subpackages_are_imported():
    import importlib
    import pkgutil

    import losspattern_core as lp

    for m in pkgutil.walk_packages(lp.__path__, "losspattern_core."):
        importlib.import_module(m.name)    # would shadow a facade name equal to a package
    for name in lp.__all__:
        value = getattr(lp, name)
        assert not isinstance(value, type(lp)), f"lp.{name} is a module, not the API"
