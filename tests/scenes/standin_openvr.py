"""A stand-in for the `openvr` package: a pretend SteamVR with a headset, for the submit path.

It keeps the real package's ctypes structures (poses, textures, events, matrices) and replaces the
runtime: `waitGetPoses` paces at 90 Hz and reports a fixed head pose, `submit` records each eye
texture handed over, and one trigger press arrives on the 20th frame. Everything it sees is
appended as JSON lines to the file named by VRET_STANDIN_LOG.
"""

from __future__ import annotations

import json
import math
import os
import time

from openvr import (  # the real structures and constants
    ColorSpace_Gamma,
    Eye_Left,
    Eye_Right,
    HmdMatrix34_t,
    HmdMatrix44_t,
    Texture_t,
    TextureType_OpenGL,
    TrackedDevicePose_t,
    VRApplication_Scene,
    VRControllerState_t,
    VREvent_ButtonPress,
    VREvent_t,
    k_EButton_Grip,
    k_EButton_SteamVR_Touchpad,
    k_EButton_SteamVR_Trigger,
    k_unMaxTrackedDeviceCount,
    k_unTrackedDeviceIndex_Hmd,
)

__all__ = [
    "ColorSpace_Gamma",
    "Eye_Left",
    "Eye_Right",
    "Texture_t",
    "TextureType_OpenGL",
    "TrackedDevicePose_t",
    "VRApplication_Scene",
    "VREvent_ButtonPress",
    "VREvent_t",
    "k_EButton_Grip",
    "k_EButton_SteamVR_Touchpad",
    "k_EButton_SteamVR_Trigger",
    "k_unMaxTrackedDeviceCount",
    "k_unTrackedDeviceIndex_Hmd",
]

HEAD_POS = (0.25, 1.7, -0.3)
"""Head position in OpenVR's standing space (metres; +y up, -z forward)."""
HEAD_YAW_DEG = 30.0
"""Head turned 30 degrees to the left (about +y)."""
EYE_SIZE = (64, 48)
TRIGGER_FRAME = 20


def _log(**record: object) -> None:
    path = os.environ.get("VRET_STANDIN_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def isRuntimeInstalled() -> bool:  # noqa: N802 - the openvr package's names
    return os.environ.get("VRET_STANDIN_RUNTIME", "1") == "1"


def _head_matrix() -> HmdMatrix34_t:
    m = HmdMatrix34_t()
    c, s = math.cos(math.radians(HEAD_YAW_DEG)), math.sin(math.radians(HEAD_YAW_DEG))
    rows = ((c, 0.0, s, HEAD_POS[0]), (0.0, 1.0, 0.0, HEAD_POS[1]), (-s, 0.0, c, HEAD_POS[2]))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            m.m[i][j] = v
    return m


class _System:
    def __init__(self) -> None:
        self.frames = 0
        self.pressed = False

    def getRecommendedRenderTargetSize(self) -> tuple[int, int]:  # noqa: N802
        return EYE_SIZE

    def getProjectionMatrix(self, eye: int, near: float, far: float) -> HmdMatrix44_t:  # noqa: N802
        m = HmdMatrix44_t()
        f = 1.0 / math.tan(math.radians(50))
        rows = (
            (f, 0, 0, 0),
            (0, f * EYE_SIZE[0] / EYE_SIZE[1], 0, 0),
            (0, 0, -(far + near) / (far - near), -2 * far * near / (far - near)),
            (0, 0, -1, 0),
        )
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                m.m[i][j] = v
        return m

    def getEyeToHeadTransform(self, eye: int) -> HmdMatrix34_t:  # noqa: N802
        m = HmdMatrix34_t()
        for i in range(3):
            m.m[i][i] = 1.0
        m.m[0][3] = -0.032 if eye == Eye_Left else 0.032
        return m

    def pollNextEvent(self, event: VREvent_t) -> bool:  # noqa: N802
        if self.frames >= TRIGGER_FRAME and not self.pressed:
            self.pressed = True
            event.eventType = VREvent_ButtonPress
            event.trackedDeviceIndex = 1
            event.data.controller.button = k_EButton_SteamVR_Trigger
            _log(call="event", button="trigger", frame=self.frames)
            return True
        return False

    def getControllerState(self, index: int) -> tuple[bool, VRControllerState_t]:  # noqa: N802
        return True, VRControllerState_t()


_system = _System()


class _Compositor:
    def waitGetPoses(self, render_poses, game_poses) -> None:  # noqa: N802, ANN001
        time.sleep(1.0 / 90.0)
        _system.frames += 1
        hmd = render_poses[k_unTrackedDeviceIndex_Hmd]
        hmd.mDeviceToAbsoluteTracking = _head_matrix()
        hmd.bPoseIsValid = True
        hmd.bDeviceIsConnected = True
        _log(call="wait", frame=_system.frames)

    def submit(self, eye: int, texture: Texture_t, bounds=None, flags: int = 0) -> None:  # noqa: ANN001
        _log(
            call="submit",
            frame=_system.frames,
            eye=int(eye),
            handle=int(texture.handle or 0),
            type=int(texture.eType),
            color_space=int(texture.eColorSpace),
        )


_compositor = _Compositor()


def init(application_type: int, startup_info: object = None) -> _System:
    _log(call="init", application_type=int(application_type))
    return _system


def VRCompositor() -> _Compositor:  # noqa: N802
    return _compositor


def shutdown() -> None:
    _log(call="shutdown")
