"""The scene authoring API: what a scene folder's `scene.py` defines.

A scene is one class derived from `Scene`, in `scenes/library/NAME/scene.py`:

    class Spiders(Scene):
        phobia = "arachnophobia"
        description = "Spiders on a table, from one in a jar to many walking close."
        levels = [
            level("One small spider in a closed jar", suds=10, count=1, distance=2.0, ...),
            ...
        ]

        def build(self) -> None:      # once: make the scene graph under self.root
            ...

        def apply(self, intensity: float, dt: float) -> None:   # each frame
            p = self.params(intensity)   # parameters eased between neighbouring levels
            ...

        def stimulus_anchors(self, intensity: float) -> Sequence[tuple[float, float, float]]:
            p = self.params(intensity)   # where the feared things are (head tracking)
            return [(0.0, p["distance"], 0.8)]

Importing the module must stay cheap (no window, no asset loading): the registry reads the
metadata and the ladder without building anything. Units are metres, Z is up, Y is forward;
the client stands at `self.viewpoint` (feet on the floor) and the eyes are `eye_height` above it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from exposure.constants import SAFE_SCENE
from exposure.models import Ladder, Level
from scenes.sound import SOUNDS, SpatialSound

EYE_HEIGHT_M = 1.6
"""Standing eye height used for every non-VR camera; in VR the headset's tracked height wins."""
PLAIN_PRIORITY = 100
"""`draw_plain`'s textures-off wins over any texture a scene sets (scenes set them at 0)."""


def level(name: str, description: str = "", suds: int | None = None, **params: float) -> Level:
    """One rung of a scene's default ladder: a named situation and its parameter values."""
    return Level(
        name=name,
        description=description,
        suds=suds,
        params={k: float(v) for k, v in params.items()},
    )


@dataclass(frozen=True)
class Param:
    """One scene parameter as a ladder file sets it: what it does, in a therapist's words, and
    the range the scene can show (`vret scenes check-ladder` holds a ladder file to it)."""

    doc: str
    low: float
    high: float
    unit: str = ""
    graded: bool = True
    """False for an appearance setting that does not grade the exposure (the client's own skin
    tone): a client's hierarchy may set it anywhere from `low` to `high`, where a graded
    parameter stays within the range the scene's own levels span."""

    def describe(self) -> str:
        """`doc (unit, low to high)` for a ladder template."""
        unit = f"{self.unit}, " if self.unit else ""
        return f"{self.doc} ({unit}{self.low:g} to {self.high:g})"


def smoothstep(f: float) -> float:
    """Ease-in-out on [0, 1]: monotonic, flat at both ends so a level change never jerks."""
    if f <= 0.0:
        return 0.0
    if f >= 1.0:
        return 1.0
    return f * f * (3.0 - 2.0 * f)


