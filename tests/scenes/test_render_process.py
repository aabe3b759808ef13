"""The render process: pipe in, easing, frame reports, thumbnails, client input, watchdog.

Every timing the render process is given has a value no other timing (nor any default) shares,
and the tests measure each against its own setting: a loop that read the wrong one (faded over
the transition time, say, or timed out after the default watchdog) fails here. The times come
from the render process itself: each target it receives is answered by a `FrameEffect` stamped
with when that frame began, and the control side sends one every 20 ms.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from exposure.models import Safe, Suds, parse_event
from scenes.api import smoothstep
from scenes.registry import LIBRARY
from scenes.render import RenderError, start_render
from scenes.render.config import (
    BREAK_HOLD_S,
    CUT_FADE_FROM,
    DEFAULT_TRANSITION_S,
    FRAME_REPORT_HZ,
    LATE_FACTOR,
    fade_seconds,
)
from scenes.render.config import WATCHDOG_S as DEFAULT_WATCHDOG_S
from scenes.render.handle import INBOX_SIZE
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
from scenes.render.transitions import MAX_STEP_S
from tests.conftest import wait_for

pytestmark = pytest.mark.render

FRAME_RATE = 60.0
TRANSITION_S = 1.4
"""Easing from one level to another in the same scene (default 3 s)."""
FADE_S = fade_seconds(TRANSITION_S)
"""0.7 s: a change of scene fades out over this, then in (default 1 s)."""
WATCHDOG_S = 1.8
"""Silence before the render process fades to the safe scene by itself (default 1 s)."""
THUMBNAIL_HZ = 10.0
"""Client's-view pictures a second (default 4; frame reports come at FRAME_REPORT_HZ, 2)."""
LOAD_SLACK_S = 0.25
"""How much later than its setting a fade or the watchdog may come on a loaded machine. Never
earlier: a fade advances by at most the time that passed, so lower bounds are exact."""

POLL_S = 0.02
"""The control side's heartbeat and poll period in these tests."""


def test_every_timing_under_test_has_its_own_value() -> None:
    periods = {
        "transition": TRANSITION_S,
        "fade": FADE_S,
        "watchdog": WATCHDOG_S,
        "thumbnail period": 1 / THUMBNAIL_HZ,
        "frame report period": 1 / FRAME_REPORT_HZ,
        "frame budget": 1 / FRAME_RATE,
        "break hold": BREAK_HOLD_S,
        "default transition": DEFAULT_TRANSITION_S,
        "default fade and watchdog": fade_seconds(DEFAULT_TRANSITION_S),
    }
    assert fade_seconds(DEFAULT_TRANSITION_S) == DEFAULT_WATCHDOG_S  # one entry for both above
    assert len(set(periods.values())) == len(periods), periods
    # each bound below tells its setting from the nearest other one
    assert min(TRANSITION_S, DEFAULT_WATCHDOG_S, WATCHDOG_S) > FADE_S + LOAD_SLACK_S
    assert FADE_S - MAX_STEP_S > 1 / FRAME_REPORT_HZ
    assert max(TRANSITION_S, DEFAULT_WATCHDOG_S, FADE_S) < WATCHDOG_S
    assert WATCHDOG_S + LOAD_SLACK_S < DEFAULT_TRANSITION_S


# --------------------------------------------------------------------------- helpers


def of(messages: Sequence[FromRender], kind: type) -> list:
    return [m for m in messages if isinstance(m, kind)]


def collect_until(
    handle,
    done: Callable[[list[FromRender]], object],
    heartbeat: tuple[str, float, bool] | None = None,
    timeout: float = 15.0,
    what: str = "the expected messages",
) -> list[FromRender]:
    """Poll every POLL_S, first sending `heartbeat` (scene, level, safe) as the station does,
    until `done(messages)` is true; fails after `timeout` seconds."""
    out: list[FromRender] = []
    deadline = time.monotonic() + timeout
    while True:
        if heartbeat is not None:
            handle.send_target(*heartbeat)
        time.sleep(POLL_S)  # the heartbeat's period, and the poll's
        out.extend(handle.poll())
        if done(out):
            return out
        if time.monotonic() > deadline:
            last = "; ".join(repr(m)[:160] for m in out[-5:])
            raise AssertionError(f"{what}: not within {timeout:g} s; the last: {last}")


def effects_since(messages: Sequence[FromRender], seq: int) -> list[FrameEffect]:
    return [m for m in messages if isinstance(m, FrameEffect) and m.target_seq >= seq]


