"""Render-farm entry: a manifest of takes generated (or read) and imported synchronously.

    UnrealEditor-Cmd Project.uproject -run=pythonscript -script="facecue_headless.py jobs.json"
    UnrealEditor-Cmd Project.uproject -ExecutePythonScript="facecue_headless.py jobs.json"

One failing take never stops the others; the run ends non-zero if any failed.
"""
from __future__ import annotations

from pathlib import Path

import unreal

from ..core import manifest as manifest_io
from ..core.plan import ImportOptions
from .importer import ImportFailed, import_take
from .work import generate_take, user_message


def run(manifest_path: str) -> int:
    try:
        jobs = manifest_io.load(manifest_path)
    except manifest_io.ManifestError as err:
        unreal.log_error(f"FaceCue: {err}")
        return 2
    options = ImportOptions(destination=jobs.destination, skeleton=jobs.skeleton, anim=bool(jobs.skeleton))
    failures = []
    for job in jobs.takes:
        try:
            take_dir = job.take or generate_take(jobs.server, jobs.token, str(job.audio), str(job.photo),
                                                 jobs.takes_dir / job.name, emotion=job.emotion,
                                                 intensity=job.intensity, fps=job.fps, render=job.render, size=job.size,
                                                 backend=job.backend)
            result = import_take(Path(take_dir), options, name=job.name)
            unreal.log(f"FaceCue: {job.name} → {result.folder}")
        except Exception as err:                 # one take's failure is reported, the rest go on
            message = str(err) if isinstance(err, ImportFailed) else user_message(err)
            unreal.log_error(f"FaceCue: take '{job.name}' failed: {message}")
            failures.append(job.name)
    unreal.log(f"FaceCue: {len(jobs.takes) - len(failures)} of {len(jobs.takes)} takes imported")
    return 1 if failures else 0
