"""Build the Blender extension zip: facecue_blender/ plus the wheels it needs.

    python plugins/blender/build_extension.py [--out dist/] [--platforms linux-x64 windows-x64 macos-arm64]

Bundles a wheel of this project's client (built from the repository), grpcio for each
platform asked for and protobuf, at the versions this environment runs, because the
client's generated gRPC code must match its protobuf runtime. Blender brings numpy.
The manifest's ``wheels`` and ``platforms`` are written to match, then the zip is made
by ``blender --command extension build`` when Blender is on PATH, else with the same layout.
"""
from __future__ import annotations

import argparse
import importlib.metadata
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
PYTHON = "3.11"            # Blender 4.2 LTS to 5.0
PLATFORMS = {              # Blender's platform name → pip's wheel platform tag
    "linux-x64": "manylinux_2_17_x86_64",
    "windows-x64": "win_amd64",
    "macos-arm64": "macosx_11_0_arm64",
    "macos-x64": "macosx_10_14_x86_64",
}


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def collect_wheels(folder: Path, platforms: list[str]) -> list[str]:
    """Wheels into ``folder``; returns the platforms grpcio could be fetched for."""
    built = _pip("wheel", "--no-deps", "-q", "-w", str(folder), str(REPO))
    if built.returncode:
        raise SystemExit(f"build_extension: could not build the facecue wheel:\n{built.stderr}")
    protobuf = importlib.metadata.version("protobuf")
    fetched = _pip("download", f"protobuf=={protobuf}", "--no-deps", "--only-binary=:all:", "--python-version",
                   PYTHON, "--implementation", "py", "--abi", "none", "--platform", "any", "-q", "-d", str(folder))
    if fetched.returncode:
        raise SystemExit(f"build_extension: could not fetch protobuf {protobuf}:\n{fetched.stderr}")
    grpcio, supported = importlib.metadata.version("grpcio"), []
    for platform in platforms:
        fetched = _pip("download", f"grpcio=={grpcio}", "--no-deps", "--only-binary=:all:", "--python-version",
                       PYTHON, "--platform", PLATFORMS[platform], "-q", "-d", str(folder))
        if fetched.returncode:
            print(f"build_extension: warning: no grpcio {grpcio} wheel for {platform}; left out", file=sys.stderr)
        else:
            supported.append(platform)
    if any("universal2" in wheel.name for wheel in folder.iterdir()):      # one macOS wheel for both chips
        supported = sorted(set(supported) | ({"macos-arm64", "macos-x64"} & set(platforms)))
    if not supported:
        raise SystemExit("build_extension: no grpcio wheel could be fetched for any platform")
    return supported


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
    parser.add_argument("--platforms", nargs="+", default=list(PLATFORMS), choices=list(PLATFORMS))
    args = parser.parse_args()
    print(f"wrote {build(args.out, args.platforms)}")


if __name__ == "__main__":
    main()