def settle(handle, scene: str, level: float, safe: bool = False) -> list[FromRender]:
    """Send the target until the client sees it steady: the scene at full brightness, there."""
    first = handle.send_target(scene, level, safe)

    def steady(msgs: list[FromRender]) -> bool:
        frames = [f for f in of(msgs, Frames) if f.target_seq >= first]
        return bool(frames) and (frames[-1].scene, frames[-1].intensity, frames[-1].fade) == (
            scene,
            level,
            1.0,
        )

    return collect_until(handle, steady, (scene, level, safe), what=f"{scene} {level} steady")


def frame_window(frames: Frames, effects: Sequence[FrameEffect]) -> tuple[float, float]:
    """When the frame a `Frames` report describes began, as a (earliest, latest) pair.

    It began no earlier than the frame that received its latest target, and before the frame
    that received the next one (which would otherwise be its latest)."""
    lo = next(e.t_received for e in effects if e.target_seq == frames.target_seq)
    hi = min((e.t_received for e in effects if e.target_seq > frames.target_seq), default=math.inf)
    return lo, hi


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(handle) -> int | None:
    """Stop a render process after reading what it sent: a full pipe would hold its exit up
    (its outbox waits up to 2 s to send the rest)."""
    wait_for(lambda: not handle.poll(), 10, "the pipe read to the end")
    return handle.stop()


@pytest.fixture(scope="module")
def render():
    handle = start_render(
        size=(160, 120),
        frame_rate=FRAME_RATE,
        transition_s=TRANSITION_S,
        watchdog_s=WATCHDOG_S,
        thumbnail_hz=THUMBNAIL_HZ,
        thumbnail_size=(80, 60),
    )
    ready = handle.wait_ready(60)
    assert ready.display == "offscreen" and ready.size == (160, 120)
    assert ready.pipe == "tiny" and ready.renderer == "TinyPanda"
    assert ready.frame_rate == FRAME_RATE
    assert {"spiders", "heights", "safe_place"} <= set(ready.scenes)
    handle.ready_message = ready
    yield handle
    assert stop(handle) == 0
    assert not handle.alive()


# --------------------------------------------------------------------------- the client's view


def test_a_change_of_scene_fades_out_then_in_over_the_fade_time(render):
    settle(render, "safe_place", 0.0, True)
    first = render.send_target("spiders", 2.0, False)
    msgs = collect_until(
        render,
        lambda m: any(e.scene == "spiders" and e.fade == 1.0 for e in effects_since(m, first)),
        ("spiders", 2.0, False),
        what="spiders at full brightness",
    )
    effects = effects_since(msgs, first)
    began = effects[0].t_received  # the frame that received the new scene starts the fade
    shown = next(i for i, e in enumerate(effects) if e.scene == "spiders")
    bright = next(e for e in effects if e.scene == "spiders" and e.fade == 1.0)
    assert all(e.scene == "safe_place" for e in effects[:shown])
    out, back_in = [e.fade for e in effects[:shown]], [e.fade for e in effects[shown:]]
    assert out == sorted(out, reverse=True) and back_in == sorted(back_in)
    assert min(out + back_in) < 0.1  # through black: a fade, not a cut
    # never faster than FADE_S: between two frames the brightness moves by at most the time
    # between them over FADE_S (out to black and back in counted together)
    for a, b in zip(effects, effects[1:], strict=False):
        moved = abs(b.fade - a.fade) if a.scene == b.scene else a.fade + b.fade
        assert moved <= (b.t_received - a.t_received) / FADE_S + 2e-3, (a, b)
    # and not slower either, beyond what a loaded machine may add
    assert effects[shown].t_received - began <= FADE_S + LOAD_SLACK_S
    assert bright.t_received - began <= 2 * (FADE_S + LOAD_SLACK_S)
    # a new scene opens at the level asked for: no easing from the old scene's level
    msgs += collect_until(
        render,
        lambda m: any(f.target_seq >= bright.target_seq for f in of(m, Frames)),
        ("spiders", 2.0, False),
        what="a frame report",
    )
    spiders = [f for f in of(msgs, Frames) if f.scene == "spiders"]
    assert spiders and all(f.intensity == 2.0 for f in spiders)


