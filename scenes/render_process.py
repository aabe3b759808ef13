"""The render process: the Panda3D loop, alone in its own process, fed through a pipe.

The control process calls `start_render(...)` and gets a `RenderHandle`. Each frame the render
process polls (never blocks on) the pipe for the latest scene target, eases the scene toward it
over `transition_s` seconds, and now and then sends back frame times, client input, a small image
of the client's view and the frame each target first showed in. If nothing arrives for more than
`watchdog_s` seconds it fades to the safe scene by itself. It never decides exposure.

Control -> render messages are tuples (cheap to pickle):
    ("target", seq, scene, intensity, safe, t_sent)   the latest target; also the heartbeat
    ("ask_suds", question)                              open the SUDS panel in the headset
    ("scene_event", name)                               a therapist-triggered scene event
    ("key", name)                                       a client key press (tests, demos)
    ("ping",)                                           a heartbeat without a target
    ("stop",)
Render -> control messages are plain dicts; see `RenderHandle.poll`.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import queue
import sys
import threading
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from scenes.api import smoothstep

DEFAULT_TRANSITION_S = 3.0
"""Seconds to ease from one level to the next (comfort: no jumps)."""
WATCHDOG_S = 1.0
"""Silence from the control process longer than this fades to the safe scene."""
FRAME_REPORT_HZ = 2.0
LATE_FACTOR = 1.5
"""A frame is late when its interval exceeds 1.5 frame budgets (it missed a refresh)."""
BREAK_HOLD_S = 2.0
"""After the client's break, targets that are not safe are ignored this long (the control
process may still be resending the old target before it has read the break)."""
ORPHAN_EXIT_S = 60.0
"""With the control process gone (pipe closed), keep the safe scene this long, then exit."""
CUT_FADE_FROM = 0.5
"""A cut to the safe scene (panic, break) starts at this brightness and brightens in 0.5 s."""


@dataclass(frozen=True)
class RenderConfig:
    """Everything the render process needs; pickled into the spawned process."""

    display: str = "offscreen"
    size: tuple[int, int] = (640, 480)
    frame_rate: float = 90.0
    transition_s: float = DEFAULT_TRANSITION_S
    thumbnail_hz: float = 4.0
    thumbnail_size: tuple[int, int] = (160, 120)
    watchdog_s: float = WATCHDOG_S
    safe_scene: str = "safe_place"
    scenes: tuple[str, ...] | None = None
    pipe: str | None = None
    openvr_module: str = "openvr"
    audio: bool = False
    scene_dirs: tuple[str, ...] | None = field(default=None)


class RenderError(RuntimeError):
    """The render process could not start or stopped; the message says why in one sentence."""


class RenderHandle:
    """The control side of a running render process."""

    def __init__(self, process: Any, conn: Connection, config: RenderConfig) -> None:
        self._process = process
        self._conn = conn
        self.config = config
        self._seq = 0
        self._closed = False
        self._early: list[dict[str, Any]] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def _send(self, msg: tuple[Any, ...]) -> bool:
        if self._closed:
            return False
        try:
            self._conn.send(msg)
            return True
        except (OSError, EOFError, ValueError):
            self._closed = True
            return False

    def send_target(self, scene: str, intensity: float, safe: bool = False) -> int:
        """Send the latest scene target (also the heartbeat); returns its sequence number."""
        self._seq += 1
        self._send(("target", self._seq, scene, float(intensity), bool(safe), time.monotonic()))
        return self._seq

    def ask_suds(self, question: str) -> None:
        """Open the SUDS rating panel in the headset with the therapist's question."""
        self._send(("ask_suds", question))

    def scene_event(self, name: str) -> None:
        """Trigger a scene event (see the scene's `events`)."""
        self._send(("scene_event", name))

    def press(self, key: str) -> None:
        """Press a client key in the render process as if on its keyboard (b, enter, 7, ...)."""
        self._send(("key", key))

    def ping(self) -> None:
        """A heartbeat without a target."""
        self._send(("ping",))

    def poll(self) -> list[dict[str, Any]]:
        """Every message waiting from the render process, oldest first; never blocks.

        {"type": "ready", "display": str, "size": [w, h], "scenes": [names], "pid": int,
         "pipe": "tiny" | "gl" | "egl", "renderer": str, "frame_rate": float,
         "priority": "SCHED_FIFO 10" | "nice -10" | "normal"}
        {"type": "frames", "times_ms": [float], "late": int, "budget_ms": float, "fps": float,
         "scene": str, "intensity": float, "fade": float, "target_seq": int,
         "head": [x, y, z, h, p, r], "watchdog": bool, "dropped": int}    about 2 per second
        {"type": "frame_effect", "target_seq": int, "frame": int, "t_sent": float,
         "t_received": float, "t_drawn": float, "scene": str, "fade": float}
                  the first frame drawn with that target begun: its scene and brightness
                  (times: time.monotonic(), the same clock in both processes)
        {"type": "thumbnail", "width": w, "height": h, "rgb": bytes}   top row first
        {"type": "client", "event": {"type": "safe", "by": "client"}}
        {"type": "client", "event": {"type": "suds", "value": int, "by": "client"}}
        {"type": "watchdog", "silent_s": float} / {"type": "watchdog", "recovered": True}
        {"type": "error", "message": str}   while starting: it could not start, and exits;
                  later: an unknown scene, or a scene that raised (with "scene"), after
                  which that scene is never shown again and the client sees the safe scene
        """
        out, self._early = self._early, []
        if self._closed:
            return out
        try:
            while self._conn.poll():
                out.append(self._conn.recv())
        except (EOFError, OSError):
            self._closed = True
        return out

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the render process has built its scenes; RenderError if it failed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._closed and self._conn.poll(0.05):
                try:
                    msg = self._conn.recv()
                except (EOFError, OSError):
                    self._closed = True
                    continue
                if msg.get("type") == "ready":
                    return msg
                if msg.get("type") == "error":
                    self._process.join(5)
                    raise RenderError(msg["message"])
                self._early.append(msg)
            elif not self._process.is_alive() or self._closed:
                raise RenderError(
                    f"The render process stopped while starting (exit code "
                    f"{self._process.exitcode}): run `vret scenes check` to find a broken scene."
                )
        raise RenderError(f"The render process did not start within {timeout:g} s.")

    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self, timeout: float = 5.0) -> int | None:
        """Ask the render process to stop, then make sure it has; returns its exit code."""
        self._send(("stop",))
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        with contextlib.suppress(OSError):
            self._conn.close()
        self._closed = True
        return self._process.exitcode


