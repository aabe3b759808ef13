"""The client's hands: a jointed model, where they rest, the controllers' poses, and rendered
frames of the heights scene that show them where they belong (and nowhere else)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from panda3d.core import NodePath

from scenes.creatures.hands import (
    DEFAULT_TONE,
    FINGERS,
    GRIP_RADIUS,
    HAND_PARAMETERS,
    SKIN_TONES,
    finger_joints,
    hand_mesh,
    resting_hands,
    with_hands,
)
from scenes.openvr_display import Controllers
from scenes.pose import HANDS, tracked_hand_name
from scenes.registry import LIBRARY, discover
from tests.scenes.conftest import from_fresh_process

SIZE = (160, 120)
LEVEL_AT_RAIL = 5  # "15th floor, at the railing, looking down"
LEVEL_BACK = 1  # "2nd-floor balcony, high railing, 1.5 m back"


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def skin_mask(img: np.ndarray) -> np.ndarray:
    """Pixels of a lit skin tone: red over green over blue by clear margins.

    Calibrated on the heights scene, which has none without hands: the park's beige path has
    red barely over green, the grass green over red, the cars' red no green over blue.
    """
    r, g, b = (img[..., k].astype(np.int16) for k in range(3))
    return (r > 110) & (r - g > 25) & (g - b > 12) & (r - b > 50)


# --------------------------------------------------------------------------- the model


def test_a_hand_is_a_palm_four_fingers_of_three_phalanges_and_a_thumb():
    assert [f.name for f in FINGERS] == ["index", "middle", "ring", "little"]
    for finger in FINGERS:
        joints = finger_joints(finger, "grip")
        assert len(joints) == 4  # knuckle, two joints, the tip
        lengths = [math.dist(a, b) for a, b in zip(joints, joints[1:], strict=False)]
        assert lengths == pytest.approx(list(finger.phalanges))
    skin, sleeve = hand_mesh("right", "grip", SKIN_TONES[0])
    # cheap enough for software rendering: a few hundred vertices a hand
    assert 400 < len(skin.verts) < 700 and len(sleeve.verts) < 40


def test_a_gripping_hand_closes_round_the_bar_and_an_open_one_reaches_forward():
    for finger in FINGERS:
        grip = finger_joints(finger, "grip")
        open_ = finger_joints(finger, "open")
        # the fingertip curls under the front of the bar: below its axis, clear of its surface,
        # and the last phalanx points down more than forward
        tip, joint = grip[-1], grip[-2]
        assert tip[2] < 0.0 and joint[2] - tip[2] > tip[1] - joint[1]
        assert GRIP_RADIUS < math.hypot(tip[1], tip[2]) - finger.radius < GRIP_RADIUS + 0.02
        # open, the finger points forward all along and its tip stays above the bar
        assert all(b[1] > a[1] for a, b in zip(open_, open_[1:], strict=False))
        assert open_[-1][2] > 0.0


def test_the_left_hand_is_the_mirror_of_the_right():
    right, _ = hand_mesh("right", "grip", SKIN_TONES[0])
    left, _ = hand_mesh("left", "grip", SKIN_TONES[0])
    r = np.array([p for p, _n, _c in right.verts])
    m = np.array([p for p, _n, _c in left.verts]) * (-1.0, 1.0, 1.0)
    assert r.shape == m.shape
    # the same shape mirrored (a tube's ring of vertices may start at another angle)
    np.testing.assert_allclose(m.mean(axis=0), r.mean(axis=0), atol=0.002)
    np.testing.assert_allclose(m.min(axis=0), r.min(axis=0), atol=0.003)
    np.testing.assert_allclose(m.max(axis=0), r.max(axis=0), atol=0.003)
    # the thumb is on the inside: toward the client's centre line on each hand
    assert -r[:, 0].min() > r[:, 0].max() + 0.01  # the right hand's thumb is on its left


# --------------------------------------------------------------------------- where they rest


def test_untracked_hands_rest_gripping_on_a_rail_in_reach_at_hand_height():
    places = resting_hands(0.31, 1.1)
    for side in HANDS:
        assert places[side].shown and places[side].pose == "grip"
        assert places[side].position[1:] == pytest.approx((0.31, 1.1))
    assert places["right"].position[0] > 0.15 and places["left"].position[0] < -0.15


@pytest.mark.parametrize(
    ("rail_y", "rail_z", "why"),
    [(1.46, 1.1, "out of reach"), (0.46, 0.5, "knee high"), (0.08, 0.0, "no rail")],
)
def test_without_a_rail_to_hold_untracked_hands_are_not_drawn(rail_y, rail_z, why):
    assert not any(p.shown for p in resting_hands(rail_y, rail_z).values()), why


def test_the_hands_come_to_the_rail_smoothly_as_a_level_eases_it_into_reach():
    track = [resting_hands(1.5 - 1.2 * k / 200, 1.1)["right"] for k in range(201)]
    steps = [math.dist(a.position, b.position) for a, b in zip(track, track[1:], strict=False)]
    assert max(steps) < 0.02  # never a jump
    shown = [p.shown for p in track]
    assert shown[0] is False and shown[-1] is True
    assert shown == sorted(shown)  # they appear once, and stay


def test_heights_puts_the_hands_on_the_rail_only_where_the_client_stands_at_it():
    info = discover([LIBRARY])[0]["heights"]
    at_rail = []
    for number, lv in enumerate(info.ladder.levels, start=1):
        p = lv.params
        assert p["hands"] == 1.0 and p["skin"] == DEFAULT_TONE
        rail_z = p["railing"] if p["railing"] >= 0.03 else 0.0
        if resting_hands(p["edge"] - 0.04, rail_z)["right"].shown:
            at_rail.append(number)
    assert at_rail == [4, 5]  # "hands on the railing", "at the railing, looking down"
    assert set(HAND_PARAMETERS) <= set(info.parameters)


def test_a_ladder_file_hides_the_hands_or_picks_a_tone_and_a_tone_out_of_range_is_refused(
    tmp_path,
):
    import json

    from exposure.errors import UserError
    from scenes.registry import ladder_template, read_ladder_file

    template = json.loads(ladder_template("heights", [LIBRARY]))
    assert "hands" in template["parameters"] and "skin" in template["parameters"]
    for lv in template["levels"]:
        lv["params"].update(hands=0, skin=3)
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(template))
    ladder = read_ladder_file(path, [LIBRARY])
    assert {(lv.params["hands"], lv.params["skin"]) for lv in ladder.levels} == {(0.0, 3.0)}
    template["levels"][2]["params"]["skin"] = 7
    path.write_text(json.dumps(template))
    with pytest.raises(UserError, match="sets skin to 7, outside the range 0 to 4"):
        read_ladder_file(path, [LIBRARY])


def test_with_hands_keeps_a_level_that_sets_its_own():
    from scenes.api import level

    levels = with_hands([level("a", x=1), level("b", x=2, hands=0, skin=3)])
    assert [lv.params for lv in levels] == [
        {"x": 1.0, "hands": 1.0, "skin": float(DEFAULT_TONE)},
        {"x": 2.0, "hands": 0.0, "skin": 3.0},
    ]


# --------------------------------------------------------------------------- the controllers


class StandInVR:
    """A pretend SteamVR's pose path: a headset at 0, a right controller at 3, a left at 4.

    Poses are what `waitGetPoses` fills: a 3x4 device-to-tracking matrix (OpenVR's axes: +y
    up, -z forward) and the valid and connected flags.
    """

    k_unMaxTrackedDeviceCount = 8
    k_unTrackedDeviceIndex_Hmd = 0
    TrackedControllerRole_LeftHand = 1
    TrackedControllerRole_RightHand = 2
    INVALID = 0xFFFFFFFF

    def __init__(self) -> None:
        self.poses = [self._pose() for _ in range(self.k_unMaxTrackedDeviceCount)]
        self.devices = {2: 3, 1: 4}
        self.broken = False

    @staticmethod
    def _pose() -> Any:
        m = SimpleNamespace(m=[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
        return SimpleNamespace(
            mDeviceToAbsoluteTracking=m, bPoseIsValid=False, bDeviceIsConnected=False
        )

    def getTrackedDeviceIndexForControllerRole(self, role: int) -> int:  # noqa: N802 - openvr's
        if self.broken:
            raise RuntimeError("the runtime's own error")
        return self.devices.get(role, self.INVALID)

    def hold(self, side: str, openvr_xyz: tuple[float, float, float], valid: bool = True) -> None:
        """Put the `side` controller at this point of OpenVR's standing space, level."""
        pose = self.poses[3 if side == "right" else 4]
        for row, value in enumerate(openvr_xyz):
            pose.mDeviceToAbsoluteTracking.m[row][3] = value
        pose.bDeviceIsConnected = True
        pose.bPoseIsValid = valid


