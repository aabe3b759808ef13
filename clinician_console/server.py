"""The console server: FastAPI on the control process's asyncio loop, in front of a LiveSession.

Routes (all need the access token, see `clinician_console.access`):
- `GET /` the page, `GET /static/...` its files (no CDN: uPlot is vendored).
- `GET /api/state` the session state; `POST /api/commands` one `Command`, answered with the state
  after it and what it caused; `POST /api/recentre` the recentre command (the client's forward
  is where they face now); `POST /api/scene-sound` mutes the scene's sound in the headset or
  turns it back on (the `scene_sound` command; the state's `scene_sound` says what the headset
  reports); `GET /api/client-view.jpg` what the client sees (204 when none).
- `WS /api/live` a `hello` with the history, then every session message as it happens and the
  state at `live_hz` (10 a second by default). When the session is over, `say_goodbye` sends
  every page an `ended` message (the session, whether its record was saved, the report
  command) and closes the stream normally, so a page can tell a finished session from a lost one.
- `GET /openapi.json` the API description.

Commands reach the session only through `session.submit`, which stamps their time; the server
stamps who acted: every command from the console is the clinician's (`by` in a body is
overwritten, like `t`), because only the headset can report the client's break and only the
runtime reports system events. Safe, Pause and End are never rate-limited; other commands are
limited per client address (`clinician_console.ratelimit`). Bodies are capped at 64 KiB
(`clinician_console.limits`), connections are capped and timed out
(`clinician_console.connections`), and the Host header is checked against DNS rebinding
(`clinician_console.access`). The server never changes session state itself and never logs
health data (access logs are off).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import socket
from collections import deque
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import Body, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinician_console.access import AccessGuard, make_token
from clinician_console.clinic import ClinicBackend, clinic_router
from clinician_console.coach import (
    MAX_RECORDING_BYTES,
    RECORDINGS_PATH,
    CoachBackend,
    coach_router,
)
from clinician_console.connections import ConnectionLimits, guarded_http
from clinician_console.limits import BODY_TIMEOUT_S, MAX_BODY_BYTES, BodyLimit
from clinician_console.measures import measures_router
from clinician_console.network import ConsoleNetwork
from clinician_console.ratelimit import ConsoleRateLimits
from clinician_console.schema import CommandResult, Problem, SceneSoundBody, StateView
from exposure import __version__
from exposure.errors import UserError
from exposure.live import LiveSession
from exposure.models import (
    COMMAND_ADAPTER,
    Command,
    Effect,
    Event,
    Gaze,
    Reading,
    Recentre,
    SceneSound,
    SessionState,
    Tick,
)

__all__ = [
    "ConsoleAddressError",
    "ConsoleNetwork",
    "bind_socket",
    "create_app",
    "make_token",
    "say_goodbye",
    "serve",
]

STATIC = Path(__file__).resolve().parent / "static"
COMMAND_TYPES = sorted(COMMAND_ADAPTER.json_schema()["discriminator"]["mapping"])
LOG_EVENTS = 500
"""How many commands and system events a (re)connecting page gets for its session log."""
ATTENTION_POINT_S = 1.0
"""The attention line on the chart keeps a point a second (the core updates it ten times)."""
ATTENTION_HISTORY = 3600
"""Attention points a (re)connecting page gets: an hour."""
MAX_LIVE = 16
"""Live streams (open console pages) at most: each costs a state message 10 times a second."""
H11_MAX_HEADER_BYTES = 16 * 1024
"""A request line and headers larger than this get 400 (the page's are under 2 KiB)."""
SCENE_SOUND_PATH = "/api/scene-sound"
BAD_SCENE_SOUND = (
    'Bad scene sound request: send {"muted": true} to silence the scene in the headset, or '
    '{"muted": false} to turn its sound back on.'
)
TOO_MANY_PAGES = (
    "Too many console pages are open ({n}): close the tabs you no longer use, then reload this one."
)

log = logging.getLogger(__name__)


class ConsoleAddressError(UserError):
    """The console cannot listen where it was asked to; the message is one sentence with the fix."""


# --------------------------------------------------------------------------- the app


def create_app(
    session: LiveSession,
    token: str,
    *,
    client_view: Callable[[], bytes | None] | None = None,
    allowed_origins: set[str] | None = None,
    network: ConsoleNetwork | None = None,
    rate_limit_per_s: float = 5.0,
    rate_limit_burst: int | None = None,
    live_hz: float = 10.0,
    max_live: int = MAX_LIVE,
    max_body_bytes: int = MAX_BODY_BYTES,
    body_timeout_s: float = BODY_TIMEOUT_S,
    scene_events: Sequence[str] = (),
    notice: str | None = None,
    client_view_fov_deg: float | None = None,
    gaze_cone_deg: float | None = None,
    clinic: ClinicBackend | None = None,
    coach: CoachBackend | None = None,
    scene_sound: Callable[[], bool | None] | None = None,
) -> FastAPI:
    """The console app for one session.

    `client_view()` returns the latest JPEG of the client's view (or None); it is called on the
    loop, so it must only hand over bytes already encoded. `allowed_origins` adds sites (like
    "https://console.clinic.example") whose pages may use the API besides the console's own;
    `network` (the same one given to `serve`) adds its origins and the host names the console
    answers to. Ordinary commands above `rate_limit_per_s` (bursts of `rate_limit_burst`) from
    one address get 429; Safe, Pause and End never do. At most `max_live` pages stream at once.
    `scene_events` are the event names for the page's buttons (the station passes the scene
    library's); `notice` is a line shown on top of the page (e.g. that it is simulated).
    `client_view_fov_deg` (the picture's horizontal field of view) and `gaze_cone_deg` (what
    counts as looking at the stimulus) let the page mark the gaze on the client's view.
    `clinic` adds the clients, hierarchy, progress and clinic pages (`clinician_console.clinic`).
    `coach` adds the coach panel's routes (`clinician_console.coach`).
    `scene_sound()` says whether the headset reports its scene sound muted (None: no report
    yet); without it there is no headset to ask and the state's `scene_sound.headset_muted` is
    None. It is called on the loop, so it must only read a value already there.
    """
    if live_hz <= 0:
        raise ValueError("live_hz must be above 0")
    network = network or ConsoleNetwork()
    app = FastAPI(
        title="vret therapist console",
        version=__version__,
        description="Watch and steer a running exposure session. Every request needs the access "
        "token printed when the console started: `?token=`, the cookie the page sets, or "
        "`Authorization: Bearer TOKEN`.",
        docs_url=None,  # Swagger UI would load scripts from a CDN; the spec is at /openapi.json
        redoc_url=None,
    )
    limits = ConsoleRateLimits(rate_limit_per_s, rate_limit_burst)
    live_pages: set[WebSocket] = set()
    events: deque[dict[str, Any]] = deque(maxlen=LOG_EVENTS)

    attention: deque[tuple[float, float | None]] = deque(maxlen=ATTENTION_HISTORY)
    gaze: dict[str, Any] = {}
    sound = {"muted": False}
    """The therapist's latest scene-sound choice in this session (every session starts on)."""

    def remember(event: Event, state: SessionState, _effects: list[Effect]) -> None:
        if isinstance(event, SceneSound):
            sound["muted"] = event.muted
        if isinstance(event, Gaze):
            gaze.update(event.model_dump(mode="json", exclude={"type"}))
        elif not isinstance(event, Reading | Tick):
            events.append(event.model_dump(mode="json"))
        value = state.attention if state.tracking == "ok" else None
        last = attention[-1] if attention else None
        if last is None or (
            value != last[1] and (state.t - last[0] >= ATTENTION_POINT_S or value is None)
        ):
            attention.append((round(state.t, 2), value))

    session.add_listener(remember)
    console_info = {
        "scene_events": list(scene_events),
        "notice": notice,
        "client_view": client_view is not None,
        "live_hz": live_hz,
        "client_view_fov_deg": client_view_fov_deg,
        "gaze_cone_deg": gaze_cone_deg,
    }

    def with_extras(data: dict[str, Any]) -> dict[str, Any]:
        """The session's snapshot plus what the console keeps beside it: gaze, scene sound."""
        data["gaze"] = dict(gaze) if gaze else None
        data["scene_sound"] = {
            "muted": sound["muted"],
            "headset_muted": scene_sound() if scene_sound is not None else None,
        }
        return data

    @app.exception_handler(RequestValidationError)
    async def _bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.endswith(SCENE_SOUND_PATH):
            return JSONResponse(
                {"detail": BAD_SCENE_SOUND, "errors": _plain_errors(exc.errors())},
                status_code=422,
            )
        return JSONResponse(
            {"detail": readable_errors(exc.errors()), "errors": _plain_errors(exc.errors())},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _unreadable_body(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers a body that is not UTF-8 with a bare 400; it is a bad command like any
        # other body that is not JSON, so it gets the same 422 and sentence
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            return JSONResponse(
                {"detail": "Bad command: the body is not valid JSON (it must be UTF-8 text)."},
                status_code=422,
            )
        return await http_exception_handler(request, exc)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/pages", tags=["session"], responses={401: {"model": Problem}})
    async def get_pages() -> dict[str, bool]:
        """Which other pages this console serves: the clients and clinic pages (a station's)."""
        return {"clients": clinic is not None, "clinic": clinic is not None}

    @app.get(
        "/api/state",
        response_model=StateView,
        tags=["session"],
        responses={401: {"model": Problem}},
    )
    async def get_state() -> dict[str, Any]:
        """The session state now: phase, level, heart rate, baseline, alerts, what comes next,
        and head tracking (attention, the latest gaze summary)."""
        return with_extras(session.snapshot())

    command_problems: dict[int | str, dict[str, Any]] = {
        code: {"model": Problem} for code in (401, 403, 408, 413, 421, 422, 429)
    }

    @app.post(
        "/api/commands",
        response_model=CommandResult,
        tags=["session"],
        responses=command_problems,
    )
    async def post_command(
        request: Request,
        command: Annotated[
            Command,
            Body(
                openapi_examples={
                    "step up": {"value": {"type": "step_up"}},
                    "set level": {"value": {"type": "set_level", "level": 3}},
                    "SUDS": {"value": {"type": "suds", "value": 60}},
                    "safe scene": {"value": {"type": "safe"}},
                }
            ),
        ],
    ) -> Any:
        """Send one command to the session; answers the new state.

        The server stamps the command: its time on arrival, and `by` is always `"clinician"`,
        the therapist (a `t` or `by` in the body is overwritten; only the headset reports the
        client's break).
        A command the session declines (stepping down in the safe scene, ...) still answers 200,
        with a `command_refused` alert among the `effects` saying why. Safe, Pause and End are
        never refused for coming too fast; other commands are, per client address, with 429.
        """
        peer = request.client.host if request.client else ""
        allowed, wait = limits.allow(peer, command)
        if not allowed:
            return JSONResponse(
                {
                    "detail": f"Too many commands (more than {limits.per_s:g} a second): "
                    "wait a moment, then press again."
                },
                status_code=429,
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        command = command.model_copy(update={"by": "clinician"})
        _state, effects = session.submit(command)
        return {**session.snapshot(), "effects": [e.model_dump(mode="json") for e in effects]}

    @app.post(
        "/api/recentre",
        response_model=CommandResult,
        tags=["session"],
        responses={401: {"model": Problem}, 403: {"model": Problem}, 429: {"model": Problem}},
    )
    async def post_recentre(request: Request) -> Any:
        """Recentre the client's view: the way they face now becomes the scene's forward.

        The same as the `recentre` command; recorded like any command.
        """
        return await post_command(request, Recentre())

    @app.post(
        SCENE_SOUND_PATH,
        response_model=CommandResult,
        tags=["session"],
        responses=command_problems,
    )
    async def post_scene_sound(request: Request, body: SceneSoundBody) -> Any:
        """Mute the scene's sound in the headset (its stimuli and ambience, in every scene, the
        safe scene's too), or turn it back on. The coach's voice is not scene sound: the coach
        panel has its own mute.

        The same as the `scene_sound` command; recorded like any command. The answer's
        `scene_sound` holds the choice and what the headset reports it plays (`headset_muted`,
        None until the headset has answered, a moment later).
        """
        answer = await post_command(request, SceneSound(muted=body.muted))
        return with_extras(answer) if isinstance(answer, dict) else answer

    @app.get(
        "/api/client-view.jpg",
        tags=["session"],
        responses={200: {"content": {"image/jpeg": {}}}, 204: {"description": "No view yet."}},
    )
    async def get_client_view() -> Response:
        """The latest picture of what the client sees in the headset, when the renderer sends one."""
        picture = client_view() if client_view is not None else None
        if not picture:
            return Response(status_code=204)
        return Response(picture, media_type="image/jpeg")

    @app.get("/api/console", tags=["console"])
    async def get_console() -> dict[str, Any]:
        """What the page needs besides the state: scene events, notice, whether there is a view."""
        return console_info

    @app.websocket("/api/live")
    async def live(ws: WebSocket) -> None:
        if len(live_pages) >= max_live:
            await _refuse_page(ws, TOO_MANY_PAGES.format(n=max_live))
            return
        live_pages.add(ws)
        try:
            await ws.accept()
        except (WebSocketDisconnect, RuntimeError, OSError):
            live_pages.discard(ws)
            return
        queue = session.subscribe()
        closed = asyncio.ensure_future(_until_closed(ws))
        try:
            hello = {
                "state": with_extras(session.snapshot()),
                "now": round(session.now(), 3),
                "readings": [[r.t, r.hr if r.good else None] for r in session.readings],
                "levels": [[t, level] for t, level in session.levels],
                "decisions": [d.model_dump(mode="json") for d in session.decisions[-500:]],
                "alerts": [a.model_dump(mode="json") for a in session.alert_log[-200:]],
                "events": list(events),
                "console": console_info,
                "attention": [[t, a] for t, a in attention],
            }
            await _send(ws, {"kind": "hello", "data": hello})
            await _stream(ws, session, queue, closed, 1.0 / live_hz, with_extras)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the page went away (closed tab, lost network); nothing to clean but our queue
        finally:
            live_pages.discard(ws)
            session.unsubscribe(queue)
            closed.cancel()

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _require_discriminator_tags(default_openapi())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        BodyLimit,
        max_bytes=max_body_bytes,
        timeout_s=body_timeout_s,
        larger=((RECORDINGS_PATH, MAX_RECORDING_BYTES),) if coach is not None else (),
    )
    app.add_middleware(  # added last, so it runs first: nothing is read before the token
        AccessGuard,
        token=token,
        allowed_origins={*(allowed_origins or ()), *network.allowed_origins},
        host_names=network.host_names(),
    )
    app.include_router(measures_router())  # SSQ, sickness and expectancy ratings
    if clinic is not None:
        app.include_router(clinic_router(clinic))  # clients, hierarchies, progress, stations
    app.include_router(coach_router(coach))  # the coach in the headset (or that there is none)
    app.state.session = session
    app.state.live_pages = live_pages
    app.state.address = None
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _require_discriminator_tags(spec: dict[str, Any]) -> None:
    """Mark each union member's tag (`type`) required in the OpenAPI document, in place.

    pydantic gives every command's `type` a default (its own name), so the generated schema
    calls it optional, yet a body without it cannot say which command it is and gets 422. An
    OpenAPI discriminator's property must be present; this makes the document say so.
    """
    schemas = spec.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict) and "propertyName" in discriminator:
                tag = discriminator["propertyName"]
                refs = list(discriminator.get("mapping", {}).values())
                refs += [m["$ref"] for m in node.get("oneOf", []) if "$ref" in m]
                for ref in refs:
                    target = (
                        schemas.get(ref.removeprefix(prefix)) if ref.startswith(prefix) else None
                    )
                    if target is not None and tag not in target.setdefault("required", []):
                        target["required"].append(tag)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(spec)


async def say_goodbye(app: FastAPI, ended: dict[str, Any], timeout_s: float = 2.0) -> bool:
    """Tell every open page the session is over, then wait (at most `timeout_s`) for them to close.

    `ended` is the page's last message: `session_id`, `saved` (the record is closed), `kept`
    (False for a try-out whose record is deleted), `report` (the command that writes the report)
    and `report_html` (the report itself, or None), which
    the page offers as a link that works after the server is gone. Each stream sends it after
    everything queued before it and closes with 1000 (normal closure). True when every page got
    it in time.
    """
    session: LiveSession = app.state.session
    pages: set[WebSocket] = app.state.live_pages
    session.publish({"kind": "ended", "data": ended})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pages and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return not pages


async def _refuse_page(ws: WebSocket, message: str) -> None:
    """Refuse a WebSocket before accepting it: 503 with the sentence, or a close 1013."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse({"detail": message}, status_code=503))
    else:
        await ws.close(code=1013, reason=message[:120])


async def _until_closed(ws: WebSocket) -> None:
    """Read (and ignore) what the page sends, so a closed connection is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return


def _state_message(
    session: LiveSession, extra: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    data = extra(session.snapshot())
    data.pop("ladder", None)  # sent once in the hello; it does not change during a session
    data.pop("settings", None)
    return {"kind": "state", "data": data}


async def _send(ws: WebSocket, message: dict[str, Any]) -> None:
    await ws.send_text(json.dumps(message, separators=(",", ":")))


async def _stream(
    ws: WebSocket,
    session: LiveSession,
    queue: asyncio.Queue[dict[str, Any]],
    closed: asyncio.Future[None],
    period_s: float,
    extra: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Forward session messages as they come and the state every `period_s`, until closed."""
    loop = asyncio.get_running_loop()
    next_state = loop.time()
    getter: asyncio.Future[dict[str, Any]] | None = None
    try:
        while not closed.done():
            if getter is None:
                getter = asyncio.ensure_future(queue.get())
            timeout = max(0.0, next_state - loop.time())
            waiting: set[asyncio.Future[Any]] = {getter, closed}
            done, _ = await asyncio.wait(
                waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                message = getter.result()
                getter = None
                while True:
                    await _send(ws, message)
                    if message.get("kind") == "ended":
                        await ws.close(code=1000, reason="session ended")
                        return
                    if queue.empty():
                        break
                    message = queue.get_nowait()
            if loop.time() >= next_state:
                await _send(ws, _state_message(session, extra))
                # a slow link skips state frames instead of queueing them
                next_state = max(next_state + period_s, loop.time())
    finally:
        if getter is not None:
            getter.cancel()


def readable_errors(errors: Sequence[Any]) -> str:
    """A validation failure as one sentence a person can act on."""
    types = ", ".join(COMMAND_TYPES)
    parts: list[str] = []
    for err in errors:
        kind = err.get("type", "")
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if kind == "json_invalid":
            parts.append("the body is not valid JSON")
        elif kind == "union_tag_not_found" or (kind == "missing" and not loc):
            parts.append(f'it needs a "type", one of: {types}')
        elif kind == "union_tag_invalid":
            tag = (err.get("ctx") or {}).get("tag", "")
            parts.append(f'"{tag}" is not a command type; the types are: {types}')
        elif kind in ("model_attributes_type", "dict_type", "model_type") and len(loc) <= 1:
            parts.append('the body must be a JSON object such as {"type": "step_up"}')
        elif loc:
            field = ".".join(loc[1:]) or loc[0]
            parts.append(f"{field}: {err.get('msg', 'invalid')} (in a {loc[0]} command)")
        else:
            parts.append(str(err.get("msg", "invalid")))
        if len(parts) == 3:
            break
    unique = list(dict.fromkeys(parts))
    return "Bad command: " + "; ".join(unique) + "."


def _plain_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors without the offending input (it may hold a note's text)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


# --------------------------------------------------------------------------- serving


def bind_socket(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A listening-ready TCP socket on host:port; ConsoleAddressError (one sentence) when not possible."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ConsoleAddressError(
            f"Cannot listen on {host!r}: it is not an address or host name this computer knows; "
            "use --host 127.0.0.1 (this computer only) or --host 0.0.0.0 (the clinic network)."
        ) from err
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # quick restart; never shares
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            message = (
                f"Port {port} is already in use: close the program using it (perhaps "
                "another vret console) or choose another port with --port."
            )
        elif err.errno == errno.EADDRNOTAVAIL:
            message = (
                f"Cannot listen on {host}: that address does not belong to this computer; "
                "use --host 127.0.0.1 or one of this computer's own addresses."
            )
        elif err.errno == errno.EACCES:
            message = (
                f"Port {port} needs administrator rights: choose a port from 1024 up with --port."
            )
        else:
            message = f"Cannot listen on {host} port {port}: {err.strerror or err}."
        raise ConsoleAddressError(message) from err
    return sock


class _ConsoleServer(uvicorn.Server):
    """uvicorn's server without its signal handlers (the session runtime owns Ctrl-C)."""

    def __init__(
        self, config: uvicorn.Config, ready: asyncio.Event | None, on_shutdown: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._ready = ready
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn versions call this instead
        return

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self._ready is not None and self.started:
            self._ready.set()


async def serve(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    ready: asyncio.Event | None = None,
    sock: socket.socket | None = None,
    network: ConsoleNetwork | None = None,
) -> None:
    """Serve `app` on the running loop until cancelled (then shut down gracefully).

    `network` gives the address (instead of `host` and `port`), TLS and the connection limits;
    without it the console serves plain HTTP on host:port with the default limits.
    Binds first, so a port in use raises ConsoleAddressError (one sentence) before anything
    starts; pass `sock` from `bind_socket` to bind earlier. `ready` is set once connections are
    accepted; `app.state.address` then holds the (host, port) bound and `app.state.connections`
    the table of open HTTP connections. No access log is written (URLs carry the token, and
    nothing about a client's health may reach a log); uvicorn's signal handlers are left out.
    """
    if network is not None:
        host, port = network.host, network.port
    else:
        network = ConsoleNetwork(host=host, port=port, insecure_lan=True)  # the caller's choice
    tls = network.ssl_context()  # a certificate that cannot be used fails before binding
    if sock is None:
        sock = bind_socket(host, port)
    app.state.address = sock.getsockname()[:2]
    protocol = guarded_http(
        ConnectionLimits(network.max_connections, network.header_timeout_s), tls
    )
    app.state.connections = protocol.table
    config = uvicorn.Config(
        app,
        http=protocol,
        log_config=None,  # leave the process's logging as the runtime set it
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=max(1, round(network.keep_alive_s)),
        h11_max_incomplete_event_size=H11_MAX_HEADER_BYTES,
        # the protocol keeps HTTP connections under the cap; this bounds them with live pages
        limit_concurrency=network.max_connections + MAX_LIVE + 1,
    )
    server = _ConsoleServer(config, ready, protocol.table.close_handshaking)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5.0)
        raise
    finally:
        sock.close()
