"""A strict, recording fake of Unreal's Python API, generated from the Unreal 5.6 stub.

The stub (PyPI ``unreal-stub``) lists every class, method, property, enum value and module
function of ``unreal``; it is not importable (some defaults are not Python), so it is indexed
line by line. The fake then:

- refuses any name the real API lacks (class, function, method, property, editor property,
  enum value) with AttributeError — a typo or an API from another version fails the test;
- returns, from every call, an object of the declared return type (so chained calls stay
  checked), with a few behaviours the plugin relies on (assets created where asked, tracks,
  sections and channels that keep their keys);
- records every call, so tests can count Python→Unreal calls and read what was made.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_CLASS = re.compile(r"^class (\w+)\((.*)\):")
_DEF = re.compile(r"^    def (\w+)\((.*)\)\s*->\s*(.+):\s*$")
_TOP_DEF = re.compile(r"^def (\w+)\((.*)\)\s*(?:->\s*(.+))?:\s*$")
_EDITOR_PROPERTY = re.compile(r"^    - ``(\w+)`` \(([^)]*)\)")
_MEMBER = re.compile(r"^    ([A-Z][A-Z0-9_]*): ")


@dataclass
class ClassInfo:
    name: str
    bases: list[str]
    methods: dict[str, str] = field(default_factory=dict)         # name → return annotation
    class_methods: set[str] = field(default_factory=set)
    properties: dict[str, str] = field(default_factory=dict)     # name → type
    members: set[str] = field(default_factory=set)                # enum values / constants
    init_params: list[str] = field(default_factory=list)


@dataclass
class ApiIndex:
    classes: dict[str, ClassInfo]
    functions: dict[str, str]

    def mro(self, name: str) -> list[ClassInfo]:
        chain, seen, todo = [], set(), [name]
        while todo:
            current = todo.pop(0)
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            chain.append(self.classes[current])
            todo.extend(self.classes[current].bases)
        return chain

    def find(self, cls: str, attr: str):
        for info in self.mro(cls):
            if attr in info.methods:
                return "method", info.methods[attr], attr in info.class_methods
            if attr in info.properties:
                return "property", info.properties[attr], False
            if attr in info.members:
                return "member", None, False
        return None

    def has_editor_property(self, cls: str, name: str) -> bool:
        return any(name in info.properties for info in self.mro(cls))

    def property_type(self, cls: str, name: str) -> str:
        return next((info.properties[name] for info in self.mro(cls) if name in info.properties), "")


def stub_path() -> Path:
    spec = importlib.util.find_spec("unreal")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Unreal API stub is not installed (pip install unreal-stub)")
    return Path(list(spec.submodule_search_locations)[0]) / "unreal.py"


@lru_cache(maxsize=1)
def index() -> ApiIndex:
    classes: dict[str, ClassInfo] = {}
    functions: dict[str, str] = {}
    current: ClassInfo | None = None
    decorator = ""
    with open(stub_path(), encoding="utf-8-sig") as stub:
        for line in stub:
            if line.startswith("class "):
                match = _CLASS.match(line)
                if match:
                    bases = [b.strip() for b in match.group(2).split(",") if b.strip() and b.strip() != "object"]
                    current = classes[match.group(1)] = ClassInfo(match.group(1), bases)
                continue
            if line.startswith("def "):
                current = None
                match = _TOP_DEF.match(line)
                if match:
                    functions[match.group(1)] = (match.group(3) or "None").strip()
                continue
            if current is None:
                continue
            if line.startswith("    @"):
                decorator = line.strip()
                continue
            match = _DEF.match(line)
            if match:
                name, params, returns = match.groups()
                if decorator == "@property":
                    current.properties[name] = returns.strip()
                elif decorator.endswith(".setter"):
                    current.properties.setdefault(name, "")
                else:
                    current.methods[name] = returns.strip()
                    if decorator == "@classmethod":
                        current.class_methods.add(name)
                    if name == "__init__":
                        current.init_params = [p.split(":")[0].split("=")[0].strip()
                                               for p in _split_params(params)[1:]]
                decorator = ""
                continue
            decorator = ""
            editor_property = _EDITOR_PROPERTY.match(line)
            if editor_property:
                current.properties.setdefault(editor_property.group(1), editor_property.group(2).strip())
            elif _MEMBER.match(line):
                current.members.add(_MEMBER.match(line).group(1))
    return ApiIndex(classes, functions)


def _split_params(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip() and not p.strip().startswith("*")]


@dataclass
class Call:
    owner: str
    name: str
    args: tuple
    kwargs: dict
    result: object = None


class _PropertySlot:
    """What ``unreal.uproperty(type)`` returns in the fake: a typed per-instance attribute."""

    def __init__(self, type_):
        self.type = type_

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj._props.get(self.name, _DEFAULTS.get(getattr(self.type, "__name__", ""), None))

    def __set__(self, obj, value):
        obj._props[self.name] = value


_DEFAULTS = {"bool": False, "int": 0, "float": 0.0, "str": ""}


def _lookup(fake: "FakeUnreal", cls: str, name: str):
    """(kind, type, is_class_method) of a class's attribute, or AttributeError if Unreal lacks it."""
    if name.startswith("__"):
        raise AttributeError(name)
    found = fake.api.find(cls, name)
    if found is None:
        raise AttributeError(f"unreal.{cls} has no attribute '{name}'")
    return found


