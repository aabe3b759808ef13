"""What the client sees from frame to frame: easing, fades, cuts, the watchdog, the break hold.

A pure state machine, like `exposure.core.step`: no Panda3D, no clock, no pipe. The render loop
tells it what arrived (`heard`, `target`, `client_break`, `pipe_closed`, `scene_failed`), calls
`step(now)` once a frame, and applies `scene`, `intensity` and `fade` to Panda3D.

- Same scene, new level: the intensity eases there over `transition_s` (smoothstep).
- Another scene: fade to black over `fade_s`, switch, fade in over `fade_s`.
- A safe target, the client's break, a scene that failed: a cut. The safe scene is on show in
  this very step, at `cut_fade_from` brightness, brightening at the fade rate.
- The break holds the safe scene for `break_hold_s` against targets that are not safe.
- The control process silent for more than `watchdog_s` (or its pipe closed): fade to the safe
  scene; the first message after the silence ends it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exposure.constants import SAFE_SCENE
from scenes.api import smoothstep
from scenes.render.config import (
    BREAK_HOLD_S,
    CUT_FADE_FROM,
    DEFAULT_TRANSITION_S,
    ORPHAN_EXIT_S,
    WATCHDOG_S,
    fade_seconds,
)
from scenes.render.messages import WatchdogRecovered, WatchdogTripped

MAX_STEP_S = 0.1
"""A stalled frame advances a fade by at most this much (a hitch is not a jump)."""


@dataclass(frozen=True)
class TransitionSettings:
    """The timings of the client's view; every one is its own setting."""

    safe_scene: str = SAFE_SCENE
    transition_s: float = DEFAULT_TRANSITION_S
    """Easing from one level to another in the same scene."""
    fade_s: float = fade_seconds(DEFAULT_TRANSITION_S)
    """A change of scene fades out over this, then in over this; a cut brightens at this rate."""
    watchdog_s: float = WATCHDOG_S
    """Silence from the control process longer than this fades to the safe scene."""
    break_hold_s: float = BREAK_HOLD_S
    """After the client's break, targets that are not safe are ignored this long."""
    cut_fade_from: float = CUT_FADE_FROM
    """Brightness (0-1) the safe scene starts at after a cut."""
    orphan_exit_s: float = ORPHAN_EXIT_S
    """With the pipe closed, keep the safe scene this long, then `orphan_expired`."""


class Transitions:
    """The client's view: the scene on show, its intensity and brightness, moved a step a frame.

    `scene`, `intensity`, `fade` and `watchdog` are the output, read after each `step`.
    """

    def __init__(self, settings: TransitionSettings, now: float) -> None:
        self.settings = settings
        safe = settings.safe_scene
        # the output: what is on show
        self.scene = safe
        self.intensity = 0.0
        self.fade = 1.0
        self.watchdog = False
        """True while the safe scene is shown because the control process went silent."""
        self.failed: set[str] = set()
        """Scenes that raised: never shown again."""
        # what the control process asked for last
        self._wanted_scene = safe
        self._wanted_level = 0.0
        self._wanted_safe = True
        # easing within a scene, and fading between scenes
        self._ease_from = 0.0
        self._ease_to = 0.0
        self._ease_t0 = now
        self._fade_dir = 0
        """-1: fading out toward `_next_scene`; +1: fading in; 0: steady."""
        self._next_scene: str | None = None
        # timers
        self._last_step = now
        self._last_heard = now
        self._hold_until = -math.inf
        self._orphaned_at: float | None = None

    # ------------------------------------------------------------------ inputs

    def heard(self, now: float) -> None:
        """Any message from the control process arrived: it is alive."""
        self._last_heard = now

    def target(self, scene: str, level: float, safe: bool) -> None:
        """The latest target. A non-finite level is ignored; a safe target ends a break hold."""
        if not math.isfinite(level):
            return  # a broken number never reaches a scene
        if safe:
            self._hold_until = -math.inf
        self._wanted_scene, self._wanted_level, self._wanted_safe = scene, level, safe

    def client_break(self, now: float) -> None:
        """The client asked for a break: the safe scene now, and held for `break_hold_s`."""
        self._hold_until = now + self.settings.break_hold_s

    def pipe_closed(self, now: float) -> None:
        """The control process is gone: the safe scene until `orphan_expired`."""
        if self._orphaned_at is None:
            self._orphaned_at = now

    def scene_failed(self, scene: str) -> None:
        """`scene` raised: never show it again; if it is on show, cut to the safe scene now.

        The safe scene is never marked failed: there is nothing safer to show instead.
        """
        if scene == self.settings.safe_scene:
            return
        self.failed.add(scene)
        if scene == self.scene:
            self._switch(self.settings.safe_scene, 0.0, self.settings.cut_fade_from)

    def orphan_expired(self, now: float) -> bool:
        """The pipe has been closed for longer than `orphan_exit_s`: time to exit."""
        return (
            self._orphaned_at is not None and now - self._orphaned_at > self.settings.orphan_exit_s
        )

    # ------------------------------------------------------------------ one frame

    def step(self, now: float) -> WatchdogTripped | WatchdogRecovered | None:
        """Move the view one frame on to `now`; returns a watchdog change to report, if any."""
        s = self.settings
        dt = min(max(now - self._last_step, 0.0), MAX_STEP_S)
        self._last_step = now
        notice: WatchdogTripped | WatchdogRecovered | None = None
        silent = now - self._last_heard
        if self.watchdog and silent <= s.watchdog_s:
            self.watchdog = False
            notice = WatchdogRecovered()
        elif not self.watchdog and silent > s.watchdog_s:
            self.watchdog = True
            notice = WatchdogTripped(silent_s=round(silent, 3))

        scene, level, cut = self._wanted(now)
        if scene != self.scene:
            if cut:
                self._switch(scene, level, s.cut_fade_from)
            elif self._next_scene != scene:
                self._next_scene = scene
                self._fade_dir = -1
        elif self._next_scene is not None:  # changed back before the fade finished
            self._next_scene = None
            self._fade_dir = 1

        if self._fade_dir < 0:
            self.fade = max(0.0, self.fade - dt / s.fade_s)
            if self.fade <= 0.0 and self._next_scene is not None:
                self._switch(self._next_scene, level, 0.0)
        elif self._fade_dir > 0:
            self.fade = min(1.0, self.fade + dt / s.fade_s)
            if self.fade >= 1.0:
                self._fade_dir = 0

        if scene == self.scene and level != self._ease_to:
            self._ease_from, self._ease_to, self._ease_t0 = self.intensity, level, now
        f = (now - self._ease_t0) / s.transition_s if s.transition_s > 0 else 1.0
        self.intensity = self._ease_from + (self._ease_to - self._ease_from) * smoothstep(f)
        return notice

    def _wanted(self, now: float) -> tuple[str, float, bool]:
        """The scene and level to head for, and whether to cut there (True) or fade."""
        safe = self.settings.safe_scene
        if self.watchdog or self._orphaned_at is not None:
            return safe, 0.0, False
        if now < self._hold_until:
            return safe, 0.0, True
        if self._wanted_scene in self.failed:
            return safe, 0.0, True
        return self._wanted_scene, self._wanted_level, self._wanted_safe

    def _switch(self, scene: str, level: float, fade_from: float) -> None:
        self.scene = scene
        self._next_scene = None
        self.intensity = self._ease_from = self._ease_to = level
        self.fade = fade_from
        self._fade_dir = 1 if fade_from < 1.0 else 0
