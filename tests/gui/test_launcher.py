"""The launcher installer writes a valid .desktop file and icons for the user."""

from __future__ import annotations

import configparser

from app.install_launcher import install, uninstall
from app.resources import desktop_file, icon_png, icon_svg


def test_assets_exist():
    assert icon_svg().read_text().lstrip().startswith("<svg")
    assert icon_png().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(desktop_file())
    assert entry["Desktop Entry"]["Type"] == "Application"
    assert entry["Desktop Entry"]["Icon"] == "losspattern"


def test_install_and_uninstall(tmp_path):
    paths = install(tmp_path)
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(paths["desktop"])
    assert entry["Desktop Entry"]["Name"] == "LossPattern"
    assert "losspattern-gui" in entry["Desktop Entry"]["Exec"] or "-m app" in \
        entry["Desktop Entry"]["Exec"]
    assert paths["svg"].exists() and paths["png"].exists()
    assert sorted(uninstall(tmp_path)) == sorted(paths.values())
    assert not any(p.exists() for p in paths.values())