def _unwrap(type_text: str) -> str:
    """Docstring types such as ``int32`` or ``TObjectPtr<X>`` to the stub's names."""
    text = type_text.strip()
    return {"int32": "int", "uint8": "int", "int64": "int", "double": "float", "FString": "str"}.get(text, text)


class FakeObject:
    """An instance of an Unreal class: only its real methods and properties exist."""

    def __init__(self, fake: "FakeUnreal", cls: str, *args, **kwargs):
        object.__setattr__(self, "_fake", fake)
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_props", {})
        params = fake.api.classes[cls].init_params if cls in fake.api.classes else []
        for name, value in list(zip(params, args)) + list(kwargs.items()):
            self._props[name] = value

    @property
    def unreal_class(self) -> str:
        return self._cls

    def __getattr__(self, name: str):
        kind, returns, _ = _lookup(self._fake, self._cls, name)
        if kind == "method":
            return lambda *args, **kwargs: self._fake.call(self, self._cls, name, returns, args, kwargs)
        return self._fake.read_property(self, name)

    def __setattr__(self, name: str, value) -> None:
        if self._fake.api.find(self._cls, name) is None:
            raise AttributeError(f"unreal.{self._cls} has no property '{name}'")
        self._props[name] = value

    def __enter__(self):
        if self._fake.api.find(self._cls, "__enter__") is None:
            raise TypeError(f"unreal.{self._cls} is not a context manager")
        self._fake.calls.append(Call(self._cls, "__enter__", (), {}, self))
        return self

    def __exit__(self, *exc) -> bool:
        self._fake.calls.append(Call(self._cls, "__exit__", (), {}, None))
        return False

    def __repr__(self) -> str:
        return f"<fake unreal.{self._cls} {self._props.get('_path', '')}>"


class FakeClass:
    def __init__(self, fake: "FakeUnreal", name: str):
        self._fake, self.name = fake, name

    def __call__(self, *args, **kwargs) -> FakeObject:
        obj = FakeObject(self._fake, self.name, *args, **kwargs)
        self._fake.calls.append(Call(self.name, "__init__", args, kwargs, obj))
        return obj

    def __getattr__(self, name: str):
        kind, returns, is_class_method = _lookup(self._fake, self.name, name)
        if kind == "member":
            return f"{self.name}.{name}"
        if kind == "method" and is_class_method:
            return lambda *args, **kwargs: self._fake.call(self, self.name, name, returns, args, kwargs)
        raise AttributeError(f"unreal.{self.name}.{name} is not a class attribute")

    def __repr__(self) -> str:
        return f"<fake unreal class {self.name}>"

    def __mro_entries__(self, bases):
        """Subclassing an Unreal class: overrides must name methods the class really has."""
        fake, name = self._fake, self.name

        class Base(FakeObject):
            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                for attr, value in vars(cls).items():
                    if callable(value) and getattr(value, "_unreal_override", False) \
                            and fake.api.find(name, attr) is None:
                        raise AttributeError(f"{cls.__name__} overrides '{attr}', which unreal.{name} lacks")

            def __init__(self, *args, **kwargs):
                FakeObject.__init__(self, fake, name, *args, **kwargs)

            def __getattr__(self, attr):
                return FakeObject.__getattr__(self, attr)

            def __setattr__(self, attr, value):
                if attr in type(self).__dict__ or any(attr in vars(k) for k in type(self).__mro__[:-3]):
                    object.__setattr__(self, attr, value)
                else:
                    FakeObject.__setattr__(self, attr, value)
        Base.__name__ = f"Fake{name}"
        return (Base,)


