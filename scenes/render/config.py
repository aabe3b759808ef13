"""What the render process is told at start, and the timing defaults it uses."""

from __future__ import annotations

from dataclasses import dataclass

from exposure.constants import SAFE_SCENE
from exposure.errors import UserError
from scenes.pose import PoseScript

DEFAULT_TRANSITION_S = 3.0
"""Seconds to ease from one level to the next (comfort: no jumps)."""
WATCHDOG_S = 1.0
"""Silence from the control process longer than this fades to the safe scene."""
FRAME_REPORT_HZ = 2.0
"""Frame-time reports per second (each carries every interval since the last)."""
LATE_FACTOR = 1.5
"""A frame is late when its interval exceeds 1.5 frame budgets (it missed a refresh)."""
BREAK_HOLD_S = 2.0
"""After the client's break, targets that are not safe are ignored this long (the control
process may still be resending the old target before it has read the break)."""
ORPHAN_EXIT_S = 60.0
"""With the control process gone (pipe closed), keep the safe scene this long, then exit."""
TRACKING_LOST_S = 0.5
"""An invalid head pose for longer than this fades the view to a steady horizon."""
HORIZON_FADE_S = 0.5
"""How long the fade to (and back from) the steady horizon takes."""
CUT_FADE_FROM = 0.5
"""A cut to the safe scene (panic, break) starts at this brightness and brightens from there."""


def fade_seconds(transition_s: float) -> float:
    """A change of scene fades out, then in, each over half the transition (0.2 s to 1 s)."""
    return max(0.2, min(1.0, transition_s / 2))


# ---------------------------------------------------------------------------- the look's features
SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "lavapipe", "software rasterizer", "gdi generic")
"""Renderer strings of OpenGL drawn by the CPU (Mesa's llvmpipe, softpipe, swrast; Windows' GDI
Generic): shadows and multisampling would cost frames the headset needs, and a shadow would
never be drawn there: on llvmpipe (Mesa 22 here) the shader generator's lit shaders do not
load ("The profile is not supported."), with or without a shadow map, and those surfaces fall
back to the fixed pipeline."""
SHADOW_MAP_PX = 1024
"""Pixels a side of the key light's shadow map on a GPU: modest, with hardware PCF to soften."""
SHADOW_REACH_M = 12.0
"""The shadow map covers this far around the client's seat (a room; beyond it no shadows)."""
MULTISAMPLES = 4
"""MSAA samples per pixel on a GPU: 4x smooths the edges a headset's lenses magnify."""
LOOK_SHADOWS = ("auto", "on", "off")
LOOK_DETAIL = ("adaptive", "full")


@dataclass(frozen=True)
class LookSettings:
    """What a station asks of the look; the renderer decides what it gets (`look_features`).

    shadows: "auto" (on a GPU only), "on" (asked for, still refused where no GPU draws), "off".
    multisamples: samples per pixel, or None for `MULTISAMPLES` on a GPU; 0 turns MSAA off.
    """

    shadows: str = "auto"
    multisamples: int | None = None
    detail: str = "adaptive"
    """"adaptive": a scene that offers cheaper steps (`Scene.detail_steps`) is drawn one step
    cheaper while its frames come close to late; "full": always as authored (a study that must
    show every client the same stimulus)."""

    def __post_init__(self) -> None:
        if self.detail not in LOOK_DETAIL:
            raise ValueError(
                f"unknown detail setting {self.detail!r}: use one of {', '.join(LOOK_DETAIL)}"
            )
        if self.shadows not in LOOK_SHADOWS:
            raise ValueError(
                f"unknown shadows setting {self.shadows!r}: use one of {', '.join(LOOK_SHADOWS)}"
            )
        if self.multisamples is not None and not 0 <= self.multisamples <= 16:
            raise ValueError(f"multisamples must be 0 to 16, not {self.multisamples}")


LOOK_ENV = "VRET_LOOK"
"""Environment variable a station sets to override the look's settings, e.g.
"shadows=off multisamples=0" on a GPU whose driver draws the shadows wrong."""


class LookSettingsError(UserError, ValueError):
    """VRET_LOOK cannot be read: the CLI prints the sentence, the render process reports it."""


