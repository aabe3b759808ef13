"""Where the client's head is: pose sources for the render process, and their pure arithmetic.

Three sources give the head pose the gaze summaries are computed from:

- the headset (`--display openvr`): SteamVR's HMD pose, read in `scenes.openvr_display`;
- the window (`--display window`): mouse-look (drag with the left button) and keys (W/A/S/D
  turn the head 10 degrees; R recentres), `WindowLook`;
- a pose script (`--pose-script FILE`, any display but the headset): a JSON-lines file of
  timed poses for tests and demos, `PoseScript`.

A source that also tracks the client's hands (the headset's controllers) keeps one node per hand,
named `tracked_hand_name(side)`, under the tracking space (the head node's parent), posed in
that space as the head is; a scene that draws hands (`scenes.creatures.hands`) finds them there.

Without one of these (offscreen with no script) there is no head tracking: the render process
sends no gaze summaries and the core's attention rule is off.

Conventions are Panda3D's and the scenes': metres, X right, Y forward, Z up; a head at rest
looks along +Y. A quaternion is [w, x, y, z] (scalar first), and rotates vectors as
q v q*: [cos(a/2), 0, 0, sin(a/2)] turns the head `a` to the left (Panda's heading).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exposure.errors import UserError

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

IDENTITY: Quat = (1.0, 0.0, 0.0, 0.0)
LOOK_STEP_DEG = 10.0
"""How far one W/A/S/D key press turns the head in window mode."""
DRAG_DEG_PER_PX = 0.25
"""Mouse-look: degrees of head turn per pixel dragged."""
MAX_PITCH_DEG = 80.0
MAX_SCRIPT_LINES = 100_000
HANDS = ("left", "right")
"""The client's hands, by the names pose sources and scenes give them."""


class PoseScriptError(UserError):
    """A pose script cannot be read; the message names the line and says what to fix."""


@dataclass(frozen=True, slots=True)
class Pose:
    """A head pose relative to the client's standing spot (feet on the floor)."""

    position: Vec3
    orientation: Quat
    valid: bool = True
    """False where the tracking system lost the head (the pose is then the last good one)."""


def tracked_hand_name(side: str) -> str:
    """The name of the node a pose source keeps for hand `side` ("left" or "right") while it
    tracks it, under the tracking space; no such node: that hand is not tracked."""
    return f"tracked-hand-{side}"


# --------------------------------------------------------------------------- quaternions


def normalise(q: Sequence[float]) -> Quat:
    """`q` scaled to unit length; ValueError for a zero quaternion."""
    w, x, y, z = (float(c) for c in q)
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if n < 1e-9:
        raise ValueError("a zero quaternion is no rotation")
    return (w / n, x / n, y / n, z / n)


def rotate(q: Quat, v: Vec3) -> Vec3:
    """`v` rotated by the unit quaternion `q` (q v q*)."""
    w, x, y, z = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v); v' = v + w t + cross(q.xyz, t)
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    return (
        vx + w * tx + (y * tz - z * ty),
        vy + w * ty + (z * tx - x * tz),
        vz + w * tz + (x * ty - y * tx),
    )


def forward(q: Quat) -> Vec3:
    """The direction a head with orientation `q` looks in (its +Y)."""
    return rotate(q, (0.0, 1.0, 0.0))


def multiply(a: Quat, b: Quat) -> Quat:
    """The rotation `b` then `a` (Hamilton product a b)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def from_hpr(h: float, p: float, r: float = 0.0) -> Quat:
    """Panda3D's heading (left), pitch (up) and roll, in degrees, as a quaternion."""

    def axis(deg: float, k: int) -> Quat:
        half = math.radians(deg) / 2.0
        c = [math.cos(half), 0.0, 0.0, 0.0]
        c[k] = math.sin(half)
        return (c[0], c[1], c[2], c[3])

    return multiply(axis(h, 3), multiply(axis(p, 1), axis(r, 2)))


def heading_of(q: Quat) -> float:
    """The heading (degrees, left positive) of the way a head with orientation `q` faces."""
    fx, fy, _ = forward(q)
    return math.degrees(math.atan2(-fx, fy))