class FakeUnreal:
    """Use as the ``unreal`` module: ``sys.modules['unreal'] = FakeUnreal()``."""

    def __init__(self):
        self.api = index()
        self.calls: list[Call] = []
        self.assets: dict[str, FakeObject] = {}
        self.logs: list[tuple[str, str]] = []
        self.tick_callbacks: list = []
        self.menus: dict[str, list] = {}
        self._classes: dict[str, FakeClass] = {}

    # -- module attributes ----------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self.api.classes:
            return self._classes.setdefault(name, FakeClass(self, name))
        if name in self.api.functions:
            returns = self.api.functions[name]
            return lambda *args, **kwargs: self.call(None, "unreal", name, returns, args, kwargs)
        raise AttributeError(f"module 'unreal' has no attribute '{name}'")

    # -- calls ------------------------------------------------------------------------------
    def call(self, target, owner: str, name: str, returns: str, args: tuple, kwargs: dict):
        handler = getattr(self, f"_on_{name}", None)
        self._returns = returns
        result = handler(target, *args, **kwargs) if handler else self.default(returns)
        self.calls.append(Call(owner, name, args, kwargs, result))
        return result

    def default(self, returns: str):
        returns = returns.strip().strip("'\"")
        if returns in ("None", ""):
            return None
        if returns == "bool":
            return True
        if returns in ("int", "float"):
            return 0
        if returns in ("str", "Name", "Text"):
            return ""
        if returns.startswith(("Array[", "List[", "Tuple[")):
            return []
        if returns.startswith("Optional["):
            return self.default(returns[9:-1])
        if returns in self.api.classes:
            return FakeObject(self, returns)
        return None

    def count(self, name: str | None = None) -> int:
        return sum(1 for c in self.calls if name is None or c.name == name)

    # -- behaviours the plugin relies on ----------------------------------------------------
    def _on_log(self, target, message):
        self.logs.append(("info", str(message)))

    def _on_log_warning(self, target, message):
        self.logs.append(("warning", str(message)))

    def _on_log_error(self, target, message):
        self.logs.append(("error", str(message)))

    def _on_should_cancel(self, target):
        return False

    def _on_get(self, target, *args):
        """``unreal.ToolMenus.get()`` and other singletons: an instance of the class itself."""
        return FakeObject(self, target.name) if isinstance(target, FakeClass) else self.default(self._returns)

    def _on_get_asset_tools(self, target):
        return FakeObject(self, "AssetTools")

    def _on_create_asset(self, target, asset_name, package_path, asset_class, factory):
        obj = FakeObject(self, asset_class.name)
        obj._props.update(_path=f"{package_path}/{asset_name}", _factory=factory)
        self.assets[f"{package_path}/{asset_name}"] = obj
        return obj

    def _on_create_material_expression(self, target, material, expression_class, *args):
        expression = FakeObject(self, expression_class.name)       # Unreal returns the class asked for
        material._props.setdefault("_expressions", []).append(expression)
        return expression

    def _on_import_asset_tasks(self, target, tasks):
        for task in tasks:
            path = f"{task.destination_path}/{task.destination_name}"
            sound = FakeObject(self, "SoundWave")
            sound._props.update(_path=path, _source=task.filename)
            self.assets[path] = sound
            task._props["imported_object_paths"] = [path]

    def _on_load_asset(self, target, path):
        return self.assets.get(path.split(".")[0])

    def _on_does_directory_exist(self, target, path):
        return any(p.startswith(path.rstrip("/") + "/") for p in self.assets)

    def _on_does_asset_exist(self, target, path):
        return path.split(".")[0] in self.assets

    def _on_delete_directory(self, target, path):
        for key in [p for p in self.assets if p.startswith(path.rstrip("/") + "/")]:
            del self.assets[key]
        return True

    def _on_add_spawnable_from_class(self, target, cls):
        binding = FakeObject(self, "MovieSceneBindingProxy")
        binding._props.update(_class=cls.name, _tracks=[], _name="")
        target._props.setdefault("_bindings", []).append(binding)
        return binding

    def _on_set_display_name(self, target, name):
        target._props["_name"] = name

    def _on_add_track(self, target, track_class):
        track = FakeObject(self, track_class.name)
        track._props["_sections"] = []
        target._props.setdefault("_tracks", []).append(track)
        return track

    _SECTIONS = {"MovieScene3DTransformTrack": "MovieScene3DTransformSection",
                 "MovieSceneAudioTrack": "MovieSceneAudioSection", "MovieSceneMediaTrack": "MovieSceneMediaSection",
                 "MovieSceneSpawnTrack": "MovieSceneSpawnSection"}
    # what a section's get_all_channels returns in the engine: a transform's 9 doubles, a spawn's one bool
    _CHANNELS = {"MovieScene3DTransformSection": ("MovieSceneScriptingDoubleChannel", 9),
                 "MovieSceneSpawnSection": ("MovieSceneScriptingBoolChannel", 1)}

    def _on_add_section(self, target, *args):
        section = FakeObject(self, self._SECTIONS.get(target._cls, "MovieSceneSection"))
        kind, count = self._CHANNELS.get(section._cls, ("MovieSceneScriptingDoubleChannel", 0))
        section._props["_channels"] = [FakeObject(self, kind) for _ in range(count)]
        for channel in section._props["_channels"]:
            channel._props["_keys"] = []
        target._props["_sections"].append(section)
        return section

    def _on_get_all_channels(self, target):
        return list(target._props.get("_channels", []))

    def _on_add_key(self, target, time, new_value, *args, **kwargs):
        target._props["_keys"].append((time.value if isinstance(time, FakeObject) else time, new_value))
        return FakeObject(self, "MovieSceneScriptingDoubleKey")

    def _on_set_default(self, target, value):
        target._props["_default"] = value

    def _on_set_range(self, target, start, end):
        target._props["_range"] = (start, end)

    def _on_set_sequence_path(self, target, path):
        # ImgMediaSource.SetSequencePath takes "the path to an image file in the desired
        # directory" and keeps its folder (FPaths::GetPath): a folder given here loses its
        # last part, as in the engine.
        target._props["sequence_path"] = str(path).replace("\\", "/").rsplit("/", 1)[0]

    def _on_set_editor_property(self, target, name, value, *args):
        if not self.api.has_editor_property(target._cls, name):
            raise AttributeError(f"unreal.{target._cls} has no editor property '{name}'")
        target._props[name] = value

    def _on_get_editor_property(self, target, name):
        if not self.api.has_editor_property(target._cls, name):
            raise AttributeError(f"unreal.{target._cls} has no editor property '{name}'")
        return self.read_property(target, name)

    def read_property(self, target, name):
        """A property's value; unset ones read as a default of their declared type, kept."""
        if name not in target._props:
            target._props[name] = self.default(_unwrap(self.api.property_type(target._cls, name)))
        return target._props[name]

    def _on_add_float_curve_keys(self, target, animation, curve_name, times, values):
        animation._props.setdefault("_curves", {})[str(curve_name)] = (list(times), list(values))

    # A skeleton's reference pose: tests give one as skeleton._props["_reference"] =
    # {bone: {"LOCAL": Transform, "WORLD": Transform}}; a missing bone reads as identity, as in the engine.
    def _on_get_reference_pose(self, target, skeleton):
        pose = FakeObject(self, "AnimPose")
        pose._props["_bones"] = skeleton._props.get("_reference", {})
        return pose

    def _on_get_bone_names(self, target, pose):
        return list(pose._props.get("_bones", {}))

    def _on_get_ref_bone_pose(self, target, pose, bone_name, space="AnimPoseSpaces.LOCAL"):
        found = pose._props.get("_bones", {}).get(str(bone_name), {}).get(str(space).rsplit(".", 1)[-1])
        if found is not None:
            return found
        identity = FakeObject(self, "Transform")
        identity._props.update(rotation=FakeObject(self, "Quat", 0.0, 0.0, 0.0, 1.0),
                               translation=FakeObject(self, "Vector", 0.0, 0.0, 0.0))
        return identity

    def _on_get_editor_subsystem(self, target, cls):
        return FakeObject(self, cls.name)

    def _on_register_slate_post_tick_callback(self, target, callback):
        self.tick_callbacks.append(callback)
        return len(self.tick_callbacks)

    def _on_uclass(self, target, *args, **kwargs):
        return lambda cls: cls

    def _on_ufunction(self, target, *args, **kwargs):
        def mark(function):
            function._unreal_override = bool(kwargs.get("override"))
            return function
        return mark

    def _on_uproperty(self, target, type_, *args, **kwargs):
        return _PropertySlot(type_)

    def _on_get_menu_subsystem(self, target):
        return FakeObject(self, "ToolMenus")

    def _on_find_menu(self, target, name):
        return FakeObject(self, "ToolMenu")

    def _on_add_menu_entry_object(self, target, entry):
        self.menus.setdefault("entries", []).append(entry)
