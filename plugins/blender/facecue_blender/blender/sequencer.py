"""The video sequencer's strips: ``sequences`` up to 4.3, ``strips`` from 4.4 (only, from 5.0)."""
from __future__ import annotations

import bpy


def strips(scene: bpy.types.Scene):
    editor = scene.sequence_editor or scene.sequence_editor_create()
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def all_strips(scene: bpy.types.Scene) -> list:
    editor = scene.sequence_editor
    if editor is None:
        return []
    return list(editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all)


def free_channel(scene: bpy.types.Scene) -> int:
    used = {strip.channel for strip in all_strips(scene)}
    return next(channel for channel in range(1, 129) if channel not in used)
