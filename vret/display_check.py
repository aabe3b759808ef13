"""The headset check before Start: which displays can show a session now, each with its fix.

`openvr`: the openvr package and a SteamVR runtime installed, SteamVR running (a background
application can connect), the headset connected, and its pose tracked. SteamVR not running yet
is no reason to refuse a session (its render process starts SteamVR); no runtime, no headset or
a headset that is not tracked are. The check connects as
a background application (`VRApplication_Background`), which never takes the headset from a
scene application such as the station's waiting room, reads the headset's pose once and
disconnects. `window`: a desktop to open a window on. `offscreen`: always (no picture for the
client; the console still shows the view).

Nothing here has run against a real SteamVR; the tests run it against the stand-in module
`tests/scenes/standin_openvr.py`.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any

from vret.station import has_display

VR_APPLICATION_BACKGROUND = 3
"""openvr's EVRApplicationType.VRApplication_Background (a stand-in may not define it)."""
TRACKING_UNIVERSE_STANDING = 1
HMD = 0
"""k_unTrackedDeviceIndex_Hmd: the headset is always tracked device 0."""
MAX_DEVICES = 64


@dataclass(frozen=True)
class DisplayStatus:
    """One display: can a session use it now, and if not, the one-sentence fix."""

    name: str
    available: bool
    state: str
    """openvr: "no runtime", "steamvr not running", "no headset", "not tracking", "ready";
    others: "ready" or "no desktop"."""
    message: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def check_openvr(module_name: str = "openvr") -> DisplayStatus:
    """The headset's state through the openvr module (`module_name`: a stand-in in tests)."""
    # Panda3D loads with scenes.openvr_display: only when the headset is checked
    from scenes.openvr_display import DisplayUnavailable, load_openvr

    try:
        ovr = load_openvr(module_name)
    except DisplayUnavailable as err:
        return DisplayStatus("openvr", False, "no runtime", str(err))
    kind = getattr(ovr, "VRApplication_Background", VR_APPLICATION_BACKGROUND)
    try:
        system = ovr.init(kind)
    except Exception:  # openvr raises its own error when no vrserver answers
        # a session's render process (a scene application) starts SteamVR itself, so this is
        # no reason to refuse Start; the headset is checked once SteamVR runs
        return DisplayStatus(
            "openvr",
            True,
            "steamvr not running",
            "SteamVR is installed but not running: Start launches it, or start it now and "
            "check again to see the headset.",
        )
    try:
        poses = system.getDeviceToAbsoluteTrackingPose(
            getattr(ovr, "TrackingUniverseStanding", TRACKING_UNIVERSE_STANDING),
            0.0,
            getattr(ovr, "k_unMaxTrackedDeviceCount", MAX_DEVICES),
        )
        head = poses[getattr(ovr, "k_unTrackedDeviceIndex_Hmd", HMD)]
        connected, tracking = bool(head.bDeviceIsConnected), bool(head.bPoseIsValid)
    except Exception as err:  # a runtime that cannot say: report it rather than guess
        return DisplayStatus(
            "openvr",
            False,
            "no headset",
            f"SteamVR could not report the headset ({type(err).__name__}): restart SteamVR.",
        )
    finally:
        with contextlib.suppress(Exception):
            ovr.shutdown()
    if not connected:
        return DisplayStatus(
            "openvr",
            False,
            "no headset",
            "SteamVR runs but sees no headset: plug the headset in and switch it on.",
        )
    if not tracking:
        return DisplayStatus(
            "openvr",
            False,
            "not tracking",
            "The headset is connected but not tracked: check that the base stations or "
            "cameras see it, or run SteamVR's room setup.",
        )
    return DisplayStatus("openvr", True, "ready", "SteamVR sees the headset and tracks it.")


def check_displays(openvr_module: str = "openvr") -> list[DisplayStatus]:
    """Every display a session can use, the headset first."""
    window = (
        DisplayStatus("window", True, "ready", "A window on this computer's screen.")
        if has_display()
        else DisplayStatus(
            "window",
            False,
            "no desktop",
            "No desktop to open a window on: log in to the desktop, or use offscreen.",
        )
    )
    offscreen = DisplayStatus(
        "offscreen",
        True,
        "ready",
        "No picture for the client; the console shows what the client would see.",
    )
    return [check_openvr(openvr_module), window, offscreen]
