"""`vret station`: one long-running process per VR computer that runs one session at a time.

The station serves the console on one fixed address (with the console's token, TLS and host
rules) for as long as it runs. Between sessions the console is the home page
(`clinician_console.home`: pick a client, scene, sensor and display, then Start) and the
headset shows the calm safe scene as a waiting room. During a session the same address serves
that session's console (today's console page, `vret.station.Station` with its `console_host`
set to this station), and the home page's routes still answer, so a second Start gets 409.

- Each session runs through the same `Station` as `vret session` (`client_ladder` picks the
  ladder for both), on this process's loop.
- A session that crashes ends as interrupted (its record closed so), and the station goes on
  with the waiting room.
- The waiting room is a render process that builds every scene up front; a session on the same
  display takes it over (`Station`'s `render_handle`) and hands it back at its end, so the
  headset is never without a picture. A session on another display stops it (one application
  may hold a headset) and it starts again after. It is restarted whenever it died.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies import models as fastapi_models

from clinician_console.clinic import NotFound
from clinician_console.home import (
    SENSOR_TEST_S,
    NewSession,
    StationBusy,
    create_home_app,
)
from clinician_console.network import (
    ConsoleNetwork,
    add_network_arguments,
    network_from_args,
    print_notices,
)
from clinician_console.server import bind_socket, make_token, serve
from exposure.constants import SAFE_LEVEL, SAFE_SCENE
from exposure.errors import UserError
from exposure.models import ControlSettings, Ladder, Reading
from scenes.registry import session_ladder as scene_session_ladder
from sensors.discovery import FoundPort, discover, probe
from sensors.protocols import get_protocol
from sensors.source import SerialSource
from vret import clients, hierarchy
from vret.clinic import RecordsClinic
from vret.coach_cli import DEMO_PACE, add_coach_arguments
from vret.coach_voice import CoachForms, CoachPlan
from vret.display_check import check_displays, check_openvr
from vret.records import Records, RecordsError, data_folder
from vret.report import report_of
from vret.simulated_client import DEMO_NOTICE, DEMO_SETTINGS, SimulatedClient, demo_heart
from vret.station import SessionError, SessionPlan, Station, has_display

log = logging.getLogger(__name__)

SIMULATED = "simulated"
"""The sensor name of the simulated client (a simulated heart on a pty), always offered."""
SIMULATED_PROTOCOL = "cms50-v7"
CLIENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
WAITING_ROOM_POLL_S = 0.2
START_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- one path to a plan


def client_ladder(
    records: Records, code: str, scene: str, start_step: int | None = None
) -> tuple[Ladder, int | None, str]:
    """The ladder of `code`'s next session on `scene`, its hierarchy version, and a line saying
    where it came from. `vret session` and `POST /api/sessions` both start here: a registered
    client's latest hierarchy (where their last session reached), else the scene's ladder."""
    try:
        client = clients.get(records, code)
    except clients.ClientError:
        ladder = scene_session_ladder(scene, None)
        if start_step is not None:
            if not 1 <= start_step <= ladder.top:
                raise UserError(
                    f"--start-step {start_step} is not a step of this ladder: give 1 to "
                    f"{ladder.top}."
                ) from None
            ladder = ladder.model_copy(update={"start_level": start_step})
        return (
            ladder,
            None,
            f"{code} is not a registered client: using the scene's ladder "
            f"(`vret clients add {code} --phobia ...` keeps a course together).",
        )
    if client.archived:
        raise UserError(
            f"{client.code} is archived: `vret clients archive {client.code} --restore` "
            "to treat them again."
        )
    ladder, version = hierarchy.session_ladder(records, client.code, scene, start_step)
    where = f"hierarchy v{version}" if version else "the scene's ladder"
    return (
        ladder,
        version,
        f"{client.code}: {where}, starting at step {ladder.start_level} of {ladder.top}.",
    )


def check_display(display: str, openvr_module: str = "openvr") -> None:
    """UserError (the fix in one sentence) when a session cannot use `display` now."""
    if display == "openvr":
        status = check_openvr(openvr_module)
        if not status.available:
            raise UserError(status.message)
    elif display == "window" and not has_display():
        raise UserError(
            "No display to open a window on: run with --display offscreen, or set DISPLAY."
        )


# --------------------------------------------------------------------------- the waiting room


class WaitingRoom:
    """A render process showing the safe scene between sessions, restarted when it dies.

    It builds every scene up front, so a session on the same display takes it over (`take`)
    and hands it back at its end (`give_back`): the headset never goes without a picture."""

    def __init__(
        self, display: str, size: tuple[int, int], pipe: str | None, openvr_module: str
    ) -> None:
        self.display = display
        self.size = size
        self.pipe = pipe
        self.openvr_module = openvr_module
        self.handle: Any = None
        self.starts = 0
        """Render processes started (a restart after a crash counts)."""
        self.handovers = 0
        """Sessions that took this render process over instead of starting their own."""

    def start(self) -> None:
        # Panda3D loads in the render process only; the handle's module is light
        from scenes.render import start_render

        software = self.display == "offscreen" and self.pipe in (None, "tiny")
        self.handle = start_render(
            display=self.display,
            size=self.size,
            scenes=None,  # every scene: any session can take this process over
            pipe=self.pipe,
            thumbnail_hz=4.0 if software else 0.0,  # as a session's render link would ask
            openvr_module=self.openvr_module,
        )
        self.starts += 1
        self.handle.send_target(SAFE_SCENE, float(SAFE_LEVEL), True)

    def keep(self) -> None:
        """Heartbeat the safe scene; start a fresh process if this one died. Never blocks."""
        if self.handle is None:
            return
        if not self.handle.alive():
            log.warning("the waiting room's render process died: starting it again")
            self.start()
            return
        self.handle.poll()  # what it says between sessions matters to no one
        self.handle.send_target(SAFE_SCENE, float(SAFE_LEVEL), True)

    def take(self, display: str) -> Any:
        """The running render process for a session on `display` (None: start another)."""
        handle = self.handle
        if handle is None or display != self.display or not handle.alive():
            return None
        self.handle = None
        self.handovers += 1
        return handle

    def give_back(self, handle: Any) -> None:
        """A session's end: the render process it took over shows the safe scene again."""
        self.handle = handle
        self.keep()

    def stop(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.stop()


# --------------------------------------------------------------------------- the sensor test


class SensorTest:
    """Ten seconds of one sensor's readings and their quality, before a session."""

    def __init__(self, sensor: str, protocol: str, seconds: float = SENSOR_TEST_S) -> None:
        self.sensor = sensor
        self.protocol = protocol
        self.seconds = seconds
        self.readings: deque[dict[str, Any]] = deque(maxlen=400)
        self.statuses: list[str] = []
        self.simulated: SimulatedClient | None = None
        self.started = time.monotonic()
        self.done = threading.Event()
        port = sensor
        if sensor == SIMULATED:
            self.simulated = SimulatedClient(protocol, demo_heart(seed=7))
            port = self.simulated.start()
        self.source = SerialSource(port, protocol, on_reading=self._reading, on_status=self._status)
        self.source.start()
        self._timer = threading.Timer(seconds, self.stop)
        self._timer.daemon = True
        self._timer.start()

    def _reading(self, reading: Reading) -> None:
        self.readings.append(
            {
                "t": round(time.monotonic() - self.started, 2),
                "hr": reading.hr,
                "quality": reading.quality,
            }
        )

    def _status(self, kind: str, sentence: str) -> None:
        self.statuses.append(sentence)

    def stop(self) -> None:
        self._timer.cancel()
        if not self.done.is_set():
            self.source.stop()
            if self.simulated is not None:
                self.simulated.stop()
            self.done.set()

    def view(self) -> dict[str, Any]:
        readings = list(self.readings)
        good = [r["hr"] for r in readings if r["quality"] == "ok" and r["hr"] is not None]
        left = max(0.0, self.seconds - (time.monotonic() - self.started))
        if good:
            verdict = f"{len(good)} good readings, last {good[-1]:.0f} bpm."
        elif readings:
            verdict = f"Readings come but none is good yet (last: {readings[-1]['quality']})."
        else:
            verdict = "No readings yet."
        return {
            "sensor": self.sensor,
            "protocol": self.protocol,
            "running": not self.done.is_set(),
            "seconds_left": round(0.0 if self.done.is_set() else left, 1),
            "readings": readings[-60:],
            "good": len(good),
            "verdict": verdict,
            "status": self.statuses[-1] if self.statuses else None,
        }


# --------------------------------------------------------------------------- the station


class StationServer:
    """The long-running station: the home page and one session at a time on one address.

    It is the console's `HomeBackend` (the routes call it from FastAPI's thread pool) and each
    session's `ConsoleHost` (the session's app is served on the station's address while it
    runs). `on_session_ready(station, simulated_client)` runs when a session's console serves
    (tests and the benchmark hook in; a raise there is a crashed session).
    """

    def __init__(
        self,
        *,
        network: ConsoleNetwork | None = None,
        db: str | None = None,
        token: str | None = None,
        render: bool = True,
        waiting_display: str = "offscreen",
        size: tuple[int, int] = (1280, 720),
        render_pipe: str | None = None,
        openvr_module: str = "openvr",
        extra_ports: tuple[str, ...] = (),
        listen_s: float = 2.5,
        settings: ControlSettings | None = None,
        sensor_test_s: float = SENSOR_TEST_S,
        on_session_ready: Callable[[Station, SimulatedClient | None], None] | None = None,
        on_ready: Callable[[StationServer], None] | None = None,
        coach: CoachPlan | None = None,
    ) -> None:
        self.network = network or ConsoleNetwork()
        self.coach = coach
        """The coach every session gets (each client's kept form wins: person, voice or off);
        None: sessions run without one."""
        self.db = db
        self.token = token or make_token()
        self.port = self.network.port
        self.render = render
        self.size = size
        self.render_pipe = render_pipe
        self.openvr_module = openvr_module
        self.extra_ports = extra_ports
        self.listen_s = listen_s
        self.settings = settings or ControlSettings()
        self.sensor_test_s = sensor_test_s
        self.on_session_ready = on_session_ready
        self.on_ready = on_ready
        self.records = Records(db)
        self.waiting_room = (
            WaitingRoom(waiting_display, size, render_pipe, openvr_module) if render else None
        )
        self.app: FastAPI = create_home_app(
            self, RecordsClinic(self.records), self.token, network=self.network
        )
        self.app.add_middleware(_SessionRoutes, station=self)  # added last: it runs first
        self.session_app: FastAPI | None = None
        self.session: Station | None = None
        self.session_sensor = ""
        """The running session's sensor as Start named it ("simulated" or a port)."""
        self.last: dict[str, Any] | None = None
        self.sessions_run = 0
        self.urls: list[tuple[str, str]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped = asyncio.Event()
        self._lock = threading.Lock()
        self._busy = False
        self._found: dict[str, FoundPort] = {}
        self._test: SensorTest | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ ConsoleHost

    def attach(self, app: FastAPI) -> None:
        self.session_app = app

    def detach(self, app: FastAPI) -> None:
        if self.session_app is app:
            self.session_app = None

    # ------------------------------------------------------------------ HomeBackend

    def sensors(self) -> list[dict[str, Any]]:
        busy = [self.session.plan.sensor] if self.session is not None else []
        found = discover(self.extra_ports, seconds=self.listen_s, skip=busy)
        self._found = {f.port: f for f in found}
        simulated = {
            "port": SIMULATED,
            "description": "Simulated client (practice: a generated heart, no sensor)",
            "usb": None,
            "protocol": SIMULATED_PROTOCOL,
            "basis": "simulated",
            "detail": "Always here, for practice and demonstrations.",
        }
        return [simulated, *(f.as_json() for f in found)]

    def test_sensor(self, sensor: str, protocol: str | None) -> dict[str, Any]:
        if self.session is not None and sensor == self.session.plan.sensor:
            raise UserError("The running session reads this sensor: test it between sessions.")
        name = self._protocol_for(sensor, protocol)
        if self._test is not None:
            self._test.stop()
        self._test = SensorTest(sensor, name, self.sensor_test_s)
        return self._test.view()

    def sensor_test(self) -> dict[str, Any] | None:
        return self._test.view() if self._test is not None else None

    def displays(self) -> list[dict[str, Any]]:
        return [d.as_json() for d in check_displays(self.openvr_module)]

    def start_session(self, request: NewSession) -> dict[str, Any]:
        with self._lock:
            if self._busy:
                raise StationBusy(self._busy_sentence())
            self._busy = True
        try:
            assert self.loop is not None, "the station is not running"
            plan, simulated = self._plan(request)
            future = asyncio.run_coroutine_threadsafe(self._open(plan, simulated), self.loop)
            return future.result(timeout=START_TIMEOUT_S)
        except BaseException:
            with self._lock:
                if self.session is None:
                    self._busy = False
            raise

    def current(self) -> dict[str, Any]:
        station = self.session
        running = None
        if station is not None:
            running = {
                "id": station.session_id,
                "client": station.plan.client,
                "scene": station.plan.ladder.scene,
                "sensor": self.session_sensor,
                "protocol": station.plan.protocol,
                "display": station.plan.display,
                "phase": station.live.state.phase,
                "url": "/",
            }
        return {"session": running, "last": self.last, "sessions_run": self.sessions_run}

    def report(self, session_id: int) -> str:
        try:
            return report_of(self.records, session_id)
        except RecordsError as err:
            raise NotFound(str(err)) from None

    # ------------------------------------------------------------------ sessions

    def _busy_sentence(self) -> str:
        station = self.session
        if station is None:
            return "A session is starting on this station: wait for it, then open it from /."
        return (
            f"Session {station.session_id} for {station.plan.client} is running on this "
            "station: end it first (its console is at /)."
        )

    def _protocol_for(self, sensor: str, protocol: str | None) -> str:
        if protocol is not None:
            try:
                return get_protocol(protocol).name
            except ValueError as err:
                raise UserError(str(err)) from None
        if sensor == SIMULATED:
            return SIMULATED_PROTOCOL
        found = self._found.get(sensor)
        if found is not None and found.protocol is not None:
            return found.protocol
        name, sentence = probe(sensor, self.listen_s)
        if name is None:
            raise UserError(f"{sentence.rstrip('.')}; or choose the sensor's protocol.")
        return name

    def _plan(self, request: NewSession) -> tuple[SessionPlan, SimulatedClient | None]:
        """The session's plan, checked before anything starts (one sentence when it cannot)."""
        try:
            hierarchy.scene_ladder(request.scene)
        except hierarchy.UnknownScene as err:
            raise NotFound(str(err)) from None
        if request.sensor != SIMULATED and request.sensor not in self._found:
            self._found.update(
                {f.port: f for f in discover(self.extra_ports, seconds=0.0, listen_to_ports=False)}
            )
            if request.sensor not in self._found:
                raise UserError(
                    f"No sensor at {request.sensor}: pick one from the list (GET /api/sensors)."
                )
        protocol = self._protocol_for(request.sensor, request.protocol)
        check_display(request.display, self.openvr_module)
        ladder, version, _where = client_ladder(self.records, request.client, request.scene)
        simulated = None
        sensor = request.sensor
        settings, notice = self.settings, None
        if request.sensor == SIMULATED:
            simulated = SimulatedClient(protocol, demo_heart(seed=42 + self.sessions_run))
            sensor = simulated.start()
            settings, notice = DEMO_SETTINGS, DEMO_NOTICE
        coach = self._coach(request.client, simulated is not None)
        plan = SessionPlan(
            client=request.client,
            ladder=ladder,
            hierarchy_version=version,
            sensor=sensor,
            protocol=protocol,
            settings=settings,
            display=request.display,
            size=self.size,
            network=self.network,
            host=self.network.host,
            port=self.network.port,
            db=self.db,
            auto=not request.manual,
            token=self.token,
            render=self.render,
            render_pipe=self.render_pipe,
            notice=notice,
            console_host=self,
            handle_signals=False,
            coach=coach,
        )
        return plan, simulated

    def _coach(self, client: str, simulated: bool) -> CoachPlan | None:
        """The session's coach: the station's, in the form kept for this client (off: none)."""
        if self.coach is None:
            return None
        mode = CoachForms(self.coach.home).get(client) or self.coach.mode
        if mode == "off":
            return None
        return dataclasses.replace(self.coach, mode=mode, pace=DEMO_PACE if simulated else 1.0)

    async def _open(self, plan: SessionPlan, simulated: SimulatedClient | None) -> dict[str, Any]:
        """Start the session on this loop; its description once its console serves."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Station] = loop.create_future()

        def served(station: Station) -> None:
            if simulated is not None:
                simulated.wear(station.live)
            if not ready.done():
                ready.set_result(station)
            if self.on_session_ready is not None:
                self.on_session_ready(station, simulated)

        room, handle = self.waiting_room, None
        if room is not None and plan.render:
            handle = room.take(plan.display)
            if handle is None:  # another display: one render process at a time
                await asyncio.to_thread(room.stop)
        plan = dataclasses.replace(plan, on_ready=served, render_handle=handle)
        try:
            station = await asyncio.to_thread(Station, plan)
        except BaseException:
            if simulated is not None:
                simulated.stop()
            if room is not None and handle is not None:
                room.give_back(handle)
            self._resume_waiting_room()
            raise
        self.session_sensor = SIMULATED if simulated is not None else plan.sensor
        self.session = station
        task = asyncio.create_task(self._run(station, simulated), name="session")
        waits: set[asyncio.Future[Any]] = {ready, task}
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            why = self.last["why"] if self.last else "it stopped"
            raise SessionError(f"The session could not start: {why}")
        return {**(self.current()["session"] or {}), "url": "/"}

    async def _run(self, station: Station, simulated: SimulatedClient | None) -> None:
        """Run one session to its end; a crash ends it as interrupted and the station goes on."""
        status = "interrupted"
        why = ""
        try:
            status = await station.run()
        except Exception as err:
            why = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            log.error("session %s crashed", station.session_id, exc_info=err)
            await asyncio.to_thread(_close_interrupted, station)
        finally:
            if simulated is not None:
                simulated.stop()
            with contextlib.suppress(Exception):  # the session's own engine and connections
                await asyncio.to_thread(station.records.close)
            release_endpoint_caches()
            if self.session_app is not None:
                self.detach(self.session_app)
            self.last = {
                "id": station.session_id,
                "client": station.plan.client,
                "scene": station.plan.ladder.scene,
                "status": status,
                "why": why,
                "report": f"/api/sessions/{station.session_id}/report",
            }
            self.sessions_run += 1
            kept = station.render_kept
            if kept is not None and kept is station.plan.render_handle and self.waiting_room:
                self.waiting_room.give_back(kept)
            elif kept is not None:  # a process the session restarted: its scene only
                await asyncio.to_thread(kept.stop)
            with self._lock:
                self.session = None
                self._busy = False
            self._resume_waiting_room()

    def _resume_waiting_room(self) -> None:
        if self.waiting_room is not None and self.waiting_room.handle is None:
            try:
                self.waiting_room.start()
            except Exception as err:  # the station serves on; keep() tries again
                log.error("could not start the waiting room", exc_info=err)

    async def _keep_waiting_room(self) -> None:
        while True:
            if self.waiting_room is not None and self.session is None:
                try:
                    self.waiting_room.keep()
                except Exception as err:
                    log.error("the waiting room failed", exc_info=err)
            await asyncio.sleep(WAITING_ROOM_POLL_S)

    # ------------------------------------------------------------------ running

    def stop(self) -> None:
        """End the running session (its record closed) and stop the station."""
        if self.session is not None:
            self.session.stopped.set()
        self.stopped.set()

    async def run(self) -> None:
        """Serve until `stop()` (or Ctrl-C, SIGTERM); a running session ends cleanly first."""
        self.loop = asyncio.get_running_loop()
        sock = bind_socket(self.network.host, self.network.port)
        self.port = sock.getsockname()[1]
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self.loop.add_signal_handler(sig, self.stop)
        ready = asyncio.Event()
        server = asyncio.create_task(
            serve(self.app, ready=ready, sock=sock, network=self.network), name="console"
        )
        keeper = asyncio.create_task(self._keep_waiting_room(), name="waiting room")
        try:
            if self.waiting_room is not None:
                await asyncio.to_thread(self.waiting_room.start)
            waits = {asyncio.create_task(ready.wait()), server}
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if server in done:
                server.result()  # raises why the console could not start
            self.urls = self.network.urls(self.port, self.token)
            if self.on_ready is not None:
                self.on_ready(self)
            stop = asyncio.create_task(self.stopped.wait())
            await asyncio.wait({stop, server}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if self.session is not None:
                self.session.stopped.set()
            while self.session is not None:
                await asyncio.sleep(0.05)
            keeper.cancel()
            server.cancel()
            await asyncio.gather(keeper, server, return_exceptions=True)
            if self._test is not None:
                self._test.stop()
            if self.waiting_room is not None:
                await asyncio.to_thread(self.waiting_room.stop)
            self.records.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    self.loop.remove_signal_handler(sig)


def release_endpoint_caches() -> None:
    """Let go of an ended session's console. FastAPI (0.165) remembers the last 4096 endpoint
    functions it classified in `lru_cache`s; a session's console endpoints are closures over
    its LiveSession, so every ended session (readings, decisions, links) stayed in memory, about
    130 sessions' worth (measured: +0.3 MB a session over ten short ones). The caches refill on
    the next requests. They are FastAPI's private names, so a version without them is fine."""
    for name in (
        "_is_gen_callable_cached",
        "_is_async_gen_callable_cached",
        "_is_coroutine_callable_cached",
    ):
        cached = getattr(fastapi_models, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def _close_interrupted(station: Station) -> None:
    """After a crash: stop what the session started and close its record as interrupted."""
    with contextlib.suppress(Exception):
        if station.sensor is not None:
            station.sensor.stop()
    with contextlib.suppress(Exception):
        if station.render is not None:
            station.render.stop()
    with contextlib.suppress(Exception):
        station.writer.close(5.0)
    try:
        if station.records.get_session(station.session_id).recorded_status == "running":
            station.records.close_session(station.session_id, "interrupted")
    except RecordsError as err:
        log.error("could not close the record of session %s: %s", station.session_id, err)


HOME_PATHS = ("/home", "/api/sessions", "/api/sensors", "/api/sensor-test", "/api/display")
"""Paths the station answers itself even while a session's console is served."""


class _SessionRoutes:
    """ASGI middleware: while a session runs, its console answers every path but the home
    page's; between sessions the home app does."""

    def __init__(self, app: Any, station: StationServer) -> None:
        self.app = app
        self.station = station

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        session_app = self.station.session_app
        path = scope.get("path", "")
        if (
            session_app is not None
            and scope["type"] in ("http", "websocket")
            and not path.startswith(HOME_PATHS)
        ):
            await session_app(scope, receive, send)
            return
        await self.app(scope, receive, send)


class StationThread:
    """A StationServer on its own loop in a thread, for tests and benchmarks."""

    def __init__(self, **kwargs: Any) -> None:
        self._served = threading.Event()
        then = kwargs.pop("on_ready", None)

        def ready(server: StationServer) -> None:
            if then is not None:
                then(server)
            self._served.set()

        self.server = StationServer(on_ready=ready, **kwargs)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name="vret-station", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self.server.run())
        except BaseException as err:
            self.error = err
            self._served.set()

    def start(self, timeout: float = 120.0) -> StationServer:
        self.thread.start()
        if not self._served.wait(timeout) or self.error is not None:
            raise RuntimeError(f"the station did not start ({self.error!r})")
        return self.server

    def stop(self, timeout: float = 60.0) -> None:
        loop = self.server.loop
        if loop is not None and self.thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(timeout)


# --------------------------------------------------------------------------- the command


def register(sub: Any) -> None:
    p = sub.add_parser(
        "station",
        help="run this VR computer's station: the console's home page starts every session",
        description=(
            "Run the station for this VR computer until stopped: the console on one fixed "
            "address (home page: pick a client, scene, sensor and display, then Start), one "
            "session at a time, and the calm safe scene in the headset between sessions. "
            "Start it at boot (see docs/station.md). Prints the console's URL with its token."
        ),
    )
    p.add_argument(
        "--display",
        choices=("openvr", "window", "offscreen"),
        default="offscreen",
        help="where the waiting room shows between sessions (default: offscreen)",
    )
    p.add_argument("--size", default="1280x720", metavar="WxH", help="window or buffer size")
    p.add_argument(
        "--db", metavar="URL", help="records database (default: a SQLite file in your data folder)"
    )
    p.add_argument(
        "--sensor-port",
        action="append",
        default=[],
        metavar="PATH",
        help="also offer this port (a path the port listing misses, e.g. a Bluetooth rfcomm "
        "device); may be repeated",
    )
    p.add_argument(
        "--no-render",
        action="store_true",
        help="no render process at all (a console-only station for trying the pages)",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="keep the console's access token in FILE, so its URL (a bookmark on the "
        "therapist's tablet) stays the same across restarts (default: station-token in your "
        "data folder)",
    )
    p.add_argument(
        "--new-token",
        action="store_true",
        help="replace the kept token (every bookmarked URL stops working)",
    )
    add_coach_arguments(p)
    add_network_arguments(p)
    p.set_defaults(func=_station)


TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def kept_token(path: Path, renew: bool = False) -> str:
    """The station's access token from `path`, made (readable by this user only) when missing,
    unreadable as a token, or `renew`: a station started at boot keeps one URL."""
    if not renew:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as err:
            raise UserError(
                f"Cannot read the token file {path} ({err}): fix it or delete it."
            ) from None
        if TOKEN_PATTERN.match(text):
            return text
    token = make_token()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token + "\n")
    except OSError as err:
        raise UserError(
            f"Cannot write the token file {path} ({err.strerror}): choose another with --token-file."
        ) from None
    return token


def _station(args: argparse.Namespace) -> int:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", args.size)
    if not match:
        raise UserError(f"--size {args.size!r} is not WIDTHxHEIGHT: give one like 1280x720.")
    network = network_from_args(args, data_folder())
    bind_socket(network.host, network.port).close()  # a port in use: one sentence, nothing else

    def announce(server: StationServer) -> None:
        print(f"vret station on {server.records.url_text}")
        print_notices(network)
        for who, url in server.urls:
            print(f"  {who}: {url.replace('?token=', 'home?token=', 1)}")
        print("Press Ctrl-C to stop (a running session ends with its record closed).", flush=True)

    token = kept_token(args.token_file or data_folder() / "station-token", args.new_token)
    server = StationServer(
        network=network,
        db=args.db,
        token=token,
        render=not args.no_render,
        waiting_display=args.display,
        size=(int(match[1]), int(match[2])),
        extra_ports=tuple(args.sensor_port),
        on_ready=announce,
        coach=None
        if args.coach == "off"
        else CoachPlan(
            mode=args.coach or "person",
            language=args.coach_language,
            engine=args.coach_voice,
            folder=Path(args.coach_folder).expanduser() if args.coach_folder else None,
        ),
    )
    asyncio.run(server.run())
    return 0
