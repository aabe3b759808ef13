"""`vret scenes ...`: list, preview, new, check and show scenes."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import string
import sys
from pathlib import Path

from exposure.errors import UserError
from scenes.assets import ASSETS_FILE
from scenes.checks import check_scenes, render_in_subprocess
from scenes.pano import MEDIA_SUFFIXES, STEREO_MODES, level_name, media_files
from scenes.preview import contact_sheet
from scenes.registry import (
    LIBRARY,
    NAME_RE,
    discover,
    get,
    ladder_summary,
    ladder_template,
    read_ladder_file,
    scene_dirs,
)
from scenes.show import show, show_in_headset

TEMPLATE = Path(__file__).resolve().parent / "template" / "scene.py.tmpl"
PANO_TEMPLATE = Path(__file__).resolve().parent / "template" / "pano_scene.py.tmpl"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scenes", help="list, preview, create, check and show scenes")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
    sub = parser.add_subparsers(title="scene commands", metavar="ACTION")

    p = sub.add_parser("list", help="the scenes of this station: name, phobia, levels")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("preview", help="render every level offscreen to PNGs and a contact sheet")
    p.add_argument("name")
    p.add_argument("--out", required=True, type=Path, help="folder for NAME-NN.png files")
    p.add_argument("--size", default="480x360", help="image size WxH (default 480x360)")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("new", help="make a new scene folder from a working template")
    p.add_argument("name", help="folder name: lower case letters, digits and _")
    p.add_argument("--phobia", default="", help='what it treats, e.g. "cynophobia (dogs)"')
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="library folder to create it in (default: the built-in library)",
    )
    p.add_argument(
        "--from-360",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="make a 360-degree scene of FOLDER's equirectangular pictures and videos, "
        "one per level in the order of their names",
    )
    p.add_argument(
        "--stereo",
        choices=STEREO_MODES,
        default="auto",
        help="with --from-360: mono, top-bottom, side-by-side, or auto (by each file's shape: "
        "1:1 top-bottom, 2:1 mono, 4:1 side-by-side; default auto)",
    )
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("check", help="validate scenes: ladder, build, and renders of each level")
    p.add_argument("name", nargs="?")
    p.add_argument("--no-render", action="store_true", help="only the metadata and ladder")
    p.add_argument("--size", default="240x180", help="render size WxH (default 240x180)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "ladder",
        help="write a scene's ladder as an editable template, every parameter documented",
        description=(
            "Write scene NAME's default fear ladder as a JSON file to edit for a client: level "
            "names, expected SUDS and parameter values, with what each parameter does and its "
            "range. Check the edited file with `vret scenes check-ladder FILE`."
        ),
    )
    p.add_argument("name")
    p.add_argument("--out", type=Path, help="file to write (default: print it)")
    p.set_defaults(func=cmd_ladder)

    p = sub.add_parser(
        "check-ladder",
        help="check a ladder file against its scene",
        description=(
            "Check a ladder file: its scene exists, each level sets every parameter of the "
            "scene within its range, and the expected SUDS go up level by level. Prints one "
            "line and exits 0 when it is valid."
        ),
    )
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_check_ladder)

    p = sub.add_parser("show", help="open a scene to look around; keys change the level")
    p.add_argument("name")
    p.add_argument("--level", type=float, default=1.0)
    p.add_argument("--display", choices=("window", "offscreen", "openvr"), default="window")
    p.add_argument("--size", default="1280x720")
    p.add_argument(
        "--frames",
        type=int,
        default=0,
        help="stop after this many frames (0: run until the window is closed)",
    )
    p.set_defaults(func=cmd_show)


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{2,5})[xX](\d{2,5})", text.strip())
    if not m:
        raise UserError(f"--size {text!r} is not WxH: write it like 480x360.")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise UserError(f"--size {text} is out of range: use 16 to 8192 pixels a side.")
    return w, h


def _scene(name: str):  # noqa: ANN202 - SceneInfo, imported lazily
    try:
        return get(name)
    except KeyError as err:
        raise UserError(f"{err.args[0]}: check the name with `vret scenes list`.") from err


# ---------------------------------------------------------------------------- commands
def cmd_list(args: argparse.Namespace) -> int:
    found, problems = discover()
    rows = [
        (i.name, i.phobia or "(calm scene)", str(i.ladder.top), i.description)
        for i in sorted(found.values(), key=lambda i: (i.calm, i.name))
    ]
    widths = [max(len(r[k]) for r in rows + [("NAME", "PHOBIA", "LEVELS", "")]) for k in range(3)]
    print(f"{'NAME':<{widths[0]}}  {'PHOBIA':<{widths[1]}}  {'LEVELS':>{widths[2]}}  DESCRIPTION")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")
    for problem in problems:
        print(f"broken scene {problem.name!r}: {problem}", file=sys.stderr)
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    info = _scene(args.name)
    size = parse_size(args.size)
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(
            f"Cannot create {out} ({err.strerror}): choose another --out folder."
        ) from err
    try:
        result = render_in_subprocess([info.name], size, out, inset=True)
    except RuntimeError as err:
        raise UserError(f"Could not render offscreen ({err}): run `vret scenes check`.") from err
    paths = result.get(info.name)
    if isinstance(paths, str) or not paths:
        raise UserError(f"Scene {info.name!r} failed to build: {paths}; fix {info.path}.")
    from PIL import Image  # heavy, and only this command needs it

    images = [Image.open(p) for p in paths]
    sheet = contact_sheet(
        images,
        [lv.name for lv in info.ladder.levels],
        f"{info.name} ({info.phobia or 'calm scene'})",
    )
    sheet_path = out / f"{info.name}-sheet.png"
    sheet.save(sheet_path)
    for p in paths:
        print(p)
    print(sheet_path)
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    name = args.name
    if not NAME_RE.match(name):
        raise UserError(
            f"{name!r} is not a scene name: use lower case letters, digits and _ "
            "(2-40 characters, starting with a letter), like dogs_park."
        )
    found, problems = discover()
    if name in found or any(p.name == name for p in problems):
        raise UserError(f"A scene named {name!r} already exists: choose another name.")
    library = args.dir.resolve() if args.dir else LIBRARY
    folder = library / name
    if folder.exists():
        raise UserError(f"{folder} already exists: choose another name or remove the folder.")
    title = name.replace("_", " ").capitalize()
    phobia = args.phobia or f"fear of {name.replace('_', ' ')}"
    class_name = "".join(part.capitalize() for part in name.split("_")) or "NewScene"
    files: list[Path] = []
    if args.from_360 is not None:
        files = _media_to_copy(args.from_360)
        files += [s for s in map(_sound_for, files) if s is not None]
        text = _pano_scene_text(
            name, title, class_name, phobia, args.stereo, media_files(args.from_360)
        )
    else:
        text = string.Template(TEMPLATE.read_text()).substitute(
            name=name,
            title=title,
            class_name=class_name,
            phobia=phobia.replace('"', "'"),
            description=f"{title}: a stand-in object comes closer, level by level.",
        )
    try:
        folder.mkdir(parents=True)
        for path in files:
            shutil.copy2(path, folder / path.name)
        if files:
            (folder / ASSETS_FILE).write_text(_assets_text(files, args.from_360))
        (folder / "scene.py").write_text(text)
        (folder / "__init__.py").write_text(f'"""Scene {name}; see scene.py."""\n')
    except OSError as err:
        raise UserError(
            f"Cannot write {folder} ({err.strerror}): use --dir with a folder you can write to."
        ) from err
    if files:
        print(
            f"copied {len(files)} files; fill in their author and licence in {folder / ASSETS_FILE}"
        )
    print(f"created {folder / 'scene.py'}")
    if library not in scene_dirs():
        print(f"add the library to the search path:  export VRET_SCENE_PATH={library}")
    print(f"next:  vret scenes check {name}   then   vret scenes preview {name} --out previews/")
    return 0


def _media_to_copy(source: Path) -> list[Path]:
    """The pictures and videos of a --from-360 folder; UserError when there are none."""
    if not source.is_dir():
        raise UserError(f"--from-360 {source} is not a folder: give the folder of 360 files.")
    files = media_files(source)
    if not files:
        kinds = ", ".join(MEDIA_SUFFIXES)
        raise UserError(f"{source} has no pictures or videos ({kinds}): add one per level.")
    return files


def _sound_for(media: Path) -> Path | None:
    """The sound recorded with a 360 file: the .wav or .ogg of the same name, if any."""
    for suffix in (".wav", ".ogg"):
        sound = media.with_suffix(suffix)
        if sound.is_file():
            return sound
    return None


def _pano_scene_text(
    name: str, title: str, class_name: str, phobia: str, stereo: str, files: list[Path]
) -> str:
    top = len(files)
    media = "\n".join(f"        {json.dumps(p.name)}," for p in files)
    sounds = [_sound_for(p) for p in files]
    audio = "\n".join(f"        {json.dumps(s.name) if s else 'None'}," for s in sounds)
    levels = "\n".join(
        f"        level({json.dumps(level_name(p))}, suds={round(10 + 90 * k / max(1, top - 1))}, media={k}),"
        for k, p in enumerate(files)
    )
    return string.Template(PANO_TEMPLATE.read_text()).substitute(
        name=name,
        title=title,
        class_name=class_name,
        phobia=phobia.replace('"', "'"),
        description=f"{title}: 360-degree footage, one file per level.",
        stereo=stereo,
        media=media,
        audio=audio if any(sounds) else "",
        levels=levels,
    )


def _assets_text(files: list[Path], source: Path) -> str:
    lines = [
        "# Every picture, video and sound of this scene: fill in author and licence for each",
        "# (`vret scenes check` fails on a file without them). See docs/authoring.md.",
    ]
    for path in files:
        lines += [
            "",
            "[[asset]]",
            f"file = {json.dumps(path.name)}",
            f"source = {json.dumps(str(source.resolve() / path.name))}",
            'author = ""',
            'licence = ""',
        ]
    return "\n".join(lines) + "\n"


def cmd_check(args: argparse.Namespace) -> int:
    found, problems = discover()
    failed = 0
    if args.name:
        broken = [p for p in problems if p.name == args.name]
        if broken:
            print(f"{args.name}: BROKEN {broken[0]}")
            return 1
        infos = [_scene(args.name)]
    else:
        for problem in problems:
            print(f"{problem.name}: BROKEN {problem}")
            failed += 1
        infos = sorted(found.values(), key=lambda i: i.name)
    report = check_scenes(infos, render=not args.no_render, size=parse_size(args.size))
    for info in infos:
        errors, warnings = report[info.name]
        status = "FAIL" if errors else "ok"
        print(
            f"{info.name}: {status} ({info.ladder.top} levels{', rendered' if not args.no_render else ''})"
        )
        for e in errors:
            print(f"  error: {e}")
        for w in warnings:
            print(f"  warning: {w}")
        failed += bool(errors)
    return 1 if failed else 0


def cmd_ladder(args: argparse.Namespace) -> int:
    info = _scene(args.name)
    if info.calm:
        raise UserError(
            f"{info.name} is a calm scene with no fear ladder: choose a scene from `vret scenes list`."
        )
    text = ladder_template(info.name)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out: Path = args.out
    if out.exists():
        raise UserError(f"{out} already exists: choose another --out file, or remove it first.")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UserError(f"Cannot write {out} ({err.strerror}): choose another --out file.") from err
    print(f"wrote {out}: edit it, then `vret scenes check-ladder {out}`")
    return 0


def cmd_check_ladder(args: argparse.Namespace) -> int:
    ladder = read_ladder_file(args.file)
    print(ladder_summary(args.file, ladder))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    info = _scene(args.name)
    if not 0 < args.level <= info.ladder.top:
        raise UserError(f"--level {args.level:g} is outside 1..{info.ladder.top} for {info.name}.")
    try:
        if args.display == "openvr":
            return show_in_headset(info, args.level)
        return show(info, args.level, args.display, parse_size(args.size), args.frames)
    except RuntimeError as err:
        raise UserError(str(err)) from err
