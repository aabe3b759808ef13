"""The control side of the render process: scene targets out, frames and client input in.

The render link keeps the headset showing something safe whatever the render process does:

- It never blocks the control loop: the `RenderHandle` sends from a writer thread and reads
  from a reader thread, so a render process that stops reading cannot freeze a step.
- It re-sends the latest target as a heartbeat (the render process fades to the safe scene by
  itself after 1 s of silence).
- Its frame watchdog: no frame report for `frame_timeout_s` (2 s) from a render process that
  has drawn frames, no start within `start_timeout_s`, or a process that exited, and the render
  process is killed and restarted in the safe scene, after a back-off (`RestartPolicy`). Each
  fault is a recorded `SystemEvent` (`render_restarted`); the core moves to the safe scene and
  alerts the console. Past the policy's cap it gives up: `headset_down`, a critical alert that
  stays, and `RenderLink.headset_down` is True.
- What the render process reports about itself becomes a recorded `SystemEvent` too: a scene
  that failed (or an unknown scene) is `scene_failed`, after which the core is in the safe
  scene as the headset is; its watchdog's fade is `render_watchdog`.
- Head tracking: each 10 Hz gaze summary becomes a recorded `Gaze` event (the core's attention
  rule reads them, and replay with them); a `Recentre` command goes down to the headset.
- Scene sound: the therapist's recorded `SceneSound` command goes down to the headset, which
  answers with what it applies (`scene_sound_heard`, for the console). A restarted or adopted
  render process is told the session's choice again; a session starts with the sound on, and
  hands its render process back (the station's waiting room) with the sound on.
"""

from __future__ import annotations

import io
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from pydantic import ValidationError

from exposure.live import LiveSession
from exposure.models import (
    AskSuds,
    CoachControl,
    CoachLine,
    Effect,
    Event,
    Gaze,
    Recentre,
    SceneEvent,
    SceneSound,
    SceneTarget,
    SessionState,
    SystemEvent,
    SystemKind,
    parse_event,
)
from scenes.pose import PoseScript
from scenes.render import RenderHandle, start_render
from scenes.render.messages import (
    ClientInput,
    CoachSpoke,
    FrameEffect,
    Frames,
    FromRender,
    GazeSummary,
    Ready,
    SceneFailed,
    SceneSoundApplied,
    StartFailed,
    Thumbnail,
    UnknownScene,
    WatchdogTripped,
)
from vret.coach_voice import CoachSpeaker
from vret.headset_questions import AnswerError, answer_event, questions_for

log = logging.getLogger(__name__)

RENDER_POLL_S = 0.01
HEARTBEAT_S = 0.2
FRAME_TIMEOUT_S = 2.0
"""No frame report for this long from a render process that has drawn frames: it is hung (a
scene in an endless loop, a stopped process, a driver stall), so it is killed and restarted.
Reports come every 0.5 s, so this is four missed in a row."""
START_TIMEOUT_S = 30.0
"""A render process that has not drawn its first frame this long after it was started is
treated as hung (it builds only the ladder's scene and the safe scene)."""
EXIT_DRAIN_S = 0.5
"""After the render process exits, how long to wait for its last messages (why it stopped)."""


RESUME_LINE_S = 15.0
"""A coach line this recent is said again by a render process that has just started."""


class RestartPolicy:
    """When to restart a failed render process: backing off, and giving up past a cap.

    A failure at `now` asks `next_delay(now)`: the n-th restart within the last `window_s`
    waits `first_delay_s * 2 ** (n - 1)` seconds (at most `max_delay_s`); once `max_restarts`
    restarts fall within `window_s`, the answer is None: stop restarting (the headset is down).
    Time is passed in, never read.
    """

    def __init__(
        self,
        first_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        max_restarts: int = 5,
        window_s: float = 600.0,
    ) -> None:
        self.first_delay_s = first_delay_s
        """Wait before the first restart in a window; each further one waits twice as long."""
        self.max_delay_s = max_delay_s
        """The longest wait before a restart."""
        self.max_restarts = max_restarts
        """Restarts allowed within `window_s`; the next failure gives up."""
        self.window_s = window_s
        """How long a restart counts against the cap (10 minutes)."""
        self.restarts: deque[float] = deque()
        """When the restarts still inside the window were decided."""

    def next_delay(self, now: float) -> float | None:
        """A failure at `now`: seconds to wait before restarting, or None to give up."""
        while self.restarts and now - self.restarts[0] >= self.window_s:
            self.restarts.popleft()
        if len(self.restarts) >= self.max_restarts:
            return None
        delay = min(self.max_delay_s, self.first_delay_s * 2 ** len(self.restarts))
        self.restarts.append(now)
        return delay


