"""Build the Unreal plugin folder (and a zip) with the Python packages its client needs.

    python plugins/unreal/build_plugin.py [--out dist/]

Unreal adds ``<Plugin>/Content/Python/Lib/site-packages`` and
``<Plugin>/Content/Python/<Platform>/Lib/site-packages`` to ``sys.path``: this project's client
(``facecue``, pure Python) and protobuf go in the first, grpcio's compiled wheels for Win64,
Mac and Linux in the second, at the versions this environment runs (the client's generated
gRPC code must match its protobuf runtime). Unreal 5.5+ can instead pip-install the
``PythonRequirements`` listed in FaceCue.uplugin; this build works offline on 5.3 and later.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON = "3.11"                    # Unreal 5.3 – 5.6 embed Python 3.11
PLATFORMS = {"Win64": "win_amd64", "Mac": "macosx_11_0_universal2", "Linux": "manylinux_2_17_x86_64"}


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"build_plugin: pip {' '.join(args[:2])} failed:\n{done.stderr}")


def build(out: Path) -> Path:
    plugin = out / "FaceCue"
    if plugin.exists():
        shutil.rmtree(plugin)
    shutil.copytree(HERE / "FaceCue", plugin, ignore=shutil.ignore_patterns("__pycache__", "Lib", "Win64", "Mac", "Linux"))
    python = plugin / "Content" / "Python"
    with tempfile.TemporaryDirectory() as tmp:
        _pip("wheel", "--no-deps", "-q", "-w", tmp, str(REPO))
        wheel = next(Path(tmp).glob("facecue-*.whl"))
        _pip("install", "-q", "--no-deps", "--target", str(python / "Lib" / "site-packages"), str(wheel),
             f"protobuf=={importlib.metadata.version('protobuf')}", "--only-binary=:all:", "--python-version", PYTHON,
             "--implementation", "py", "--abi", "none", "--platform", "any")
    grpcio = importlib.metadata.version("grpcio")
    for platform, tag in PLATFORMS.items():
        _pip("install", "-q", "--no-deps", "--target", str(python / platform / "Lib" / "site-packages"),
             f"grpcio=={grpcio}", "--only-binary=:all:", "--python-version", PYTHON, "--platform", tag)
    return Path(shutil.make_archive(str(out / "FaceCue"), "zip", out, "FaceCue"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "unreal")
    args = parser.parse_args()
    print(f"wrote {build(args.out)}")


if __name__ == "__main__":
    main()
