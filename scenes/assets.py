"""Every file a scene ships (models, pictures, sounds, videos) has a line in `assets.toml`.

A clinic must be able to say where each thing a client sees or hears came from and under what
licence. A scene folder lists its asset files in `assets.toml`, one table each:

    [[asset]]
    file = "mug.glb"
    source = "modelled in Blender 4.1 by the author; see docs/authoring.md"
    author = "A. Author"
    licence = "CC-BY-4.0"

`asset_problems(folder)` names each asset file without a line, each line without one of the
four fields, and each line whose file is missing; `vret scenes check` reports them as errors,
so a scene with an undeclared asset fails the check. Python files, `assets.toml` itself and
text files are not assets. Models load with `Scene.load_model` (glTF 2.0 through panda3d-gltf,
`.bam`, `.egg`), at build time only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

ASSETS_FILE = "assets.toml"
FIELDS = ("file", "source", "author", "licence")
ASSET_SUFFIXES = frozenset(
    {
        ".gltf",
        ".glb",
        ".bin",
        ".bam",
        ".egg",
        ".png",
        ".jpg",
        ".jpeg",
        ".ktx2",
        ".dds",
        ".wav",
        ".ogg",
        ".mp3",
        ".flac",
        ".mp4",
        ".webm",
        ".mkv",
        ".mov",
    }
)
"""The file types that are assets (what Panda3D loads as a model, texture, sound or video)."""
MODEL_SUFFIXES = (".gltf", ".glb", ".bam", ".egg")


@dataclass(frozen=True)
class Asset:
    """One line of `assets.toml`."""

    file: str
    source: str
    author: str
    licence: str


def asset_files(folder: Path) -> list[str]:
    """The asset files in a scene folder (and its subfolders), as paths relative to it."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in ASSET_SUFFIXES
        and not any(part.startswith((".", "__")) for part in p.relative_to(folder).parts)
    )


def read_assets(folder: Path) -> tuple[list[Asset], list[str], set[str]]:
    """The complete lines of `folder/assets.toml`, the problems with it, and every file it names.

    No file is no lines (a scene made only of procedural geometry needs none).
    """
    path = folder / ASSETS_FILE
    if not path.is_file():
        return [], [], set()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        return [], [f"{ASSETS_FILE} is not valid TOML ({err}): fix it"], set()
    entries = data.get("asset", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return [], [f"{ASSETS_FILE}: write each asset as an [[asset]] table"], set()
    assets: list[Asset] = []
    problems: list[str] = []
    named: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        name = str(entry.get("file", "")).strip()
        if name:
            named.add(name)
        missing = [f for f in FIELDS if not str(entry.get(f, "")).strip()]
        if missing:
            label = name or f"asset {number}"
            problems.append(f"{ASSETS_FILE}: {label} has no {', '.join(missing)}: add it")
            continue
        assets.append(Asset(*(str(entry[f]).strip() for f in FIELDS)))
    return assets, problems, named


def asset_problems(folder: Path) -> list[str]:
    """One sentence per asset without a complete line, or per line without its file."""
    assets, problems, named = read_assets(folder)
    for name in asset_files(folder):
        if name not in named:
            problems.append(
                f"{name} has no line in {ASSETS_FILE} (file, source, author, licence): add one"
            )
    for asset in assets:
        if not (folder / asset.file).is_file():
            problems.append(f"{ASSETS_FILE} lists {asset.file}, which is not in the folder")
    return problems