def test_a_new_level_eases_there_over_the_transition_time(render):
    settle(render, "spiders", 2.0)
    first = render.send_target("spiders", 6.0, False)
    msgs = collect_until(
        render,
        lambda m: any(f.target_seq >= first and f.intensity == 6.0 for f in of(m, Frames)),
        ("spiders", 6.0, False),
        what="level 6 reached",
    )
    effects = effects_since(msgs, first)
    began = effects[0].t_received  # the ease starts in the frame that received the target

    def eased(t: float) -> float:
        return 2.0 + 4.0 * smoothstep((t - began) / TRANSITION_S)

    reports = [f for f in of(msgs, Frames) if f.target_seq >= first]
    midway = 0
    for f in reports:
        lo, hi = frame_window(f, effects)
        # exactly where the ease over TRANSITION_S puts it, whatever the machine's load
        assert eased(lo) - 1e-3 <= f.intensity <= eased(hi) + 1e-3, (f, lo - began, hi - began)
        midway += (lo - began) / TRANSITION_S > 0.2 and (hi - began) / TRANSITION_S < 0.8
        assert f.scene == "spiders" and f.fade == 1.0
    seen = [f.intensity for f in reports]
    assert seen == sorted(seen) and seen[-1] == 6.0
    assert midway >= 1  # a report from mid-ease, where another transition time would show


def test_frame_reports_thumbnails_and_frames_come_at_their_configured_rates(render):
    first = render.send_target("heights", 3.0, False)
    span = 2.0

    def long_enough(msgs: list[FromRender]) -> bool:
        effects = effects_since(msgs, first)
        return len(effects) > 1 and effects[-1].t_received - effects[0].t_received >= span

    msgs = collect_until(render, long_enough, ("heights", 3.0, False), what=f"{span} s of frames")
    at = [i for i, m in enumerate(msgs) if isinstance(m, FrameEffect) and m.target_seq >= first]
    a, b = msgs[at[0]], msgs[at[-1]]
    between = msgs[at[0] + 1 : at[-1]]  # sent between those two frames: one outbox, in order
    seconds = b.t_received - a.t_received
    reports, thumbnails = len(of(between, Frames)), len(of(between, Thumbnail))
    drawn = b.frame - a.frame
    # never more often than configured (each is timed from the last); a little less under load
    assert seconds * FRAME_REPORT_HZ * 0.7 - 1 <= reports <= seconds * FRAME_REPORT_HZ + 1
    assert seconds * THUMBNAIL_HZ * 0.7 - 1 <= thumbnails <= seconds * THUMBNAIL_HZ + 1
    assert seconds * FRAME_RATE * 0.5 <= drawn <= seconds * FRAME_RATE + 2
    for f in of(between, Frames):
        assert f.budget_ms == pytest.approx(1000 / FRAME_RATE, abs=0.01)
        assert f.late == sum(t > LATE_FACTOR * f.budget_ms for t in f.times_ms)
    # each report carries every frame interval since the one before
    counted = [len(f.times_ms) for f in of(between, Frames)[1:]]
    assert counted and sum(counted) <= drawn and all(n > 0 for n in counted)


def test_every_target_reports_the_first_frame_drawn_with_it(render):
    render.poll()
    drawn = []
    for _ in range(2):
        seq = render.send_target("heights", 3.0, False)
        msgs = collect_until(
            render, lambda m, s=seq: bool(effects_since(m, s)), what="the target's first frame"
        )
        drawn.append(next(e for e in of(msgs, FrameEffect) if e.target_seq == seq))
    for e in drawn:
        assert e.t_sent <= e.t_received <= e.t_drawn
    # one frame each, in order: the second began after the first was drawn
    first, second = drawn
    assert first.frame < second.frame and first.t_drawn <= second.t_received


def test_thumbnails_show_what_the_client_sees(render):
    settle(render, "heights", 3.0)
    msgs = collect_until(  # sent after the steady report, through the same pipe
        render, lambda m: bool(of(m, Thumbnail)), ("heights", 3.0, False), what="a thumbnail"
    )
    t = of(msgs, Thumbnail)[-1]
    assert (t.width, t.height) == (80, 60) and len(t.rgb) == 80 * 60 * 3
    img = np.frombuffer(t.rgb, np.uint8).reshape(60, 80, 3)
    assert img.reshape(-1, 3).std(axis=0).max() > 10  # a real picture, not a cleared buffer
    # top row first: the sky is above the ground in the heights scene
    assert img[:5].mean(axis=(0, 1))[2] > img[-5:].mean(axis=(0, 1))[2]


# --------------------------------------------------------------------------- the client


