"""Install the desktop launcher and icon for the current user: ``python -m app.install_launcher``.

Writes ~/.local/share/applications/losspattern.desktop (Exec points at this Python's
``losspattern-gui`` when it exists, else ``<python> -m app``) and the icons under
~/.local/share/icons/hicolor/. ``--uninstall`` removes them again. Honors $XDG_DATA_HOME.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .resources import ROOT, desktop_file, icon_png, icon_svg


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def targets(base: Path) -> dict[str, Path]:
    return {"desktop": base / "applications" / "losspattern.desktop",
            "svg": base / "icons" / "hicolor" / "scalable" / "apps" / "losspattern.svg",
            "png": base / "icons" / "hicolor" / "256x256" / "apps" / "losspattern.png"}


def exec_line() -> str:
    script = Path(sys.executable).with_name("losspattern-gui")
    if script.exists():
        return shlex.quote(str(script))
    inner = f"cd {shlex.quote(str(ROOT))} && exec {shlex.quote(sys.executable)} -m app"
    return f"sh -c {shlex.quote(inner)}"


def install(base: Path | None = None) -> dict[str, Path]:
    paths = targets(base or data_home())
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    text = desktop_file().read_text().replace("Exec=losspattern-gui", f"Exec={exec_line()}")
    paths["desktop"].write_text(text)
    paths["desktop"].chmod(0o755)
    shutil.copyfile(icon_svg(), paths["svg"])
    if icon_png().exists():
        shutil.copyfile(icon_png(), paths["png"])
    if shutil.which("update-desktop-database"):
        subprocess.run(["update-desktop-database", str(paths["desktop"].parent)],
                       check=False, capture_output=True)
    return paths


def uninstall(base: Path | None = None) -> list[Path]:
    removed = []
    for p in targets(base or data_home()).values():
        if p.exists():
            p.unlink()
            removed.append(p)
    return removed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.install_launcher", description=__doc__)
    p.add_argument("--uninstall", action="store_true")
    args = p.parse_args(argv)
    if args.uninstall:
        for path in uninstall():
            print(f"removed {path}")
        return 0
    for kind, path in install().items():
        print(f"installed {kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