class RenderLink:
    """The control side of the render process: targets out, frames and client input in.

    Call `pump()` every `RENDER_POLL_S` from the control loop; it never blocks.
    """

    def __init__(
        self,
        live: LiveSession,
        display: str,
        size: tuple[int, int],
        pipe: str | None = None,
        thumbnail_hz: float | None = None,
        *,
        frame_timeout_s: float = FRAME_TIMEOUT_S,
        start_timeout_s: float = START_TIMEOUT_S,
        restarts: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        pose_script: PoseScript | None = None,
        coach: CoachSpeaker | None = None,
        coach_mode: str = "person",
    ) -> None:
        self.live = live
        self.coach = coach
        """Voices the coach's lines in the headset; None: the session has no coach."""
        self.coach_mode = coach_mode if coach is not None else "off"
        self.coach_spoke: CoachSpoke | None = None
        """The latest coach line the headset began (its caption up, its sound started)."""
        self.pose_script = pose_script
        """Scripted head poses for the render process (demos, tests); None: the display's own."""
        self.pipe = pipe
        software = display == "offscreen" and pipe in (None, "tiny")
        self.thumbnail_hz = thumbnail_hz if thumbnail_hz is not None else (4.0 if software else 0.0)
        self.display = display
        self.size = size
        self.frame_timeout_s = frame_timeout_s
        self.start_timeout_s = start_timeout_s
        self.restart_policy = restarts if restarts is not None else RestartPolicy()
        self.clock = clock
        # the render process now, and what it said
        self.handle: RenderHandle | None = None
        """The latest render process's handle (killed, while a restart waits or the headset is
        down)."""
        self.ready: Ready | None = None
        """The running render process's Ready message; None while it starts."""
        self.frames: dict[str, Any] = {}
        """The latest frame report, for the console (with the p99 of its frame times)."""
        self.thumbnail_jpeg: bytes | None = None
        self.on_message: Callable[[FromRender], None] | None = None
        """Sees every message from the render process first (benchmarks use it)."""
        # the frame watchdog and restarts
        self._started_at = 0.0
        self._last_frames: float | None = None
        self._start_failure = ""
        self._exited_at: float | None = None
        self._restart_at: float | None = None
        self.restarts = 0
        self.headset_down = False
        """True once restarts stopped (past the policy's cap): no render process runs."""
        # targets
        self._target: SceneTarget = live.state.scene_target
        self._last_sent = 0.0
        self.last_seq = 0
        """Sequence number of the latest target sent (the render process reports it back)."""
        # scene sound: what the therapist chose (recorded) and what the headset says it applies
        self.scene_sound_muted = False
        """The therapist's latest `SceneSound` in this session; every session starts unmuted."""
        self.scene_sound_heard: bool | None = None
        """Whether the running render process reports the scene sound muted; None until it
        has answered (starting, restarting, down)."""
        live.add_listener(self._on_step, first=True)  # the headset hears a step before anyone

    def start(self) -> None:
        """Start a render process in the safe scene, building the ladder's scene up front with
        the session's own levels (a client's hierarchy or ladder file may reorder or vary them)."""
        ladder = self.live.state.ladder
        self.handle = start_render(
            display=self.display,
            size=self.size,
            safe_scene=ladder.safe_scene,
            scenes=[ladder.scene],
            pipe=self.pipe,
            thumbnail_hz=self.thumbnail_hz,
            pose_script=self.pose_script,
            scene_levels={ladder.scene: [lv.params for lv in ladder.levels]},
            coach=self.coach_mode,
        )
        self.ready = None
        self._started_at = self.clock()
        self._last_frames = None
        self._start_failure = ""
        self._exited_at = None
        self._send(self._target)
        self._tell_scene_sound()

    def adopt(self, handle: RenderHandle) -> None:
        """Take over a render process that already runs (the station's waiting room, in the
        safe scene, every scene built) instead of starting one: no gap in the headset."""
        self.handle = handle
        self.ready = None
        self._started_at = self.clock()
        self._last_frames = None  # its frame reports come every 0.5 s
        self._start_failure = ""
        self._exited_at = None
        ladder = self.live.state.ladder  # built for the last session: draw this one's levels
        handle.use_levels(ladder.scene, [lv.params for lv in ladder.levels])
        self._send(self._target)
        self._tell_scene_sound()  # the last session may have left it muted

    def release(self) -> RenderHandle | None:
        """Hand the render process back, still running, for the next session (None when it is
        down), with the scene sound on; this link sends it nothing more."""
        handle, self.handle = self.handle, None
        self._restart_at = None
        self.scene_sound_heard = None
        if handle is None or self.headset_down or not handle.alive():
            return None
        if self.scene_sound_muted:
            handle.set_scene_sound(False)  # a mute lasts for its session only
        return handle

    def _tell_scene_sound(self) -> None:
        """Give a render process just started or taken over the session's scene sound; it
        answers with what it applies. Sent after the target, never in front of it."""
        self.scene_sound_heard = None
        if self.handle is not None:
            self.handle.set_scene_sound(self.scene_sound_muted)

    def stop(self) -> None:
        """Stop the render process (waits for it) and any restart still to come."""
        self._restart_at = None
        if self.handle is not None:
            self.handle.stop()

    def _send(self, target: SceneTarget) -> None:
        self._target = target
        self._last_sent = self.clock()
        if self.handle is not None:
            self.last_seq = self.handle.send_target(target.scene, target.intensity, target.safe)

    def _on_step(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SceneTarget):
                self._send(effect)  # panic reaches the pipe in the same step
        if isinstance(event, SceneSound):
            self.scene_sound_muted = event.muted  # kept for a render process started later
        if self.handle is None:
            return
        if isinstance(event, AskSuds):
            self.handle.ask_suds(event.question)
        elif isinstance(event, SceneEvent):
            self.handle.scene_event(event.name)
        elif isinstance(event, Recentre) and event.by == "clinician":
            self.handle.recentre()  # the client's own recentre was done in the headset
        elif isinstance(event, CoachLine) and self.coach is not None:
            self.handle.coach_say(self.coach.say_for(event))
            if event.ask == "suds":
                self.handle.ask_suds(AskSuds().question)
            elif event.ask is not None:  # private questions on the panel, answered by pointing
                self.handle.ask_questions(questions_for(event.ask, event.level or state.level))
        elif isinstance(event, SceneSound):
            self.handle.set_scene_sound(event.muted)
        elif isinstance(event, CoachControl) and event.action == "mode" and event.mode:
            self.coach_mode = event.mode
            self.handle.coach_form(event.mode)

    # ------------------------------------------------------------------ each poll

    def pump(self) -> None:
        """Read what the render process said, keep it alive, restart it if it failed."""
        now = self.clock()
        if self._restart_at is not None:
            if now >= self._restart_at:
                self._restart_at = None
                self.start()
            return
        if self.handle is None or self.headset_down:
            return
        for message in self.handle.poll():
            self._take(message, now)
        fault = self._fault(now)
        if fault is not None:
            self._failed(fault, now)
            return
        if now - self._last_sent >= HEARTBEAT_S:
            self._send(self._target)

    def _take(self, message: FromRender, now: float) -> None:
        if self.on_message is not None:
            self.on_message(message)
        if isinstance(message, Frames):
            self._last_frames = now
            self.scene_sound_heard = message.scene_sound_muted
            self.frames = frame_summary(message)
            self.live.publish({"kind": "frames", "data": self.frames})
        elif isinstance(message, FrameEffect):
            self._last_frames = now
        elif isinstance(message, GazeSummary):
            self.live.submit(
                Gaze(
                    t=0.0,
                    on_stimulus=message.on_stimulus,
                    distance_m=message.distance_m,
                    head_speed_dps=message.head_speed_dps,
                    valid=message.valid,
                )
            )
        elif isinstance(message, ClientInput) and message.event.get("type") == "panel":
            try:
                answered = answer_event(message.event, self.live.state.phase)
            except AnswerError as err:  # never from our own render process; never fatal
                log.warning("ignored panel answers %r: %s", message.event, err)
                return
            self.live.submit(answered)
        elif isinstance(message, ClientInput):
            try:
                event = parse_event({**message.event, "t": 0.0})
            except ValidationError as err:  # never from our own render process; never fatal
                log.warning("ignored client input %r: %s", message.event, err)
                return
            self.live.submit(event)
        elif isinstance(message, Thumbnail):
            self.thumbnail_jpeg = encode_jpeg(message)
        elif isinstance(message, Ready):
            self.ready = message
            self._resume_coach()
        elif isinstance(message, SceneFailed):
            self._system("scene_failed", f"{message.scene}: {message.error}")
        elif isinstance(message, UnknownScene):
            self._system("scene_failed", f"{message.scene}: not a scene on this station")
        elif isinstance(message, WatchdogTripped):
            self._system("render_watchdog", f"after {message.silent_s:.1f} s of silence")
        elif isinstance(message, StartFailed):
            self._start_failure = message.message
        elif isinstance(message, SceneSoundApplied):
            self.scene_sound_heard = message.muted
        elif isinstance(message, CoachSpoke):
            self.coach_spoke = message
            self.live.publish(
                {"kind": "coach_spoke", "data": {"text": message.text, "sound": message.sound}}
            )

    def _resume_coach(self) -> None:
        """A render process just started (with the coach's form): say the coach's latest line
        again if it is still recent (the welcome is said as the session opens, before any
        headset is up)."""
        coach = self.live.coach
        if self.coach is None or coach is None or self.handle is None or not coach.said:
            return
        last = coach.said[-1]
        if self.live.now() - last.t <= RESUME_LINE_S:
            self.handle.coach_say(self.coach.say_for(last))

    def _fault(self, now: float) -> str | None:
        """Why the render process must be replaced now, or None while it is well."""
        assert self.handle is not None
        if not self.handle.alive():
            if self._exited_at is None:
                self._exited_at = now
            if not self.handle.drained() and now - self._exited_at < EXIT_DRAIN_S:
                return None  # read its last messages first: they may say why it stopped
            return self._start_failure or f"it exited with code {self.handle.exitcode}"
        if self._last_frames is None:
            if now - self._started_at > self.start_timeout_s:
                return f"no frame within {self.start_timeout_s:g} s of its start"
            return None
        silent = now - self._last_frames
        if silent > self.frame_timeout_s:
            return f"no frames for {silent:.1f} s"
        return None

    def _failed(self, reason: str, now: float) -> None:
        """Kill the render process; restart it after the policy's delay, or give up."""
        assert self.handle is not None
        log.warning("render process %s failed: %s", self.handle.pid, reason)
        self.handle.kill()  # it stays `handle` (not alive) until a new one replaces it
        self.ready = None
        self.frames = {}
        self.scene_sound_heard = None
        delay = self.restart_policy.next_delay(now)
        if delay is None:
            self.headset_down = True
            policy = self.restart_policy
            self._system(
                "headset_down",
                f"{reason}; {policy.max_restarts} restarts within {policy.window_s / 60:g} min",
            )
            return
        self.restarts += 1
        self._restart_at = now + delay
        # the core moves to the safe scene: that target waits for the new render process
        self._system("render_restarted", f"{reason}; restart {self.restarts} after {delay:g} s")

    def _system(self, kind: SystemKind, detail: str) -> None:
        self.live.submit(SystemEvent(t=0.0, kind=kind, detail=detail))


def frame_summary(frames: Frames) -> dict[str, Any]:
    """A frame report for the console: every field but the raw intervals, plus their p99."""
    times = sorted(frames.times_ms or (0.0,))
    summary = {f.name: getattr(frames, f.name) for f in fields(frames) if f.name != "times_ms"}
    summary["p99_ms"] = round(times[min(len(times) - 1, int(len(times) * 0.99))], 2)
    return summary


def encode_jpeg(thumbnail: Thumbnail) -> bytes:
    """Raw RGB rows from the render process to a JPEG, here and never in the render loop."""
    from PIL import Image  # heavy: loaded only when a picture of the client's view arrives

    image = Image.frombytes("RGB", (thumbnail.width, thumbnail.height), thumbnail.rgb)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()