def test_panic_shows_the_safe_scene_in_the_very_next_frame(render):
    settle(render, "public_speaking", 8.0)
    render.poll()
    seq = render.send_target("safe_place", 0.0, True)
    msgs = collect_until(
        render,
        lambda m: seq in {e.target_seq for e in of(m, FrameEffect)},
        what="the safe target's first frame",
    )
    effect = next(m for m in of(msgs, FrameEffect) if m.target_seq == seq)
    # a cut, not a fade via black: the frame that received it shows the safe scene, at the cut's
    # brightness plus at most one step of the fade
    assert effect.scene == "safe_place"
    assert CUT_FADE_FROM <= effect.fade <= CUT_FADE_FROM + MAX_STEP_S / FADE_S + 1e-3


def test_client_break_goes_safe_at_once_and_reaches_control_as_an_event(render):
    settle(render, "spiders", 5.0)
    render.press("b")
    after = render.send_target("spiders", 5.0, False)  # control still resends the old target

    def answered(msgs: list[FromRender]) -> bool:  # the break, and ten targets since it
        return bool(of(msgs, ClientInput)) and len(effects_since(msgs, after)) >= 10

    msgs = collect_until(render, answered, ("spiders", 5.0, False), what="the break")
    events = [m.event for m in of(msgs, ClientInput)]
    assert events == [{"type": "safe", "by": "client"}]
    assert isinstance(parse_event({**events[0], "t": 12.0}), Safe)
    assert all(m.scene == "safe_place" for m in effects_since(msgs, after))
    # the control side answers with the safe target: the hold ends, then it obeys again
    safe = render.send_target("safe_place", 0.0, True)
    collect_until(
        render, lambda m: bool(effects_since(m, safe)), ("safe_place", 0.0, True), what="safe"
    )
    again = render.send_target("spiders", 5.0, False)
    collect_until(
        render,
        lambda m: any(e.scene == "spiders" for e in effects_since(m, again)),
        ("spiders", 5.0, False),
        what="spiders again",
    )


def test_suds_panel_answer_reaches_control(render):
    render.poll()
    render.ask_suds("How anxious are you now?")
    for key in ("arrow_right", "enter"):  # 50 + 5
        render.press(key)
    render.ask_suds("And now?")
    for key in ("7", "arrow_left", "arrow_left", "return"):  # 70 - 10
        render.press(key)
    render.press("enter")  # panel closed: nothing more is sent
    # a target sent after the keys is read after them: its frame proves they were all handled
    marker = render.send_target("spiders", 5.0, False)
    msgs = collect_until(
        render, lambda m: bool(effects_since(m, marker)), what="the frame after the keys"
    )
    events = [m.event for m in of(msgs, ClientInput)]
    assert events == [
        {"type": "suds", "value": 55, "by": "client"},
        {"type": "suds", "value": 60, "by": "client"},
    ]
    parsed = parse_event({**events[0], "t": 3.0})
    assert isinstance(parsed, Suds) and parsed.value == 55 and parsed.by == "client"


# --------------------------------------------------------------------------- the process


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
    first = render.send_target("enclosed_space", 4.0, False)
    msgs = collect_until(
        render,
        lambda m: bool(effects_since(m, first)),
        ("enclosed_space", 4.0, False),
        what="a frame",
    )
    start = effects_since(msgs, first)[0].frame
    before, t0 = cpu_seconds(render.pid), time.monotonic()
    collect_until(
        render,
        lambda m: any(e.frame >= start + 60 for e in of(m, FrameEffect)),
        ("enclosed_space", 4.0, False),
        what="60 frames",
    )
    share = (cpu_seconds(render.pid) - before) / (time.monotonic() - t0)
    assert share < 0.7, f"the render process used {share:.0%} of a core at 60 Hz, 160x120"


def test_watchdog_fades_to_the_safe_scene_when_the_pipe_goes_quiet(render):
    settle(render, "enclosed_space", 4.0)
    render.poll()
    msgs = collect_until(  # silence: no heartbeat
        render,
        lambda m: any(f.scene == "safe_place" for f in of(m, Frames)),
        timeout=WATCHDOG_S + FADE_S + 10,
        what="the safe scene after the silence",
    )
    trips = of(msgs, WatchdogTripped)
    assert len(trips) == 1
    assert WATCHDOG_S <= trips[0].silent_s <= WATCHDOG_S + LOAD_SLACK_S
    frames = of(msgs, Frames)
    # still the exposure scene until the watchdog, then a fade (not a cut) to the safe scene
    quiet = [f for f in frames if not f.watchdog]
    assert quiet and all(f.scene == "enclosed_space" and f.fade == 1.0 for f in quiet)
    assert frames.index(quiet[-1]) == len(quiet) - 1  # no report went back to not tripped
    assert any(f.fade < 1.0 for f in frames if f.watchdog)
    assert frames[-1].scene == "safe_place" and frames[-1].watchdog is True
    # any message counts as alive again; the latest target is obeyed
    back = render.send_target("enclosed_space", 4.0, False)
    msgs = collect_until(
        render,
        lambda m: any(e.scene == "enclosed_space" for e in effects_since(m, back)),
        ("enclosed_space", 4.0, False),
        what="the exposure scene again",
    )
    assert of(msgs, WatchdogRecovered) == [WatchdogRecovered()]


