"""The client's own hands in the headset: procedural, jointed, baked, and placed each frame.

A hand is a palm, four fingers of three phalanges each and a two-jointed thumb, with the wrist
and a forearm in a sleeve. Every joint of a finger comes from its phalanges' lengths by forward
kinematics (`finger_joints`) in one of two baked poses: `grip`, closed round a bar of
`GRIP_RADIUS` (a railing, or a controller's handle), and `open`, relaxed. Each pose of each
hand is one skin geom per skin tone (the tone is in its vertex colours; under the `skin`
texture where shaders run) and one sleeve geom; a frame only picks which child of two switches
shows, so the hands cost a scene four draw calls, about 600 vertices a hand, and no per-frame
geometry. Measured at 640x360 in software (the heights scene at the railing, both hands in
view): 0.05 to 0.35 ms a frame untextured, 0.3 to 0.5 ms textured (docs/hands.md).

Hand frame (a right hand; the left is its mirror in X): the origin is the centre of the grip,
X runs along the gripped bar (from the index finger to the little finger, so the index is
at -X on the right hand), Y forward (knuckles), Z up (the back of the hand on a rail).

Where they go, each frame (`Hands.update`):

- **Tracked**: a pose source that tracks the client's hands (SteamVR's controllers,
  `scenes.openvr_display.Controllers`, or a stand-in in tests) keeps a node per hand named
  `scenes.pose.tracked_hand_name(side)` under the tracking space, the node the head pose is
  relative to (the stage's rig, which hangs from the scene's viewpoint while the scene is on
  show). A hand follows its node, held as a controller is (`CONTROLLER_GRIP`), gripping when it
  is on the rail and open elsewhere.
- **Resting**, for a hand no source tracks: on the rail at the client's place when the rail is
  at hand height and within reach (the clinical picture: standing at the railing, hands on
  it), gripping. Otherwise nothing says where the client's hands are, so none is drawn (hands
  at the client's sides looked like two dark stumps from a roof edge looking down). As a
  level eases the rail into reach, the hands come up from the client's sides to it and show
  from half way (`resting_hands`).

Nothing here decides anything for the session: the hands are drawn from the scene's
parameters and the pose source, like the rest of a scene.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panda3d.core import LMatrix4, NodePath, SwitchNode, TransformState

from exposure.models import Level
from scenes.api import Param
from scenes.geometry import Color, Mesh
from scenes.pose import HANDS, tracked_hand_name

Vec = tuple[float, float, float]

SKIN_TONES: tuple[Color, ...] = (
    (0.96, 0.8, 0.68),
    (0.87, 0.68, 0.54),
    (0.74, 0.54, 0.4),
    (0.56, 0.39, 0.28),
    (0.4, 0.27, 0.19),
)
"""The skin tones a scene offers for the client's hands, lightest first (the `skin` parameter
picks one: 0 .. 4)."""
DEFAULT_TONE = 1
SLEEVE: Color = (0.22, 0.26, 0.34)
"""A dark blue jacket sleeve: plain, so the eye goes to the hands."""
NAIL: Color = (1.0, 0.86, 0.84)
"""Nails, as a factor of the skin tone (a little pinker and lighter is not possible in a
multiplier; pinker is)."""

GRIP_RADIUS = 0.03
"""Radius of the bar the fingers close round (a railing's top bar is 6 cm)."""
POSES = ("grip", "open")

HAND_PARAMETERS: dict[str, Param] = {
    "hands": Param("Show the client's hands (1) or hide them (0)", 0, 1, graded=False),
    "skin": Param("Skin tone of the client's hands, 0 lightest to 4 darkest", 0, 4, graded=False),
}
"""The level parameters a scene with hands adds (`with_hands`)."""


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Finger:
    """One finger of a right hand: where its knuckle is and how long its phalanges are."""

    name: str
    knuckle: Vec
    """In the hand frame (metres)."""
    phalanges: tuple[float, float, float]
    radius: float


FINGERS: tuple[Finger, ...] = (
    Finger("index", (-0.027, 0.0, 0.042), (0.042, 0.025, 0.021), 0.0092),
    Finger("middle", (-0.009, 0.004, 0.044), (0.046, 0.029, 0.022), 0.0096),
    Finger("ring", (0.009, 0.001, 0.042), (0.043, 0.027, 0.021), 0.0090),
    Finger("little", (0.026, -0.006, 0.038), (0.034, 0.02, 0.019), 0.0080),
)
OPEN_CURL = (12.0, 32.0, 48.0)
"""The open hand's finger curl: the angle of each phalanx below the back of the hand, in
degrees (cumulative, knuckle to tip)."""
THUMB = {
    "grip": ((-0.036, -0.05, 0.022), (-0.05, -0.038, -0.006), (-0.042, -0.012, -0.036)),
    "open": ((-0.036, -0.05, 0.022), (-0.06, -0.03, 0.02), (-0.078, -0.008, 0.016)),
}
"""The thumb's base, middle joint and tip in the hand frame: under the bar in the grip."""
WRIST: Vec = (0.0, -0.1, 0.036)
ELBOW_SIDE: Vec = (0.015, -0.25, -0.02)
"""Where the forearm in its sleeve ends, toward the client's elbow: short, because where the
elbow really is nobody tracks (a long forearm from a held controller ran into the eyes)."""


def finger_joints(finger: Finger, pose: str) -> list[Vec]:
    """The knuckle and the three joints after it (the last is the tip), for a right hand.

    Gripping, the finger closes round the bar: each phalanx is a chord of the circle about the
    bar's axis through the knuckle, so the finger goes over the top, down the front and under.
    Open, each phalanx points forward (+Y) and bends down about X by `OPEN_CURL`.
    """
    x, y, z = finger.knuckle
    joints = [(x, y, z)]
    if pose == "grip":
        radius, angle = math.hypot(y, z), math.atan2(z, y)
        for length in finger.phalanges:
            angle -= 2.0 * math.asin(min(1.0, length / (2.0 * radius)))
            joints.append((x, radius * math.cos(angle), radius * math.sin(angle)))
        return joints
    for length, curl in zip(finger.phalanges, OPEN_CURL, strict=True):
        a = math.radians(curl)
        y, z = y + length * math.cos(a), z - length * math.sin(a)
        joints.append((x, y, z))
    return joints


def _lerp(a: Vec, b: Vec, f: float) -> Vec:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def _mirror(p: Vec, side: float) -> Vec:
    return (p[0] * side, p[1], p[2])


def hand_mesh(side: str, pose: str, tone: Color) -> tuple[Mesh, Mesh]:
    """(skin, sleeve) meshes of the `side` ("left" or "right") hand in `pose`, skin of `tone`."""
    s = 1.0 if side == "right" else -1.0
    skin, sleeve = Mesh(), Mesh()
    nail = (tone[0] * NAIL[0], tone[1] * NAIL[1], tone[2] * NAIL[2])
    # the palm: a flattened, slightly cupped pad from the wrist to the knuckles
    skin.sphere(_mirror((0.0, -0.045, 0.034), s), (0.043, 0.058, 0.017), tone, segs=8, rings=4)
    skin.sphere(_mirror((0.024, -0.07, 0.026), s), (0.02, 0.03, 0.015), tone, segs=5, rings=3)
    for finger in FINGERS:
        joints = [_mirror(j, s) for j in finger_joints(finger, pose)]
        r = finger.radius
        for k in range(3):  # open tubes: the knuckles and the tip close them
            taper = r * (1.0 - 0.1 * k)
            skin.prism(joints[k], joints[k + 1], taper, tone, 5, taper * 0.9, caps=False)
            skin.sphere(joints[k], taper * 1.05, tone, segs=4, rings=2)  # the knuckle
        tip = joints[3]
        skin.sphere(tip, r * 0.8, tone, segs=4, rings=2)
        nail_at = (tip[0], tip[1], tip[2] + r * 0.45)
        skin.sphere(nail_at, (r * 0.6, r * 0.7, r * 0.3), nail, segs=4, rings=2)
    base, mid, tip = (_mirror(p, s) for p in THUMB[pose])
    skin.prism(base, mid, 0.012, tone, sides=5, radius1=0.011, caps=False)
    skin.sphere(mid, 0.011, tone, segs=4, rings=2)
    skin.prism(mid, tip, 0.011, tone, sides=5, radius1=0.009, caps=False)
    skin.sphere(tip, 0.009, tone, segs=4, rings=2)
    # the wrist and the forearm back toward the elbow; the sleeve covers the far part
    wrist, elbow = _mirror(WRIST, s), _mirror(ELBOW_SIDE, s)
    palm_heel = _mirror((0.0, -0.045, 0.03), s)
    skin.prism(wrist, palm_heel, 0.026, tone, sides=6, radius1=0.03, caps=False)
    cuff = _lerp(wrist, elbow, 0.3)
    skin.prism(wrist, cuff, 0.026, tone, sides=6, radius1=0.03, caps=False)
    sleeve.prism(cuff, elbow, 0.038, SLEEVE, sides=7, radius1=0.042)
    return skin, sleeve


def _bake(side: str, textured: bool, tones: Sequence[Color]) -> tuple[NodePath, NodePath, NodePath]:
    """One hand: (root, skin switch, sleeve switch). Skin child = pose * len(tones) + tone."""
    from scenes.look import textured as wear  # textures load only when hands are built

    root = NodePath(f"hand-{side}")
    skins = root.attachNewNode(SwitchNode("skin"))
    sleeves = root.attachNewNode(SwitchNode("sleeve"))
    for pose in POSES:
        sleeve_mesh: Mesh | None = None
        for k, tone in enumerate(tones):
            skin, sleeve_mesh = hand_mesh(side, pose, tone)
            name = f"{side}-{pose}-{k}"
            (wear(skin, "skin", 0.05, name) if textured else skin.node(name)).reparentTo(skins)
        assert sleeve_mesh is not None
        name = f"{side}-{pose}-sleeve"
        node = wear(sleeve_mesh, "fabric", 0.06, name) if textured else sleeve_mesh.node(name)
        node.reparentTo(sleeves)
    return root, skins, sleeves


# --------------------------------------------------------------------------- where they rest

RAIL_HAND_HEIGHT = (0.75, 0.95)
"""A rail lower than the first height is too low to rest the hands on; from the second it is
fully at hand height (metres above the client's feet)."""
REACH = (0.55, 0.85)
"""A rail nearer than the first distance is within reach; past the second it is not (metres
ahead of the client's feet)."""
RAIL_HANDS_APART = 0.21
"""Each hand's distance from the client's centre line on the rail (shoulder width apart)."""
AT_SIDE: tuple[Vec, Vec] = ((0.26, 0.06, 0.82), (-90.0, -90.0, 0.0))
"""A right hand hanging at the client's side (position; heading, pitch, roll in degrees):
fingers down, palm in."""


@dataclass(frozen=True)
class HandPlace:
    """Where one hand is and how it is held, in the hands' parent space."""

    position: Vec
    hpr: Vec
    pose: str
    """"grip" or "open"."""
    shown: bool = True


def _ramp(x: float, lo: float, hi: float) -> float:
    f = min(1.0, max(0.0, (x - lo) / (hi - lo)))
    return f * f * (3.0 - 2.0 * f)


def resting_hands(rail_y: float, rail_z: float) -> dict[str, HandPlace]:
    """Where untracked hands rest, by side, for a rail `rail_y` metres ahead at height `rail_z`
    (0: no rail): on the rail when it is in reach at hand height, else at the client's sides,
    not shown.

    Pure, and smooth in both arguments (a level that eases the rail in moves the hands with
    it); a hand more than half way onto the rail is shown, gripping.
    """
    on = _ramp(rail_z, *RAIL_HAND_HEIGHT) * (1.0 - _ramp(rail_y, *REACH))
    places = {}
    for side in HANDS:
        s = 1.0 if side == "right" else -1.0
        (sx, sy, sz), (sh, sp, sr) = AT_SIDE
        side_pos = (sx * s, sy, sz)
        rail_pos = (RAIL_HANDS_APART * s, rail_y, rail_z)
        position = _lerp(side_pos, rail_pos, on)
        rail_h = 8.0 * s  # the hands turn in a little on a rail (knuckles toward the centre)
        hpr = (sh * s + (rail_h - sh * s) * on, sp * (1 - on), sr * (1 - on))
        on_rail = on >= 0.5
        places[side] = HandPlace(position, hpr, "grip" if on_rail else "open", on_rail)
    return places


# --------------------------------------------------------------------------- held controllers


def _controller_grip(side: str) -> TransformState:
    """The hand frame in a controller's frame (Panda's axes: +Y out of the controller's tip).

    The handle runs down through the fist: the hand's grip axis (index to little finger) points
    down the handle, the back of the hand outward, the knuckles forward; then the whole fist
    turns `GRIP_TILT_DEG` up about the controller's X axis, so the forearm goes back and down
    from the wrist (the wrist cocked, as a controller is held), its centre `GRIP_OFFSET` down the
    handle from the tracked origin. An estimate for a Vive wand or an Index controller:
    nothing here has run on a headset yet.
    """
    s = 1.0 if side == "right" else -1.0
    basis = LMatrix4(  # rows: where the hand's X, Y and Z go (Panda multiplies row vectors)
        0.0, 0.0, -s, 0.0,
        0.0, 1.0, 0.0, 0.0,
        s, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 1.0,
    )  # fmt: skip
    offset = LMatrix4.translateMat(*_mirror(GRIP_OFFSET, s))
    tilt = LMatrix4.rotateMat(GRIP_TILT_DEG, (1.0, 0.0, 0.0))
    return TransformState.makeMat(offset * basis * tilt)


GRIP_TILT_DEG = 25.0
GRIP_OFFSET: Vec = (0.05, 0.0, 0.0)
"""The fist's centre from the controller's tracked origin (near its tip), in the right hand's
frame: 5 cm down the handle."""
CONTROLLER_GRIP = {side: _controller_grip(side) for side in HANDS}
"""Each hand's frame relative to its controller's tracked pose."""


# --------------------------------------------------------------------------- in a scene


def with_hands(levels: Sequence[Level], tone: int = DEFAULT_TONE) -> list[Level]:
    """`levels` with the hands' parameters added (hands shown, skin tone `tone`) where unset."""
    return [
        lv.model_copy(
            update={"params": {"hands": 1.0, "skin": float(tone), **lv.params}}, deep=True
        )
        for lv in levels
    ]


class Hands:
    """The client's two hands for one scene, under `viewpoint` (the client's standing spot).

    `textured`: the skin wears the `skin` texture and the sleeve `fabric`; by default only
    where shaders run. A client only ever sees the hands through OpenGL (the headset needs it);
    in software rendering (previews, tests, the frame-pacing bench) the textured hands cost
    about 0.3 ms a frame more than plain ones at 640x360 for a few hundred pixels of detail
    nobody looks at.
    """

    def __init__(
        self,
        viewpoint: NodePath,
        textured: bool | None = None,
        tones: Sequence[Color] = SKIN_TONES,
    ) -> None:
        if textured is None:
            from scenes.look import shaders_available  # Panda3D's renderer: known at build

            textured = shaders_available()
        self.viewpoint = viewpoint
        self.root = viewpoint.attachNewNode("hands")
        self.tones = tuple(tones)
        self.hands: dict[str, tuple[NodePath, Any, Any]] = {}
        for side in HANDS:
            hand, skins, sleeves = _bake(side, textured, self.tones)
            hand.reparentTo(self.root)
            self.hands[side] = (hand, skins.node(), sleeves.node())
        self._shown: dict[str, tuple[int, int]] = {}
        self._visible: dict[str, bool] = {}
        self._names = {side: f"*/{tracked_hand_name(side)}" for side in HANDS}
        self.tracked: dict[str, bool] = dict.fromkeys(HANDS, False)
        """Whether each hand followed a pose source in the latest update."""
        self.places: dict[str, HandPlace] = {}
        """Where each hand was put in the latest update (the hands' space: the viewpoint's)."""
        self._rail: tuple[float, float] | None = None
        self._rest: dict[str, HandPlace] = {}

    def update(self, params: Mapping[str, float], rail_y: float, rail_z: float) -> None:
        """Show, place and pose the hands for this frame.

        `params` are the level's (`hands`, `skin`); the rail's top bar runs across the view
        `rail_y` metres ahead of the client's feet at height `rail_z` (0: no rail).
        """
        hidden = params.get("hands", 1.0) < 0.5
        if hidden != self.root.isHidden():
            if hidden:
                self.root.hide()
            else:
                self.root.show()
        if hidden:
            return
        tone = min(len(self.tones) - 1, max(0, round(params.get("skin", DEFAULT_TONE))))
        rail = (rail_y, rail_z)
        moved = rail != self._rail
        if moved:  # a level steady at its rail (most frames) places resting hands once
            self._rail = rail
            self._rest = resting_hands(rail_y, rail_z)
        for side in HANDS:
            hand, skins, sleeves = self.hands[side]
            tracked = self.viewpoint.find(self._names[side])
            was_tracked = self.tracked[side]
            self.tracked[side] = not tracked.isEmpty()
            if self.tracked[side]:
                at = tracked.getTransform(self.root).compose(CONTROLLER_GRIP[side])
                hand.setTransform(at)
                p = at.getPos()
                position = (p[0], p[1], p[2])
                on_rail = (
                    rail_z > 0.0
                    and abs(position[1] - rail_y) < GRIP_RADIUS * 2
                    and abs(position[2] - rail_z) < GRIP_RADIUS * 2
                )
                h, pp, r = at.getHpr()
                place = HandPlace(position, (h, pp, r), "grip" if on_rail else "open")
            else:
                place = self._rest[side]
                if moved or was_tracked:
                    hand.setPosHpr(*place.position, *place.hpr)
            self.places[side] = place
            if place.shown != self._visible.get(side):
                self._visible[side] = place.shown
                if place.shown:
                    hand.show()
                else:
                    hand.hide()
            shown = (POSES.index(place.pose), tone)
            if self._shown.get(side) != shown:
                self._shown[side] = shown
                skins.setVisibleChild(shown[0] * len(self.tones) + tone)
                sleeves.setVisibleChild(shown[0])