def start_render(
    display: str = "offscreen",
    size: tuple[int, int] = (640, 480),
    frame_rate: float = 90.0,
    transition_s: float = DEFAULT_TRANSITION_S,
    thumbnail_hz: float = 4.0,
    thumbnail_size: tuple[int, int] = (160, 120),
    watchdog_s: float = WATCHDOG_S,
    safe_scene: str = "safe_place",
    scenes: Sequence[str] | None = None,
    pipe: str | None = None,
    openvr_module: str = "openvr",
    audio: bool = False,
    scene_dirs: Sequence[str] | None = None,
) -> RenderHandle:
    """Start the render process (multiprocessing, spawn) and return its handle at once.

    `frame_rate` is the frame limit (the display's refresh rate; 0 asks the display for it);
    in a headset the compositor paces the loop instead. It starts in the safe scene. `scenes`
    limits which scenes are built up front (default: all; the safe scene always is);
    `thumbnail_hz` 0 sends no thumbnails; `pipe` picks the graphics pipe ("tiny", "gl", "egl");
    `scene_dirs` replaces the scene library folders. Call `handle.wait_ready()` to wait until
    the first frame can be drawn.
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
    )
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_main, args=(theirs, config), name="vret-render", daemon=True)
    process.start()
    theirs.close()
    return RenderHandle(process, ours, config)


class Outbox:
    """Sends render -> control messages from a small thread, so the frame loop never blocks.

    If the control process stops reading, the pipe fills; then bulk messages (frame times,
    thumbnails) beyond `bulk_limit` waiting are dropped and counted, while client input,
    watchdog and frame-effect messages (small, one per target) still queue.
    """

    def __init__(self, conn: Connection, bulk_limit: int = 8) -> None:
        self.conn = conn
        self.bulk_limit = bulk_limit
        self.bulk_waiting = 0
        self.dropped = 0
        self.broken = False
        self._queue: queue.SimpleQueue[tuple[Any, bool]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="vret-outbox", daemon=True)
        self._thread.start()

    def send(self, msg: dict[str, Any], bulk: bool = False) -> None:
        if self.broken:
            return
        if bulk:
            with self._lock:
                if self.bulk_waiting >= self.bulk_limit:
                    self.dropped += 1
                    return
                self.bulk_waiting += 1
        self._queue.put((msg, bulk))

    def _run(self) -> None:
        while True:
            msg, bulk = self._queue.get()
            if msg is None:
                return
            try:
                if not self.broken:
                    self.conn.send(msg)
            except (OSError, EOFError, ValueError):
                self.broken = True
            finally:
                if bulk:
                    with self._lock:
                        self.bulk_waiting -= 1

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (up to `timeout`), then stop the thread."""
        self._queue.put((None, False))
        self._thread.join(timeout)


