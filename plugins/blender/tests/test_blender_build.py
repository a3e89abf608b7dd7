"""The extension package as a user installs it: manifest, bundled wheels for every supported
Python and platform, and — in a Python that has only bpy — Blender's own installer putting it
in place, then Generate against a real server and an import from there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def extension(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extension")
    result = subprocess.run([sys.executable, str(HERE.parent / "build_extension.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return next(out.glob("facecue_blender-*.zip"))


def test_the_zip_bundles_the_client_for_every_python_and_platform(extension):
    with zipfile.ZipFile(extension) as zipped:
        names = set(zipped.namelist())
        manifest = tomllib.loads(zipped.read("blender_manifest.toml").decode())
    assert manifest["id"] == "facecue_blender" and manifest["blender_version_min"] == "4.2.0"
    assert manifest["permissions"]["network"]
    assert sorted(manifest["platforms"]) == ["linux-x64", "macos-arm64", "macos-x64", "windows-x64"]
    wheels = [w.removeprefix("./") for w in manifest["wheels"]]
    assert all(w in names for w in wheels) and "__init__.py" in names and "blender/importer.py" in names
    assert {Path(w).name.split("-")[0] for w in wheels} == {"facecue", "grpcio", "protobuf", "typing_extensions"}
    grpcio = {tuple(Path(w).name.split("-")[2:5:2]) for w in wheels if "grpcio" in w}
    platforms = {"manylinux_2_17_x86_64.whl", "win_amd64.whl", "macosx_11_0_universal2.whl"}
    assert {(python, platform.split(".")[-2] + ".whl") for python, platform in grpcio} == \
        {(python, platform) for python in ("cp311", "cp313") for platform in platforms}


def test_a_clean_blender_installs_the_zip_and_generates(extension, server, assets, tmp_path):
    """Nothing of this project is installed where this runs: only bpy and what bpy brings."""
    python = os.environ.get("FACECUE_CLEAN_BPY")
    if not python:
        if os.environ.get("FACECUE_REQUIRE_BPY"):
            pytest.fail("FACECUE_CLEAN_BPY is not set (make test sets it to a Python with only bpy)")
        pytest.skip("no Python with only bpy (FACECUE_CLEAN_BPY); make test provides one")
    bare = subprocess.run([python, "-c", "import facecue"], capture_output=True)
    assert bare.returncode != 0, "the clean environment must not have FaceCue installed"
    done = subprocess.run([python, str(HERE / "clean_blender_probe.py"), str(extension), server,
                           str(assets / "speech.wav"), str(assets / "face.jpg"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "blender")})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    installed = tmp_path / "blender" / "extensions"
    assert result["installed"] == ["FINISHED"]
    assert result["client"].startswith(str(installed)) and result["grpc"].startswith(str(installed))
    assert result["unreachable"].startswith("FaceCue server not reachable")
    assert result["frames"] > 0 and "FaceCue take face" in result["objects"]
