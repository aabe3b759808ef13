"""Head tracking through the openvr display, against a stand-in SteamVR (no headset here).

This module is also the stand-in: the render process imports it by name as its `openvr`. It is
`tests.scenes.standin_openvr` (the real package's structures, a fixed head turned 30 degrees
left) with a headset that loses tracking for a second and a controller whose menu button is
pressed once.
"""

from __future__ import annotations

import time

import pytest

from tests.scenes import standin_openvr as _base
from tests.scenes.standin_openvr import *  # noqa: F403 - the whole openvr surface

try:
    from openvr import k_EButton_ApplicationMenu
except ImportError:  # no openvr package: the tests below skip
    k_EButton_ApplicationMenu = 1

MENU_FRAME = 150
"""The client presses the menu button (recentre) at this frame, ~1.7 s in at 90 Hz."""
LOST_FRAMES = (300, 400)
"""The headset loses tracking for these frames (~1.1 s, over the 0.5 s that fades)."""
THIS = "tests.scenes.test_pose_openvr"


class _System(_base._System):
    def pollNextEvent(self, event):  # noqa: ANN001, ANN201, N802 - the openvr package's names
        if self.frames >= MENU_FRAME and not self.pressed:
            self.pressed = True
            event.eventType = _base.VREvent_ButtonPress
            event.trackedDeviceIndex = 1
            event.data.controller.button = k_EButton_ApplicationMenu
            return True
        return False


class _Compositor(_base._Compositor):
    def waitGetPoses(self, render_poses, game_poses) -> None:  # noqa: ANN001, N802
        time.sleep(1.0 / 90.0)
        _system.frames += 1
        hmd = render_poses[_base.k_unTrackedDeviceIndex_Hmd]
        hmd.mDeviceToAbsoluteTracking = _base._head_matrix()
        lo, hi = LOST_FRAMES
        hmd.bPoseIsValid = not (lo <= _system.frames < hi)
        hmd.bDeviceIsConnected = True


_system = _System()
_compositor = _Compositor()
isRuntimeInstalled = _base.isRuntimeInstalled  # noqa: N816 - the openvr package's name
shutdown = _base.shutdown


def init(application_type: int, startup_info: object = None) -> _System:
    return _system


def VRCompositor() -> _Compositor:  # noqa: N802
    return _compositor


# --------------------------------------------------------------------------- the tests


def test_the_headset_pose_drives_gaze_recentres_on_the_menu_button_and_loses_tracking():
    from scenes.render import RenderError, start_render
    from scenes.render.messages import ClientInput, GazeSummary

    pytest.importorskip("openvr")
    handle = start_render(
        display="openvr",
        pipe="egl",
        openvr_module=THIS,
        size=(64, 48),
        thumbnail_hz=0,
        scenes=["spiders"],
        transition_s=0.2,
    )
    try:
        try:
            ready = handle.wait_ready(60)
        except RenderError as err:
            if "offscreen renderer" in str(err) or "OpenGL" in str(err):
                pytest.skip(f"no OpenGL through EGL on this machine: {err}")
            raise
        assert ready.pose == "headset"
        got: list = []
        start = time.monotonic()

        def back_after_lost() -> bool:  # tracking lost and found again, and a second more
            seq = [g.valid for g in got if isinstance(g, GazeSummary)]
            return False in seq and seq[-10:] == [True] * 10 and seq.index(False) < len(seq) - 10

        # the frames come as fast as the software renderer draws them: wait for what they show
        while not back_after_lost() and time.monotonic() - start < 40.0:
            handle.send_target("spiders", 1.0)
            time.sleep(0.05)
            got += handle.poll()
        gaze = [m for m in got if isinstance(m, GazeSummary)]
        recentre = [m for m in got if isinstance(m, ClientInput)]
        assert {"type": "recentre", "by": "client"} in [m.event for m in recentre]
        # turned 30 degrees left of the spider and level: off it; recentred, the same pose
        # faces the table and the spider is 25 degrees below the gaze: on it
        seq = [(g.valid, g.on_stimulus) for g in gaze if g.distance_m is not None or not g.valid]
        first_on = next(i for i, (ok, on) in enumerate(seq) if ok and on == 1.0)
        assert any(ok and on == 0.0 for ok, on in seq[:first_on])
        lost = [i for i, (ok, _) in enumerate(seq) if not ok]
        assert lost and min(lost) > first_on  # tracking is lost after the recentre
        # 100 frames without a pose: 1.1 s at 90 Hz, longer where llvmpipe draws them slower
        assert 6 <= len(lost) <= 25
        assert seq[-1] == (True, 1.0)  # and back, still on the spider
    finally:
        handle.stop()