class Scene(ABC):
    """Base class of every scene. Subclasses set the metadata and write `build` and `apply`."""

    phobia: ClassVar[str] = ""
    """What the scene treats ("arachnophobia"); empty for a calm scene."""
    description: ClassVar[str] = ""
    """One line a therapist reads in `vret scenes list`."""
    levels: ClassVar[list[Level]] = []
    """The default ladder, mildest first. Every level sets the same parameters."""
    calm: ClassVar[bool] = False
    """True for a calm scene used for baseline, breaks and panic (no ladder of fear)."""
    background: ClassVar[tuple[float, float, float]] = (0.55, 0.7, 0.85)
    """Clear colour (the sky, or the dark of a room)."""
    sound: ClassVar[str | None] = None
    """Optional ambient sound file in the scene folder, looped while the scene is shown."""
    events: ClassVar[tuple[str, ...]] = ()
    """Scene events a therapist may trigger (`on_event`), e.g. ("cough",)."""
    parameters: ClassVar[dict[str, Param]] = {}
    """What each level parameter does and its range, for ladder templates and their checks."""
    detail_steps: ClassVar[int] = 0
    """How many cheaper versions of the scene `set_detail` offers. When frames come close to
    late (a slow machine, software rendering), the render process draws the scene one step
    cheaper, and gives the detail back once frames are cheap again. 0: always as authored."""

    def __init__(self, name: str, root: Any, folder: Path | None = None) -> None:
        self.name = name
        self.folder = folder
        """The scene's folder (assets live here), or None for a scene made in a test."""
        self.root = root
        """NodePath that holds the whole scene; its lights are set on it."""
        self.viewpoint = root.attachNewNode("viewpoint")
        """Where the client stands (feet); its heading is where they face."""
        self.gaze_pitch = -5.0
        """Pitch in degrees of the non-VR camera (VR uses the head pose)."""
        self.time = 0.0
        """Seconds of scene time, advanced by `advance`; drives ambient motion."""
        keys = sorted(self.levels[0].params) if self.levels else []
        self._keys = keys
        self._table = [tuple(lv.params.get(k, 0.0) for k in keys) for lv in self.levels]
        self._stock_table = self._table
        self._params: dict[str, float] = dict.fromkeys(keys, 0.0)
        self.spatial_sounds: list[SpatialSound] = []
        """Sounds attached to nodes (`spatial_sound`); the stage loads and plays them."""
        self.detail = 0
        """The detail step drawn now (`set_detail`): 0 as authored."""
        self._plain: dict[int, tuple[Any, Any, int]] = {}
        """Each node drawn plain (`draw_plain`), by key: the NodePath, its own texture attrib and
        priority. The NodePath is kept so that the key stays the node's: Panda3D makes a new
        key for a node once no NodePath to it is left."""

    def use_levels(self, levels: Sequence[Mapping[str, float]]) -> None:
        """Draw the session's own ladder (a client's hierarchy, a ladder file) instead of the
        scene's: level k shows `levels[k - 1]`. A parameter a level leaves out keeps the value of
        the scene's own level k (its top level past the top), so a ladder that only renames the
        levels draws as before; one the scene does not have is ignored (ladders are checked on
        the control side, `scenes.registry.read_ladder_file`). The runner calls it before
        `build`, so a scene may size what it builds from `self.levels`; a station's render
        process that serves one session after another calls it again for each (within the
        declared ranges a built scene shows any level). No levels: the scene's own again.
        """
        if not self._keys:
            return
        if not levels:
            vars(self).pop("levels", None)  # the class's own ladder again
            self._table = self._stock_table
            return
        stock = self._stock_table
        self.levels = [  # type: ignore[misc]  # this scene object draws the session's ladder
            Level(
                name=f"level {k}",
                params={
                    key: float(lv.get(key, stock[min(k, len(stock)) - 1][i]))
                    for i, key in enumerate(self._keys)
                },
            )
            for k, lv in enumerate(levels, start=1)
        ]
        self._table = [tuple(lv.params[key] for key in self._keys) for lv in self.levels]

    # ------------------------------------------------------------------ for authors
    @abstractmethod
    def build(self) -> None:
        """Make the scene graph under `self.root` (geometry, lights). Called once."""

    @abstractmethod
    def apply(self, intensity: float, dt: float) -> None:
        """Set the scene for `intensity` (1..N, fractional between levels); `dt` seconds passed."""

    def load_model(self, filename: str) -> Any:
        """Load a model file (.gltf/.glb through panda3d-gltf, .bam, .egg) from the scene's folder.

        Call it in `build` only: loading during a level change would stall the frame. Give the
        file a line in the folder's `assets.toml` (`scenes.assets`), or `vret scenes check`
        fails the scene.
        """
        # Panda3D: loaded in the render process when a scene builds, not by the scene library
        from panda3d.core import Filename, Loader, LoaderOptions, NodePath

        if self.folder is None:
            raise FileNotFoundError(f"{filename}: this scene has no folder")
        path = self.folder / filename
        node = Loader.getGlobalPtr().loadSync(
            Filename.fromOsSpecific(str(path)), LoaderOptions(LoaderOptions.LF_no_cache)
        )
        if node is None:
            raise FileNotFoundError(f"{path} could not be loaded as a model")
        return NodePath(node)

    def spatial_sound(
        self,
        name: str,
        node: Any,
        volume: float = 1.0,
        min_distance: float = 1.0,
        file: str | None = None,
    ) -> SpatialSound:
        """Attach sound `name` (see `scenes.sound.SOUNDS`) to `node`; call it in `build`.

        Set the returned sound's `volume` (0-1) in `apply`, and call its `trigger()` for a
        one-shot sound. `min_distance` (metres) is how near it is at full volume. With `file`,
        the sound is that file of the scene's folder (looped; give it a line in assets.toml).
        """
        if file is not None:
            if self.folder is None or not (self.folder / file).is_file():
                raise FileNotFoundError(f"{file}: the scene's sound file is missing")
            sound = SpatialSound(name, node, volume, min_distance, path=self.folder / file)
        else:
            sound = SpatialSound(name, node, volume, min_distance, loop=SOUNDS[name][2])
        self.spatial_sounds.append(sound)
        return sound

    def on_event(self, name: str) -> None:  # noqa: B027 - optional hook, empty by default
        """A therapist triggered one of `events`."""

    def set_detail(self, step: int) -> None:
        """Draw the scene at detail `step`: 0 as authored, up to `detail_steps`, each cheaper.

        The render process calls it between frames, only for a scene that sets `detail_steps`,
        and draws each step once at start (as it does each level) so a change costs no late
        frame. A scene with finer steps overrides this (the audience's clothes plain first,
        then the whole hall); the base class's one step draws the scene without its textures
        (`draw_plain`), which halves what a textured scene costs in software rendering. What
        hangs from the viewpoint (the client's hands, the coach, the panels) keeps them.
        """
        self.detail = step
        self.draw_plain([c for c in self.root.getChildren() if c != self.viewpoint], step > 0)

    def draw_plain(self, nodes: Sequence[Any], plain: bool) -> None:
        """Draw `nodes` and all below them without textures (their vertex colours only), or,
        with `plain` False, as they were before: each node's own texture setting is kept."""
        from panda3d.core import TextureAttrib  # the registry imports scenes without Panda3D

        kind = TextureAttrib.getClassType()
        for node in nodes:
            key = node.getKey()
            if plain and key not in self._plain:
                state = node.getState()
                attrib = state.getAttrib(kind) if state.hasAttrib(kind) else None
                priority = state.getOverride(kind) if attrib is not None else 0
                self._plain[key] = (node, attrib, priority)
                node.setTextureOff(PLAIN_PRIORITY)
            elif not plain and key in self._plain:
                _node, attrib, priority = self._plain.pop(key)
                if attrib is None:
                    node.clearTexture()
                else:
                    node.setAttrib(attrib, priority)

    def stimulus_anchors(self, intensity: float) -> Sequence[tuple[float, float, float]]:
        """Where the feared things are at `intensity`: points in metres in `self.root`'s space.

        Head tracking measures attention from these: the render process takes, each frame
        after `apply`, the angle between the client's gaze and the nearest anchor, and the
        distance to it. Put one anchor on each thing the client should look at (the spider,
        the edge of the drop, the audience), at its centre. A calm scene returns none (the
        default), and then no attention is measured. Called every frame: keep it cheap.
        """
        return ()

    def stimulus(self) -> Any | None:
        """The node a preview's close-up inset frames (the nearest spider), or None for none.

        Called after `apply`, by previews only (never in a session's frame loop).
        """
        return None

    def params(self, intensity: float) -> dict[str, float]:
        """The parameters at `intensity`, eased (smoothstep) between the two neighbouring levels.

        Below level 1 the scene shows level 1 (the safe scene is a different scene); above the
        top it shows the top. The returned dict is reused from frame to frame: read, don't keep.
        """
        table = self._table
        out = self._params
        if not table:
            return out
        top = len(table)
        x = 1.0 if intensity < 1.0 else (float(top) if intensity > top else intensity)
        i = int(math.floor(x))
        if i >= top:
            lo = hi = table[top - 1]
            s = 0.0
        else:
            lo, hi = table[i - 1], table[i]
            s = smoothstep(x - i)
        for k, key in enumerate(self._keys):
            out[key] = lo[k] + (hi[k] - lo[k]) * s
        return out

    # ------------------------------------------------------------------ for the runner
    def advance(self, intensity: float, dt: float) -> None:
        """Move scene time on and apply `intensity`; the render loop calls this each frame."""
        self.time += dt
        self.apply(intensity, dt)

    @classmethod
    def ladder(cls, name: str) -> Ladder:
        """This scene's default ladder as the shared `Ladder` model."""
        return Ladder(scene=name, safe_scene=SAFE_SCENE, levels=list(cls.levels))


def wave(t: float, period: float, phase: float = 0.0) -> float:
    """A sine in [-1, 1] with `period` seconds: the usual ambient sway."""
    return math.sin(2.0 * math.pi * (t / period + phase))