def test_a_target_for_an_unknown_scene_is_reported_once(render):
    render.poll()
    first = render.send_target("dragons", 1.0, False)

    def ten_more(msgs: list[FromRender]) -> bool:  # ten more dragons targets taken after it
        at = next((i for i, m in enumerate(msgs) if isinstance(m, UnknownScene)), None)
        return at is not None and len(effects_since(msgs[at:], first)) >= 10

    msgs = collect_until(render, ten_more, ("dragons", 1.0, False), what="the report")
    errors = of(msgs, UnknownScene)
    assert len(errors) == 1 and "Unknown scene 'dragons'" in errors[0].message
    assert all(e.scene != "dragons" for e in effects_since(msgs, first))


def test_stop_ends_the_process_cleanly():
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0, scenes=["spiders"])
    ready = handle.wait_ready(60)
    assert ready.scenes == ("safe_place", "spiders")
    assert handle.alive() and handle.pid == ready.pid
    assert handle.stop() == 0
    assert not handle.alive()


def test_stop_while_starting_ends_the_process_without_waiting_for_it_to_start():
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0, scenes=["spiders"])
    assert handle.stop(timeout=60) == -signal.SIGTERM  # terminated, not waited on for 60 s
    assert not handle.alive()


def test_a_missing_safe_scene_fails_with_a_sentence(tmp_path):
    handle = start_render(size=(64, 48), scene_dirs=[str(tmp_path)])
    with pytest.raises(RenderError, match="The safe scene 'safe_place' cannot be loaded"):
        handle.wait_ready(60)
    handle.stop()


def test_a_control_process_that_stops_reading_never_stalls_the_frame_loop():
    # a 57.6 KB thumbnail every frame fills the pipe within a second when nobody reads it
    handle = start_render(
        size=(160, 120),
        frame_rate=FRAME_RATE,
        thumbnail_hz=FRAME_RATE,
        thumbnail_size=(160, 120),
        scenes=["spiders"],
    )
    try:
        handle.wait_ready(60)

        def heartbeat_until_unread_full() -> bool:
            handle.send_target("spiders", 3.0, False)
            return handle.unread >= INBOX_SIZE

        # the control side stops reading, its heartbeat goes on: the reader's queue fills first
        wait_for(heartbeat_until_unread_full, 15, "the unread messages filling the queue")
        sent = []
        for _ in range(20):  # then the pipe behind it; the render process must draw on
            sent.append(handle.send_target("spiders", 3.0, False))
            time.sleep(0.05)  # the station's heartbeat period, still without reading
        msgs = collect_until(
            handle,
            lambda m: any(f.target_seq >= sent[-1] for f in of(m, Frames)),
            what="a frame report after the last heartbeat",
        )
    finally:
        stop(handle)
    last_report = [f for f in of(msgs, Frames) if f.target_seq >= sent[-1]][0]
    assert last_report.dropped > 0  # the pipe really was full: bulk reports were dropped
    # the heartbeats were taken in frames of their own, in order: a loop stalled on the full
    # pipe would have read them all at once when it woke, and reported only the last. (Three
    # may share a frame with the next where the machine itself held the process up.)
    effects = {m.target_seq: m for m in of(msgs, FrameEffect)}
    drawn = [effects[seq].frame for seq in sent if seq in effects]
    assert len(drawn) >= len(sent) - 3
    assert drawn == sorted(drawn) and len(set(drawn)) == len(drawn)


# --------------------------------------------------------------------------- faulty scenes

