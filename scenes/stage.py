"""The Panda3D side shared by previews, `vret scenes show` and the render process.

`configure()` writes the PRC settings for a display before ShowBase starts; `Stage` builds scenes
once, shows one (or fades between two) and carries the camera rig to the scene's viewpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from panda3d.core import (
    AntialiasAttrib,
    Camera,
    Filename,
    FrameBufferProperties,
    NodePath,
    OmniBoundingVolume,
    PerspectiveLens,
    loadPrcFileData,
)

from scenes import look
from scenes.api import EYE_HEIGHT_M, Scene
from scenes.pano import split_stereo_regions
from scenes.registry import SceneInfo
from scenes.render.config import (
    LOOK_ENV,
    LookFeatures,
    LookSettings,
    look_features,
    look_settings_from,
)
from scenes.sound import Soundscape

DISPLAYS = ("offscreen", "window", "openvr")
PIPES = {"tiny": "p3tinydisplay", "gl": "pandagl", "egl": "p3headlessgl"}
NEAR_M = 0.05
FAR_M = 900.0
PREVIEW_FOV = 80.0
AMBIENT_VOLUME = 0.6
"""A scene's ambient loop (`Scene.sound`) plays at this volume, under its spatial sounds."""
_configured: dict[str, Any] = {"pipe": "tiny", "onscreen": False}


def configure(
    display: str = "offscreen",
    size: tuple[int, int] = (320, 240),
    frame_rate: float | None = None,
    pipe: str | None = None,
    audio: bool = False,
    title: str = "vret",
) -> str:
    """Write the PRC settings for `display`; returns the graphics pipe used.

    offscreen: software rendering (p3tinydisplay), no display, no GPU needed.
    window:    an on-screen OpenGL window.
    openvr:    OpenGL is needed (the compositor takes GL textures): a window mirrors the left
               eye, or an EGL offscreen buffer with pipe="egl".
    `frame_rate` limits the loop by sleeping (clock-mode limited), never by spinning.
    """
    if display not in DISPLAYS:
        raise ValueError(f"unknown display {display!r}: use one of {', '.join(DISPLAYS)}")
    if pipe is None:
        pipe = {"offscreen": "tiny", "window": "gl", "openvr": "gl"}[display]
    onscreen = display == "window" or (display == "openvr" and pipe == "gl")
    lines = [
        f"load-display {PIPES.get(pipe, pipe)}",
        "aux-display p3tinydisplay" if pipe != "tiny" else "",
        f"window-type {'onscreen' if onscreen else 'offscreen'}",
        f"win-size {size[0]} {size[1]}",
        f"window-title {title}",
        "sync-video false",
        "sleep-precision 0.001",
        "textures-power-2 none" if pipe != "tiny" else "",
        # OpenGL: an sRGB framebuffer, so light adds up in linear light (scenes.look)
        "framebuffer-srgb true" if pipe != "tiny" else "",
        "notify-level-device fatal",
        "notify-level-display error",
        "notify-level-glgsg error",
        "audio-library-name " + ("p3openal_audio" if audio else "null"),
        "model-cache-dir",
        "show-frame-rate-meter false",
    ]
    if display == "offscreen":
        # previews, tests, benchmarks: a video frame is decoded in the frame that shows it, so
        # a picture at scene time t is the same every run (on a display, decoding stays in
        # ffmpeg's own thread, a frame ahead, off the render loop)
        lines.append("ffmpeg-max-readahead-frames 0")
    if frame_rate:
        lines += ["clock-mode limited", f"clock-frame-rate {frame_rate:g}"]
    loadPrcFileData("vret-stage", "\n".join(line for line in lines if line))
    _configured.update(pipe=pipe, onscreen=onscreen)
    return pipe


def make_base(settings: LookSettings | None = None) -> Any:
    """A ShowBase on the configured display; RuntimeError with a plain sentence on failure.

    Software offscreen rendering asks for TinyPanda's offscreen pipe by name, so a machine
    without X never tries (and complains about) an X display first. Once the window is open,
    the renderer decides the look's features (`look_features`, given `settings`): on a GPU
    the window is opened again with multisampling, before anything is built.
    """
    # ShowBase starts Panda3D's engine on import: only when a base is really made
    from direct.showbase.ShowBase import ShowBase
    from panda3d.core import GraphicsPipeSelection

    software_offscreen = _configured["pipe"] == "tiny" and not _configured["onscreen"]
    try:
        if software_offscreen:
            base = ShowBase(windowType="none")
            pipe = GraphicsPipeSelection.getGlobalPtr().makePipe(
                "TinyOffscreenGraphicsPipe", "p3tinydisplay"
            )
            if pipe is None:
                raise RuntimeError("no TinyPanda pipe")
            base.pipe = pipe
            base.openMainWindow(type="offscreen")
        else:
            base = ShowBase()
    except Exception as err:  # Panda raises a bare Exception when no window can be opened
        raise RuntimeError(_no_window_message()) from err
    if base.win is None:
        raise RuntimeError(_no_window_message())
    base.disableMouse()
    look.use_features(_look_of(base, settings))
    return base


