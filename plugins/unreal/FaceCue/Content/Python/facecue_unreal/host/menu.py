"""Tools → FaceCue: edit settings, generate on the server, import into the project."""
from __future__ import annotations

from pathlib import Path

import unreal

from . import settings as settings_module
from .importer import ImportFailed, import_take
from .work import Background, generate_take, user_message, with_progress

MENU, SECTION, OWNER = "LevelEditor.MainMenu.Tools", "FaceCue", "FaceCue"
_state: dict = {}


def takes_folder() -> Path:
    return Path(unreal.Paths.project_saved_dir()) / "FaceCue" / "takes"


def _import(take_dir: Path, settings) -> None:
    options = settings_module.import_options(settings)
    try:
        result = with_progress("FaceCue import", 4, lambda step: import_take(take_dir, options, progress=step))
    except (ImportFailed, KeyboardInterrupt) as err:
        unreal.log_error(f"FaceCue: {err}")
        return
    for warning in result.warnings:
        unreal.log_warning(f"FaceCue: {warning}")
    unreal.log(f"FaceCue: imported {take_dir.name} into {result.folder}")


def run(settings=None) -> Background | None:
    """Show the settings, then generate off the game thread and import on completion."""
    settings = settings or _state.setdefault("settings", settings_module.new_settings())
    if not settings_module.edit(settings):
        return None
    for label, value in (("audio", settings.audio), ("photo", settings.photo)):
        if not value or not Path(value).is_file():
            unreal.log_error(f"FaceCue: {label} file '{value}' does not exist")
            return None
    out = takes_folder() / f"{Path(settings.audio).stem}_{settings.emotion}"

    def done(take_dir, error):
        if error is not None:
            unreal.log_error(f"FaceCue: {user_message(error)}")
        else:
            _import(take_dir, settings)
    unreal.log(f"FaceCue: generating on {settings.server} …")
    return Background(lambda: generate_take(settings.server, settings.token, settings.audio, settings.photo, out,
                                            emotion=settings.emotion, intensity=settings.intensity, fps=settings.fps,
                                            render=settings.render_frames, backend=settings.backend or "procedural"),
                      done).start()


@unreal.uclass()
class FaceCueMenuEntry(unreal.ToolMenuEntryScript):
    @unreal.ufunction(override=True)
    def execute(self, context):
        run()


def register() -> None:
    menus = unreal.ToolMenus.get()
    menu = menus.find_menu(MENU)
    entry = FaceCueMenuEntry()
    entry.init_entry(OWNER, MENU, SECTION, "FaceCueGenerate", "FaceCue…", "Generate and import a talking-face take")
    menu.add_menu_entry_object(entry)
    menus.refresh_all_widgets()
    _state["entry"] = entry
