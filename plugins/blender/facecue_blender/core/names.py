"""Matching a mesh's shape keys to ARKit's 52 names, and names for emotion channels."""
from __future__ import annotations

import re


def _normal(name: str) -> str:
    """Lower case without separators; a trailing side letter (``_L``, ``.R``) spelled out."""
    name = re.sub(r"[_.\-\s]([LlRr])$", lambda m: "left" if m.group(1) in "Ll" else "right", name)
    return re.sub(r"[^a-z0-9]", "", name.lower())


def match_shape_keys(arkit_names: list[str], shape_keys: list[str]) -> tuple[dict[int, str], list[str]]:
    """ARKit index → the mesh's key name, matched case- and separator-insensitively
    (``jawOpen``, ``JawOpen``, ``jaw_open``), and the ARKit names the mesh lacks."""
    available = {_normal(key): key for key in shape_keys}
    found = {i: available[_normal(n)] for i, n in enumerate(arkit_names) if _normal(n) in available}
    missing = [n for i, n in enumerate(arkit_names) if i not in found]
    return found, missing


def emotion_property(emotion: str) -> str:
    return f"facecue_emotion_{emotion}"
