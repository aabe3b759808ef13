"""360-degree scenes: one equirectangular photo or video per level, around the client.

A clinic films or photographs the real situation (a dog in a park, a lift, a bridge) with a
360-degree camera and makes a scene of the folder of files:

    vret scenes new dogs_park --from-360 ~/footage/dogs --phobia "cynophobia (dogs)"

That copies the files into a new scene folder, writes `assets.toml` (fill in the author and
the licence: `vret scenes check` fails until you do) and a `scene.py` like this one, with the
ladder in the order of the file names (`01-far.jpg`, `02-closer.mp4`, ...), editable:

    class DogsPark(PanoramaScene):
        phobia = "cynophobia (dogs)"
        description = "360-degree footage, one file per level."
        media = ["01-far.jpg", "02-closer.mp4"]
        stereo = "mono"
        levels = [level("Far", suds=10, media=0), level("Closer", suds=20, media=1)]

Each level's parameter `media` is the index of its file in `media`, so reordering the ladder
or showing one file at two levels is an edit of numbers. Between levels the two levels' files
fade into each other as the intensity eases from one to the next (two spheres, the upper
level's on top, its alpha following the same smoothstep as every scene's parameters). Pictures are `.jpg`/`.png`; videos (`.mp4`,
`.webm`, ...) play through Panda3D's bundled ffmpeg, looping, kept on scene time, so a paused
scene holds its frame and a preview at a given time always shows the same frame. Top-bottom stereo files set
`stereo = "top-bottom"`; the top half (the left eye) is shown on every display for now (see
docs/authoring.md). Optional `audio` gives one sound file per entry of `media` (or None): it
loops while its file is on show and fades with it (`vret scenes new --from-360` pairs a
`.wav`/`.ogg` with the picture or video of the same name).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, ClassVar

from scenes.api import Scene, smoothstep

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".avi")
MEDIA_SUFFIXES = PICTURE_SUFFIXES + VIDEO_SUFFIXES
STEREO_MODES = ("mono", "top-bottom")
VIDEO_SLACK_S = 0.04
"""A video more than this off scene time is set back on it; within it, it plays on its own
clock, so a loop wraps without a seek (ffmpeg's loop, no pause at the seam)."""
SPHERE_M = 40.0
"""Radius of the picture sphere: far enough that head movement in VR gives no parallax."""


def media_files(folder: Path) -> list[Path]:
    """The pictures and videos of a folder, in the order of their names (numbers sort as numbers)."""

    def key(p: Path) -> list[Any]:
        return [
            int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", p.name)
        ]

    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES),
        key=key,
    )


def level_name(path: Path) -> str:
    """A ladder rung's name from a file name: "03_dog-on-the-lawn.mp4" -> "Dog on the lawn"."""
    words = re.sub(r"^[\d\s._-]+", "", path.stem)
    words = re.sub(r"[_-]+", " ", words).strip()
    return (words[:1].upper() + words[1:]) if words else path.stem


def sphere_mesh(radius: float = SPHERE_M, segs: int = 48, rings: int = 24) -> Any:
    """A sphere seen from inside with equirectangular texture coordinates.

    The middle of the picture (u = 0.5) is straight ahead (+Y); u grows to the right, as a 360
    camera's file does seen from inside; v = 1 is straight up.
    """
    from panda3d.core import (  # Panda3D: only when a 360 scene builds
        Geom,
        GeomNode,
        GeomTriangles,
        GeomVertexData,
        GeomVertexFormat,
        GeomVertexWriter,
        NodePath,
    )

    vdata = GeomVertexData("pano", GeomVertexFormat.getV3t2(), Geom.UHStatic)
    vdata.uncleanSetNumRows((segs + 1) * (rings + 1))
    pw = GeomVertexWriter(vdata, "vertex")
    tw = GeomVertexWriter(vdata, "texcoord")
    for r in range(rings + 1):
        lat = math.pi / 2 - math.pi * r / rings  # +90 (up) .. -90 (down)
        for s in range(segs + 1):
            u = s / segs
            lon = (u - 0.5) * 2 * math.pi  # 0 straight ahead, positive to the right
            pw.setData3f(
                radius * math.cos(lat) * math.sin(lon),
                radius * math.cos(lat) * math.cos(lon),
                radius * math.sin(lat),
            )
            tw.setData2f(u, 1.0 - r / rings)
    prim = GeomTriangles(Geom.UHStatic)
    for r in range(rings):
        for s in range(segs):
            a = r * (segs + 1) + s
            b, c, d = a + 1, a + segs + 1, a + segs + 2
            prim.addVertices(a, c, b)  # wound to face the centre
            prim.addVertices(b, c, d)
    geom = Geom(vdata)
    geom.addPrimitive(prim)
    node = GeomNode("pano")
    node.addGeom(geom)
    return NodePath(node)


