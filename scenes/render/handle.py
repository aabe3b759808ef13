"""The control side of a render process: start it, send it targets, read what it says.

Nothing here waits on the pipe. Messages out go through a writer thread that keeps only the
latest pending target (a heartbeat superseded by a newer target is dropped; a safe target never
is), and messages in are read by a reader thread into a short queue. A render process that stops
reading (stopped, or stuck in a scene's endless loop) therefore never freezes the caller:
`send_target` returns at once, whatever the pipe is doing.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import queue
import select
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from exposure.constants import SAFE_SCENE
from exposure.errors import UserError
from scenes.pose import PoseScript
from scenes.render.config import DEFAULT_TRANSITION_S, WATCHDOG_S, RenderConfig
from scenes.render.messages import (
    CoachForm,
    CoachSay,
    FromRender,
    OpenQuestions,
    OpenSudsPanel,
    Ping,
    PressKey,
    Ready,
    Recentre,
    SceneLevels,
    SetSceneSound,
    StartFailed,
    Stop,
    Target,
    ToRender,
    TriggerSceneEvent,
)

INBOX_SIZE = 32
"""Messages from the render process read ahead of `poll`. When the caller stops polling, the
reader stops reading, the pipe fills, and the render process drops its bulk reports (frames,
thumbnails) instead of queueing them without end; nothing else is lost."""
OUTBOX_LIMIT = 256
"""Messages other than targets waiting for a render process that does not read (then dropped)."""


class RenderError(UserError):
    """The render process could not start or stopped; the message says why in one sentence."""


class _Writer:
    """Sends control -> render messages from a thread, in order, so the caller never waits.

    Pending targets that are not safe are one slot: a newer target replaces an older one that
    was not sent yet (a superseded heartbeat is worthless). A safe target queues in order with
    the other messages and clears the slot (the older target must not follow it); it is only
    ever replaced by an identical safe target (its own heartbeat).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._cond = threading.Condition()
        self._queue: collections.deque[ToRender] = collections.deque()
        self._target: Target | None = None
        self._closing = False
        self.sending_since: float | None = None
        """When the pipe write under way began (None when idle): long ago means the pipe is full."""
        self.superseded = 0
        self.dropped = 0
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="vret-render-writer", daemon=True)
        self._thread.start()

    def target(self, target: Target) -> None:
        with self._cond:
            direct = self._may_send_now()
        if direct:  # nothing waits and the pipe has room: no hop through the thread
            self._send_now(target)
            return
        with self._cond:
            if target.safe:
                if self._target is not None:
                    self._target = None
                    self.superseded += 1
                last = self._queue[-1] if self._queue else None
                if (
                    isinstance(last, Target)
                    and last.safe
                    and (last.scene, last.intensity) == (target.scene, target.intensity)
                ):
                    self._queue[-1] = target
                    self.superseded += 1
                else:
                    self._queue.append(target)
            else:
                if self._target is not None:
                    self.superseded += 1
                self._target = target
            self._cond.notify()

    def _may_send_now(self) -> bool:
        """With the lock held: True (and the pipe is ours) when a send cannot wait or overtake.

        Idle writer, nothing pending, and the pipe writable: a small message (a pickled target
        is well under PIPE_BUF) then goes in one write that cannot block. This spares a target
        the hand-off to the writer thread, which waits for the GIL while the loop runs on.
        """
        if self._queue or self._target is not None or self.sending_since is not None:
            return False
        if self._closing or self.broken or not _writable(self._conn):
            return False
        self.sending_since = time.monotonic()
        return True

    def _send_now(self, msg: ToRender) -> None:
        try:
            self._conn.send(msg)
        except (OSError, EOFError, ValueError):
            self.broken = True
        finally:
            with self._cond:
                self.sending_since = None
                self._cond.notify()

    def put(self, msg: ToRender) -> bool:
        with self._cond:
            if len(self._queue) >= OUTBOX_LIMIT and not isinstance(msg, Stop):
                self.dropped += 1
                return False
            self._queue.append(msg)
            self._cond.notify()
            return True

    def close(self) -> None:
        """Send nothing more: the thread ends (at once if idle, or when its write fails)."""
        with self._cond:
            self._closing = True
            self._queue.clear()
            self._target = None
            self._cond.notify()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _next(self) -> ToRender | None:
        with self._cond:
            while (
                not self._queue and self._target is None or self.sending_since is not None
            ) and not self._closing:
                self._cond.wait()  # nothing to send, or the caller is sending one itself
            if self._closing:
                return None
            msg: ToRender
            if self._queue:
                msg = self._queue.popleft()
            else:
                assert self._target is not None
                msg, self._target = self._target, None
            self.sending_since = time.monotonic()
            return msg

    def _run(self) -> None:
        while True:
            msg = self._next()
            if msg is None:
                return
            try:
                self._conn.send(msg)
            except (OSError, EOFError, ValueError):
                self.broken = True
                return
            finally:
                self.sending_since = None
            if isinstance(msg, Stop):
                return


