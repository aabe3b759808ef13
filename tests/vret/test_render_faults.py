"""The render link under real faults, each injected into a real render process.

A render process stopped with SIGSTOP (the pipe fills: the control side never waits on it, the
frame watchdog restarts it in the safe scene), stopped only briefly (nothing is lost), a scene
that raises in `apply` and one that raises in `on_event` (the core follows the headset to the
safe scene, and the record says why), and one that can never start (the headset is down).
Each uses a real core (`LiveSession`, no records, no console) and the offscreen tiny pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exposure.live import LiveSession
from exposure.models import (
    Effect,
    Event,
    Ladder,
    Level,
    SceneEvent,
    SessionStart,
    SessionState,
    SetLevel,
    SystemEvent,
)
from scenes.registry import default_ladder
from scenes.render.messages import Frames, FromRender, Ready
from tests.scenes.conftest import write_scene
from vret.render_link import RenderLink, RestartPolicy

pytestmark = pytest.mark.render

SEND_LIMIT_S = 0.05
"""The longest any call on the control side may take while the render process is stuck."""


class Session:
    """A real core with a render link, and every event it stepped."""

    def __init__(self, ladder: Ladder, restarts: RestartPolicy | None = None) -> None:
        self.live = LiveSession(SessionStart(ladder=ladder, auto=False))
        self.events: list[Event] = []
        self.live.add_listener(self._seen)
        self.link = RenderLink(self.live, "offscreen", (64, 48), thumbnail_hz=0, restarts=restarts)
        self.messages: list[tuple[float, FromRender]] = []
        self.link.on_message = lambda m: self.messages.append((time.monotonic(), m))

    def _seen(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        self.events.append(event)

    def pump_until(self, cond: Callable[[], object], limit_s: float, what: str) -> float:
        """Pump the link every 10 ms until `cond()`; returns when (fails past `limit_s`)."""
        deadline = time.monotonic() + limit_s
        while True:
            self.link.pump()
            if cond():
                return time.monotonic()
            assert time.monotonic() < deadline, f"{what}: not within {limit_s} s"
            time.sleep(0.01)

    def system(self, kind: str) -> list[SystemEvent]:
        return [e for e in self.events if isinstance(e, SystemEvent) and e.kind == kind]

    def showing(self, scene: str, seq: int) -> bool:
        """The latest frame report shows `scene`, drawn after target `seq` arrived."""
        frames = self.link.frames
        return frames.get("scene") == scene and frames.get("target_seq", 0) >= seq

    def start_at_level_1(self) -> None:
        self.link.start()
        self.pump_until(lambda: self.link.frames, 60, "the first frame report")
        self.live.submit(SetLevel(t=0.0, level=1))
        assert self.live.state.phase == "exposure"


@pytest.fixture
def session() -> Iterator[Session]:
    s = Session(default_ladder("spiders"), restarts=RestartPolicy(first_delay_s=0.2))
    yield s
    s.link.stop()


def test_a_stopped_render_process_never_blocks_control_and_is_restarted_in_the_safe_scene(
    session: Session,
) -> None:
    link = session.link
    session.start_at_level_1()
    handle = link.handle
    assert handle is not None and handle.pid is not None
    pid = handle.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        # fill the pipe: the writer thread is left waiting on it, never the caller
        big = "x" * 65536
        deadline = time.monotonic() + 5
        while handle.send_blocked_s() < 0.2:
            handle.scene_event(big)
            assert time.monotonic() < deadline, "the pipe never filled"
            time.sleep(0.01)
        slowest = 0.0
        for n in range(20):
            t0 = time.monotonic()
            session.live.submit(SetLevel(t=0.0, level=1 + n % 3))  # a target, from the core
            handle.send_target("spiders", 2.0, False)
            handle.ask_suds("How anxious are you?")
            link.pump()
            slowest = max(slowest, time.monotonic() - t0)
        assert handle.send_blocked_s() > 0.2  # the pipe was still full throughout
        assert slowest < SEND_LIMIT_S, f"a call took {slowest * 1000:.0f} ms"
        # the frame watchdog: no frames for 2 s, so the process is killed and restarted
        session.pump_until(lambda: link.restarts == 1, 5, "the watchdog's restart")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    (restarted,) = session.system("render_restarted")
    assert "no frames for 2." in restarted.detail
    assert session.live.state.phase == "safe"  # the core moved to the safe scene
    assert any(a.kind == "render_restarted" for a in session.live.state.alerts)
    session.pump_until(lambda: not handle.alive(), 5, "the stopped process killed")
    # the new process: its first reports show the safe target within a second of its ready
    session.pump_until(lambda: link.ready is not None, 60, "the new render process ready")
    assert link.handle is not None and link.handle.pid != pid
    ready_at = next(t for t, m in reversed(session.messages) if isinstance(m, Ready))
    shown_at = session.pump_until(lambda: session.showing("safe_place", 1), 5, "the safe scene")
    assert shown_at - ready_at < 1.0
    assert link.frames["scene"] == "safe_place" and not link.headset_down


def test_a_render_process_stopped_briefly_gets_what_was_sent_meanwhile(session: Session) -> None:
    link = session.link
    session.start_at_level_1()
    handle = link.handle
    assert handle is not None and handle.pid is not None
    os.kill(handle.pid, signal.SIGSTOP)
    try:
        stalled = time.monotonic()
        session.live.submit(SetLevel(t=0.0, level=3))  # sent while it cannot read
        seq = link.last_seq
        session.pump_until(lambda: time.monotonic() - stalled > 1.0, 2, "a second's stall")
    finally:
        os.kill(handle.pid, signal.SIGCONT)
    session.pump_until(lambda: session.showing("spiders", seq), 5, "the latest target shown")
    session.pump_until(lambda: link.frames["intensity"] == 3.0, 10, "level 3 reached")
    assert link.restarts == 0 and link.handle is handle
    assert session.live.state.level == 3


RAISES_IN_APPLY = """
from scenes.api import Scene, level
from scenes.geometry import Mesh


