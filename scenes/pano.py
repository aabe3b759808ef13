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
scene holds its frame and a preview at a given time always shows the same frame.

Stereo files carry both eyes in one frame: top-bottom (the left eye above) or side-by-side (the
left eye on the left). `stereo` says which, for every file or one entry per file; "auto" reads it
from the file's shape (`stereo_layout`). In a stereo display each eye sees its own half: one
texture (one decode of a video, so the eyes never drift apart), two windows onto it. The sphere
holds the left eye's window; a right-eye camera (`mark_eye`: the OpenVR display's, and the
right eye of a Panda3D stereo display region, `split_stereo_regions`) moves it onto the right
eye's half through a per-camera tag state. A mono camera (previews, the console's thumbnail, a
window) has no such state and shows the left eye. See docs/360.md.

Optional `audio` gives one sound file per entry of `media` (or None): it loops while its file is
on show and fades with it (`vret scenes new --from-360` pairs a `.wav`/`.ogg` with the picture
or video of the same name).
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
STEREO_MODES = ("mono", "top-bottom", "side-by-side", "auto")
"""How a file holds the eyes; "auto" reads it from the file's shape (`stereo_layout`)."""
EYE_WINDOWS = {
    "mono": ((1.0, 1.0), (0.0, 0.0)),
    "top-bottom": ((1.0, 0.5), (0.0, 0.5)),
    "side-by-side": ((0.5, 1.0), (0.0, 0.0)),
}
"""The left eye's part of a frame of each layout, as (scale, offset) of the texture coordinates
(v = 1 is the top of the picture): the top half, or the left half."""
RIGHT_EYE_SHIFT = {"top-bottom": (0.0, -1.0), "side-by-side": (1.0, 0.0)}
"""Where the right eye's half is from the left eye's, in units of the left eye's window: one
window down, or one to the right. A right-eye camera applies it before the sphere's own window,
so it holds for any file of the layout (whatever the window's size)."""
EYE_TAG = "vret-stereo"
"""Tag of the picture spheres, its value their file's layout; the key of a right-eye camera's
tag states (`mark_eye`)."""
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


def stereo_layout(declared: str, width: int, height: int) -> str:
    """The layout of a file `width` x `height` pixels: as declared, or for "auto" by its shape.

    The rule for "auto": the nearest of 1:1 (top-bottom: two 2:1 pictures stacked), 2:1 (mono)
    and 4:1 (side-by-side: two 2:1 pictures in a row), on a log scale, so the boundaries are at
    1.41:1 and 2.83:1. A file made another way (a top-bottom file squeezed to 2:1, as some
    cameras write) needs its layout declared.
    """
    if declared != "auto":
        return declared
    octaves = math.log2(max(1, width) / max(1, height))
    if octaves < 0.5:
        return "top-bottom"
    return "mono" if octaves < 1.5 else "side-by-side"


def mark_eye(camera: Any, eye: str) -> None:
    """Make `camera` (a Panda3D Camera node) one eye of a stereo display.

    The right eye gets a tag state per stereo layout that moves every picture sphere's texture
    window onto the right eye's half (`RIGHT_EYE_SHIFT`). The left eye needs nothing: a sphere
    holds the left eye's window, which is what every unmarked (mono) camera shows.
    """
    from panda3d.core import (  # Panda3D: only where a display is set up
        RenderState,
        TexMatrixAttrib,
        TextureStage,
        TransformState,
    )

    if eye not in ("left", "right"):
        raise ValueError(f"eye {eye!r}: use left or right")
    if eye == "left":
        return
    camera.setTagStateKey(EYE_TAG)
    for layout, shift in RIGHT_EYE_SHIFT.items():
        window = TexMatrixAttrib.make(TextureStage.getDefault(), TransformState.makePos2d(shift))
        camera.setTagState(layout, RenderState.make(window))


