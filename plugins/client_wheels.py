"""The wheels FaceCue's client needs inside a host application (Blender, Unreal), for every
Python and platform the plugins support: one place that decides them, used by both builds.

The client is this project's own wheel (pure Python) plus grpcio, protobuf and grpcio's own
dependencies (typing-extensions), at the versions this environment runs: the client's
generated gRPC code must match its protobuf runtime. The host brings numpy.

    PYTHONS    3.11 (Blender 4.2–5.0, Unreal 5.3–5.6) and 3.13 (Blender 5.1+)
    PLATFORMS  Linux x64, Windows x64 and macOS (one universal2 wheel for Apple silicon and Intel)
"""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.13")
PLATFORMS = {"linux-x64": "manylinux_2_17_x86_64", "windows-x64": "win_amd64", "macos": "macosx_11_0_universal2"}
COMPILED = ("grpcio",)                   # everything else the client needs is pure Python


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "-q"],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"client wheels: pip {' '.join(args[:3])} … failed:\n{done.stderr.strip()}")


def requirements() -> list[str]:
    """grpcio, protobuf and grpcio's unconditional dependencies, pinned as installed here."""
    names, todo = [], ["grpcio", "protobuf"]
    while todo:
        name = todo.pop(0)
        if name in names:
            continue
        names.append(name)
        for requirement in importlib.metadata.requires(name) or []:
            if ";" not in requirement:                           # extras and markers are not needed
                todo.append(re.split(r"[<>=~!\[ ]", requirement, maxsplit=1)[0])
    return [f"{name}=={importlib.metadata.version(name)}" for name in names]


def fetch(folder: Path, platforms: list[str] | None = None, pythons: tuple[str, ...] = PYTHONS) -> dict[str, list[Path]]:
    """Wheels into ``folder``: {"pure": […], <platform>: […]} (compiled ones per Python)."""
    folder.mkdir(parents=True, exist_ok=True)
    platforms = list(platforms or PLATFORMS)
    before = set(folder.iterdir())
    _pip("wheel", "--no-deps", "-w", str(folder), str(REPO))
    pure = [r for r in requirements() if r.split("==")[0] not in COMPILED]
    _pip("download", "--no-deps", "--only-binary=:all:", "--implementation", "py", "--abi", "none",
         "--platform", "any", "--python-version", pythons[0], "-d", str(folder), *pure)
    wheels = {"pure": sorted(set(folder.iterdir()) - before)}
    compiled = [r for r in requirements() if r.split("==")[0] in COMPILED]
    for platform in platforms:
        before = set(folder.iterdir())
        for python in pythons:
            _pip("download", "--no-deps", "--only-binary=:all:", "--python-version", python,
                 "--platform", PLATFORMS[platform], "-d", str(folder), *compiled)
        wheels[platform] = sorted(set(folder.iterdir()) - before)
    return wheels