FAULTY = """
from scenes.api import Scene, level
from scenes.geometry import Mesh


class Faulty(Scene):
    phobia = "test"
    description = "Raises at level 3 and above, once it has been on show a moment."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 9)]

    def build(self):
        self.box = Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("box")
        self.box.reparentTo(self.root)

    def apply(self, intensity, dt):
        size = self.params(intensity)["size"]
        # a bug that needs scene time: the render process's warm-up (each level drawn at
        # scene time 0) cannot find it, so it raises while the scene is on show
        if size >= 3 and self.time > 0.0:
            raise ZeroDivisionError("a bug in this scene")
        self.box.setScale(size)
"""
NO_MESH = FAULTY.replace(
    "self.box = Mesh()", "self.box = self.load_model('missing.bam')\n        Mesh()"
)
FAULTY_TRANSITION_S = 0.6
"""The faulty-scene process's timings: their own values too (fade 0.3 s, watchdog 2.5 s)."""
FAULTY_WATCHDOG_S = 2.5


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """One render process for a library with a scene that raises in `apply` (`faulty`) and one
    that fails to build (`no_mesh`), next to two good ones."""
    library: Path = tmp_path_factory.mktemp("faulty-library")
    for name in ("safe_place", "enclosed_space"):
        shutil.copytree(LIBRARY / name, library / name)
    for name, text in (("faulty", FAULTY), ("no_mesh", NO_MESH)):
        (library / name).mkdir()
        (library / name / "scene.py").write_text(text)
    handle = start_render(
        size=(64, 48),
        frame_rate=FRAME_RATE,
        transition_s=FAULTY_TRANSITION_S,
        watchdog_s=FAULTY_WATCHDOG_S,
        thumbnail_hz=0,
        scene_dirs=[str(library)],
    )
    handle.ready_message = handle.wait_ready(60)
    # a scene that fails to build is reported right after Ready, before any target
    handle.startup = collect_until(
        handle, lambda m: bool(of(m, SceneFailed)), what="the startup failure"
    )
    yield handle
    assert stop(handle) == 0


def test_a_scene_that_raises_is_reported_and_the_client_sees_the_safe_scene(faulty):
    assert faulty.ready_message.scenes == ("enclosed_space", "faulty", "safe_place")
    msgs = settle(faulty, "faulty", 2.0)
    assert not of(msgs, SceneFailed)
    first = faulty.send_target("faulty", 4.0, False)  # eases into the bug

    def failed_then_safe(msgs: list[FromRender]) -> bool:
        at = next((i for i, m in enumerate(msgs) if isinstance(m, SceneFailed)), None)
        return at is not None and bool(effects_since(msgs[at:], first))

    msgs = collect_until(faulty, failed_then_safe, ("faulty", 4.0, False), what="the failure")
    errors = of(msgs, SceneFailed)
    assert len(errors) == 1 and errors[0].scene == "faulty"
    assert "ZeroDivisionError: a bug in this scene" in errors[0].message
    at = msgs.index(errors[0])
    cut = effects_since(msgs[at:], first)[0]
    assert cut.scene == "safe_place" and cut.fade >= CUT_FADE_FROM  # a cut, not via black
    # never shown again: ten more targets for it, each drawn as the safe scene
    again = faulty.send_target("faulty", 1.0, False)
    msgs = collect_until(
        faulty,
        lambda m: len(effects_since(m, again)) >= 10,
        ("faulty", 1.0, False),
        what="ten more targets",
    )
    assert all(e.scene == "safe_place" for e in effects_since(msgs, again))
    assert not of(msgs, SceneFailed)
    broken = faulty.send_target("safe_place", float("nan"), True)  # ignored, never reaches a scene
    msgs = collect_until(
        faulty,
        lambda m: any(f.target_seq >= broken for f in of(m, Frames)),
        what="a frame report after it",
    )
    assert faulty.alive()
    assert all(f.intensity == 0.0 for f in of(msgs, Frames) if f.target_seq >= broken)


def test_a_scene_that_fails_to_build_at_start_is_reported_and_the_others_run(faulty):
    assert "no_mesh" not in faulty.ready_message.scenes
    errors = of(faulty.startup, SceneFailed)
    assert [e.scene for e in errors] == ["no_mesh"]
    assert "missing.bam" in errors[0].message
    first = faulty.send_target("no_mesh", 1.0, False)
    msgs = collect_until(
        faulty,
        lambda m: len(effects_since(m, first)) >= 10,
        ("no_mesh", 1.0, False),
        what="ten targets for it",
    )
    assert all(e.scene == "safe_place" for e in effects_since(msgs, first))
    # reported at the start, and told once more when targets first asked for it (so that a
    # session's core follows the headset to the safe scene), not at each target repeated
    assert [e.scene for e in of(msgs, SceneFailed)] == ["no_mesh"]
    settle(faulty, "enclosed_space", 3.0)