def split_stereo_regions(output: Any) -> int:
    """Give the right eye of each stereo display region of `output` its own camera.

    Panda3D draws both eyes of a stereo window (`framebuffer-stereo`, `side-by-side-stereo`,
    `red-blue-stereo`) with one camera, offset per eye by its lens; a camera has one set of tag
    states, so the right eye gets a child of that camera (same lens, same pose), marked as the
    right eye. Returns how many regions it split; a mono output has none.
    """
    from panda3d.core import Camera, StereoDisplayRegion  # Panda3D: only where a display is set up

    split = 0
    for region in output.getDisplayRegions():
        if not isinstance(region, StereoDisplayRegion):
            continue
        shared = region.getLeftEye().getCamera()
        if shared.isEmpty() or region.getRightEye().getCamera() != shared:
            continue  # no camera yet, or the eyes have their own already
        node = Camera(f"{shared.getName()}-right-eye", shared.node().getLens())
        node.setCameraMask(shared.node().getCameraMask())
        mark_eye(node, "right")
        region.getRightEye().setCamera(shared.attachNewNode(node))
        split += 1
    return split


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


def _left_eye_window(tex: Any, layout: str) -> Any:
    """The left eye's part of `tex` as a texture transform: the layout's window, inside the part
    of the texture the picture fills (a video is padded to a power of two on some renderers)."""
    from panda3d.core import TransformState  # Panda3D: only when a 360 scene builds

    (su, sv), (ou, ov) = EYE_WINDOWS[layout]
    x, y = tex.getXSize(), tex.getYSize()
    fill_u = (x - tex.getPadXSize()) / x if x else 1.0
    fill_v = (y - tex.getPadYSize()) / y if y else 1.0
    return TransformState.makePosRotateScale2d(
        (ou * fill_u, ov * fill_v), 0.0, (su * fill_u, sv * fill_v)
    )


class PanoramaScene(Scene):
    """Base of a 360-degree scene: set `media` (and `stereo`, `audio`) and the ladder."""

    media: ClassVar[list[str]] = []
    """The level files, relative to the scene folder; a level's `media` parameter indexes it."""
    stereo: ClassVar[str | list[str]] = "auto"
    """How the files hold the eyes: "mono", "top-bottom" (the left eye above the right, as most
    360 stereo cameras write), "side-by-side" (the left eye on the left) or "auto" (by the file's
    shape: 1:1 top-bottom, 2:1 mono, 4:1 side-by-side; `stereo_layout`). One word for every file,
    or a list with one per entry of `media`."""
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

        from scenes.look import srgb_texture

        if self.folder is None:
            raise FileNotFoundError("a 360-degree scene needs its folder of pictures and videos")
        declared = (
            [self.stereo] * len(self.media) if isinstance(self.stereo, str) else list(self.stereo)
        )
        if len(declared) != len(self.media):
            raise ValueError(
                f"stereo lists {len(declared)} layouts for {len(self.media)} files in media: "
                "give one per file, or one word for all"
            )
        for mode in declared:
            if mode not in STEREO_MODES:
                raise ValueError(f"stereo {mode!r}: use one of {', '.join(STEREO_MODES)}")
        self.textures: list[Any] = []
        self.layouts: list[str] = []
        """Each file's stereo layout (mono, top-bottom, side-by-side), "auto" resolved."""
        self._windows: list[Any] = []
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
                shape = (tex.getVideoWidth(), tex.getVideoHeight())
            else:
                tex = TexturePool.loadTexture(filename)
                if tex is None:
                    raise ValueError(f"{path} could not be read as a picture")
                shape = (tex.getOrigFileXSize(), tex.getOrigFileYSize())
            layout = stereo_layout(declared[index], *shape)
            srgb_texture(tex)  # a photo's texels are sRGB: decoded to linear light on OpenGL
            self.textures.append(tex)
            self.layouts.append(layout)
            self._windows.append(_left_eye_window(tex, layout))
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
            self.spheres.append(sphere)
        self.spheres[1].setTransparency(TransparencyAttrib.MAlpha)
        self._stage = TextureStage.getDefault()
        self._shown: list[int] = [-1, -1]
        # each file's own sound, at the client's head, faded with its picture
        self.level_sounds = {
            index: self.spatial_sound(f"media-{index}", self.head, 0.0, 1.0, file=name)
            for index, name in enumerate(self.audio)
            if name
        }

    def _show(self, k: int, index: int) -> None:
        if self._shown[k] != index:
            sphere = self.spheres[k]
            sphere.setTexture(self.textures[index], 1)
            # the left eye's window, and the layout a right-eye camera moves it by (`mark_eye`)
            sphere.setTexTransform(self._stage, self._windows[index])
            sphere.setTag(EYE_TAG, self.layouts[index])
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