def look_settings_from(text: str | None, settings: LookSettings | None = None) -> LookSettings:
    """`settings` with what `text` (the VRET_LOOK value: "shadows=off multisamples=0") sets;
    LookSettingsError with one sentence naming the fix for anything else."""
    settings = settings or LookSettings()
    if not text or not text.strip():
        return settings
    shadows, multisamples, detail = settings.shadows, settings.multisamples, settings.detail
    for item in text.replace(",", " ").split():
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key == "shadows":
            shadows = value.strip().lower()
        elif key == "detail":
            detail = value.strip().lower()
        elif key in ("multisamples", "msaa"):
            try:
                multisamples = int(value)
            except ValueError:
                raise LookSettingsError(
                    f"{LOOK_ENV}: multisamples must be a whole number, not {value!r} "
                    "(e.g. multisamples=4)."
                ) from None
        else:
            raise LookSettingsError(
                f"{LOOK_ENV}: unknown setting {item!r}: use shadows=auto|on|off, "
                "multisamples=N and detail=adaptive|full, e.g. "
                "VRET_LOOK='shadows=off multisamples=0'."
            )
    try:
        return LookSettings(shadows=shadows, multisamples=multisamples, detail=detail)
    except ValueError as err:
        raise LookSettingsError(f"{LOOK_ENV}: {err}.") from None


@dataclass(frozen=True)
class LookFeatures:
    """What the look uses in this process, decided once when the window opens."""

    linear_light: bool = False
    """sRGB throughout: colour textures and the framebuffer are sRGB, colours are linearised
    at build and light adds up in linear light; False keeps the gamma-space look (software)."""
    shadows: bool = False
    """The key light casts shadows (the shader generator's shadow map, hardware PCF)."""
    shadow_map_px: int = 0
    multisamples: int = 0
    """MSAA samples per pixel of the window and its buffers (0: none)."""
    tier: str = "software"
    """"software" (p3tinydisplay), "software-gl" (shaders on the CPU) or "gpu"."""


def is_software_gl(renderer: str) -> bool:
    """True when an OpenGL renderer string names a CPU rasteriser (llvmpipe and the like)."""
    name = renderer.lower()
    return any(word in name for word in SOFTWARE_GL)


def look_features(pipe: str, renderer: str, settings: LookSettings | None = None) -> LookFeatures:
    """The look's features for a window on `pipe` ("tiny", "gl", "egl") drawn by `renderer`
    (the GSG's renderer string) under `settings`. Pure: the decision in one testable place.

    - p3tinydisplay: the tuned fallback, nothing else (no shaders, no sRGB, no shadows).
    - OpenGL on the CPU (llvmpipe, softpipe, swrast): sRGB throughout; no shadows even when
      asked (no shadow is drawn there); MSAA only when asked for by number.
    - OpenGL on a GPU: sRGB throughout, soft shadows from the key light and 4x MSAA, unless
      the settings turn them off.
    """
    settings = settings or LookSettings()
    if pipe == "tiny" or "tinypanda" in renderer.lower():
        return LookFeatures()
    if not renderer or is_software_gl(renderer):  # an unnamed renderer: assume the CPU
        return LookFeatures(
            linear_light=True, multisamples=settings.multisamples or 0, tier="software-gl"
        )
    shadows = settings.shadows != "off"
    return LookFeatures(
        linear_light=True,
        shadows=shadows,
        shadow_map_px=SHADOW_MAP_PX if shadows else 0,
        multisamples=MULTISAMPLES if settings.multisamples is None else settings.multisamples,
        tier="gpu",
    )


@dataclass(frozen=True)
class RenderConfig:
    """Everything the render process needs; pickled into the spawned process."""

    display: str = "offscreen"
    size: tuple[int, int] = (640, 480)
    frame_rate: float = 90.0
    transition_s: float = DEFAULT_TRANSITION_S
    thumbnail_hz: float = 4.0
    thumbnail_size: tuple[int, int] = (160, 120)
    watchdog_s: float = WATCHDOG_S
    safe_scene: str = SAFE_SCENE
    scenes: tuple[str, ...] | None = None
    pipe: str | None = None
    openvr_module: str = "openvr"
    audio: bool = False
    scene_dirs: tuple[str, ...] | None = None
    pose_script: PoseScript | None = None
    """Scripted head poses (tests, demos); the headset's own pose wins in VR."""
    look: LookSettings = LookSettings()
    """Shadows and multisampling asked of the look (a GPU grants them; see `look_features`)."""
    coach: str = "person"
    """How the coach appears at the start: "person", "voice" (a soft light) or "off"."""
    scene_levels: tuple[tuple[str, tuple[tuple[tuple[str, float], ...], ...]], ...] = ()
    """The session's own ladder per scene, (scene, levels as (param, value) pairs): a client's
    hierarchy or ladder file, drawn instead of the scene's stock levels (`Scene.use_levels`)."""

    def levels_of(self, scene: str) -> list[dict[str, float]] | None:
        """The session's levels for `scene`, or None to draw the scene's own."""
        for name, levels in self.scene_levels:
            if name == scene:
                return [dict(pairs) for pairs in levels]
        return None
