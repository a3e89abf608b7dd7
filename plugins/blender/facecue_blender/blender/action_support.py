"""One place for the two action APIs: Blender 4.2/4.3 (F-curves on the action) and 4.4+
slotted actions (F-curves in a channelbag per slot; the only API from 5.0)."""
from __future__ import annotations

import bpy
import numpy as np

from ..core.keys import keyframe_coords

SLOTTED = hasattr(bpy.types, "ActionSlot")
LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


class Curves:
    """F-curves of one action assigned to one data-block."""

    def __init__(self, owner: bpy.types.ID, action_name: str):
        self.owner = owner
        animation = owner.animation_data or owner.animation_data_create()
        previous = animation.action
        self.action = bpy.data.actions.new(action_name)
        self.action.use_fake_user = False
        if SLOTTED:
            slot = self.action.slots.new(id_type=owner.id_type, name=owner.name)
            strip = self.action.layers.new("FaceCue").strips.new(type="KEYFRAME")
            self._fcurves = strip.channelbags.new(slot).fcurves
            animation.action = self.action
            animation.action_slot = slot
        else:
            self._fcurves = self.action.fcurves
            animation.action = self.action
        if previous is not None and previous.users == 0:
            bpy.data.actions.remove(previous)

    def key(self, data_path: str, values: np.ndarray, start_frame: float, index: int = 0, group: str = "") -> bpy.types.FCurve:
        """One curve keyed on consecutive frames from ``start_frame``: bulk, no per-key Python."""
        if SLOTTED:
            curve = self._fcurves.new(data_path, index=index, group_name=group)
        else:
            curve = self._fcurves.new(data_path, index=index, action_group=group)
        points = curve.keyframe_points
        points.add(len(values))
        points.foreach_set("co", keyframe_coords(start_frame, values))
        points.foreach_set("interpolation", np.full(len(values), LINEAR, np.int32))
        curve.update()
        return curve

    def key_vector(self, data_path: str, values: np.ndarray, start_frame: float, group: str = "") -> None:
        for index in range(values.shape[1]):
            self.key(data_path, values[:, index], start_frame, index, group)


def fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """Every F-curve of an action, whichever API it uses."""
    if not SLOTTED:
        return list(action.fcurves)
    return [curve for layer in action.layers for strip in layer.strips
            for bag in strip.channelbags for curve in bag.fcurves]
