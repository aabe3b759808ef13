"""The render process: pipe in, easing, frame reports, thumbnails, client input, watchdog."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from exposure.models import Safe, Suds, parse_event
from scenes.render import RenderError, start_render
from scenes.render.messages import (
    ClientInput,
    FrameEffect,
    Frames,
    FromRender,
    SceneFailed,
    Thumbnail,
    UnknownScene,
    WatchdogRecovered,
    WatchdogTripped,
)

pytestmark = pytest.mark.render


def collect(handle, seconds: float, heartbeat=None) -> list[FromRender]:
    """Poll for `seconds`, resending `heartbeat` (scene, level, safe) every 0.1 s."""
    out: list[FromRender] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if heartbeat is not None:
            handle.send_target(*heartbeat)
        time.sleep(0.1)
        out.extend(handle.poll())
    return out


def of(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def render():
    handle = start_render(
        size=(160, 120),
        frame_rate=60.0,
        transition_s=1.0,
        thumbnail_hz=5.0,
        thumbnail_size=(80, 60),
    )
    ready = handle.wait_ready(60)
    assert ready.display == "offscreen" and ready.size == (160, 120)
    assert ready.pipe == "tiny" and ready.renderer == "TinyPanda"
    assert ready.frame_rate == 60.0
    assert {"spiders", "heights", "safe_place"} <= set(ready.scenes)
    handle.ready_message = ready
    yield handle
    assert handle.stop() == 0
    assert not handle.alive()


def test_targets_ease_the_scene_and_frames_are_reported(render):
    msgs = collect(render, 1.8, ("spiders", 2.0, False))  # safe -> spiders: a fade, then level 2
    frames = of(msgs, Frames)
    assert frames and frames[-1].scene == "spiders" and frames[-1].intensity == 2.0
    assert frames[-1].fade == 1.0 and frames[-1].watchdog is False
    for f in frames[1:]:
        assert f.budget_ms == pytest.approx(1000 / 60, abs=0.01)
        assert 15 <= len(f.times_ms) <= 40  # about 30 frames per half second at 60 Hz
        assert f.late == sum(t > 1.5 * f.budget_ms for t in f.times_ms)
    # now up four levels: the reported intensity climbs monotonically from 2 to 6
    msgs = collect(render, 1.6, ("spiders", 6.0, False))
    seen = [f.intensity for f in of(msgs, Frames)]
    assert seen[-1] == 6.0
    assert seen == sorted(seen) and len(set(seen)) >= 2


def test_every_target_reports_the_first_frame_drawn_with_it(render):
    render.poll()
    seq = render.send_target("heights", 3.0, False)
    msgs = collect(render, 0.4)
    effects = {m.target_seq: m for m in of(msgs, FrameEffect)}
    assert seq in effects
    e = effects[seq]
    assert e.t_sent <= e.t_received <= e.t_drawn
    assert e.t_drawn - e.t_sent < 0.25  # a frame or two at 60 Hz, with slack for CI


def test_panic_shows_the_safe_scene_in_the_very_next_frame(render):
    collect(render, 1.6, ("public_speaking", 8.0, False))
    render.poll()
    seq = render.send_target("safe_place", 0.0, True)
    msgs = collect(render, 0.3)
    effect = next(m for m in of(msgs, FrameEffect) if m.target_seq == seq)
    assert effect.scene == "safe_place" and effect.fade > 0  # a cut, not a fade via black


def test_thumbnails_show_what_the_client_sees(render):
    msgs = collect(render, 1.0, ("heights", 3.0, False))
    thumbs = of(msgs, Thumbnail)
    assert 3 <= len(thumbs) <= 7  # 5 per second
    t = thumbs[-1]
    assert (t.width, t.height) == (80, 60) and len(t.rgb) == 80 * 60 * 3
    img = np.frombuffer(t.rgb, np.uint8).reshape(60, 80, 3)
    assert img.reshape(-1, 3).std(axis=0).max() > 10  # a real picture, not a cleared buffer
    # top row first: the sky is above the ground in the heights scene
    assert img[:5].mean(axis=(0, 1))[2] > img[-5:].mean(axis=(0, 1))[2]


def test_client_break_goes_safe_at_once_and_reaches_control_as_an_event(render):
    collect(render, 1.2, ("spiders", 5.0, False))
    render.press("b")
    after = render.send_target("spiders", 5.0, False)  # control still resends the old target
    msgs = collect(render, 0.5, ("spiders", 5.0, False))
    events = [m.event for m in of(msgs, ClientInput)]
    assert events == [{"type": "safe", "by": "client"}]
    assert isinstance(parse_event({**events[0], "t": 12.0}), Safe)
    effects = [m for m in of(msgs, FrameEffect) if m.target_seq >= after]
    assert effects and all(m.scene == "safe_place" for m in effects)
    # the control side answers with the safe target: the hold ends, then it obeys again
    collect(render, 0.3, ("safe_place", 0.0, True))
    msgs = collect(render, 1.5, ("spiders", 5.0, False))
    assert of(msgs, FrameEffect)[-1].scene == "spiders"


def test_suds_panel_answer_reaches_control(render):
    render.poll()
    render.ask_suds("How anxious are you now?")
    for key in ("arrow_right", "enter"):  # 50 + 5
        render.press(key)
    render.ask_suds("And now?")
    for key in ("7", "arrow_left", "arrow_left", "return"):  # 70 - 10
        render.press(key)
    render.press("enter")  # panel closed: nothing more is sent
    msgs = collect(render, 0.5, ("spiders", 5.0, False))
    events = [m.event for m in of(msgs, ClientInput)]
    assert events == [
        {"type": "suds", "value": 55, "by": "client"},
        {"type": "suds", "value": 60, "by": "client"},
    ]
    parsed = parse_event({**events[0], "t": 3.0})
    assert isinstance(parsed, Suds) and parsed.value == 55 and parsed.by == "client"


def test_the_render_process_runs_at_the_priority_it_reports(render):
    # frames come before the control process's bulk work: real-time where allowed, else nice
    reported = render.ready_message.priority
    policy = os.sched_getscheduler(render.pid)
    if reported.startswith("SCHED_FIFO"):
        assert policy == os.SCHED_FIFO and os.sched_getparam(render.pid).sched_priority == 10
    elif reported.startswith("nice"):
        assert policy == os.SCHED_OTHER and os.getpriority(os.PRIO_PROCESS, render.pid) == -10
    else:
        assert reported == "normal" and policy == os.SCHED_OTHER
    if os.geteuid() == 0:
        assert reported != "normal"


def test_frame_limiting_sleeps_instead_of_spinning(render):
    collect(render, 0.3, ("safe_place", 0.0, True))
    before, t0 = cpu_seconds(render.pid), time.monotonic()
    collect(render, 1.5, ("safe_place", 0.0, True))
    share = (cpu_seconds(render.pid) - before) / (time.monotonic() - t0)
    assert share < 0.7, f"the render process used {share:.0%} of a core at 60 Hz, 160x120"


def test_watchdog_fades_to_the_safe_scene_when_the_pipe_goes_quiet(render):
    collect(render, 1.5, ("enclosed_space", 4.0, False))
    render.poll()
    t_quiet = time.monotonic()
    msgs = collect(render, 2.2)  # silence
    trips = of(msgs, WatchdogTripped)
    assert trips and 1.0 <= trips[0].silent_s < 1.5
    frames = of(msgs, Frames)
    # still the exposure scene for the first second, then a fade (not a cut) to the safe scene
    assert frames[0].scene == "enclosed_space" and frames[0].watchdog is False
    assert any(f.fade < 1.0 for f in frames if f.watchdog)
    assert frames[-1].scene == "safe_place" and frames[-1].watchdog is True
    assert time.monotonic() - t_quiet < 3.0
    # any message counts as alive again; the latest target is obeyed
    msgs = collect(render, 1.6, ("enclosed_space", 4.0, False))
    assert WatchdogRecovered() in msgs
    assert of(msgs, Frames)[-1].scene == "enclosed_space"


def test_a_target_for_an_unknown_scene_is_reported_once(render):
    render.poll()
    msgs = collect(render, 0.5, ("dragons", 1.0, False))
    errors = of(msgs, UnknownScene)
    assert len(errors) == 1 and "Unknown scene 'dragons'" in errors[0].message


def test_stop_ends_the_process_cleanly():
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0, scenes=["spiders"])
    ready = handle.wait_ready(60)
    assert ready.scenes == ("safe_place", "spiders")
    assert handle.alive() and handle.pid == ready.pid
    assert handle.stop() == 0
    assert not handle.alive()


def test_a_missing_safe_scene_fails_with_a_sentence(tmp_path):
    handle = start_render(size=(64, 48), scene_dirs=[str(tmp_path)])
    with pytest.raises(RenderError, match="The safe scene 'safe_place' cannot be loaded"):
        handle.wait_ready(60)
    handle.stop()


def test_a_control_process_that_stops_reading_never_stalls_the_frame_loop():
    # big thumbnails at 20 Hz fill the pipe in well under a second when nobody reads it
    handle = start_render(
        size=(160, 120),
        frame_rate=60.0,
        thumbnail_hz=20.0,
        thumbnail_size=(160, 120),
        scenes=["spiders"],
    )
    try:
        handle.wait_ready(60)
        first = handle.send_target("spiders", 3.0, False)
        t_first = time.monotonic()
        time.sleep(3.0)  # heartbeat keeps coming, but the control side reads nothing
        for _ in range(10):
            handle.send_target("spiders", 3.0, False)
            time.sleep(0.1)
        last = handle.send_target("spiders", 3.0, False)
        t_last = time.monotonic()
        msgs = collect(handle, 1.0)
    finally:
        handle.stop()
    effects = {m.target_seq: m for m in of(msgs, FrameEffect)}
    frames = of(msgs, Frames)
    assert frames and frames[-1].dropped > 0  # the pipe really was full
    assert first in effects and last in effects
    rate = (effects[last].frame - effects[first].frame) / (t_last - t_first)
    assert rate > 40, f"the loop drew {rate:.0f} frames per second while the pipe was full"


FAULTY = """
from scenes.api import Scene, level
from scenes.geometry import Mesh


