"""The openvr display against a stand-in SteamVR, and the plain failure without SteamVR."""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict

import pytest

from scenes.openvr_display import NO_STEAMVR
from scenes.render import RenderError, start_render
from scenes.render.messages import ClientInput, Frames
from tests.conftest import wait_for

pytestmark = pytest.mark.render
STANDIN = "tests.scenes.standin_openvr"


@pytest.fixture(scope="module")
def egl() -> None:
    """Skip only where the stand-in cannot run at all: no openvr package for its structures,
    or no OpenGL through EGL, found by a probe that needs nothing else. Any other failure to
    start (of the probe, or of the test's own render process) fails instead of skipping."""
    if importlib.util.find_spec("openvr") is None:
        pytest.skip("the openvr package (the stand-in's structures) is not installed")
    probe = start_render(display="offscreen", pipe="egl", size=(16, 16), thumbnail_hz=0, scenes=[])
    try:
        ready = probe.wait_ready(60)
    except RenderError as err:
        if not str(err).startswith("Could not open an offscreen renderer"):
            raise  # scenes.stage's sentence for no renderer; other errors are failures
        pytest.skip(f"no OpenGL through EGL on this machine: {err}")
    finally:
        probe.stop()
    if ready.renderer == "TinyPanda":  # Panda3D fell back to its software aux-display
        pytest.skip("no OpenGL through EGL on this machine: only software rendering")


def test_two_eye_textures_are_submitted_every_frame_and_the_head_pose_is_applied(
    tmp_path, monkeypatch, egl
):
    log = tmp_path / "openvr.jsonl"
    monkeypatch.setenv("VRET_STANDIN_LOG", str(log))
    # OpenGL is needed for texture handles: EGL (Mesa llvmpipe here), no window, no GPU
    handle = start_render(
        display="openvr",
        pipe="egl",
        openvr_module=STANDIN,
        size=(96, 72),
        thumbnail_hz=0,
        scenes=["heights"],
    )
    msgs: list = []

    def enough() -> bool:  # a frame report, the trigger's break, and 30 frames submitted
        handle.send_target("heights", 5.0, False)  # the heartbeat, as the station sends it
        msgs.extend(handle.poll())
        waits = log.read_text().count('"call": "wait"') if log.exists() else 0
        return (
            waits >= 30
            and any(isinstance(m, Frames) for m in msgs)
            and any(isinstance(m, ClientInput) for m in msgs)
        )

    try:
        handle.wait_ready(60)  # any RenderError here fails the test: EGL was probed above
        wait_for(enough, 30, "30 frames, a frame report and the trigger")
    finally:
        msgs.extend(handle.poll())
        assert handle.stop() == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0] == {"call": "init", "application_type": 1}  # VRApplication_Scene
    assert records[-1] == {"call": "shutdown"}
    waits = [r["frame"] for r in records if r["call"] == "wait"]
    assert len(waits) >= 30
    per_frame: dict[int, list[dict]] = defaultdict(list)
    for r in records:
        if r["call"] == "submit":
            per_frame[r["frame"]].append(r)
    # every frame that was drawn handed over exactly one left (0) and one right (1) texture
    drawn = waits[:-1]  # the last wait may not have finished its frame before stop
    assert all(sorted(s["eye"] for s in per_frame[f]) == [0, 1] for f in drawn)
    handles = {s["eye"]: s["handle"] for f in drawn for s in per_frame[f]}
    assert handles[0] and handles[1] and handles[0] != handles[1]  # two real GL textures
    assert all(s["type"] == 1 and s["color_space"] == 1 for f in drawn for s in per_frame[f])
    # the head pose from waitGetPoses: OpenVR (x, y up, -z forward) -> Panda (x, y forward, z up)
    frames = [m for m in msgs if isinstance(m, Frames)]
    assert frames, msgs
    x, y, z, h, p, r = frames[-1].head
    assert (x, y, z) == pytest.approx((0.25, 0.3, 1.7), abs=1e-3)
    assert (h, p, r) == pytest.approx((30.0, 0.0, 0.0), abs=1e-2)
    # the controller trigger (frame 20 of the stand-in) is the client's break
    client = [m.event for m in msgs if isinstance(m, ClientInput)]
    assert client == [{"type": "safe", "by": "client"}]


def test_without_steamvr_openvr_fails_with_one_sentence():
    handle = start_render(display="openvr", size=(64, 48))  # the real openvr package
    with pytest.raises(RenderError) as err:
        handle.wait_ready(60)
    assert str(err.value) == NO_STEAMVR
    assert NO_STEAMVR == "No SteamVR runtime found: start SteamVR, or run with --display window."
    handle.stop()


def test_a_runtime_that_reports_itself_missing_gives_the_same_sentence(monkeypatch):
    monkeypatch.setenv("VRET_STANDIN_RUNTIME", "0")
    handle = start_render(display="openvr", openvr_module=STANDIN, size=(64, 48))
    with pytest.raises(RenderError, match="^No SteamVR runtime found"):
        handle.wait_ready(60)
    handle.stop()
