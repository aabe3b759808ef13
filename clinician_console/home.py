"""The station's home page and its API: pick a client, scene, sensor and display, then Start.

Routes (behind the same access token and guards as the rest of the console):
- `GET /home` the page; `GET /` goes there while no session runs (during one it is the
  session's console).
- `GET /api/sensors` the serial ports present with the protocol each likely speaks, and the
  simulated sensor (always offered, for practice).
- `POST /api/sensor-test` listen to one sensor for 10 s; `GET /api/sensor-test` its readings
  and their quality so far.
- `GET /api/display` each display (headset, window, offscreen): available now, or the fix.
- `POST /api/sessions` start a session (one per station: another Start gets 409 with the
  running session's number); `GET /api/sessions/current` the running session or null, and the
  last one that ended; `GET /api/sessions/{id}/report` a session's report page.

The console cannot start sessions itself (it imports `exposure` only): the station hands it a
`HomeBackend` (`vret.station_server.StationServer`). The routes are plain `def`s, run in
FastAPI's thread pool: listening to ports and opening records never hold up a session's loop.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from clinician_console.clinic import STATIC, ClinicBackend, NotFound, create_clinic_app
from clinician_console.network import ConsoleNetwork
from clinician_console.schema import Problem
from exposure.errors import UserError

SENSOR_TEST_S = 10.0
"""How long the sensor test listens before a session."""


class StationBusy(UserError):
    """A session already runs (or starts) on this station; the message names it."""


class NewSession(BaseModel):
    """What Start sends: who, which scene, which sensor and where the client sees it."""

    model_config = ConfigDict(extra="forbid")

    client: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="The client's pseudonymous code (no names), e.g. C-001.",
    )
    scene: str = Field(min_length=1, max_length=64, description="A scene of the library.")
    sensor: str = Field(
        min_length=1,
        max_length=256,
        description='"simulated" (a simulated client, for practice) or a serial port.',
    )
    protocol: str | None = Field(
        default=None, description="The sensor's protocol; null: the one found for the port."
    )
    display: Literal["offscreen", "window", "openvr"] = "offscreen"
    manual: bool = Field(default=False, description="Start in manual mode (automatic off).")


class SensorTestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sensor: str = Field(min_length=1, max_length=256)
    protocol: str | None = None


class HomeBackend(Protocol):
    """What the home page needs from the station (`vret.station_server.StationServer`)."""

    def sensors(self) -> list[dict[str, Any]]:
        """The simulated sensor, then every port with its likely protocol."""

    def test_sensor(self, sensor: str, protocol: str | None) -> dict[str, Any]:
        """Start a `SENSOR_TEST_S` listen to one sensor; UserError when it cannot."""

    def sensor_test(self) -> dict[str, Any] | None:
        """The latest sensor test: readings with their quality, seconds left."""

    def displays(self) -> list[dict[str, Any]]:
        """Each display with whether a session can use it now and the fix when not."""

    def start_session(self, request: NewSession) -> dict[str, Any]:
        """Start a session and return it once its console serves; StationBusy when one runs,
        UserError (one sentence) when the request cannot start."""

    def current(self) -> dict[str, Any]:
        """`{"session": the running one or None, "last": the last that ended or None}`."""

    def report(self, session_id: int) -> str:
        """A session's report page; NotFound when there is no such session."""


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 413, 422)
}


def _problem(err: UserError) -> JSONResponse:
    return JSONResponse({"detail": str(err)}, status_code=404 if isinstance(err, NotFound) else 409)


def home_router(backend: HomeBackend) -> APIRouter:
    """The home page and the station's routes over `backend`."""
    router = APIRouter(tags=["station"])

    @router.get("/home", include_in_schema=False)
    def home_page() -> FileResponse:
        return FileResponse(STATIC / "home.html", media_type="text/html")

    @router.get("/api/sensors", responses=ERRORS)
    def list_sensors() -> Any:
        """The simulated sensor and every serial port, with its USB id and likely protocol
        (`basis`: "usb id", "listened", "unknown" or "busy"); listening takes a few seconds."""
        return backend.sensors()

    @router.post("/api/sensor-test", responses=ERRORS)
    def start_sensor_test(request: SensorTestRequest) -> Any:
        """Listen to one sensor for 10 s; read its progress with `GET /api/sensor-test`."""
        try:
            return backend.test_sensor(request.sensor, request.protocol)
        except UserError as err:
            return _problem(err)

    @router.get("/api/sensor-test", responses=ERRORS)
    def get_sensor_test() -> Any:
        """The latest sensor test: its readings (time, heart rate, quality) so far."""
        return backend.sensor_test()

    @router.get("/api/display", responses=ERRORS)
    def get_display() -> Any:
        """Each display: `available` now, its `state`, and a one-sentence `message` (the fix)."""
        return backend.displays()

    @router.post("/api/sessions", responses=ERRORS, status_code=201)
    def start_session(request: NewSession) -> Any:
        """Start a session: answers its `id` and console `url` once it serves. 409 when a
        session already runs on this station, or the request cannot start (the sentence
        says why)."""
        try:
            return backend.start_session(request)
        except UserError as err:
            return _problem(err)

    @router.get("/api/sessions/current", responses=ERRORS)
    def current_session() -> Any:
        """The running session (null when none) and the last session that ended."""
        return backend.current()

    @router.get("/api/sessions/{session_id}/report", include_in_schema=False)
    def session_report(session_id: int) -> Any:
        try:
            return HTMLResponse(backend.report(session_id))
        except UserError as err:
            return _problem(err)

    return router


def create_home_app(
    backend: HomeBackend,
    clinic: ClinicBackend,
    token: str,
    *,
    network: ConsoleNetwork | None = None,
) -> FastAPI:
    """The station's console between sessions: the home page and the clinic pages, behind the
    same token and guards as a session's console."""
    app = create_clinic_app(clinic, token, network=network)
    # the clinic app sends `/` to the clinic page; on a station `/` is the home page
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != "/"]

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/home", status_code=303)

    app.include_router(home_router(backend))
    app.title = "vret station"
    return app