def test_the_controllers_poses_become_tracked_hand_nodes_beside_the_head():
    vr = StandInVR()
    space = NodePath("tracking-space")
    controllers = Controllers(vr, vr, space)
    controllers.update(vr.poses)
    assert space.getNumChildren() == 0  # no controller connected: no hand tracked
    vr.hold("right", (0.2, 1.1, -0.4))
    controllers.update(vr.poses)
    right = space.find(tracked_hand_name("right"))
    assert not right.isEmpty() and space.find(tracked_hand_name("left")).isEmpty()
    # OpenVR (x, y up, -z forward) -> Panda (x, y forward, z up), as the head's pose
    assert tuple(right.getPos()) == pytest.approx((0.2, 0.4, 1.1))
    vr.hold("right", (0.5, 0.5, -0.5), valid=False)  # lost for a moment: the last pose stays
    controllers.update(vr.poses)
    assert tuple(right.getPos()) == pytest.approx((0.2, 0.4, 1.1))
    vr.poses[3].bDeviceIsConnected = False  # switched off: the hand rests again
    controllers.update(vr.poses)
    assert space.find(tracked_hand_name("right")).isEmpty()


def test_a_runtime_whose_role_lookup_fails_stops_tracking_hands_and_the_frame_goes_on():
    vr = StandInVR()
    vr.hold("right", (0.2, 1.1, -0.4))
    space = NodePath("tracking-space")
    controllers = Controllers(vr, vr, space)
    controllers.update(vr.poses)
    assert not space.find(tracked_hand_name("right")).isEmpty()

    vr.broken = True
    controllers.update(vr.poses)  # no exception reaches the frame
    assert space.getNumChildren() == 0  # the hands rest again
    vr.broken = False
    controllers.update(vr.poses)
    assert space.getNumChildren() == 0  # and stay untracked for the session


