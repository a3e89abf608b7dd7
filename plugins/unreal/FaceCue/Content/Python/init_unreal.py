"""Runs when the editor starts with the FaceCue plugin enabled: adds Tools → FaceCue."""
import unreal

try:
    from facecue_unreal.host import menu

    menu.register()
except Exception as err:                         # never block the editor from starting
    unreal.log_error(f"FaceCue: could not add the Tools menu entry: {err}")
