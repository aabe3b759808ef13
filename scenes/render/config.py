"""What the render process is told at start, and the timing defaults it uses."""

from __future__ import annotations

from dataclasses import dataclass

from exposure.constants import SAFE_SCENE
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
