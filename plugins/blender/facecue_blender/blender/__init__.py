"""The thin Blender layer: bpy objects, keys, operators and the panel over ``..core``."""
