"""The plugin folder as Unreal loads it: descriptor, Python entry points, bundled packages."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy

HERE = Path(__file__).resolve().parent


def test_descriptor_names_its_dependencies():
    descriptor = json.loads((HERE.parent / "FaceCue" / "FaceCue.uplugin").read_text())
    assert {p["Name"] for p in descriptor["Plugins"]} >= {"PythonScriptPlugin", "EditorScriptingUtilities", "ImgMedia"}
    names = {r.split("==")[0] for r in descriptor["PythonRequirements"][0]["Requirements"]}
    assert names == {"grpcio", "protobuf", "typing-extensions"}
    assert descriptor["CanContainContent"] is True


def test_built_plugin_runs_its_client_from_the_bundled_packages(tmp_path):
    done = subprocess.run([sys.executable, str(HERE.parent / "build_plugin.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    # The built descriptor names exactly the versions bundled (what Unreal 5.5+ would pip-install).
    built = json.loads((tmp_path / "FaceCue" / "FaceCue.uplugin").read_text())
    python = tmp_path / "FaceCue" / "Content" / "Python"
    bundled = _bundled(python / "Lib" / "site-packages") | _bundled(python / "Linux" / "Lib" / "site-packages")
    assert set(built["PythonRequirements"][0]["Requirements"]) <= bundled, bundled
    assert built["Plugins"] == json.loads((HERE.parent / "FaceCue" / "FaceCue.uplugin").read_text())["Plugins"]
    assert (python / "init_unreal.py").is_file() and (python / "facecue_headless.py").is_file()
    for platform in ("Win64", "Mac", "Linux"):
        assert (python / platform / "Lib" / "site-packages" / "grpc").is_dir()
    for python_tag in ("cpython-311", "cpython-313"):                         # Unreal 5.3–5.6 and later
        assert list((python / "Linux" / "Lib" / "site-packages" / "grpc" / "_cython").glob(f"cygrpc.{python_tag}-*"))
    # Unreal puts these folders on sys.path and brings numpy; nothing else may be needed.
    probe = ("import sys; sys.path[:0] = sys.argv[1:4]; import grpc, facecue.client, facecue.take; "
             "import facecue_unreal.core.plan; print(facecue.client.__file__, grpc.__file__)")
    out = subprocess.run([sys.executable, "-S", "-c", probe, str(python / "Lib" / "site-packages"),
                          str(python / "Linux" / "Lib" / "site-packages"), str(_numpy_only(tmp_path))],
                         capture_output=True, text=True, cwd=python, env={"PYTHONPATH": str(python)})
    assert out.returncode == 0, out.stderr
    assert str(python) in out.stdout.split()[0] and str(python / "Linux") in out.stdout.split()[1]


def _bundled(site: Path) -> set[str]:
    """name==version of each package unpacked into ``site`` (from its .dist-info folder)."""
    found = set()
    for info in site.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").split("-")[:2]
        found.add(f"{name.replace('_', '-').lower()}=={version}")
    return found


def _numpy_only(tmp_path: Path) -> Path:
    """A folder holding numpy alone (as Unreal's own Python has it), nothing else of this environment."""
    folder = tmp_path / "numpy_only"
    folder.mkdir()
    site = Path(numpy.__file__).parents[1]
    for name in ("numpy", "numpy.libs"):
        if (site / name).exists():
            (folder / name).symlink_to(site / name)
    return folder