def renderer_name(base: Any) -> str:
    """What draws the frames, e.g. "TinyPanda", "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    gsg = base.win.getGsg() if base.win is not None else None
    name = gsg.getDriverRenderer() if gsg is not None else ""
    return str(name or (base.pipe.getInterfaceName() if base.pipe is not None else ""))


def _look_of(base: Any, settings: LookSettings | None) -> LookFeatures:
    """Decide the look's features for `base`'s window and give the window what they need.

    Multisampling needs a window opened with samples, and the renderer is known only once a
    window is open: on a GPU the main window is opened again (before anything is built); a
    driver that refuses the samples gets the plain window back, never no window.
    """
    settings = look_settings_from(os.environ.get(LOOK_ENV), settings)  # a station's override
    features = look_features(_configured["pipe"], renderer_name(base), settings)
    plain = FrameBufferProperties(base.win.getFbProperties())
    if features.multisamples > plain.getMultisamples():
        props = FrameBufferProperties(plain)
        props.setMultisamples(features.multisamples)
        reopened = base.openMainWindow(fbprops=props, keepCamera=True) and base.win is not None
        if not reopened and not (base.openMainWindow(fbprops=plain, keepCamera=True) and base.win):
            raise RuntimeError(_no_window_message())
    fb = base.win.getFbProperties()
    granted = fb.getMultisamples() if features.multisamples else 0
    if granted:
        base.render.setAntialias(AntialiasAttrib.MMultisample)
    # what the driver gave: no sRGB framebuffer, no linear light (the gamma-space look)
    return replace(
        features,
        linear_light=features.linear_light and fb.getSrgbColor(),
        multisamples=granted,
    )


def _no_window_message() -> str:
    if _configured["onscreen"]:
        return (
            "Could not open a window (no display or OpenGL driver here): run it on a desktop, "
            "or use --display offscreen."
        )
    return "Could not open an offscreen renderer: reinstall panda3d (pip install panda3d)."


class Stage:
    """The built scenes of one ShowBase, the one on show and the camera rig."""

    def __init__(self, base: Any, fov: float = PREVIEW_FOV) -> None:
        self.base = base
        self.scenes: dict[str, Scene] = {}
        self.sounds: dict[str, Any] = {}
        self.current: Scene | None = None
        self.rig = NodePath("rig")
        """Placed at the scene's viewpoint; the camera (or the VR tracking space) hangs from it."""
        self.head = self.rig.attachNewNode("head")
        self.head.setZ(EYE_HEIGHT_M)
        lens = PerspectiveLens()
        lens.setFov(fov)
        lens.setAspectRatio(base.win.getXSize() / max(1, base.win.getYSize()))
        lens.setNearFar(NEAR_M, FAR_M)
        base.cam.node().setLens(lens)
        split_stereo_regions(base.win)  # a stereo window: each eye its half of a stereo 360 file
        base.camera.reparentTo(self.head)
        base.camera.setPosHpr(0, 0, 0, 0, 0, 0)
        self.fade = 1.0
        self.outputs = [base.win]
        """Windows and buffers that take the scene's clear colour (VR adds its eye buffers)."""
        self.track_gaze = True
        """Non-VR: the head takes the scene's gaze pitch. VR sets this False (the head pose wins)."""
        self.soundscape = Soundscape(base)
        """The scenes' spatial sounds (3D audio from the camera; null audio without a device)."""
        self.lights: dict[str, list[Any]] = {}
        """Each scene's lights kept in linear light (OpenGL; empty in software rendering)."""

    def build(self, info: SceneInfo, levels: Sequence[Mapping[str, float]] | None = None) -> Scene:
        """Build `info`'s scene once (hidden); later calls return the same scene. `levels`: the
        session's own ladder for it (a client's hierarchy), drawn instead of the scene's."""
        if info.name in self.scenes:
            return self.scenes[info.name]
        root = self.base.render.attachNewNode(f"scene-{info.name}")
        try:
            scene = info.scene_class(info.name, root, info.folder)
            if levels:
                scene.use_levels(levels)
            scene.build()
        except Exception:
            root.removeNode()  # leave nothing half-built on screen
            raise
        self.lights[info.name] = look.to_linear_light(root)  # OpenGL only: sRGB -> linear
        look.cast_shadows(root, scene.viewpoint)  # a GPU only
        root.stash()
        self.scenes[info.name] = scene
        if scene.sound:
            self._load_sound(scene)
        self.soundscape.load(scene.spatial_sounds)
        return scene

    def warm(self, name: str) -> None:
        """Draw built scene `name` once at each level of its ladder, in black, before anything is
        on show, so that its first frames on show cost what its other frames do.

        The first time Panda3D draws a part it converts the part's textures and vertices for the
        renderer, computes its bounds and (on OpenGL) makes its shaders. Without this the frame
        where a scene first appears was late: spiders' first frame took 13 ms at 640x360 in
        software against 3 ms for the next, heights' 12 ms against 5. A level that brings in a
        new species or prop costs the same on its first frame, so every level is drawn, and
        each of the scene's cheaper details (`Scene.set_detail`) at the top level.

        Every level's `apply` runs here, so a scene that raises at some level raises now, at
        start, not when a client climbs to it. The scene's own numbers (its time, a door's
        angle) are put back afterwards and one-shot sounds triggered meanwhile are not played:
        the scene starts as if it had never been drawn. Only while no scene is on show (the
        render process's start): the frames drawn here are never shown to the client.
        """
        if self.current is not None:
            raise RuntimeError("scenes are warmed before any is on show")
        scene = self.scenes[name]
        kept = {k: v for k, v in vars(scene).items() if isinstance(v, (bool, int, float, str))}
        root, parent = scene.root, self.rig.getParent()
        root.unstash()
        root.setColorScale(0.0, 0.0, 0.0, 1.0)
        self.rig.reparentTo(scene.viewpoint)
        # the client's camera's lens, culling nothing: all of the scene, not just what is in view
        camera = Camera("warm", self.base.camLens)
        camera.setCullBounds(OmniBoundingVolume())
        warm = self.base.cam.attachNewNode(camera)
        region = self.base.camNode.getDisplayRegion(0)
        region.setCamera(warm)
        try:
            top = float(len(scene.levels))
            for step in range(scene.detail_steps, 0, -1):  # each cheaper detail, at the top
                scene.set_detail(step)
                scene.advance(top, 0.0)
                self.base.graphicsEngine.renderFrame()
            if scene.detail_steps:
                scene.set_detail(0)
            for intensity in range(len(scene.levels), -1, -1):  # the top first, the lowest last
                scene.advance(float(intensity), 0.0)
                self.base.graphicsEngine.renderFrame()
        finally:
            region.setCamera(self.base.cam)
            warm.removeNode()
            self.rig.reparentTo(parent)
            root.clearColorScale()
            root.stash()
            vars(scene).update(kept)
            self.soundscape.settle(scene.spatial_sounds)

    def _load_sound(self, scene: Scene) -> None:
        """Load the scene's ambient loop now (build time), to play while it is on show."""
        if scene.folder is None or not self.base.sfxManagerList:
            return
        path = scene.folder / scene.sound  # type: ignore[operator]
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the scene's sound file is missing")
        sfx = self.base.loader.loadSfx(Filename.fromOsSpecific(str(path)))
        sfx.setLoop(True)
        sfx.setVolume(0.0 if self.soundscape.muted else AMBIENT_VOLUME)
        self.sounds[scene.name] = sfx

    def show(self, name: str) -> Scene:
        """Put scene `name` on show (it must be built) and move the rig to its viewpoint."""
        scene = self.scenes[name]
        if self.current is not scene:
            if self.current is not None:
                self.current.root.stash()
                if self.current.name in self.sounds:
                    self.sounds[self.current.name].stop()
                self.soundscape.stop(self.current.spatial_sounds)
            scene.root.unstash()
            if name in self.sounds:
                self.sounds[name].play()
            self.soundscape.start(scene.spatial_sounds)
            self.rig.reparentTo(scene.viewpoint)
            self.current = scene
            self.set_fade(self.fade)
        return scene

    def hide(self) -> None:
        """Show no scene (previews between scenes)."""
        if self.current is not None:
            self.current.root.stash()
            if self.current.name in self.sounds:
                self.sounds[self.current.name].stop()
            self.soundscape.stop(self.current.spatial_sounds)
            self.current = None

    def set_fade(self, fade: float) -> None:
        """Brightness of the whole view, 0 (black) to 1, for fades between scenes."""
        self.fade = fade
        if self.current is None:
            return
        # sRGB as authored; in linear light on OpenGL, so a fade looks the same on every renderer
        scale = look.linear_colour((fade, fade, fade, 1.0))
        self.current.root.setColorScale(scale)
        bg = self.current.background
        color = look.linear_colour((bg[0] * fade, bg[1] * fade, bg[2] * fade, 1.0))
        for output in self.outputs:
            output.setClearColor(color)

    def frame(self, intensity: float, dt: float) -> None:
        """Advance the scene on show by `dt` at `intensity` and aim the non-VR camera."""
        scene = self.current
        if scene is None:
            return
        scene.advance(intensity, dt)
        lights = self.lights.get(scene.name)
        if lights:
            look.keep_lights_linear(lights)
        if self.track_gaze:
            self.head.setP(scene.gaze_pitch)
        self.soundscape.update(scene.spatial_sounds)

    def set_muted(self, muted: bool) -> None:
        """Silence every scene sound (ambient loops and spatial sounds, in every scene, those
        built later too), or give them back; the coach's voice is not a scene sound."""
        self.soundscape.set_muted(muted)
        for sfx in self.sounds.values():
            sfx.setVolume(0.0 if muted else AMBIENT_VOLUME)
