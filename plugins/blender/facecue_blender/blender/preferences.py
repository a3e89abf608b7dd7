"""Add-on preferences: where the FaceCue server is."""
from __future__ import annotations

import bpy

PACKAGE = __package__.rsplit(".", 1)[0]      # the extension's own module name


class FaceCuePreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    server: bpy.props.StringProperty(name="Server", default="localhost:50051", description="host:port of facecue serve")
    token: bpy.props.StringProperty(name="Token", subtype="PASSWORD", description="Bearer token, if the server needs one")
    timeout_s: bpy.props.FloatProperty(name="Timeout (s)", default=3600.0, min=5.0)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "server")
        layout.prop(self, "token")
        layout.prop(self, "timeout_s")


def preferences(context) -> "FaceCuePreferences | None":
    addon = context.preferences.addons.get(PACKAGE)
    return addon.preferences if addon else None