class _Reader:
    """Reads render -> control messages in a thread into a short queue (`INBOX_SIZE`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.inbox: queue.Queue[FromRender] = queue.Queue(INBOX_SIZE)
        self.done = threading.Event()
        """Set when the pipe has closed (the render process ended) and everything was read."""
        self.started = threading.Event()
        """Set when the render process said Ready: its loop reads the pipe from then on."""
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="vret-render-reader", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing = True

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._closing:
                try:
                    msg = self._conn.recv()
                except (EOFError, OSError):
                    return
                if isinstance(msg, Ready):
                    self.started.set()
                while not self._closing:
                    try:
                        self.inbox.put(msg, timeout=0.1)
                        break
                    except queue.Full:
                        continue  # the caller is not polling: leave the rest in the pipe
        except Exception:  # a message that cannot be unpickled: the link is broken
            return
        finally:
            self.done.set()


class RenderHandle:
    """The control side of a running render process; no method waits on the pipe.

    `send_target`, `ask_suds`, `scene_event`, `press`, `recentre`, `set_scene_sound`, `ping`
    and `poll` return at once;
    `wait_ready` and `stop` wait (for the process, never for the pipe); `kill` does not.
    """

    def __init__(self, process: Any, conn: Connection, config: RenderConfig) -> None:
        self._process = process
        self._conn = conn
        self.config = config
        self._seq = 0
        self._early: list[FromRender] = []
        self._writer = _Writer(conn)
        self._reader = _Reader(conn)
        self._finished = False

    @property
    def pid(self) -> int | None:
        return int(self._process.pid) if self._process.pid is not None else None

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def send_target(self, scene: str, intensity: float, safe: bool = False) -> int:
        """Send the latest scene target (also the heartbeat); returns its sequence number."""
        self._seq += 1
        self._writer.target(
            Target(
                seq=self._seq,
                scene=scene,
                intensity=float(intensity),
                safe=bool(safe),
                t_sent=time.monotonic(),
            )
        )
        return self._seq

    def ask_suds(self, question: str) -> None:
        """Open the SUDS rating panel in the headset with the therapist's question."""
        self._writer.put(OpenSudsPanel(question=question))

    def coach_say(self, say: CoachSay) -> None:
        """Caption and play a coach line in the headset (its sound is a file made ahead)."""
        self._writer.put(say)

    def ask_questions(self, questions: OpenQuestions) -> None:
        """Open the panel in the headset with a run of private questions."""
        self._writer.put(questions)

    def coach_form(self, mode: str) -> None:
        """Show the coach as a person, a voice (a soft light), or not at all (off)."""
        self._writer.put(CoachForm(mode=mode))

    def scene_event(self, name: str) -> None:
        """Trigger a scene event (see the scene's `events`)."""
        self._writer.put(TriggerSceneEvent(name=name))

    def press(self, key: str) -> None:
        """Press a client key in the render process as if on its keyboard (b, enter, 7, ...)."""
        self._writer.put(PressKey(key=key))

    def recentre(self) -> None:
        """Make the way the client faces now the scene's forward direction."""
        self._writer.put(Recentre())

    def set_scene_sound(self, muted: bool) -> None:
        """Mute the scene's sound in the headset, or turn it back on (not the coach's voice);
        the render process answers with `SceneSoundApplied`."""
        self._writer.put(SetSceneSound(muted=bool(muted)))

    def use_levels(self, scene: str, levels: Sequence[Mapping[str, float]]) -> None:
        """Draw `scene` with these levels from now on (sent before the targets that follow)."""
        pairs = tuple(tuple(sorted((k, float(v)) for k, v in lv.items())) for lv in levels)
        self._writer.put(SceneLevels(scene=scene, levels=pairs))

    def ping(self) -> None:
        """A heartbeat without a target."""
        self._writer.put(Ping())

    def send_blocked_s(self) -> float:
        """How long the pipe write under way has waited (0 when none): the render process is
        not reading when this grows."""
        since = self._writer.sending_since
        return max(0.0, time.monotonic() - since) if since is not None else 0.0

    @property
    def unread(self) -> int:
        """Messages read from the pipe ahead of `poll` (at most INBOX_SIZE: when it is full, the
        pipe behind it fills and the render process drops its bulk reports)."""
        return self._reader.inbox.qsize()

    def poll(self) -> list[FromRender]:
        """Every message waiting from the render process, oldest first; never blocks.

        See `scenes.render.messages` for what each message holds.
        """
        out, self._early = self._early, []
        inbox = self._reader.inbox
        while True:
            try:
                out.append(inbox.get_nowait())
            except queue.Empty:
                return out

    def wait_ready(self, timeout: float = 60.0) -> Ready:
        """Block until the render process has built its scenes; RenderError if it failed."""
        deadline = time.monotonic() + timeout
        inbox = self._reader.inbox
        while time.monotonic() < deadline:
            try:
                msg = inbox.get(timeout=0.05)
            except queue.Empty:
                if self._reader.done.is_set() and inbox.empty():
                    self._process.join(5)
                    raise RenderError(
                        f"The render process stopped while starting (exit code "
                        f"{self._process.exitcode}): run `vret scenes check` to find a broken "
                        "scene."
                    ) from None
                continue
            if isinstance(msg, Ready):
                return msg
            if isinstance(msg, StartFailed):
                self._process.join(5)
                raise RenderError(msg.message)
            self._early.append(msg)
        raise RenderError(f"The render process did not start within {timeout:g} s.")

    def alive(self) -> bool:
        return bool(self._process.is_alive())

    def drained(self) -> bool:
        """The pipe has closed and every message the render process sent has been polled."""
        return self._reader.done.is_set() and self._reader.inbox.empty() and not self._early

    def stop(self, timeout: float = 5.0) -> int | None:
        """Ask the render process to stop, then make sure it has; returns its exit code.

        One still starting (importing, building its scenes) reads no pipe yet and has nothing
        to finish: it is terminated at once rather than waited on for `timeout`.
        """
        self._writer.put(Stop())
        if self._reader.started.is_set():
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        self._finish(timeout=1.0)
        return self._process.exitcode

    def kill(self) -> None:
        """SIGKILL the render process (a stopped or hung one too) and return at once.

        The pipe threads end when the process is gone; a daemon thread reaps it and closes
        the pipe, so the caller never waits.
        """
        with contextlib.suppress(OSError, ValueError):
            self._process.kill()
        self._writer.close()
        threading.Thread(
            target=self._finish, kwargs={"timeout": 5.0}, name="vret-render-reaper", daemon=True
        ).start()

    def _finish(self, timeout: float) -> None:
        """The process has ended (or been killed): end the pipe threads, close the pipe."""
        if self._finished:
            return
        self._finished = True
        self._process.join(timeout)
        self._writer.close()
        self._reader.close()
        self._writer.join(timeout)
        self._reader.join(timeout)
        with contextlib.suppress(OSError):
            self._conn.close()