RENDER_RT_PRIORITY = 10
"""Real-time (SCHED_FIFO) priority asked for the render process, low in the 1-99 range: late
frames make clients sick, so on a busy machine a frame comes before the control process's bulk
work (records, console). The loop sleeps every frame, and the kernel keeps 5% of each second
for other work even if it did not, so the rest of the machine still runs."""
RENDER_NICE = -10
"""Where real-time scheduling is not allowed, a higher ordinary priority."""
_PRIORITY = "normal"


def _raise_priority() -> str:
    """Ask for SCHED_FIFO, else RENDER_NICE; where neither is allowed keep ours. Says which."""
    import os

    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RENDER_RT_PRIORITY))
        return f"SCHED_FIFO {RENDER_RT_PRIORITY}"
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, RENDER_NICE)
        return f"nice {RENDER_NICE}"
    except (AttributeError, OSError):
        return "normal"


def _main(conn: Connection, config: RenderConfig) -> None:
    """Entry point of the render process."""
    from scenes.openvr_display import DisplayUnavailable

    global _PRIORITY
    _PRIORITY = _raise_priority()
    try:
        loop = RenderLoop(conn, config)
    except (DisplayUnavailable, RuntimeError, KeyError, ValueError) as err:
        message = str(err).strip('"') if not isinstance(err, KeyError) else str(err.args[0])
        _fail(conn, message)
    except Exception as err:  # anything else: still one sentence, never a silent exit
        _fail(conn, f"The render process failed to start ({type(err).__name__}: {err}).")
    loop.run()


def _fail(conn: Connection, message: str) -> NoReturn:
    """Tell the control side why the render process cannot start, then exit (code 2)."""
    try:
        conn.send({"type": "error", "message": message})
    finally:
        conn.close()
    sys.exit(2)