class Broken(Scene):
    phobia = "test"
    description = "Raises whenever it is drawn."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 4)]

    def build(self):
        Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("box").reparentTo(self.root)

    def apply(self, intensity, dt):
        raise ZeroDivisionError("a bug in apply")
"""

RAISES_AT_THE_TOP = """
from scenes.api import Scene, level
from scenes.geometry import Mesh


class Steep(Scene):
    phobia = "test"
    description = "Draws levels 1 and 2; raises at level 3."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 4)]

    def build(self):
        Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("box").reparentTo(self.root)

    def apply(self, intensity, dt):
        if intensity > 2.5:
            raise ZeroDivisionError("a bug at the top level")
"""

RAISES_IN_EVENT = """
from scenes.api import Scene, level
from scenes.geometry import Mesh


class Touchy(Scene):
    phobia = "test"
    description = "Raises when the therapist triggers its event."
    levels = [level(f"step {n}", size=float(n)) for n in range(1, 4)]
    events = ("drop",)

    def build(self):
        Mesh().box((0, 3, 1.5), (1, 1, 1), (0.9, 0.2, 0.2)).node("box").reparentTo(self.root)

    def apply(self, intensity, dt):
        pass

    def on_event(self, name):
        raise KeyError("a bug in on_event")
"""


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scene library folder on VRET_SCENE_PATH (the spawned render process inherits it)."""
    monkeypatch.setenv("VRET_SCENE_PATH", str(tmp_path))
    return tmp_path


def assert_core_followed_the_headset(session: Session, scene: str, error: str) -> None:
    failed = session.system("scene_failed")
    assert failed and all(f.detail.startswith(f"{scene}: ") and error in f.detail for f in failed)
    state = session.live.state
    assert state.phase == "safe" and state.scene_target.scene == "safe_place"
    assert any(a.kind == "scene_failed" for a in state.alerts)
    seq = session.link.last_seq  # the safe target the core's move sent
    session.pump_until(lambda: session.showing("safe_place", seq), 5, "the safe scene")
    assert session.link.restarts == 0  # the render process replaced the scene itself


def test_a_scene_that_raises_in_apply_puts_the_core_in_the_safe_scene(library: Path) -> None:
    write_scene(library, "broken", RAISES_IN_APPLY)
    session = Session(default_ladder("broken"))
    try:
        session.start_at_level_1()
        session.pump_until(lambda: session.live.state.phase == "safe", 10, "the core to safe")
        assert_core_followed_the_headset(session, "broken", "ZeroDivisionError: a bug in apply")
    finally:
        session.link.stop()


def test_a_level_that_raises_is_found_at_start_and_the_scene_is_never_shown(
    library: Path,
) -> None:
    """The render process draws every level of every scene before its first frame, so a scene
    that raises only at its top level is reported before any session, and a session that asks
    for it (at level 1, which draws) is told again and sent to the safe scene."""
    write_scene(library, "steep", RAISES_AT_THE_TOP)
    session = Session(default_ladder("steep"))
    try:
        session.link.start()
        session.pump_until(lambda: session.system("scene_failed"), 60, "the report at start")
        assert session.live.state.phase != "exposure"  # no session had asked for it yet
        session.pump_until(lambda: session.link.frames, 10, "the first frame report")
        session.live.submit(SetLevel(t=0.0, level=1))
        session.pump_until(lambda: session.live.state.phase == "safe", 10, "the core to safe")
        assert len(session.system("scene_failed")) == 2  # at start, and when it was asked for
        assert_core_followed_the_headset(session, "steep", "a bug at the top level")
        shown = {m.scene for _, m in session.messages if isinstance(m, Frames)}
        assert shown == {"safe_place"}  # no frame report ever showed it
    finally:
        session.link.stop()


def test_a_scene_that_raises_in_on_event_puts_the_core_in_the_safe_scene(library: Path) -> None:
    write_scene(library, "touchy", RAISES_IN_EVENT)
    session = Session(default_ladder("touchy"))
    try:
        session.start_at_level_1()
        seq = session.link.last_seq
        session.pump_until(lambda: session.showing("touchy", seq), 10, "the scene on show")
        session.live.submit(SceneEvent(t=0.0, name="drop"))
        session.pump_until(lambda: session.system("scene_failed"), 10, "the scene's failure")
        assert_core_followed_the_headset(session, "touchy", "KeyError")
    finally:
        session.link.stop()


def test_a_render_process_that_never_starts_leaves_the_headset_down() -> None:
    levels = [Level(name="one")]
    ladder = Ladder(scene="spiders", safe_scene="no_such_scene", levels=levels)
    session = Session(ladder, restarts=RestartPolicy(first_delay_s=0.05, max_restarts=2))
    try:
        session.link.start()
        session.pump_until(lambda: session.link.headset_down, 60, "the headset down")
        restarts = session.system("render_restarted")
        assert len(restarts) == 2 and "'no_such_scene' cannot be loaded" in restarts[0].detail
        (down,) = session.system("headset_down")
        assert "2 restarts within 10 min" in down.detail
        alert = next(a for a in session.live.state.alerts if a.kind == "headset_down")
        assert alert.severity == "critical" and alert.active and alert.expires_at is None
        last = session.link.handle
        assert last is not None and not last.alive()
        session.link.pump()  # nothing more is started
        assert session.link.handle is last and session.link.restarts == 2
    finally:
        session.link.stop()