class Faulty(Scene):
    phobia = "test"
    description = "Raises at level 3 and above."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 9)]

    def build(self):
        self.box = Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("box")
        self.box.reparentTo(self.root)

    def apply(self, intensity, dt):
        size = self.params(intensity)["size"]
        if size >= 3:
            raise ZeroDivisionError("a bug in this scene")
        self.box.setScale(size)
"""


def test_a_scene_that_raises_is_reported_and_the_client_sees_the_safe_scene(tmp_path):
    import shutil

    from scenes.registry import LIBRARY

    shutil.copytree(LIBRARY / "safe_place", tmp_path / "safe_place")
    (tmp_path / "faulty").mkdir()
    (tmp_path / "faulty" / "scene.py").write_text(FAULTY)
    handle = start_render(
        size=(64, 48), frame_rate=60.0, transition_s=0.2, thumbnail_hz=0, scene_dirs=[str(tmp_path)]
    )
    try:
        assert handle.wait_ready(60).scenes == ("faulty", "safe_place")
        msgs = collect(handle, 1.0, ("faulty", 2.0, False))
        assert of(msgs, Frames)[-1].scene == "faulty"
        msgs = collect(handle, 1.0, ("faulty", 4.0, False))  # eases into the bug
        errors = of(msgs, SceneFailed)
        assert len(errors) == 1 and errors[0].scene == "faulty"
        assert "ZeroDivisionError: a bug in this scene" in errors[0].message
        assert of(msgs, Frames)[-1].scene == "safe_place"
        msgs = collect(handle, 0.6, ("faulty", 1.0, False))  # never shown again
        assert of(msgs, Frames)[-1].scene == "safe_place" and not of(msgs, SceneFailed)
        handle.send_target("safe_place", float("nan"), True)  # ignored, never reaches a scene
        msgs = collect(handle, 0.6)
        assert handle.alive() and of(msgs, Frames)[-1].intensity == 0.0
    finally:
        assert handle.stop() == 0


def test_a_scene_that_fails_to_build_at_start_is_reported_and_the_others_run(tmp_path):
    import shutil

    from scenes.registry import LIBRARY

    shutil.copytree(LIBRARY / "safe_place", tmp_path / "safe_place")
    shutil.copytree(LIBRARY / "enclosed_space", tmp_path / "enclosed_space")
    (tmp_path / "no_mesh").mkdir()
    (tmp_path / "no_mesh" / "scene.py").write_text(
        FAULTY.replace(
            "self.box = Mesh()", "self.box = self.load_model('missing.bam')\n        Mesh()"
        )
    )
    handle = start_render(
        size=(64, 48), frame_rate=60.0, transition_s=0.2, thumbnail_hz=0, scene_dirs=[str(tmp_path)]
    )
    try:
        ready = handle.wait_ready(60)
        assert ready.scenes == ("enclosed_space", "safe_place")
        msgs = collect(handle, 1.0, ("no_mesh", 1.0, False))
        errors = of(msgs, SceneFailed)
        assert [e.scene for e in errors] == ["no_mesh"]
        assert "missing.bam" in errors[0].message
        assert of(msgs, Frames)[-1].scene == "safe_place"
        msgs = collect(handle, 1.0, ("enclosed_space", 3.0, False))
        assert of(msgs, Frames)[-1].scene == "enclosed_space"
    finally:
        assert handle.stop() == 0