class RenderLoop:
    """One ShowBase, the built scenes, the easing state and the pipe; runs until "stop"."""

    def __init__(self, conn: Connection, config: RenderConfig) -> None:
        from pathlib import Path

        from scenes.registry import discover
        from scenes.stage import FAR_M, NEAR_M, Stage, configure, make_base

        self.conn = conn
        self.outbox = Outbox(conn)
        self.cfg = config
        vr = config.display == "openvr"
        ovr = None
        if vr:
            from scenes.openvr_display import load_openvr

            ovr = load_openvr(config.openvr_module)  # fails fast, before any window opens
        # Frames are paced here, after each frame is drawn (see `_pace`), not by Panda3D's
        # limited clock, which sleeps inside renderFrame before the frame's end can be timed.
        self.pipe_name = configure(
            config.display,
            config.size,
            None,
            pipe=config.pipe if config.pipe else ("gl" if vr else None),
            audio=config.audio,
            title="vret - client view",
        )
        dirs = [Path(d) for d in config.scene_dirs] if config.scene_dirs is not None else None
        self.infos, problems = discover(dirs)
        if config.safe_scene not in self.infos:
            reason = next((str(p) for p in problems if p.name == config.safe_scene), "not found")
            raise RuntimeError(f"The safe scene {config.safe_scene!r} cannot be loaded ({reason}).")
        self.base = make_base()
        rate = config.frame_rate
        if rate <= 0 and not vr:  # 0: the display's own refresh rate, where it reports one
            rate = _refresh_rate(self.base) or 60.0
        self.rate = rate if rate > 0 else 90.0
        self.pace = not vr  # in VR the compositor paces the frames (waitGetPoses)
        self.deadline = 0.0
        self.stage = Stage(self.base)
        try:
            self.stage.build(self.infos[config.safe_scene])
        except Exception as err:  # without a safe scene there is nothing safe to show
            raise RuntimeError(
                f"The safe scene {config.safe_scene!r} failed to build ({type(err).__name__}: "
                f"{err}): run `vret scenes check {config.safe_scene}`."
            ) from err
        self.failed_scenes: dict[str, str] = {}
        self._startup_failures: list[tuple[str, Exception]] = []
        wanted = config.scenes if config.scenes is not None else tuple(self.infos)
        for name in wanted:
            if name in self.infos and name not in self.stage.scenes:
                try:
                    self.stage.build(self.infos[name])
                except Exception as err:  # one broken scene must not keep the others off
                    self._startup_failures.append((name, err))
        self.display: Any = None
        if vr:
            from scenes.openvr_display import OpenVRDisplay

            self.stage.head.setPosHpr(0, 0, 0, 0, 0, 0)  # the headset reports its own height
            self.stage.track_gaze = False
            self.display = OpenVRDisplay(self.base, self.stage.head, ovr, NEAR_M, FAR_M)
            self.stage.outputs.extend(self.display.outputs)

        from scenes.client_input import ClientInput

        self.client = ClientInput(
            self.base, self.stage.head, self._emit_client, self._client_break, vr=vr
        )
        self._setup_thumbnail()

        # what the control process asked for
        self.seq = 0
        self.target_scene = config.safe_scene
        self.target_level = 0.0
        self.target_safe = True
        # what is on show
        self.stage.show(config.safe_scene)
        self.shown = config.safe_scene
        self.value = 0.0
        self.ease_from = 0.0
        self.ease_to = 0.0
        self.ease_t0 = 0.0
        self.fade = 1.0
        self.fade_dir = 0
        self.fade_s = max(0.2, min(1.0, config.transition_s / 2))
        self.pending_scene: str | None = None
        self.stage.set_fade(1.0)
        # watchdog, break hold, pipe state
        now = time.monotonic()
        self.last_heard = now
        self.tripped = False
        self.hold_until = 0.0
        self.pipe_gone_at: float | None = None
        self.stopping = False
        # frame timing (a ring of intervals, reported at a low rate)
        self.budget = 1.0 / self.rate
        self.ring = array("d", bytes(8 * 512))
        self.ring_n = 0
        self.frame_no = 0
        self.last_frame_t = 0.0
        self.next_report = now + 1.0 / FRAME_REPORT_HZ
        self.effect_seq = 0
        self.effect_sent = 0.0
        self.effect_received = 0.0
        self.thumb_due = now
        self.thumb_pending = False
        self._unknown_reported: set[str] = set()

        tm = self.base.taskMgr
        if self.display is not None:
            tm.add(self._poses_task, "vret-poses", sort=-100)
        tm.add(self._frame_task, "vret-frame", sort=0)
        tm.add(self._after_task, "vret-after-render", sort=60)
        self._send(
            {
                "type": "ready",
                "display": config.display,
                "size": [self.base.win.getXSize(), self.base.win.getYSize()],
                "scenes": sorted(self.stage.scenes),
                "pid": _pid(),
                "pipe": self.pipe_name,
                "renderer": _renderer(self.base),
                "priority": _PRIORITY,
                "frame_rate": round(self.rate, 3),
            }
        )
        for name, failure in self._startup_failures:
            self._scene_failed(name, failure)

    # ------------------------------------------------------------------ setup
    def _setup_thumbnail(self) -> None:
        from panda3d.core import PerspectiveLens, Texture

        from scenes.stage import FAR_M, NEAR_M, PREVIEW_FOV

        self.thumb_buffer = None
        if self.cfg.thumbnail_hz <= 0:
            return
        w, h = self.cfg.thumbnail_size
        self.thumb_tex = Texture("thumbnail")
        buf = self.base.win.makeTextureBuffer("thumbnail", w, h, self.thumb_tex, True)
        if buf is None:
            return
        lens = PerspectiveLens()
        lens.setFov(PREVIEW_FOV)
        lens.setAspectRatio(w / h)
        lens.setNearFar(NEAR_M, FAR_M)
        cam = self.base.makeCamera(buf, lens=lens)
        cam.reparentTo(self.stage.head)
        buf.setActive(False)
        self.thumb_buffer = buf
        self.stage.outputs.append(buf)
        self.thumb_period = 1.0 / self.cfg.thumbnail_hz

    def run(self) -> None:
        import gc

        gc.collect()
        gc.freeze()  # what was built before the first frame is never scanned again by the GC
        try:
            self.base.run()
        except SystemExit:
            pass
        finally:
            if self.display is not None:
                self.display.close()
            self.outbox.close()

    # ------------------------------------------------------------------ pipe
    def _send(self, msg: dict[str, Any], bulk: bool = False) -> None:
        if self.pipe_gone_at is None:
            self.outbox.send(msg, bulk)

    def _emit_client(self, event: dict[str, Any]) -> None:
        self._send({"type": "client", "event": event})

    def _client_break(self) -> None:
        self.hold_until = time.monotonic() + BREAK_HOLD_S

    def _receive(self, now: float) -> None:
        conn = self.conn
        if self.pipe_gone_at is not None:
            return
        try:
            while conn.poll():
                msg = conn.recv()
                self.last_heard = now
                kind = msg[0]
                if kind == "target":
                    _, seq, scene, level, safe, t_sent = msg
                    self.seq = seq
                    self.effect_seq, self.effect_sent, self.effect_received = seq, t_sent, now
                    if not math.isfinite(level):
                        continue  # a broken number never reaches a scene
                    if safe:
                        self.hold_until = 0.0
                    self.target_scene, self.target_level, self.target_safe = scene, level, safe
                elif kind == "ask_suds":
                    self.client.ask(msg[1])
                elif kind == "scene_event":
                    if self.stage.current is not None:
                        self.stage.current.on_event(msg[1])
                elif kind == "key":
                    self.base.messenger.send(msg[1])
                elif kind == "stop":
                    self.stopping = True
        except (EOFError, OSError):
            self.pipe_gone_at = now
        if self.tripped and self.last_heard == now:
            self.tripped = False
            self._send({"type": "watchdog", "recovered": True})

    # ------------------------------------------------------------------ per frame
    def _poses_task(self, task: Any) -> int:
        self.display.wait_poses()
        return task.cont

    def _frame_task(self, task: Any) -> int:
        now = time.monotonic()
        dt = now - self.last_frame_t if self.last_frame_t else 0.0
        self.last_frame_t = now
        if self.frame_no:
            self.ring[self.ring_n % 512] = dt
            self.ring_n += 1
        self.frame_no += 1
        self._receive(now)
        if self.stopping:
            self.base.taskMgr.stop()
            return task.done
        if not self.tripped and now - self.last_heard > self.cfg.watchdog_s:
            self.tripped = True
            self._send({"type": "watchdog", "silent_s": round(now - self.last_heard, 3)})
        if self.pipe_gone_at is not None and now - self.pipe_gone_at > ORPHAN_EXIT_S:
            self.base.taskMgr.stop()
            return task.done
        self._update(now, min(dt, 0.1))
        if self.thumb_buffer is not None and now >= self.thumb_due:
            self.thumb_buffer.setActive(True)
            self.thumb_pending = True
            self.thumb_due = now + self.thumb_period
        return task.cont

    def _update(self, now: float, dt: float) -> None:
        cfg = self.cfg
        if self.tripped or self.pipe_gone_at is not None:
            scene, level, cut = cfg.safe_scene, 0.0, False
        elif now < self.hold_until:
            scene, level, cut = cfg.safe_scene, 0.0, True
        else:
            scene, level, cut = self.target_scene, self.target_level, self.target_safe
            if scene in self.failed_scenes:
                scene, level, cut = cfg.safe_scene, 0.0, True
            elif scene not in self.stage.scenes:
                scene = self._build_late(scene)
        stage = self.stage
        if scene != self.shown:
            if cut:
                self._switch(scene, level, CUT_FADE_FROM)
            elif self.pending_scene != scene:
                self.pending_scene = scene
                self.fade_dir = -1
        elif self.pending_scene is not None:  # changed back before the fade finished
            self.pending_scene = None
            self.fade_dir = 1
        fade = self.fade
        if self.fade_dir < 0:
            fade = max(0.0, fade - dt / self.fade_s)
            if fade <= 0.0 and self.pending_scene is not None:
                self._switch(self.pending_scene, level, 0.0)
                fade = 0.0
        elif self.fade_dir > 0:
            fade = min(1.0, fade + dt / self.fade_s)
            if fade >= 1.0:
                self.fade_dir = 0
        if fade != self.fade or stage.fade != fade:
            self.fade = fade
            stage.set_fade(fade)
        if scene == self.shown and level != self.ease_to:
            self.ease_from = self.value
            self.ease_to = level
            self.ease_t0 = now
        f = (now - self.ease_t0) / cfg.transition_s if cfg.transition_s > 0 else 1.0
        self.value = self.ease_from + (self.ease_to - self.ease_from) * smoothstep(f)
        try:
            stage.frame(self.value, dt)
        except Exception as err:  # a faulty scene must not take the client's view down
            if self.shown == cfg.safe_scene:
                raise
            self._scene_failed(self.shown, err)
            self._switch(cfg.safe_scene, 0.0, CUT_FADE_FROM)
            stage.frame(0.0, dt)

    def _switch(self, scene: str, level: float, fade_from: float) -> None:
        self.stage.show(scene)
        self.shown = scene
        self.pending_scene = None
        self.value = self.ease_from = self.ease_to = level
        self.fade = fade_from
        self.fade_dir = 1 if fade_from < 1.0 else 0
        self.stage.set_fade(fade_from)

    def _build_late(self, scene: str) -> str:
        """A scene that was not built up front: build it now (a hitch), or stay if unknown."""
        info = self.infos.get(scene)
        if info is None:
            if scene not in self._unknown_reported:
                self._unknown_reported.add(scene)
                self._send(
                    {
                        "type": "error",
                        "message": f"Unknown scene {scene!r}: run `vret "
                        "scenes list` to see the scenes this station has.",
                    }
                )
            return self.shown
        try:
            self.stage.build(info)
        except Exception as err:  # a scene that cannot build is reported, never shown
            self._scene_failed(scene, err)
            return self.cfg.safe_scene
        return scene

    def _scene_failed(self, scene: str, err: Exception) -> None:
        """Remember a scene that raised, tell the control side once; it is not shown again."""
        self.failed_scenes[scene] = f"{type(err).__name__}: {err}"
        self._send(
            {
                "type": "error",
                "scene": scene,
                "message": f"Scene {scene!r} failed ({self.failed_scenes[scene]}); the client sees the "
                f"safe scene: run `vret scenes check {scene}`.",
            }
        )

    def _after_task(self, task: Any) -> int:
        """After the frame is drawn: VR submit, frame-effect report, thumbnail, frame times."""
        now = time.monotonic()
        if self.display is not None:
            self.display.submit()
        if self.effect_seq:
            self._send(
                {
                    "type": "frame_effect",
                    "target_seq": self.effect_seq,
                    "frame": self.frame_no,
                    "t_sent": self.effect_sent,
                    "t_received": self.effect_received,
                    "t_drawn": now,
                    "scene": self.shown,
                    "fade": round(self.fade, 3),
                }
            )
            self.effect_seq = 0
        if self.thumb_pending and self.thumb_buffer is not None:
            self.thumb_pending = False
            self.thumb_buffer.setActive(False)
            self._send_thumbnail()
        if now >= self.next_report:
            self.next_report = now + 1.0 / FRAME_REPORT_HZ
            self._report_frames()
        if self.pace:
            self._pace()
        return task.cont

    def _pace(self) -> None:
        """Sleep (never spin) until this frame's deadline on a fixed grid of frame budgets.

        A frame that ran late is followed by a shorter wait, so the rate holds; after a stall
        longer than a frame the grid restarts from now rather than rushing frames to catch up.
        """
        now = time.monotonic()
        deadline = self.deadline + self.budget
        if deadline < now - self.budget:
            deadline = now
        self.deadline = deadline
        if deadline > now:
            time.sleep(deadline - now)

    def _send_thumbnail(self) -> None:
        import numpy as np

        tex = self.thumb_tex
        if not tex.hasRamImage():
            return
        w, h = tex.getXSize(), tex.getYSize()
        pixels = np.frombuffer(bytes(tex.getRamImageAs("RGB")), np.uint8).reshape(h, w, 3)
        self._send(
            {"type": "thumbnail", "width": w, "height": h, "rgb": pixels[::-1].tobytes()}, bulk=True
        )

    def _report_frames(self) -> None:
        n = min(self.ring_n, 512)
        start = self.ring_n - n
        times = [round(self.ring[(start + i) % 512] * 1000.0, 3) for i in range(n)]
        self.ring_n = 0
        budget_ms = self.budget * 1000.0
        late = sum(1 for t in times if budget_ms and t > budget_ms * LATE_FACTOR)
        mean = sum(times) / len(times) if times else 0.0
        head = self.stage.head
        pos, hpr = head.getPos(), head.getHpr()
        self._send(
            {
                "type": "frames",
                "times_ms": times,
                "late": late,
                "budget_ms": round(budget_ms, 3),
                "fps": round(1000.0 / mean, 2) if mean else 0.0,
                "scene": self.shown,
                "intensity": round(self.value, 4),
                "fade": round(self.fade, 3),
                "target_seq": self.seq,
                "watchdog": self.tripped,
                "head": [round(v, 4) for v in (pos[0], pos[1], pos[2], hpr[0], hpr[1], hpr[2])],
                "dropped": self.outbox.dropped,
            },
            bulk=True,
        )


def _refresh_rate(base: Any) -> float | None:
    """The refresh rate the display reports for its current mode, if it reports one."""
    info = base.pipe.getDisplayInformation() if base.pipe is not None else None
    if info is None:
        return None
    index = info.getCurrentDisplayModeIndex()
    if index < 0:
        return None
    rate = float(info.getDisplayModeRefreshRate(index))
    return rate if rate > 0 else None


def _renderer(base: Any) -> str:
    """What draws the frames, e.g. "TinyPanda" or "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    gsg = base.win.getGsg()
    name = gsg.getDriverRenderer() if gsg is not None else ""
    return name or base.pipe.getInterfaceName()


def _pid() -> int:
    import os

    return os.getpid()
