"""The FaceCue tab in the 3D view's sidebar."""
from __future__ import annotations

import bpy


class FACECUE_PT_panel(bpy.types.Panel):
    bl_label = "FaceCue"
    bl_idname = "FACECUE_PT_panel"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "FaceCue"

    def draw(self, context):
        settings = context.scene.facecue
        layout = self.layout
        column = layout.column(align=True)
        for name in ("audio", "photo", "emotion", "intensity", "transcript", "backend"):
            column.prop(settings, name)
        row = layout.row(align=True)
        row.prop(settings, "lip_scale")
        row.prop(settings, "head_scale")
        layout.prop(settings, "gaze")
        scene = context.scene
        layout.label(text=f"Frame rate: {scene.render.fps / scene.render.fps_base:.3f} fps (scene)")
        row = layout.row(align=True)
        row.prop(settings, "render_frames")
        row.prop(settings, "frame_size", text="")
        layout.prop(settings, "takes_dir")

        box = layout.box()
        box.label(text="Import")
        grid = box.grid_flow(columns=2, align=True)
        for name in ("import_head", "import_eyes", "import_face_mesh", "import_shape_keys", "import_emotions",
                     "import_sound", "import_frames_plane", "import_frames_strip", "import_set_up_scene"):
            grid.prop(settings, name)
        box.prop(settings, "target_mesh")
        box.prop(settings, "head_armature")
        if settings.head_armature:
            box.prop_search(settings, "head_bone", settings.head_armature.data, "bones")

        if settings.busy:
            row = layout.row(align=True)
            row.progress(factor=settings.progress, text=f"Generating {settings.progress:.0%}") \
                if hasattr(row, "progress") else row.label(text=f"Generating {settings.progress:.0%}")
            row.operator("facecue.cancel", text="", icon="CANCEL")
        else:
            layout.operator("facecue.generate", icon="PLAY")
        layout.operator("facecue.import_take", icon="IMPORT")
