"""The extension package: manifest, bundled wheels, and a client that imports from them alone."""
from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_extension_zip_bundles_working_wheels(tmp_path):
    result = subprocess.run([sys.executable, str(HERE.parent / "build_extension.py"), "--out", str(tmp_path),
                             "--platforms", "linux-x64"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    archive = next(tmp_path.glob("facecue_blender-*.zip"))
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        manifest = tomllib.loads(zipped.read("blender_manifest.toml").decode())
        zipped.extractall(tmp_path / "extension")
    assert manifest["id"] == "facecue_blender" and manifest["blender_version_min"] == "4.2.0"
    assert manifest["permissions"]["network"] and manifest["platforms"] == ["linux-x64"]
    wheels = [w.removeprefix("./") for w in manifest["wheels"]]
    assert all(w in names for w in wheels) and "__init__.py" in names and "blender/importer.py" in names
    assert {Path(w).name.split("-")[0] for w in wheels} == {"facecue", "grpcio", "protobuf"}

    # Blender installs the wheels without dependencies beside its own numpy: the client must work from them.
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    *[str(tmp_path / "extension" / w) for w in wheels]], check=True, timeout=300)
    probe = ("import sys; sys.path[:0] = [sys.argv[1]]; import facecue.client, facecue.take, facecue.topology; "
             "assert 'torch' not in sys.modules and 'mediapipe' not in sys.modules; print(facecue.client.__file__)")
    out = subprocess.run([sys.executable, "-S", "-c", probe, str(site)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(Path(__import__("numpy").__file__).parents[1])})
    assert out.returncode == 0, out.stderr
    assert str(site) in out.stdout
