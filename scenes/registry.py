"""Finds scenes: every `scenes/library/NAME/scene.py` (and folders on VRET_SCENE_PATH).

`discover()` imports each scene module (cheap: no window, no assets), checks its metadata and
ladder, and returns the good scenes by name plus one `Problem` per broken scene, so one broken
scene never hides the others.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from exposure.errors import UserError
from exposure.models import Ladder
from scenes.api import Param, Scene

LIBRARY = Path(__file__).resolve().parent / "library"
"""The built-in scenes."""
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class SceneInfo:
    """A scene found in a library folder: its metadata, default ladder and class."""

    name: str
    phobia: str
    description: str
    calm: bool
    path: Path
    ladder: Ladder
    scene_class: type[Scene]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def parameters(self) -> dict[str, Param]:
        """What each level parameter does and its range (empty when the scene declares none)."""
        return dict(self.scene_class.parameters)


@dataclass(frozen=True)
class Problem:
    """A scene that could not be used, with the file and the reason."""

    name: str
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def scene_dirs() -> list[Path]:
    """The library folders searched: the built-in library, then VRET_SCENE_PATH entries."""
    dirs = [LIBRARY]
    for part in os.environ.get("VRET_SCENE_PATH", "").split(os.pathsep):
        if part.strip():
            dirs.append(Path(part).expanduser().resolve())
    return dirs


def _error_reason(err: BaseException, path: Path) -> str:
    """One line: the exception and the line of the scene file where it happened."""
    if isinstance(err, SyntaxError):
        return f"syntax error on line {err.lineno}: {err.msg}"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    where = f" (line {frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}{where}"


def _ladder_reason(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"the ladder is not valid: {loc}: {first['msg']}"


def load_scene(name: str, path: Path) -> SceneInfo:
    """Import one scene file and check it; raises ValueError with a plain reason."""
    if not NAME_RE.match(name):
        raise ValueError(
            f"folder name {name!r} must be lower case letters, digits and _ (2-40 characters)"
        )
    mod_name = f"vret_scene_{name}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ValueError("cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a broken scene must not stop discovery of the others
        sys.modules.pop(mod_name, None)
        raise ValueError(_error_reason(err, path)) from err
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Scene)
        and obj is not Scene
        and obj.__module__ == mod_name
    ]
    if len(classes) != 1:
        found = ", ".join(c.__name__ for c in classes) or "none"
        raise ValueError(f"must define exactly one Scene subclass (found {found})")
    cls = classes[0]
    if cls.build is Scene.build or cls.apply is Scene.apply:
        raise ValueError(f"{cls.__name__} must define both build() and apply()")
    if not cls.calm and not cls.phobia.strip():
        raise ValueError(f"{cls.__name__}.phobia is empty (set it, or calm = True)")
    if not cls.description.strip():
        raise ValueError(f"{cls.__name__}.description is empty")
    if not cls.levels:
        raise ValueError(f"{cls.__name__}.levels is empty")
    keys = set(cls.levels[0].params)
    for number, lv in enumerate(cls.levels, start=1):
        if set(lv.params) != keys:
            diff = sorted(keys.symmetric_difference(lv.params))
            raise ValueError(
                f"level {number} ({lv.name!r}) does not set the same parameters as level 1: "
                f"{', '.join(diff)}"
            )
    declared = cls.parameters
    if declared and set(declared) != keys:
        diff = sorted(keys.symmetric_difference(declared))
        raise ValueError(
            f"{cls.__name__}.parameters must describe exactly the level parameters: {', '.join(diff)}"
        )
    for number, lv in enumerate(cls.levels, start=1):
        for key, value in lv.params.items():
            param = declared.get(key)
            if param is not None and not param.low <= value <= param.high:
                raise ValueError(
                    f"level {number} ({lv.name!r}) sets {key} {value:g}, outside its declared "
                    f"range {param.low:g} to {param.high:g}"
                )
    try:
        ladder = cls.ladder(name)
    except ValidationError as err:
        raise ValueError(_ladder_reason(err)) from err
    return SceneInfo(
        name=name,
        phobia=cls.phobia,
        description=cls.description,
        calm=cls.calm,
        path=path,
        ladder=ladder,
        scene_class=cls,
    )


def discover(dirs: list[Path] | None = None) -> tuple[dict[str, SceneInfo], list[Problem]]:
    """All scenes in the library folders, by name, and the problems of the broken ones."""
    found: dict[str, SceneInfo] = {}
    problems: list[Problem] = []
    for folder in dirs if dirs is not None else scene_dirs():
        if not folder.is_dir():
            continue
        for sub in sorted(folder.iterdir()):
            if not sub.is_dir() or sub.name.startswith((".", "_")):
                continue
            path = sub / "scene.py"
            if not path.is_file():
                problems.append(Problem(sub.name, sub, "has no scene.py"))
                continue
            if sub.name in found:
                problems.append(
                    Problem(
                        sub.name,
                        path,
                        f"a scene named {sub.name!r} already exists in {found[sub.name].folder}",
                    )
                )
                continue
            try:
                found[sub.name] = load_scene(sub.name, path)
            except ValueError as err:
                problems.append(Problem(sub.name, path, str(err)))
    return found, problems


def get(name: str, dirs: list[Path] | None = None) -> SceneInfo:
    """One scene by name; KeyError with a plain sentence when it is missing or broken."""
    found, problems = discover(dirs)
    if name in found:
        return found[name]
    for problem in problems:
        if problem.name == name:
            raise KeyError(f"scene {name!r} is broken: {problem}")
    known = ", ".join(sorted(found)) or "none"
    raise KeyError(f"no scene named {name!r} (known scenes: {known})")


def default_ladder(name: str) -> Ladder:
    """The default fear ladder of scene `name` (no window is opened)."""
    return get(name).ladder


def scene_events(name: str) -> tuple[str, ...]:
    """The events scene `name` offers (for the console's buttons); none when it is not found."""
    try:
        info = get(name)
    except (KeyError, ValueError):
        return ()
    return tuple(getattr(info.scene_class, "events", ()))


def session_ladder(scene: str, path: str | None = None) -> Ladder:
    """The ladder a session on `scene` uses: the client's own from a JSON file, or the scene's.

    Every problem (no such scene, no file, not JSON, not a ladder, a ladder for another scene)
    is a UserError of one sentence.
    """
    if path is None:
        try:
            return default_ladder(scene)
        except (KeyError, ValueError) as err:
            raise UserError(f"No scene {scene!r}: see `vret scenes list` ({err}).") from None
    ladder = read_ladder_file(Path(path))
    if ladder.scene != scene:
        raise UserError(f"{path} is a ladder for {ladder.scene!r}, not for --scene {scene!r}.")
    return ladder


# --------------------------------------------------------------------------- ladder files

LADDER_DOC = (
    "A fear ladder for vret: edit it, check it with `vret scenes check-ladder FILE`, use it with "
    "`vret session --ladder FILE`. Levels go mildest first; each sets every parameter of the "
    "scene, within the range given under 'parameters' (the scene's own: editing them here "
    "changes nothing). 'suds' is the distress (0-100) the client expects at that level, "
    "'start_level' the level exposure starts at after the baseline. The headset draws each "
    "level as this file sets it: rename, reorder, drop or vary levels (see docs/settings.md)."
)
"""The `doc` field of a ladder template: how to edit it, in a therapist's words."""

_TEMPLATE_ONLY = ("doc", "parameters")
"""Fields of a ladder template that document it and are not part of the ladder."""


def ladder_template(name: str, dirs: list[Path] | None = None) -> str:
    """Scene `name`'s default ladder as an editable JSON file, every parameter documented."""
    info = get(name, dirs)
    ladder = info.ladder.model_dump(mode="json")
    parameters = {key: spec.describe() for key, spec in info.parameters.items()}
    for key in sorted(info.ladder.levels[0].params):
        parameters.setdefault(key, "not described by the scene: any value is accepted")
    template = {
        "doc": LADDER_DOC,
        "scene": ladder["scene"],
        "safe_scene": ladder["safe_scene"],
        "start_level": ladder["start_level"],
        "parameters": parameters,
        "levels": ladder["levels"],
    }
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def read_ladder_file(path: Path, dirs: list[Path] | None = None) -> Ladder:
    """A ladder file read and checked against its scene; every problem is one sentence.

    Checked: the file is a JSON ladder (a template's `doc` and `parameters` are allowed), its
    scene and safe scene exist, each level sets exactly the scene's parameters within their
    declared ranges, and the expected SUDS never fall from one level to the next.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"No ladder file {path}: give the path of a ladder JSON file.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"Cannot read {path}: {err}.") from None
    except json.JSONDecodeError as err:
        raise UserError(f"{path} is not JSON ({err.msg} at line {err.lineno}).") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a ladder: it must be a JSON object with scene and levels.")
    data = {k: v for k, v in data.items() if k not in _TEMPLATE_ONLY}
    try:
        ladder = Ladder.model_validate(data)
    except ValidationError as err:
        raise UserError(f"{path} is not a valid ladder: {_where(err)}.") from None
    found, problems = discover(dirs)
    for role, name in (("scene", ladder.scene), ("safe scene", ladder.safe_scene)):
        if name not in found:
            broken = next((p for p in problems if p.name == name), None)
            why = f"it is broken ({broken.reason})" if broken else "see `vret scenes list`"
            raise UserError(f"{path}: no usable {role} named {name!r}: {why}.")
    info = found[ladder.scene]
    expected = set(info.ladder.levels[0].params)
    declared = info.parameters
    known = ", ".join(sorted(expected))
    previous: tuple[int, int] | None = None
    for number, lv in enumerate(ladder.levels, start=1):
        where = f"{path}: level {number} ({lv.name!r})"
        unknown = sorted(set(lv.params) - expected)
        if unknown:
            raise UserError(
                f"{where} sets {unknown[0]!r}, which {ladder.scene} does not have "
                f"(its parameters: {known})."
            )
        missing = sorted(expected - set(lv.params))
        if missing:
            raise UserError(
                f"{where} does not set {missing[0]!r}: every level sets all of {known}."
            )
        for key, value in lv.params.items():
            spec = declared.get(key)
            if spec is not None and not spec.low <= value <= spec.high:
                unit = f" {spec.unit}" if spec.unit else ""
                raise UserError(
                    f"{where} sets {key} to {value:g}{unit}, outside the range "
                    f"{spec.low:g} to {spec.high:g}{unit} that {ladder.scene} can show."
                )
        if lv.suds is not None:
            if previous is not None and lv.suds < previous[1]:
                raise UserError(
                    f"{where} expects SUDS {lv.suds}, less than level {previous[0]}'s "
                    f"{previous[1]}: order the levels mildest first."
                )
            previous = (number, lv.suds)
    return ladder


def ladder_summary(path: Path, ladder: Ladder) -> str:
    """The one line `vret scenes check-ladder` prints for a valid ladder."""
    suds = [lv.suds for lv in ladder.levels if lv.suds is not None]
    span = f", expected SUDS {suds[0]} to {suds[-1]}" if suds else ""
    return (
        f"{path}: a valid ladder for {ladder.scene}: {ladder.top} levels{span}, exposure starts "
        f"at level {ladder.start_level} ({ladder.level_name(ladder.start_level)})."
    )


def _where(err: ValidationError) -> str:
    """The first problem pydantic found, as `level 3.suds: <message>` (levels counted from 1)."""
    first = err.errors()[0]
    parts = [str(p) for p in first["loc"]]
    if len(parts) >= 2 and parts[0] == "levels" and parts[1].isdigit():
        parts = [f"level {int(parts[1]) + 1}", *parts[2:]]
    where = ".".join(parts)
    msg = first["msg"].removeprefix("Value error, ").rstrip(".")
    return f"{where}: {msg}" if where else msg