def slerp(a: Quat, b: Quat, f: float) -> Quat:
    """The rotation a fraction `f` of the way from `a` to `b`, by the shorter arc."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if dot < 0.0:
        b, dot = (-b[0], -b[1], -b[2], -b[3]), -dot
    if dot > 0.9995:  # nearly the same: a normalised lerp is exact enough
        return normalise([x + (y - x) * f for x, y in zip(a, b, strict=True)])
    theta = math.acos(dot)
    s = math.sin(theta)
    ka, kb = math.sin((1.0 - f) * theta) / s, math.sin(f * theta) / s
    return (
        ka * a[0] + kb * b[0],
        ka * a[1] + kb * b[1],
        ka * a[2] + kb * b[2],
        ka * a[3] + kb * b[3],
    )


def recentre_offset(position: Vec3, orientation: Quat) -> tuple[float, float, float]:
    """(x, y, heading) for the tracking space so a head at this pose stands on the spot, facing +Y.

    The head's pose is read in tracking space (its parent); turning that space by minus the
    head's heading and moving it back under the head makes the way the client faces now the
    scene's forward. Computed from the tracked pose alone, so recentring twice is recentring once.
    """
    h = heading_of(orientation)
    c, s = math.cos(math.radians(-h)), math.sin(math.radians(-h))
    x, y = position[0], position[1]
    return (-(c * x - s * y), -(s * x + c * y), -h)


# --------------------------------------------------------------------------- the window


class WindowLook:
    """Mouse-look and keys for a window display: the head turns from the scene's resting view."""

    def __init__(self) -> None:
        self.heading = 0.0
        """Degrees left of the scene's forward."""
        self.pitch = 0.0
        """Degrees above the scene's resting gaze pitch."""

    def drag(self, dx_px: float, dy_px: float) -> None:
        """The mouse moved this many pixels with the button held (right and up are positive)."""
        self.turn(-dx_px * DRAG_DEG_PER_PX, dy_px * DRAG_DEG_PER_PX)

    def turn(self, heading_deg: float, pitch_deg: float) -> None:
        self.heading = (self.heading + heading_deg + 180.0) % 360.0 - 180.0
        self.pitch = max(-MAX_PITCH_DEG, min(MAX_PITCH_DEG, self.pitch + pitch_deg))

    def key(self, name: str) -> None:
        """W/A/S/D turn the head one step."""
        step = LOOK_STEP_DEG
        turns = {"w": (0.0, step), "s": (0.0, -step), "a": (step, 0.0), "d": (-step, 0.0)}
        if name in turns:
            self.turn(*turns[name])

    def recentre(self) -> None:
        self.heading = 0.0
        self.pitch = 0.0


# --------------------------------------------------------------------------- the script


