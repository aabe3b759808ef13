"""SteamVR through the `openvr` package: one render texture per eye, submitted to the compositor.

The Panda3D side follows what panda3d-openvr (el-dee/panda3d-openvr) does, written again for vret:
two texture buffers with a camera each (projection from `getProjectionMatrix`, eye offset from
`getEyeToHeadTransform`), the head pose from `waitGetPoses` (which also paces the loop at the
headset's rate), and both textures handed to `VRCompositor().submit` after every frame. The window,
when there is one, mirrors the left eye. Controller buttons arrive as legacy SteamVR events and are
turned into Panda3D events: vr-trigger, vr-grip, vr-left, vr-right, vr-menu (recentre).
`pose_valid` says whether the latest HMD pose was tracked; the render loop fades to a steady
horizon when it stays invalid. The controllers' poses are the client's hands (`Controllers`):
a node per tracked hand beside the head, for scenes that draw hands.

Nothing here has run against a real headset yet; the tests run it against a stand-in module.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from typing import Any

from panda3d.core import Camera as PandaCamera
from panda3d.core import (
    CardMaker,
    CS_default,
    CS_yup_right,
    GraphicsOutput,
    LMatrix4,
    MatrixLens,
    NodePath,
    OrthographicLens,
    Texture,
)

from exposure.errors import UserError
from scenes.look import buffer_properties
from scenes.pano import mark_eye
from scenes.pose import tracked_hand_name

NO_STEAMVR = "No SteamVR runtime found: start SteamVR, or run with --display window."


class DisplayUnavailable(UserError):
    """The display cannot start; the message is one sentence with the fix."""


def load_openvr(module_name: str = "openvr") -> Any:
    """Import the openvr package (or a stand-in) and check that a SteamVR runtime is there."""
    try:
        ovr = importlib.import_module(module_name)
    except ImportError as err:
        if module_name != "openvr":
            raise DisplayUnavailable(
                f"Cannot import {module_name!r} as the openvr module ({err}): check the name."
            ) from err
        raise DisplayUnavailable(
            "The openvr package is not installed: pip install openvr, or run with --display window."
        ) from err
    except OSError as err:  # the bundled libopenvr_api could not be loaded
        raise DisplayUnavailable(NO_STEAMVR) from err
    try:
        with _quiet_stderr():  # libopenvr prints its path-registry misses to stderr
            installed = bool(ovr.isRuntimeInstalled())
    except Exception:  # an old or broken openvr build: treat it like a missing runtime
        installed = False
    if not installed:
        raise DisplayUnavailable(NO_STEAMVR)
    return ovr


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (native libraries write there directly) for a moment."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _to_panda(m: Any) -> LMatrix4:
    """An OpenVR 3x4 or 4x4 row-major matrix as a Panda (row-vector) matrix."""
    r = m.m
    if len(r) == 4:
        return LMatrix4(
            r[0][0],
            r[1][0],
            r[2][0],
            r[3][0],
            r[0][1],
            r[1][1],
            r[2][1],
            r[3][1],
            r[0][2],
            r[1][2],
            r[2][2],
            r[3][2],
            r[0][3],
            r[1][3],
            r[2][3],
            r[3][3],
        )
    return LMatrix4(
        r[0][0],
        r[1][0],
        r[2][0],
        0.0,
        r[0][1],
        r[1][1],
        r[2][1],
        0.0,
        r[0][2],
        r[1][2],
        r[2][2],
        0.0,
        r[0][3],
        r[1][3],
        r[2][3],
        1.0,
    )


class OpenVRDisplay:
    """Stereo rendering into two textures, head tracking and controller buttons for one ShowBase.

    `head` is the node the HMD pose is applied to (its parent is the client's standing spot);
    the caller hangs nothing else off the eyes. Call `wait_poses()` before the frame's logic and
    `submit()` after the frame is rendered.
    """

    def __init__(self, base: Any, head: NodePath, ovr: Any, near: float, far: float) -> None:
        self.base = base
        self.ovr = ovr
        self.head = head
        try:
            self.system = ovr.init(ovr.VRApplication_Scene)
        except Exception as err:  # openvr raises its own error classes per failure
            raise DisplayUnavailable(
                f"SteamVR did not start a VR session ({type(err).__name__}): connect the headset "
                "and start SteamVR, or run with --display window."
            ) from err
        self.compositor = ovr.VRCompositor()
        if self.compositor is None:
            raise DisplayUnavailable(NO_STEAMVR)
        if base.pipe.getInterfaceName() == "TinyPanda":
            raise DisplayUnavailable(
                "The openvr display needs OpenGL, and this machine only has software "
                "rendering: install the graphics driver, or run with --display offscreen."
            )
        self.width, self.height = self.system.getRecommendedRenderTargetSize()
        self.poses = (ovr.TrackedDevicePose_t * ovr.k_unMaxTrackedDeviceCount)()
        self.event = ovr.VREvent_t()
        self.to_panda = LMatrix4.convertMat(CS_yup_right, CS_default)
        self.from_panda = LMatrix4.convertMat(CS_default, CS_yup_right)
        self.eyes: list[tuple[Any, Texture, Any]] = []
        self.frames = 0
        self.submitted = 0
        self.pose_valid = False
        sort = base.win.getSort() - 100
        for eye, name in ((ovr.Eye_Left, "left"), (ovr.Eye_Right, "right")):
            anchor = head.attachNewNode(f"{name}-eye")
            anchor.setMat(
                self.from_panda * _to_panda(self.system.getEyeToHeadTransform(eye)) * self.to_panda
            )
            lens = MatrixLens()
            lens.setUserMat(
                self.from_panda * _to_panda(self.system.getProjectionMatrix(eye, near, far))
            )
            cam_node = PandaCamera(f"{name}-cam")
            cam_node.setLens(lens)
            mark_eye(cam_node, name)  # each eye its own half of a stereo 360 file
            cam = anchor.attachNewNode(cam_node)
            tex = Texture(f"{name}-eye")
            tex.setWrapU(Texture.WM_clamp)
            tex.setWrapV(Texture.WM_clamp)
            # sRGB where the window is (linear light): submitted as gamma, shown as drawn
            buf = base.win.makeTextureBuffer(
                f"{name}-eye", self.width, self.height, tex, False, buffer_properties()
            )
            if buf is None:
                raise DisplayUnavailable(
                    "Could not make the per-eye render buffers (OpenGL framebuffer objects): "
                    "update the graphics driver, or run with --display window."
                )
            buf.clearRenderTextures()
            buf.addRenderTexture(tex, GraphicsOutput.RTM_bind_or_copy, GraphicsOutput.RTP_color)
            buf.setSort(sort)
            sort += 1
            buf.setClearColorActive(True)
            dr = buf.makeDisplayRegion()
            dr.setCamera(cam)
            self.eyes.append((eye, tex, buf))
        self._mirror_left_eye()
        parent = head.getParent()
        self.controllers = Controllers(ovr, self.system, parent if not parent.isEmpty() else head)

    def _mirror_left_eye(self) -> None:
        """The window (if any) shows the left eye's texture instead of rendering a third view."""
        cm = CardMaker("mirror")
        cm.setFrameFullscreenQuad()
        quad = NodePath(cm.generate())
        quad.setDepthTest(False)
        quad.setDepthWrite(False)
        quad.setTexture(self.eyes[0][1])
        lens = OrthographicLens()
        lens.setFilmSize(2, 2)
        lens.setNearFar(-1000, 1000)
        self.base.cam.node().setLens(lens)
        self.base.cam.reparentTo(quad)
        self.mirror = quad

    @property
    def outputs(self) -> list[Any]:
        """The eye buffers, which take the scene's clear colour."""
        return [buf for _eye, _tex, buf in self.eyes]

    def wait_poses(self) -> None:
        """Block until the compositor wants the next frame, then apply the head pose."""
        ovr = self.ovr
        self.compositor.waitGetPoses(self.poses, None)
        self.frames += 1
        hmd = self.poses[ovr.k_unTrackedDeviceIndex_Hmd]
        self.pose_valid = bool(hmd.bPoseIsValid)
        if self.pose_valid:
            self.head.setMat(
                self.from_panda * _to_panda(hmd.mDeviceToAbsoluteTracking) * self.to_panda
            )
        self._poll_events()  # the client's break button comes before the hands
        self.controllers.update(self.poses)

    def _poll_events(self) -> None:
        ovr = self.ovr
        event = self.event
        messenger = self.base.messenger
        while self.system.pollNextEvent(event):
            if event.eventType != ovr.VREvent_ButtonPress:
                continue
            button = event.data.controller.button
            if button == ovr.k_EButton_SteamVR_Trigger:
                messenger.send("vr-trigger")
            elif button == ovr.k_EButton_Grip:
                messenger.send("vr-grip")
            elif button == getattr(ovr, "k_EButton_ApplicationMenu", -1):
                messenger.send("vr-menu")
            elif button == ovr.k_EButton_SteamVR_Touchpad:
                ok, state = self.system.getControllerState(event.trackedDeviceIndex)
                x = state.rAxis[0].x if ok else 0.0
                messenger.send("vr-left" if x < 0 else "vr-right")

    def submit(self) -> None:
        """Hand both eye textures of the frame just rendered to the compositor."""
        ovr = self.ovr
        gsg = self.base.win.getGsg()
        for eye, tex, _buf in self.eyes:
            context = tex.prepareNow(0, gsg.getPreparedObjects(), gsg)
            handle = context.getNativeId() if context is not None else 0
            if not handle:
                continue
            ovr_tex = ovr.Texture_t()
            ovr_tex.handle = handle
            ovr_tex.eType = ovr.TextureType_OpenGL
            ovr_tex.eColorSpace = ovr.ColorSpace_Gamma
            self.compositor.submit(eye, ovr_tex)
            self.submitted += 1

    def close(self) -> None:
        # shutting down a half-started runtime must not hide the real error
        with contextlib.suppress(Exception):
            self.ovr.shutdown()


class Controllers:
    """The controllers' poses as the client's hands: a node per tracked hand in tracking space.

    After each `waitGetPoses`, the devices SteamVR gives the left-hand and right-hand roles are
    looked up and their poses put on nodes named `scenes.pose.tracked_hand_name(side)` under
    `tracking_space` (the head's parent), in Panda's axes as the head's pose is. A hand whose
    controller is not connected has no node (a scene then rests that hand where it belongs);
    one that loses tracking keeps its last good pose, as the head does. A runtime without the
    role lookup (deprecated in favour of SteamVR Input, so a later build may drop it) tracks
    no hands, and the display works as before; one whose lookup raises stops tracking hands
    then and there (the scenes rest them), so the hands never stop a frame or the head pose.
    """

    def __init__(self, ovr: Any, system: Any, tracking_space: NodePath) -> None:
        self.tracking_space = tracking_space
        self.lookup = getattr(system, "getTrackedDeviceIndexForControllerRole", None)
        self.roles = {
            "left": getattr(ovr, "TrackedControllerRole_LeftHand", 1),
            "right": getattr(ovr, "TrackedControllerRole_RightHand", 2),
        }
        self.devices = int(ovr.k_unMaxTrackedDeviceCount)
        self.hmd = int(ovr.k_unTrackedDeviceIndex_Hmd)
        self.to_panda = LMatrix4.convertMat(CS_yup_right, CS_default)
        self.from_panda = LMatrix4.convertMat(CS_default, CS_yup_right)
        self.nodes: dict[str, NodePath] = {}
        """The tracked hands' nodes, by side."""

    def update(self, poses: Any) -> None:
        """Put each controller's pose from this frame's `poses` on its hand's node."""
        if self.lookup is None:
            return
        try:
            self._place(poses)
        except Exception:  # a runtime's own error classes: drawn hands are not worth a frame
            self.lookup = None
            for node in self.nodes.values():
                node.removeNode()
            self.nodes.clear()

    def _place(self, poses: Any) -> None:
        assert self.lookup is not None
        for side, role in self.roles.items():
            index = int(self.lookup(role))
            pose = poses[index] if 0 <= index < self.devices and index != self.hmd else None
            node = self.nodes.get(side)
            if pose is None or not pose.bDeviceIsConnected:
                if node is not None:
                    node.removeNode()
                    del self.nodes[side]
                continue
            if not pose.bPoseIsValid:
                continue  # lost for a moment: the last good pose stays
            if node is None:
                node = self.tracking_space.attachNewNode(tracked_hand_name(side))
                self.nodes[side] = node
            node.setMat(self.from_panda * _to_panda(pose.mDeviceToAbsoluteTracking) * self.to_panda)
