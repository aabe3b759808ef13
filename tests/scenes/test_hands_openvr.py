"""The client's hands through the whole headset path: a stand-in SteamVR's controller moves, and
the client's view (the render process's thumbnails) shows the hand move with it.

This module is also the stand-in: the render process imports it by name as its `openvr`. It is
`tests.scenes.standin_openvr` (the real package's structures) with a head 1.6 m up looking down
at a right controller held 0.4 m ahead of it at chest height, at the x (metres, right
positive) written in the file VRET_STANDIN_HAND names; no left controller is connected.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
from openvr import (  # the real structures and constants, as the stand-in's own
    HmdMatrix34_t,
    TrackedControllerRole_LeftHand,  # noqa: F401 - the display reads it from this module
    TrackedControllerRole_RightHand,
    k_unTrackedDeviceIndexInvalid,
)

from tests.scenes import standin_openvr as _base
from tests.scenes.standin_openvr import *  # noqa: F403 - the whole openvr surface

THIS = "tests.scenes.test_hands_openvr"
RIGHT_CONTROLLER = 3
HEAD_DOWN_DEG = 45.0
"""The client looks down at their hands (and software rendering draws the scene's far city
slowly through this path: level, the head got a frame every 3 s here; spiders get 57 a second)."""


def _matrix(x: float, y: float, z: float, down_deg: float = 0.0) -> HmdMatrix34_t:
    """A pose at (x, y, z) in OpenVR's standing space, looking `down_deg` below level."""
    m = HmdMatrix34_t()
    c, s = math.cos(math.radians(-down_deg)), math.sin(math.radians(-down_deg))
    for i, row in enumerate(((1.0, 0.0, 0.0, x), (0.0, c, -s, y), (0.0, s, c, z))):
        for j, v in enumerate(row):
            m.m[i][j] = v
    return m


def _held_x() -> float:
    try:
        with open(os.environ["VRET_STANDIN_HAND"]) as f:
            return float(f.read())
    except (KeyError, OSError, ValueError):
        return 0.0


class _System(_base._System):
    def pollNextEvent(self, event):  # noqa: ANN001, ANN201, N802 - the openvr package's names
        return False  # no buttons: the client holds the controller still

    def getTrackedDeviceIndexForControllerRole(self, role: int) -> int:  # noqa: N802
        return (
            RIGHT_CONTROLLER
            if role == TrackedControllerRole_RightHand
            else k_unTrackedDeviceIndexInvalid
        )


class _Compositor(_base._Compositor):
    def waitGetPoses(self, render_poses, game_poses) -> None:  # noqa: ANN001, N802
        time.sleep(1.0 / 90.0)
        _system.frames += 1
        hmd = render_poses[_base.k_unTrackedDeviceIndex_Hmd]
        hmd.mDeviceToAbsoluteTracking = _matrix(0.0, 1.6, 0.0, HEAD_DOWN_DEG)
        hmd.bPoseIsValid = hmd.bDeviceIsConnected = True
        hand = render_poses[RIGHT_CONTROLLER]
        hand.mDeviceToAbsoluteTracking = _matrix(_held_x(), 1.25, -0.4)  # OpenVR: -z ahead
        hand.bPoseIsValid = hand.bDeviceIsConnected = True


_system = _System()
_compositor = _Compositor()
isRuntimeInstalled = _base.isRuntimeInstalled  # noqa: N816 - the openvr package's name
shutdown = _base.shutdown


def init(application_type: int, startup_info: object = None) -> _System:
    return _system


def VRCompositor() -> _Compositor:  # noqa: N802
    return _compositor


# --------------------------------------------------------------------------- the test


@pytest.mark.render
def test_a_controller_moved_in_the_headset_moves_the_clients_hand_in_their_view(
    tmp_path, monkeypatch
):
    from scenes.render import RenderError, start_render
    from scenes.render.messages import Thumbnail
    from tests.scenes.test_hands import LEVEL_BACK, skin_mask
    from tests.scenes.test_render_process import collect_until, of, settle

    held = tmp_path / "held-x"
    held.write_text("0.16")
    monkeypatch.setenv("VRET_STANDIN_HAND", str(held))
    monkeypatch.setenv("VRET_CACHE_DIR", str(tmp_path / "cache"))
    handle = start_render(
        display="openvr",
        pipe="egl",
        openvr_module=THIS,
        size=(64, 48),
        thumbnail_hz=4.0,
        scenes=["heights"],
        transition_s=0.1,
    )
    target = ("heights", float(LEVEL_BACK), False)  # the railing out of reach: no resting hands

    def view_after(x: float) -> np.ndarray:
        """The client's view once the controller has been at `x` for a moment."""
        held.write_text(f"{x}")
        t0 = time.monotonic()
        collect_until(handle, lambda _m: time.monotonic() - t0 > 0.5, target, what="a pause")
        t = of(collect_until(handle, lambda m: bool(of(m, Thumbnail)), target), Thumbnail)[-1]
        return np.frombuffer(t.rgb, np.uint8).reshape(t.height, t.width, 3)

    try:
        try:
            ready = handle.wait_ready(60)
        except RenderError as err:
            if "offscreen renderer" in str(err) or "OpenGL" in str(err):
                pytest.skip(f"no OpenGL through EGL on this machine: {err}")
            raise
        assert ready.pose == "headset"
        settle(handle, *target)
        centres = {}
        for x in (0.16, -0.16):
            view = view_after(x)
            mask = skin_mask(view)
            assert mask.sum() > 30, f"no hand seen with the controller at x={x}"
            centres[x] = np.nonzero(mask)[1].mean()
        width = view.shape[1]
        assert centres[0.16] > width / 2 > centres[-0.16]
        assert not math.isclose(centres[0.16], centres[-0.16], abs_tol=width / 5)
    finally:
        handle.stop()