class PanoramaScene(Scene):
    """Base of a 360-degree scene: set `media` (and `stereo`, `audio`) and the ladder."""

    media: ClassVar[list[str]] = []
    """The level files, relative to the scene folder; a level's `media` parameter indexes it."""
    stereo: ClassVar[str] = "mono"
    """"mono", or "top-bottom" (left eye above the right, as most 360 stereo cameras write)."""
    audio: ClassVar[list[str | None]] = []
    """Optional sound per entry of `media` (looped while that file is on show), or empty."""
    background = (0.0, 0.0, 0.0)

    def build(self) -> None:
        from panda3d.core import (  # Panda3D: only when a 360 scene builds
            Filename,
            MovieTexture,
            TexturePool,
            TextureStage,
            TransparencyAttrib,
        )

        if self.folder is None:
            raise FileNotFoundError("a 360-degree scene needs its folder of pictures and videos")
        if self.stereo not in STEREO_MODES:
            raise ValueError(f"stereo {self.stereo!r}: use one of {', '.join(STEREO_MODES)}")
        self.textures: list[Any] = []
        self.videos: dict[int, Any] = {}
        for index, name in enumerate(self.media):
            path = self.folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{path}: the level's picture or video is missing")
            filename = Filename.fromOsSpecific(str(path))
            if path.suffix.lower() in VIDEO_SUFFIXES:
                tex = MovieTexture(name)
                if not tex.read(filename):
                    raise ValueError(f"{path} could not be read as a video")
                tex.setLoop(True)
                tex.play()  # runs on its own clock; `apply` keeps it on scene time
                self.videos[index] = tex
            else:
                tex = TexturePool.loadTexture(filename)
                if tex is None:
                    raise ValueError(f"{path} could not be read as a picture")
            self.textures.append(tex)
        self.head = self.viewpoint.attachNewNode("pano-centre")
        self.head.setZ(1.6)  # centred on the eyes, so the horizon is level
        self.spheres = []
        for k in range(2):  # the lower level, and the upper one fading in over it
            sphere = sphere_mesh()
            sphere.reparentTo(self.head)
            sphere.setLightOff(1)
            sphere.setFogOff(1)
            sphere.setDepthWrite(False)
            sphere.setBin("background", k)
            if self.stereo == "top-bottom":  # the top half: the left eye
                sphere.setTexScale(TextureStage.getDefault(), 1.0, 0.5)
                sphere.setTexOffset(TextureStage.getDefault(), 0.0, 0.5)
            self.spheres.append(sphere)
        self.spheres[1].setTransparency(TransparencyAttrib.MAlpha)
        self._shown: list[int] = [-1, -1]
        # each file's own sound, at the client's head, faded with its picture
        self.level_sounds = {
            index: self.spatial_sound(f"media-{index}", self.head, 0.0, 1.0, file=name)
            for index, name in enumerate(self.audio)
            if name
        }

    def _show(self, k: int, index: int) -> None:
        if self._shown[k] != index:
            self.spheres[k].setTexture(self.textures[index], 1)
            self._shown[k] = index

    def apply(self, intensity: float, dt: float) -> None:
        top = len(self.levels)
        x = max(1.0, min(float(top), intensity))
        below = int(math.floor(x))
        above = min(below + 1, top)
        last = len(self.textures) - 1
        lo = min(last, max(0, int(round(self.levels[below - 1].params["media"]))))
        hi = min(last, max(0, int(round(self.levels[above - 1].params["media"]))))
        fade = smoothstep(x - below) if hi != lo else 0.0  # the same ease as every scene's
        for index, sound in self.level_sounds.items():
            sound.volume = (1.0 - fade if index == lo else 0.0) + (fade if index == hi else 0.0)
        self._show(0, lo)
        if fade > 0.002:
            self._show(1, hi)
            self.spheres[1].show()
            self.spheres[1].setAlphaScale(fade)
        else:
            self.spheres[1].hide()
        for index in (lo, hi) if fade > 0.002 else (lo,):
            video = self.videos.get(index)
            if video is not None:
                length = video.getVideoLength() or 1.0
                want = self.time % length
                drift = abs(video.getTime() % length - want)
                if min(drift, length - drift) > VIDEO_SLACK_S:
                    video.setTime(want)  # back on scene time (a pause, a jump, a preview)
