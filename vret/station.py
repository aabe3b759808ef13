"""The control process of a session: sensor thread -> core -> records, console and headset.

One asyncio loop owns everything that changes session state (the `LiveSession`). Around it:
- the sensor's blocking serial reads run in their own thread and hand readings to the loop;
- the console (FastAPI under uvicorn) serves on the same loop;
- the render process is a separate Panda3D process fed through a pipe, watched and restarted
  in the safe scene if it dies;
- every event is written to the records before the core sees it (write-ahead).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import FastAPI

from clinician_console.network import ConsoleNetwork
from clinician_console.server import (
    ConsoleAddressError,
    bind_socket,
    create_app,
    make_token,
    say_goodbye,
    serve,
)
from exposure.episodes import worth_recording
from exposure.errors import UserError
from exposure.live import LiveSession
from exposure.models import (
    CoachMode,
    ControlSettings,
    Effect,
    End,
    Event,
    Ladder,
    SceneTarget,
    SessionStart,
    SessionState,
    SystemEvent,
)
from scenes.pose import PoseScript
from scenes.registry import scene_events
from scenes.render.gaze import CLIENT_VIEW_FOV_DEG, GAZE_CONE_DEG
from vret.clinic import RecordsClinic
from vret.coach_voice import CoachDesk, CoachForms, CoachPlan, CoachSpeaker
from vret.record_writer import RecordWriter
from vret.records import Records, RecordsError, Status
from vret.render_link import RENDER_POLL_S, RenderLink
from vret.report import report_of
from vret.sensor_link import SensorLink

log = logging.getLogger(__name__)


class SessionError(UserError):
    """A session cannot start or go on; the message is one sentence with the fix."""


class ConsoleHost(Protocol):
    """A console that outlives sessions (`vret station`): it serves each session's app on its
    own address while the session runs, so a session binds no port of its own."""

    token: str
    port: int

    def attach(self, app: FastAPI) -> None:
        """Serve `app` (the session's console) from now on."""

    def detach(self, app: FastAPI) -> None:
        """Stop serving `app` (the session and its goodbye are over)."""


@dataclass
class SessionPlan:
    """Everything `vret session` and `vret demo` need to run one session."""

    client: str
    ladder: Ladder
    sensor: str
    protocol: str
    settings: ControlSettings = field(default_factory=ControlSettings)
    baudrate: int | None = None
    sample_rate: float | None = None
    display: str = "offscreen"
    size: tuple[int, int] = (1280, 720)
    host: str = "127.0.0.1"
    port: int = 8000
    db: str | None = None
    auto: bool = True
    duration_s: float | None = None
    token: str | None = None
    render: bool = True
    rate_limit_per_s: float = 5.0
    """Console commands a second before the console answers 429."""
    clock: Callable[[], float] = time.monotonic
    """The session clock (benchmarks run it faster than real time)."""
    tick_s: float = 0.25
    """Wall seconds between ticks of the core (stale signal and alert expiry checks)."""
    thumbnail_hz: float | None = None
    """Pictures of the client's view a second for the console (0: none). None: 4 with software
    rendering, 0 on a GPU (window, headset), where each read-back stalled the GPU for up to
    four frames (measured on an H100: `benchmarks/results/`), which a client would feel."""
    render_pipe: str | None = None
    """Panda3D graphics pipe for the render process ("tiny", "gl", "egl"); None picks."""
    on_ready: Callable[[Station], None] | None = None
    """Called once the console serves (tests and the demo hook in here)."""
    allowed_origins: frozenset[str] = frozenset()
    """Other sites whose pages may use the console (besides its own)."""
    notice: str | None = None
    """A line the console shows on top of its page (e.g. that the session is simulated)."""
    hierarchy_version: int | None = None
    """The version of the client's fear hierarchy `ladder` was made from (`vret.hierarchy`);
    recorded with the session. None: the scene's ladder or a ladder file."""
    network: ConsoleNetwork | None = None
    """The console's address, TLS and limits (from `--host`, `--tls`...); None: plain HTTP on
    `host`:`port` with `allowed_origins`, for code and tests on this computer."""
    record_kept: bool = True
    """False for a try-out whose record is deleted when it ends (`vret console --simulate`):
    the console then says so at the end instead of offering the report command."""
    pose_script: PoseScript | None = None
    """Scripted head poses (`--pose-script`; the demo's looks away now and then); None: head
    tracking from the headset, or the window's mouse and keys, or none offscreen."""
    console_host: ConsoleHost | None = None
    """The station's long-running console, which serves this session's (`vret station`);
    None: the session serves its own console on `network`."""
    handle_signals: bool = True
    """Ctrl-C and SIGTERM end the session (False where the station's process owns them)."""
    render_handle: Any = None
    """A render process already running with every scene built (the station's waiting room):
    the session takes it over instead of starting one, and leaves it running at the end
    (`Station.render_kept`); None: the session starts and stops its own."""
    coach: CoachPlan | None = None
    """The coach in the headset (`vret.coach_voice.CoachPlan`); None: no coach."""

    @property
    def console_network(self) -> ConsoleNetwork:
        if self.network is not None:
            return self.network
        return ConsoleNetwork(
            host=self.host, port=self.port, allowed_origins=tuple(sorted(self.allowed_origins))
        )


class Station:
    """One running session: the live core, its records, the links to sensor, headset and console."""

    def __init__(self, plan: SessionPlan) -> None:
        self.plan = plan
        self.speaker: CoachSpeaker | None = None
        coach = None
        if plan.coach is not None and plan.coach.mode != "off":
            # before the record opens: a missing script or voice fails with nothing to tidy up
            coach, self.speaker = plan.coach.assemble()
        self.records = Records(plan.db)
        self.start_event = SessionStart(
            client=plan.client, ladder=plan.ladder, settings=plan.settings, auto=plan.auto
        )
        self.session_id = self.records.open_session(
            self.start_event, plan.ladder.scene, plan.hierarchy_version
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[Callable[[], None]] = []
        self._early_lock = threading.Lock()
        self.writer = RecordWriter(
            self.records,
            self.session_id,
            on_failed=lambda why: self._on_loop(self.live.record_failed, why),
            on_recovered=lambda: self._on_loop(self.live.record_recovered),
            on_gap=lambda detail: self._on_loop(self.live.record_gap, detail),
        ).start()
        self.live = LiveSession(
            self.start_event,
            clock=plan.clock,
            record=self.writer.event,
            session_id=self.session_id,
            coach=coach,
        )
        self.live.add_listener(self._record_effects)
        self.task_failures: dict[str, int] = {}
        """How often each supervised task failed and was restarted."""
        self.render: RenderLink | None = None
        self.render_kept: Any = None
        """The render process handed back at the end (with `plan.render_handle`), if it runs."""
        self.sensor: SensorLink | None = None
        self.token = plan.token
        self.url = ""
        self.port = plan.port
        self.urls: list[tuple[str, str]] = []
        self.stopped = asyncio.Event()

    def _record_effects(self, event: Event, state: SessionState, effects: list[Effect]) -> None:
        # an alert's episode is recorded by its onset and its end, not each change of text
        kept = [e for e in worth_recording(effects) if not isinstance(e, SceneTarget)]
        if kept:
            self.writer.effects(kept)
        if state.phase == "ended":
            self.stopped.set()

    def _on_loop(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` then step what it reported, on the loop (called from the writer)."""

        def call() -> None:
            fn(*args)
            self.live.flush_system()

        with self._early_lock:
            if self._loop is None:  # before run(): it runs these first
                self._early.append(call)
                return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the session is over
            self._loop.call_soon_threadsafe(call)

    async def _supervise(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work()`; if it raises, log it, alert the console, and start it again."""
        while True:
            try:
                await work()
                return
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures = self._task_failed(name, err)
                await asyncio.sleep(min(2.0, 0.05 * 2**failures))

    def _task_failed(self, name: str, err: Exception) -> int:
        failures = self.task_failures[name] = self.task_failures.get(name, 0) + 1
        log.error("the station's %s task failed (%d)", name, failures, exc_info=err)
        why = f"{name}: {type(err).__name__}: {err}".splitlines()[0][:200]
        self.live.submit(SystemEvent(t=0.0, kind="task_failed", detail=why))
        return failures

    def _coach_form_set(self, mode: CoachMode) -> None:
        if self.plan.coach is not None:
            CoachForms(self.plan.coach.home).set(self.plan.client, mode)

    def _coach_spoken(self) -> Any:
        return self.render.coach_spoke if self.render is not None else None

    def client_view(self) -> bytes | None:
        return self.render.thumbnail_jpeg if self.render is not None else None

    def scene_sound_heard(self) -> bool | None:
        """Whether the headset reports its scene sound muted (None: no report, no headset)."""
        return self.render.scene_sound_heard if self.render is not None else None

    async def run(self) -> Status:
        """Run until the session ends, the duration passes, or a signal; returns the end status."""
        loop = asyncio.get_running_loop()
        with self._early_lock:
            self._loop = loop
            early, self._early = self._early, []
        for call in early:
            call()
        plan = self.plan
        net = plan.console_network
        hosted = plan.console_host
        sock = None
        if hosted is None:
            try:  # before anything starts: a second session on a port in use fails at once
                sock = bind_socket(net.host, net.port)
            except ConsoleAddressError as err:
                self.writer.close(1.0)
                self.records.close_session(self.session_id, "interrupted")
                raise SessionError(str(err)) from None
        self.token = hosted.token if hosted is not None else self.token or make_token()
        app = create_app(
            self.live,
            self.token,
            client_view=self.client_view,
            rate_limit_per_s=plan.rate_limit_per_s,
            scene_events=scene_events(plan.ladder.scene),
            notice=plan.notice,
            network=net,
            client_view_fov_deg=CLIENT_VIEW_FOV_DEG,
            gaze_cone_deg=GAZE_CONE_DEG,
            clinic=RecordsClinic(self.records, self.session_id),
            coach=CoachDesk(self.speaker, self._coach_spoken, self._coach_form_set)
            if self.speaker
            else None,
            scene_sound=self.scene_sound_heard,
        )
        signals = (signal.SIGINT, signal.SIGTERM) if plan.handle_signals else ()
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stopped.set)
        if self.speaker is not None:  # the whole script's speech, while the headset starts
            self.speaker.prepare_in_background()
        if plan.render:
            self.render = RenderLink(
                self.live,
                plan.display,
                plan.size,
                plan.render_pipe,
                plan.thumbnail_hz,
                pose_script=plan.pose_script,
                coach=self.speaker,
                coach_mode=plan.coach.mode if plan.coach is not None else "off",
            )
            if plan.render_handle is not None:
                self.render.adopt(plan.render_handle)
            else:
                self.render.start()
        self.sensor = SensorLink(
            self.live,
            loop,
            plan.sensor,
            plan.protocol,
            baudrate=plan.baudrate,
            sample_rate=plan.sample_rate,
        )
        self.sensor.start()
        ready = asyncio.Event()

        async def console() -> None:
            if hosted is not None:  # the station's console serves the app while it is attached
                hosted.attach(app)
                ready.set()
                try:
                    await asyncio.Event().wait()
                finally:
                    hosted.detach(app)
            elif ready.is_set():  # a restart: the old socket went with the server that failed
                await serve(app, sock=bind_socket(net.host, self.port), network=net)
            else:
                await serve(app, ready=ready, sock=sock, network=net)

        tasks = [
            asyncio.create_task(self._supervise_console(console, ready), name="console"),
            asyncio.create_task(
                self._supervise("ticks", lambda: self.live.tick_forever(plan.tick_s)),
                name="ticks",
            ),
            asyncio.create_task(self._supervise("render", self._pump_render), name="render"),
        ]
        status: Status = "completed"
        try:
            ready_wait = asyncio.create_task(ready.wait())
            done, _ = await asyncio.wait(
                [ready_wait, tasks[0]], return_when=asyncio.FIRST_COMPLETED
            )
            if tasks[0] in done:
                ready_wait.cancel()
                tasks[0].result()  # raises the console's start error
                raise SessionError("The console stopped before it started.")
            if sock is not None:  # the port asked for, or the one picked for port 0
                self.port = sock.getsockname()[1]
            elif hosted is not None:
                self.port = hosted.port
            self.urls = net.urls(self.port, self.token)
            self.url = self.urls[0][1]
            if plan.on_ready is not None:
                plan.on_ready(self)
            stop_wait = asyncio.create_task(self.stopped.wait())
            waits: list[asyncio.Task[Any]] = [stop_wait, tasks[0]]
            if plan.duration_s is not None:
                waits.append(asyncio.create_task(asyncio.sleep(plan.duration_s)))
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                if task is not tasks[0]:
                    task.cancel()
            if tasks[0] in done and tasks[0].exception() is not None:
                status = "interrupted"
        except BaseException:
            status = "interrupted"
            raise
        finally:
            if self.live.state.phase != "ended":
                with contextlib.suppress(Exception):
                    self.live.submit(End(t=0.0))
            for task in tasks[1:]:  # the console stays up to tell its pages the record is saved
                task.cancel()
            await asyncio.gather(*tasks[1:], return_exceptions=True)
            if self.sensor is not None:
                await asyncio.to_thread(self.sensor.stop)
            if self.render is not None and plan.render_handle is not None:
                self.render_kept = self.render.release()  # the station's, for the next session
            elif self.render is not None:
                await asyncio.to_thread(self.render.stop)
            saved = await asyncio.to_thread(self.writer.close, 10.0)
            if not saved:
                log.error(
                    "the records could not be written before the end: %s events lost",
                    self.writer.pending,
                )
            try:
                self.records.close_session(self.session_id, status)
            except RecordsError as err:  # the store is down: the row reads "interrupted"
                saved = False
                log.error("could not close the record of session %s: %s", self.session_id, err)
            if ready.is_set() and not tasks[0].done():
                ended: dict[str, Any] = {
                    "session_id": self.session_id,
                    "saved": saved,
                    "kept": plan.record_kept,
                    "status": status,
                    "report": report_command(self.session_id, plan.db)
                    if plan.record_kept
                    else None,
                    "report_html": await self._report_for_pages(app) if saved else None,
                    # a station's page goes back to its home page, the report a click away
                    "home": f"/home?ended={self.session_id}" if hosted is not None else None,
                }
                with contextlib.suppress(Exception):  # a page that cannot be told is not waited on
                    await say_goodbye(app, ended, timeout_s=2.0)
            tasks[0].cancel()
            await asyncio.gather(tasks[0], return_exceptions=True)
            for sig in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        return status

    async def _report_for_pages(self, app: Any) -> str | None:
        """The session's report for the pages still open (they can open it once we are gone)."""
        if not app.state.live_pages:
            return None
        try:
            now = datetime.now(UTC)
            return await asyncio.to_thread(
                report_of, self.records, self.session_id, generated_at=now
            )
        except Exception as err:  # the end goes on; the command still writes it later
            log.warning("could not build the report of session %s: %s", self.session_id, err)
            return None

    async def _supervise_console(
        self, console: Callable[[], Awaitable[None]], ready: asyncio.Event
    ) -> None:
        """The console: a failure before it first serves ends the start; later ones restart it."""
        try:
            await console()
            return
        except asyncio.CancelledError:
            raise
        except Exception as err:
            if not ready.is_set():
                raise  # the console could not start: the session does not either
            self._task_failed("console", err)
        await self._supervise("console", console)

    async def _pump_render(self) -> None:
        while True:
            if self.render is not None:
                self.render.pump()
            await asyncio.sleep(RENDER_POLL_S)


def run(plan: SessionPlan, *, out: Callable[[str], None] | None = None) -> int:
    """Run a session to its end in this process; returns the session id."""
    say = out or (lambda text: print(text, flush=True))
    net = plan.console_network
    try:  # fail before a record is opened: a second session on a port in use leaves no trace
        bind_socket(net.host, net.port).close()
    except ConsoleAddressError as err:
        raise SessionError(str(err)) from None

    def announce(station: Station) -> None:
        say(
            f"Session {station.session_id} for client {plan.client}: {plan.ladder.scene}, "
            f"sensor {plan.sensor} ({plan.protocol}), display {plan.display}."
        )
        for line in net.notices():
            say(line)
        say(f"Console: {station.url}")
        for who, url in station.urls[1:]:
            say(f"Console, {who.lower()}: {url}")
        if plan.on_ready is not None:
            plan.on_ready(station)

    station_plan = SessionPlan(**{**plan.__dict__, "on_ready": announce})
    station = Station(station_plan)
    status = asyncio.run(station.run())
    sid = station.session_id
    say(f"Session {sid} {status}; its record is in {station.records.url_text}.")
    say(f"Report: {report_command(sid, plan.db)}")
    return station.session_id


def report_command(session_id: int, db: str | None) -> str:
    """The command that writes a session's report (printed at the end and shown by the console)."""
    prog = sys.argv[0] if os.path.basename(sys.argv[0]) == "vret" else "vret"
    where = f" --db {db}" if db else ""
    return f"{prog} report {session_id} --out session-{session_id}.html{where}"


def has_display() -> bool:
    """True when a window can be opened (an X or Wayland display is set)."""
    return (
        bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        and (sys.platform.startswith("linux"))
        or sys.platform in ("win32", "darwin")
    )


class StationThread:
    """A Station on its own asyncio loop in a thread, for tests and benchmarks.

    `start()` returns the station once its console serves; `call(fn)` runs `fn` on the
    station's loop; `stop()` ends the session as Ctrl-C would and returns its end status.
    """

    def __init__(self, plan: SessionPlan) -> None:
        self._served = threading.Event()
        self._then = plan.on_ready
        self.station = Station(dataclasses.replace(plan, on_ready=self._ready))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.status: Status | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name="vret-station", daemon=True)

    def _ready(self, station: Station) -> None:
        if self._then is not None:
            self._then(station)
        self._served.set()

    def _main(self) -> None:
        async def go() -> None:
            self.loop = asyncio.get_running_loop()
            self.status = await self.station.run()

        try:
            asyncio.run(go())
        except BaseException as err:  # handed to whoever waits in start()
            self.error = err
            self._served.set()

    def start(self, timeout: float = 120.0) -> Station:
        self.thread.start()
        if not self._served.wait(timeout) or self.error is not None:
            why = f"{type(self.error).__name__}: {self.error}" if self.error else "timed out"
            raise RuntimeError(f"the session did not start ({why})")
        return self.station

    def call(self, fn: Callable[[], object]) -> None:
        """Run `fn()` on the station's loop (the one writer's thread) soon."""
        assert self.loop is not None, "start() first"
        self.loop.call_soon_threadsafe(fn)

    def stop(self, timeout: float = 30.0) -> Status | None:
        """End the session and wait for its record to close; returns its end status."""
        if self.thread.is_alive() and self.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self.loop.call_soon_threadsafe(self.station.stopped.set)
            self.thread.join(timeout)
        return self.status
