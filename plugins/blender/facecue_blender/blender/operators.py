"""Operators: generate on a server (off the main thread), import a take from disk, cancel."""
from __future__ import annotations

from pathlib import Path

import bpy

from .generation import BackgroundJob, GenerateRequest, check, generate, user_message
from .importer import ImportFailed, import_take, scene_fps
from .preferences import preferences

_running: dict[str, BackgroundJob] = {}        # the one generation in flight, shown by the panel


def build_request(context) -> GenerateRequest:
    settings = context.scene.facecue
    prefs = preferences(context)
    audio = Path(bpy.path.abspath(settings.audio))
    name = f"{audio.stem or 'take'}_{settings.emotion}"
    return GenerateRequest(
        server=prefs.server if prefs else "localhost:50051", token=prefs.token if prefs else "",
        timeout_s=prefs.timeout_s if prefs else 3600.0, audio=audio, photo=Path(bpy.path.abspath(settings.photo)),
        out=Path(bpy.path.abspath(settings.takes_dir)) / name, emotion=settings.emotion,
        intensity=settings.intensity, fps=scene_fps(context.scene), transcript=settings.transcript,
        render=settings.render_frames, size=settings.frame_size, lip_scale=settings.lip_scale,
        head_scale=settings.head_scale, gaze=settings.gaze, backend=settings.backend)


def _import(operator, context, take_dir: Path) -> set[str]:
    settings = context.scene.facecue
    try:
        report = import_take(take_dir, settings.import_options(context.scene.frame_start), context.scene)
    except ImportFailed as err:
        operator.report({"ERROR"}, f"FaceCue: {err}")
        return {"CANCELLED"}
    for warning in report.warnings:
        operator.report({"WARNING"}, f"FaceCue: {warning}")
    operator.report({"INFO"}, f"FaceCue: imported {report.frames} frames from {take_dir.name}")
    return {"FINISHED"}


class FACECUE_OT_generate(bpy.types.Operator):
    """Generate a take on the FaceCue server from the audio and photo, then import it"""
    bl_idname = "facecue.generate"
    bl_label = "Generate"

    _timer = None
    _job: BackgroundJob | None = None

    @classmethod
    def poll(cls, context):
        return "job" not in _running

    def execute(self, context):          # scripts and background mode: synchronous
        try:
            request = build_request(context)
            take_dir = generate(request)
        except Exception as err:
            self.report({"ERROR"}, f"FaceCue: {user_message(err)}")
            return {"CANCELLED"}
        return _import(self, context, take_dir)

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        try:
            request = build_request(context)
            check(request)
        except ValueError as err:
            self.report({"ERROR"}, f"FaceCue: {err}")
            return {"CANCELLED"}
        self._job = _running["job"] = BackgroundJob(request).start()
        settings = context.scene.facecue
        settings.busy, settings.progress, settings.status = True, 0.0, "generating…"
        self._timer = context.window_manager.event_timer_add(0.2, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        settings = context.scene.facecue
        if event.type == "ESC":
            self._job.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        settings.progress = self._job.progress
        for area in context.screen.areas if context.screen else []:
            if area.type == "VIEW_3D":
                area.tag_redraw()
        if not self._job.done.is_set():
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        _running.pop("job", None)
        settings.busy, settings.status = False, ""
        if self._job.error:
            self.report({"ERROR"}, f"FaceCue: {self._job.error}")
            return {"CANCELLED"}
        return _import(self, context, self._job.result)


class FACECUE_OT_cancel(bpy.types.Operator):
    """Stop the generation in progress"""
    bl_idname = "facecue.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return "job" in _running

    def execute(self, context):
        _running["job"].cancel()
        return {"FINISHED"}


class FACECUE_OT_import_take(bpy.types.Operator):
    """Import a take directory written by FaceCue (no server needed)"""
    bl_idname = "facecue.import_take"
    bl_label = "Import Take from Disk"

    directory: bpy.props.StringProperty(subtype="DIR_PATH")

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if not self.directory:
            self.report({"ERROR"}, "FaceCue: choose a take directory")
            return {"CANCELLED"}
        return _import(self, context, Path(bpy.path.abspath(self.directory)))
