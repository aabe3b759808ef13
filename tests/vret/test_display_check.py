"""The headset check against the stand-in openvr module: each state and its one-sentence fix."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from vret.display_check import check_displays, check_openvr

STANDIN = "tests.scenes.standin_openvr"


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The stand-in, with the background application's pose call a test sets the answer of."""
    module = importlib.import_module(STANDIN)
    monkeypatch.setenv("VRET_STANDIN_RUNTIME", "1")
    head = {"connected": True, "tracking": True}
    calls: list[str] = []

    def poses(_self: Any, universe: int, predicted_s: float, count: int) -> Any:
        calls.append("poses")
        array = (module.TrackedDevicePose_t * count)()
        array[module.k_unTrackedDeviceIndex_Hmd].bDeviceIsConnected = head["connected"]
        array[module.k_unTrackedDeviceIndex_Hmd].bPoseIsValid = head["tracking"]
        return array

    monkeypatch.setattr(module._System, "getDeviceToAbsoluteTrackingPose", poses, raising=False)
    monkeypatch.setattr(module, "shutdown", lambda: calls.append("shutdown"))
    module.head, module.calls = head, calls
    return module


def test_a_tracked_headset_is_ready(standin: Any) -> None:
    status = check_openvr(STANDIN)
    assert (status.available, status.state) == (True, "ready")
    assert standin.calls == ["poses", "shutdown"]  # it lets go of SteamVR after looking


def test_no_runtime_says_to_start_steamvr(standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRET_STANDIN_RUNTIME", "0")
    status = check_openvr(STANDIN)
    assert (status.available, status.state) == (False, "no runtime")
    assert (
        status.message == "No SteamVR runtime found: start SteamVR, or run with --display window."
    )


def test_steamvr_not_running_says_so_and_does_not_refuse(
    standin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(kind: int, startup_info: object = None) -> None:
        raise RuntimeError("VRInitError_Init_NoServerForBackgroundApp")

    monkeypatch.setattr(standin, "init", refuse)
    status = check_openvr(STANDIN)
    # the session's render process starts SteamVR itself: no reason to refuse Start
    assert (status.available, status.state) == (True, "steamvr not running")
    assert status.message.startswith("SteamVR is installed but not running: Start launches it")


def test_a_headset_switched_off_is_no_headset(standin: Any) -> None:
    standin.head["connected"] = False
    status = check_openvr(STANDIN)
    assert (status.available, status.state) == (False, "no headset")
    assert "plug the headset in" in status.message


def test_a_headset_the_base_stations_cannot_see_is_not_tracking(standin: Any) -> None:
    standin.head["tracking"] = False
    status = check_openvr(STANDIN)
    assert (status.available, status.state) == (False, "not tracking")
    assert status.message.count(".") == 1  # one sentence


def test_a_runtime_that_cannot_report_poses_is_one_sentence(
    standin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(standin._System, "getDeviceToAbsoluteTrackingPose")
    status = check_openvr(STANDIN)
    assert (status.available, status.state) == (False, "no headset")
    assert status.message.startswith("SteamVR could not report the headset (AttributeError)")


def test_every_display_is_listed_with_offscreen_always_ready(
    standin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shown = {s.name: s for s in check_displays(STANDIN)}
    assert list(shown) == ["openvr", "window", "offscreen"]
    assert shown["offscreen"].available
    assert shown["window"].available is False
    assert shown["window"].as_json()["message"].startswith("No desktop")
