"""Build the Unreal plugin folder (and a zip) with the Python packages its client needs.

    python plugins/unreal/build_plugin.py [--out dist/]

Unreal adds ``<Plugin>/Content/Python/Lib/site-packages`` and
``<Plugin>/Content/Python/<Platform>/Lib/site-packages`` to ``sys.path``. The client's wheels
come from plugins/client_wheels.py (shared with the Blender build): the pure ones (this
project's client, protobuf, typing-extensions) are unpacked into the first, grpcio's compiled
wheels for Win64, Mac and Linux into the second — for Python 3.11 (Unreal 5.3–5.6) and 3.13
side by side, since each compiled module carries its Python version in its file name. Unreal
5.5+ can instead pip-install the ``PythonRequirements`` listed in FaceCue.uplugin; this build
works offline, and writes into the built descriptor the versions it bundles (a registry's newer
grpcio would otherwise leave the descriptor naming one release and the folder holding another).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
import client_wheels  # noqa: E402  (the helper shared with the Blender build)

UNREAL_PLATFORMS = {"linux-x64": "Linux", "windows-x64": "Win64", "macos": "Mac"}


def _unpack(wheels: list[Path], target: Path) -> None:
    """A wheel is a zip laid out as site-packages: unpacking is installing, for any platform."""
    target.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)


def _pin_requirements(descriptor_path: Path, requirements: list[str]) -> None:
    """The descriptor's PythonRequirements: exactly the packages (and versions) bundled."""
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    descriptor["PythonRequirements"] = [{"Platform": "All", "Requirements": requirements}]
    descriptor_path.write_text(json.dumps(descriptor, indent="\t") + "\n", encoding="utf-8")


def build(out: Path) -> Path:
    plugin = out / "FaceCue"
    if plugin.exists():
        shutil.rmtree(plugin)
    shutil.copytree(HERE / "FaceCue", plugin, ignore=shutil.ignore_patterns("__pycache__", "Lib", "Win64", "Mac", "Linux"))
    _pin_requirements(plugin / "FaceCue.uplugin", client_wheels.requirements())
    python = plugin / "Content" / "Python"
    with tempfile.TemporaryDirectory() as tmp:
        wheels = client_wheels.fetch(Path(tmp))
        _unpack(wheels.pop("pure"), python / "Lib" / "site-packages")
        for platform, compiled in wheels.items():
            _unpack(compiled, python / UNREAL_PLATFORMS[platform] / "Lib" / "site-packages")
    return Path(shutil.make_archive(str(out / "FaceCue"), "zip", out, "FaceCue"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "unreal")
    args = parser.parse_args()
    print(f"wrote {build(args.out)}")


if __name__ == "__main__":
    main()
