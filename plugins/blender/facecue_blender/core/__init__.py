"""Everything the extension does that needs no Blender: axes, timing, curves, PC2, name matching.

Tested with plain pytest; the Blender layer (``..blender``) only moves these arrays into bpy.
"""