def test_a_runtime_without_the_role_lookup_tracks_no_hands():
    vr = StandInVR()
    vr.hold("right", (0.2, 1.1, -0.4))
    space = NodePath("tracking-space")
    Controllers(vr, SimpleNamespace(), space).update(vr.poses)
    assert space.getNumChildren() == 0


# --------------------------------------------------------------------------- rendered frames


def _render_child() -> dict[str, Any]:
    """In a fresh process (one ShowBase each): heights and the safe scene, pictures of each."""
    from scenes.preview import screenshot_rgb
    from scenes.stage import Stage, configure, make_base

    out: dict[str, Any] = {}
    found = discover([LIBRARY])[0]
    configure("offscreen", SIZE)
    base = make_base()
    stage = Stage(base)
    heights = stage.build(found["heights"])
    stage.build(found["safe_place"])
    stock = [dict(lv.params) for lv in heights.levels]

    def shot(name: str, level: float) -> np.ndarray:
        scene = stage.show(name)
        scene.time = 0.0
        stage.frame(level, 0.0)
        stage.frame(level, 0.5)
        base.graphicsEngine.renderFrame()
        w, h, rgb = screenshot_rgb(base)
        return np.frombuffer(rgb, np.uint8).reshape(h, w, 3)

    out["on"] = shot("heights", LEVEL_AT_RAIL)
    out["back"] = shot("heights", LEVEL_BACK)
    heights.use_levels([{**p, "hands": 0.0} for p in stock])
    out["off"] = shot("heights", LEVEL_AT_RAIL)
    heights.use_levels([{**p, "skin": 4.0} for p in stock])
    out["dark"] = shot("heights", LEVEL_AT_RAIL)
    heights.use_levels([])
    out["safe"] = shot("safe_place", 1.0)

    # a stand-in SteamVR's right controller, through the display's own pose path
    vr = StandInVR()
    controllers = Controllers(vr, vr, stage.rig)
    for name, x in (("right", 0.16), ("left", -0.16)):  # right of centre, then left
        vr.hold("right", (x, 1.5, -0.5))
        controllers.update(vr.poses)
        out[f"held-{name}"] = shot("heights", LEVEL_BACK)
    out["held-safe"] = shot("safe_place", 1.0)
    out["safe-hands"] = stage.scenes["safe_place"].root.find("**/hands").isEmpty()
    return out


@pytest.fixture(scope="module")
def frames() -> dict[str, Any]:
    return from_fresh_process(_render_child, timeout=180)


@pytest.mark.render
def test_at_the_railing_the_hands_are_on_it_in_the_lower_corners_of_the_view(frames):
    on, off = skin_mask(frames["on"]), skin_mask(frames["off"])
    h, w = on.shape
    low = slice(h * 2 // 3, h)
    left, right = on[low, : w // 2].sum(), on[low, w // 2 :].sum()
    assert left > 20 and right > 20, (left, right)  # one hand each side, on the rail
    assert on[: h // 2].sum() == 0  # nothing skin-coloured in the upper half: only the hands
    assert off.sum() == 0  # the level parameter hides them


@pytest.mark.render
def test_away_from_the_railing_no_hands_are_drawn(frames):
    assert skin_mask(frames["back"]).sum() == 0


@pytest.mark.render
def test_the_skin_parameter_changes_the_hands_tone(frames):
    changed = np.abs(frames["on"].astype(int) - frames["dark"].astype(int)).max(axis=2) > 12
    assert changed.sum() > 40
    light = frames["on"][changed].mean()
    dark = frames["dark"][changed].mean()
    assert dark < light * 0.75  # the darkest tone, where the light one was


@pytest.mark.render
def test_a_controller_moved_by_the_pose_source_moves_the_hand_in_the_frame(frames):
    xs = {}
    for name in ("right", "left"):
        mask = skin_mask(frames[f"held-{name}"])
        assert mask.sum() > 30, name  # away from the rail, a tracked hand is drawn
        xs[name] = np.nonzero(mask)[1].mean()
    w = frames["on"].shape[1]
    assert xs["right"] > w / 2 > xs["left"]  # held right of centre, then left of it
    assert xs["right"] - xs["left"] > w / 5


@pytest.mark.render
def test_the_hands_are_never_shown_in_the_safe_scene(frames):
    assert frames["safe-hands"]  # the safe scene has none to show
    # a tracked controller leaves the safe scene's picture exactly as it was
    assert np.array_equal(frames["held-safe"], frames["safe"])


@pytest.mark.render
def test_vret_scenes_check_heights_passes_with_the_hands(capsys):
    from vret.cli import main

    code = main(["scenes", "check", "heights"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "heights: ok (10 levels, rendered)" in out