@dataclass(frozen=True)
class PoseScript:
    """Timed head poses read from a JSON-lines file; `at(t)` eases between them.

    Each line is `{"t": 1.5, "position": [x, y, z], "orientation": [w, x, y, z]}` with `t` in
    seconds from the start of the script, ascending; `"valid": false` marks a moment the
    tracking is lost. Blank lines and lines starting with # are skipped. Past the last line the
    script starts again from its first, so a short script covers a whole session.
    """

    times: tuple[float, ...]
    positions: tuple[Vec3, ...]
    orientations: tuple[Quat, ...]
    valid: tuple[bool, ...]
    source: str = ""
    relative: bool = False
    """True: orientations turn the head from the scene's resting view (its `gaze_pitch`), so
    one script looks at the stimulus of every scene (the demo's); False: from level ahead."""

    @property
    def duration_s(self) -> float:
        return self.times[-1] if self.times else 0.0

    @classmethod
    def load(cls, path: str | Path) -> PoseScript:
        """Read a pose script; PoseScriptError with the line and the fix when it is wrong."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise PoseScriptError(
                f"Cannot read the pose script {path} ({err.strerror or err}): check the path."
            ) from None
        except UnicodeDecodeError:
            raise PoseScriptError(
                f"The pose script {path} is not UTF-8 text: give a JSON-lines file."
            ) from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(
        cls, text: str, source: str = "the pose script", *, relative: bool = False
    ) -> PoseScript:
        times: list[float] = []
        positions: list[Vec3] = []
        orientations: list[Quat] = []
        valid: list[bool] = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if len(times) >= MAX_SCRIPT_LINES:
                raise PoseScriptError(
                    f"{source} has more than {MAX_SCRIPT_LINES} poses: shorten it (it repeats)."
                )
            t, pos, quat, ok = _pose_line(line, f"{source} line {number}")
            if times and t <= times[-1]:
                raise PoseScriptError(
                    f"{source} line {number}: t {t:g} is not after the line before's "
                    f"{times[-1]:g}: keep the times ascending."
                )
            times.append(t)
            positions.append(pos)
            orientations.append(quat)
            valid.append(ok)
        if not times:
            raise PoseScriptError(f"{source} has no poses: give one JSON object per line.")
        return cls(
            tuple(times), tuple(positions), tuple(orientations), tuple(valid), source, relative
        )

    def at(self, t: float) -> Pose:
        """The pose `t` seconds after the script started (eased between lines; it repeats)."""
        times = self.times
        if len(times) == 1:
            return Pose(self.positions[0], self.orientations[0], self.valid[0])
        span = times[-1]
        if span > 0.0 and t > span:
            t = t % span
        if t <= times[0]:
            return Pose(self.positions[0], self.orientations[0], self.valid[0])
        lo, hi = 0, len(times) - 1
        while hi - lo > 1:  # the last line at or before t
            mid = (lo + hi) // 2
            if times[mid] <= t:
                lo = mid
            else:
                hi = mid
        f = (t - times[lo]) / (times[hi] - times[lo])
        a, b = self.positions[lo], self.positions[hi]
        position = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)
        orientation = slerp(self.orientations[lo], self.orientations[hi], f)
        return Pose(position, orientation, self.valid[lo])  # validity holds until the next line


def _pose_line(line: str, where: str) -> tuple[float, Vec3, Quat, bool]:
    example = '{"t": 0.0, "position": [0, 0, 1.6], "orientation": [1, 0, 0, 0]}'
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        raise PoseScriptError(f"{where} is not JSON: write each pose like {example}.") from None
    if not isinstance(obj, dict):
        raise PoseScriptError(f"{where} is not a JSON object: write it like {example}.")
    unknown = set(obj) - {"t", "position", "orientation", "valid"}
    if unknown:
        raise PoseScriptError(
            f"{where} has unknown keys {', '.join(sorted(unknown))}: use t, position, "
            "orientation and valid."
        )
    t: Any = obj.get("t")
    if not _number(t) or t < 0:
        raise PoseScriptError(f"{where}: t must be a number of seconds from 0 up.")
    position: Any = obj.get("position")
    if not _numbers(position, 3) or any(abs(c) > 1000 for c in position):
        raise PoseScriptError(
            f"{where}: position must be [x, y, z] in metres (x right, y forward, z up)."
        )
    orientation: Any = obj.get("orientation")
    if not _numbers(orientation, 4):
        raise PoseScriptError(f"{where}: orientation must be a quaternion [w, x, y, z].")
    try:
        quat = normalise(orientation)
    except ValueError:
        raise PoseScriptError(
            f"{where}: orientation [0, 0, 0, 0] is no rotation: use [1, 0, 0, 0] to look ahead."
        ) from None
    ok = obj.get("valid", True)
    if not isinstance(ok, bool):
        raise PoseScriptError(f"{where}: valid must be true or false.")
    pos = (float(position[0]), float(position[1]), float(position[2]))
    return float(t), pos, quat, ok


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: object, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(_number(c) for c in value)


def pose_line(t: float, position: Vec3, orientation: Quat, valid: bool = True) -> str:
    """One line of a pose script (for tools that write scripts, like the demo's)."""
    obj: dict[str, object] = {
        "t": round(t, 3),
        "position": [round(c, 4) for c in position],
        "orientation": [round(c, 6) for c in orientation],
    }
    if not valid:
        obj["valid"] = False
    return json.dumps(obj)