def _render_main(conn: Connection, config: RenderConfig) -> None:
    """The render process's entry point (a module-level function, so spawn can find it)."""
    from scenes.render.loop import main  # Panda3D: loaded in the render process only

    main(conn, config)


def start_render(
    display: str = "offscreen",
    size: tuple[int, int] = (640, 480),
    frame_rate: float = 90.0,
    transition_s: float = DEFAULT_TRANSITION_S,
    thumbnail_hz: float = 4.0,
    thumbnail_size: tuple[int, int] = (160, 120),
    watchdog_s: float = WATCHDOG_S,
    safe_scene: str = SAFE_SCENE,
    scenes: Sequence[str] | None = None,
    pipe: str | None = None,
    openvr_module: str = "openvr",
    audio: bool = False,
    scene_dirs: Sequence[str] | None = None,
    pose_script: PoseScript | None = None,
    scene_levels: Mapping[str, Sequence[Mapping[str, float]]] | None = None,
    coach: str = "person",
) -> RenderHandle:
    """Start the render process (multiprocessing, spawn) and return its handle at once.

    `frame_rate` is the frame limit (the display's refresh rate; 0 asks the display for it);
    in a headset the compositor paces the loop instead. It starts in the safe scene. `scenes`
    limits which scenes are built up front (default: all; the safe scene always is);
    `thumbnail_hz` 0 sends no thumbnails; `pipe` picks the graphics pipe ("tiny", "gl", "egl");
    `scene_dirs` replaces the scene library folders; `pose_script` moves the client's head
    (tests, demos; without it head tracking comes from the headset or the window's mouse and
    keys, or there is none offscreen); `scene_levels` gives a scene the session's own ladder
    (a client's hierarchy: each level's parameters), drawn instead of the scene's stock levels.
    Call `handle.wait_ready()` to wait until the first frame can be drawn.
    """
    config = RenderConfig(
        display=display,
        size=(int(size[0]), int(size[1])),
        frame_rate=float(frame_rate),
        transition_s=float(transition_s),
        thumbnail_hz=float(thumbnail_hz),
        thumbnail_size=(int(thumbnail_size[0]), int(thumbnail_size[1])),
        watchdog_s=float(watchdog_s),
        safe_scene=safe_scene,
        scenes=tuple(scenes) if scenes is not None else None,
        pipe=pipe,
        openvr_module=openvr_module,
        audio=audio,
        scene_dirs=tuple(str(d) for d in scene_dirs) if scene_dirs is not None else None,
        pose_script=pose_script,
        scene_levels=tuple(
            (name, tuple(tuple(sorted(lv.items())) for lv in levels))
            for name, levels in (scene_levels or {}).items()
        ),
        coach=coach,
    )
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=True)
    process = ctx.Process(
        target=_render_main, args=(theirs, config), name="vret-render", daemon=True
    )
    process.start()
    theirs.close()
    return RenderHandle(process, ours, config)


def _writable(conn: Connection) -> bool:
    """True when the pipe takes a write at once (Linux: at least a page free)."""
    try:
        return bool(select.select([], [conn.fileno()], [], 0)[1])
    except (OSError, ValueError):
        return False
