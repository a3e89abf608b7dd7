"""Build the Blender extension zip: facecue_blender/ plus the wheels it needs.

    python plugins/blender/build_extension.py [--out dist/] [--platforms linux-x64 windows-x64 macos]

Bundles the client's wheels (plugins/client_wheels.py: this project's client, grpcio,
protobuf and grpcio's dependencies) for Python 3.11 (Blender 4.2–5.0) and 3.13 (5.1+) on each
platform asked for; Blender installs those that match it and brings numpy. The manifest's
``wheels`` and ``platforms`` are written to match, then the zip is made by ``blender
--command extension build`` when Blender is on PATH, else with the same layout.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "facecue_blender"
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
import client_wheels  # noqa: E402  (the helper shared with the Unreal build)

# client_wheels' platforms → Blender's names (one universal2 wheel serves both Macs)
BLENDER_PLATFORMS = {"linux-x64": ["linux-x64"], "windows-x64": ["windows-x64"], "macos": ["macos-arm64", "macos-x64"]}


def collect_wheels(folder: Path, platforms: list[str]) -> list[str]:
    """Wheels into ``folder``; returns the Blender platforms they cover."""
    client_wheels.fetch(folder, platforms)
    return [name for platform in platforms for name in BLENDER_PLATFORMS[platform]]


def write_manifest(manifest: Path, wheels: list[str], platforms: list[str]) -> None:
    text = manifest.read_text()
    listed = ", ".join(f'"./wheels/{name}"' for name in wheels)
    text = re.sub(r"^wheels = \[.*?\]", f"wheels = [{listed}]", text, flags=re.M | re.S)
    text = re.sub(r"^platforms = \[.*?\]\n", "", text, flags=re.M)
    text = text.replace("\n[permissions]", f"platforms = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in platforms)}]\n\n[permissions]", 1)
    manifest.write_text(text)


def build(out: Path, platforms: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "facecue_blender"
        shutil.copytree(SOURCE, staging, ignore=shutil.ignore_patterns("__pycache__", "wheels"))
        wheels = staging / "wheels"
        wheels.mkdir()
        supported = collect_wheels(wheels, platforms)
        write_manifest(staging / "blender_manifest.toml", sorted(p.name for p in wheels.iterdir()), supported)
        version = re.search(r'^version = "(.+)"', (staging / "blender_manifest.toml").read_text(), re.M).group(1)
        target = out / f"facecue_blender-{version}.zip"
        blender = shutil.which("blender")
        if blender and subprocess.run([blender, "--command", "extension", "build", "--source-dir", str(staging),
                                       "--output-filepath", str(target)], capture_output=True).returncode == 0:
            return target
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(staging).as_posix())
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument("--platforms", nargs="+", default=list(client_wheels.PLATFORMS),
                        choices=list(client_wheels.PLATFORMS))
    args = parser.parse_args()
    print(f"wrote {build(args.out, args.platforms)}")


if __name__ == "__main__":
    main()
