"""Where the client looks, frame by frame, summarised ten times a second (pure: no Panda3D).

Each frame the render loop passes the eye's position and gaze direction, in the coordinates of
the scene on show, and the scene's stimulus anchors (`Scene.stimulus_anchors`). `GazeSummariser`
finds the anchor nearest the gaze direction, and every `period_s` returns a `GazeSummary`: the
share of the interval with a stimulus within `cone_deg` of gaze, the smallest distance to a
stimulus, and the mean head turn speed. The control process records each as a `gaze` event.

Thirty degrees is about the reach of the near periphery: an object inside that cone is seen
clearly enough to be attended to without a head turn, and one outside it is being avoided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scenes.render.messages import GazeSummary

Vec3 = tuple[float, float, float]

GAZE_CONE_DEG = 30.0
GAZE_HZ = 10.0
CLIENT_VIEW_FOV_DEG = 80.0
"""Horizontal field of view of the client's-view picture, centred on the gaze: the console
marks the gaze cone on it. Equal to `scenes.stage.PREVIEW_FOV` (a test checks), written out
here because `scenes.stage` loads Panda3D, which the control process does not."""


def nearest_anchor(eye: Vec3, gaze: Vec3, anchors: Sequence[Vec3]) -> tuple[float, float] | None:
    """(angle in degrees between `gaze` and the anchor nearest it, distance to that anchor).

    `gaze` need not be unit length. None when there are no anchors. An anchor at the eye itself
    counts as in view (angle 0).
    """
    gx, gy, gz = gaze
    gn = math.sqrt(gx * gx + gy * gy + gz * gz)
    if gn == 0.0:
        return None
    best_cos = -2.0
    best_dist = 0.0
    ex, ey, ez = eye
    for ax, ay, az in anchors:
        dx, dy, dz = ax - ex, ay - ey, az - ez
        dist = math.sqrt(dx * dx + dy * dy + dz * dz)
        cos = 1.0 if dist == 0.0 else (dx * gx + dy * gy + dz * gz) / (dist * gn)
        if cos > best_cos:
            best_cos, best_dist = cos, dist
    if best_cos < -1.5:
        return None
    return math.degrees(math.acos(max(-1.0, min(1.0, best_cos)))), best_dist


def angle_between(a: Vec3, b: Vec3) -> float:
    """Degrees between two directions (0 when either is zero)."""
    na = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
    nb = math.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
    if na == 0.0 or nb == 0.0:
        return 0.0
    cos = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (na * nb)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


class GazeSummariser:
    """Frame samples in, a `GazeSummary` out every `period_s` (time is passed in, never read)."""

    def __init__(self, period_s: float = 1.0 / GAZE_HZ, cone_deg: float = GAZE_CONE_DEG) -> None:
        self.period_s = period_s
        self.cone_deg = cone_deg
        self._start: float | None = None
        self._due = 0.0
        """When the next summary is due: on a grid, so they come ten a second on average
        whatever the frame rate (at 90 Hz, nine frames are a hair under a tenth)."""
        self._last_gaze: Vec3 | None = None
        self._reset()

    def _reset(self) -> None:
        self._time = 0.0
        self._on = 0.0
        self._with_stimulus = 0.0
        self._valid = 0.0
        self._turned = 0.0
        self._min_dist: float | None = None

    def frame(
        self, now: float, dt: float, eye: Vec3, gaze: Vec3, anchors: Sequence[Vec3], valid: bool
    ) -> GazeSummary | None:
        """One frame that lasted `dt` seconds; returns a summary when one is due, else None."""
        if self._start is None:
            self._start = now
            self._due = now + self.period_s
        self._time += dt
        if valid:
            self._valid += dt
            if self._last_gaze is not None:
                self._turned += angle_between(self._last_gaze, gaze)
            self._last_gaze = gaze
            near = nearest_anchor(eye, gaze, anchors) if anchors else None
            if near is not None:
                angle, dist = near
                self._with_stimulus += dt
                if angle <= self.cone_deg:
                    self._on += dt
                if self._min_dist is None or dist < self._min_dist:
                    self._min_dist = dist
        else:
            self._last_gaze = None  # a jump across lost tracking is no head turn
        if now < self._due:
            return None
        self._due += self.period_s
        if self._due <= now:  # a long stall: start the grid again from now
            self._due = now + self.period_s
        return self._summary(now)

    def _summary(self, now: float) -> GazeSummary:
        start = self._start if self._start is not None else now
        elapsed = max(now - start, 1e-6)
        valid = self._valid >= self._time / 2.0
        on = self._on / self._with_stimulus if self._with_stimulus > 0.0 else 0.0
        summary = GazeSummary(
            t=now,
            on_stimulus=round(min(1.0, on), 3),
            distance_m=round(self._min_dist, 3) if self._min_dist is not None and valid else None,
            head_speed_dps=round(self._turned / elapsed, 1) if valid else 0.0,
            valid=valid,
        )
        self._start = now
        self._reset()
        return summary
