"""Run by test_blender_build.py under a Python that has only bpy (and its numpy): install the
built extension zip as Blender does, then generate a take on a real server and import it.

    python clean_blender_probe.py EXTENSION_ZIP SERVER AUDIO PHOTO OUT_DIR   → one JSON line
"""
import importlib
import json
import sys

import bpy

zip_path, server, audio, photo, out = sys.argv[1:6]
installed = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
extension = importlib.import_module("bl_ext.user_default.facecue_blender")
generation = importlib.import_module(f"{extension.__name__}.blender.generation")
importer = importlib.import_module(f"{extension.__name__}.blender.importer")

try:                                   # what the panel reports when the server is not there
    generation.generate(generation.GenerateRequest(server="127.0.0.1:9", audio=audio, photo=photo,
                                                   out=f"{out}/unreached", timeout_s=10))
    unreachable = "no error"
except Exception as err:
    unreachable = generation.user_message(err)

take_dir = generation.generate(generation.GenerateRequest(server=server, audio=audio, photo=photo, out=f"{out}/take",
                                                          emotion="happy", render=True, size="128", timeout_s=300))
report = importer.import_take(take_dir)
print(json.dumps({"installed": sorted(installed), "unreachable": unreachable, "frames": report.frames,
                  "objects": sorted(o.name for o in bpy.data.objects), "warnings": report.warnings,
                  "client": sys.modules["facecue.client"].__file__, "grpc": sys.modules["grpc"].__file__}))
