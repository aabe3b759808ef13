"""The console's clinic pages: clients, their fear hierarchies, progress, and every station.

Routes (behind the same access token as the rest of the console):
- `GET /clients` the clients page (add, list, archive, build a hierarchy), `GET /clinic` the
  clinic page (clients and the sessions running on every station sharing the records).
- `GET /api/clients` (`?archived=true` for all), `POST /api/clients` add one (the answer
  carries a `warning` when the code may be a name), `POST /api/clients/{code}/archive`.
- `GET /api/scenes`, `GET /api/scenes/{scene}` a scene's levels and its variables' ranges.
- `GET`/`POST /api/clients/{code}/hierarchies/{scene}` the latest version, or save a new one.
- `GET /api/instruments`, `GET`/`POST /api/clients/{code}/measures` measures taken between
  sessions (a Behavioural Approach Test, a questionnaire), scored from the instrument's file.
- `GET /clients/{code}/progress` the client's progress report (the page `vret report --client`
  writes).
- `GET /api/clinic` this station's name, the clients, and the sessions running on every
  station; a session of another station is listed read-only (its console is on that station).

The console cannot see the records itself (it imports `exposure` only): the station hands it a
`ClinicBackend` (`vret.clinic.RecordsClinic`). The backend reads and writes the database, so
every route here is a plain `def`, which FastAPI runs in its thread pool: a slow database never
holds up the session's loop, and Safe is never behind a clients list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinician_console.access import AccessGuard
from clinician_console.limits import BODY_TIMEOUT_S, MAX_BODY_BYTES, BodyLimit
from clinician_console.network import ConsoleNetwork
from clinician_console.schema import Problem
from exposure import __version__
from exposure.errors import UserError

STATIC = Path(__file__).resolve().parent / "static"

CODE_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$"
PHOBIA_PATTERN = r"^[a-z][a-z -]{0,39}$"
THERAPIST_PATTERN = r"^[A-Za-z0-9 .-]{0,64}$"
"""The rules of `vret.clients` (`CODE`, `PHOBIA`, `THERAPIST`), stated in the API's schema so
a page or program learns them from /openapi.json; a test keeps the two the same."""


class NotFound(UserError):
    """No such client or scene: the routes answer 404 with the sentence."""


class NewClient(BaseModel):
    """A client to add: a pseudonymous code, never a name."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        pattern=CODE_PATTERN, description="Letters, digits and '-', like C-0042; never a name."
    )
    phobia: str = Field(
        pattern=PHOBIA_PATTERN, description="The phobia treated, in lower case: spiders, heights..."
    )
    therapist: str = Field(
        default="", pattern=THERAPIST_PATTERN, description="The therapist's code or initials."
    )
    start_date: date | None = Field(default=None, description="Default: today.")


class HierarchyStep(BaseModel):
    """One step: a level of the scene, maybe with changed variables, and the expected SUDS."""

    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=30)
    name: str = Field(default="", max_length=80)
    params: dict[str, float] = Field(default_factory=dict)
    suds: int = Field(ge=0, le=100)


class NewHierarchy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[HierarchyStep] = Field(min_length=1, max_length=30)


class NewMeasure(BaseModel):
    """A questionnaire or Behavioural Approach Test taken outside a session."""

    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="e.g. bat")
    answers: list[float] = Field(max_length=200, description="One per item, in the file's order.")
    taken: date | None = Field(default=None, description="Default: today.")
    note: str = Field(default="", max_length=400, description="A short remark (no names).")


class ClinicBackend(Protocol):
    """What the clinic pages need from the records (implemented in `vret.clinic`).

    Every method may raise `exposure.errors.UserError` with one sentence for the therapist:
    `NotFound` for a client or scene that does not exist (404), any other for a request that
    does not fit the records or the scene (409: a code already taken, steps the scene lacks).
    """

    station: str
    """This station's name (the host its sessions are recorded under)."""

    def clients(self, archived: bool) -> list[dict[str, Any]]: ...

    def add_client(self, client: NewClient) -> dict[str, Any]: ...

    def archive_client(self, code: str, restore: bool) -> dict[str, Any]: ...

    def scenes(self) -> list[dict[str, Any]]: ...

    def scene(self, name: str) -> dict[str, Any]: ...

    def hierarchy(self, code: str, scene: str) -> dict[str, Any] | None: ...

    def save_hierarchy(
        self, code: str, scene: str, steps: list[dict[str, Any]]
    ) -> dict[str, Any]: ...

    def progress_page(self, code: str) -> str: ...

    def instruments(self) -> list[dict[str, Any]]: ...

    def measures(self, code: str) -> list[dict[str, Any]]: ...

    def add_measure(self, code: str, measure: NewMeasure) -> dict[str, Any]: ...

    def running_sessions(self) -> list[dict[str, Any]]: ...


FIELD_RULES = {
    "code": "the code takes letters, digits and '-' (1 to 32, starting and ending with a letter "
    "or digit), like C-0042, and never a name",
    "phobia": "the phobia is lower case words, such as spiders or heights",
    "therapist": "the therapist is a code or initials (letters, digits, spaces, '.' and '-')",
}


def readable_request_errors(errors: Sequence[Any]) -> str:
    """A request the clinic routes cannot read, as one sentence (without the input itself)."""
    parts = []
    for err in list(errors)[:3]:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if loc and loc[-1] in FIELD_RULES and err.get("type") == "string_pattern_mismatch":
            parts.append(FIELD_RULES[loc[-1]])
            continue
        where = ".".join(loc) or "the body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "Bad request: " + "; ".join(dict.fromkeys(parts)) + "."


def _problem(err: UserError) -> JSONResponse:
    return JSONResponse({"detail": str(err)}, status_code=404 if isinstance(err, NotFound) else 409)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 413, 422)
}


def clinic_router(backend: ClinicBackend) -> APIRouter:
    """The clients, hierarchy, progress and clinic routes over `backend`."""
    router = APIRouter(tags=["clinic"])

    @router.get("/clients", include_in_schema=False)
    def clients_page() -> FileResponse:
        return FileResponse(STATIC / "clients.html", media_type="text/html")

    @router.get("/clinic", include_in_schema=False)
    def clinic_page() -> FileResponse:
        return FileResponse(STATIC / "clinic.html", media_type="text/html")

    @router.get("/api/clients", responses=ERRORS)
    def list_clients(archived: bool = False) -> Any:
        """The clients by code: phobia, start, therapist, sessions and the last session."""
        try:
            return backend.clients(archived)
        except UserError as err:
            return _problem(err)

    @router.post("/api/clients", responses=ERRORS)
    def add_client(client: NewClient) -> Any:
        """Add a client; `warning` says when the code may be a name (it has no digit)."""
        try:
            return backend.add_client(client)
        except UserError as err:
            return _problem(err)

    @router.post("/api/clients/{code}/archive", responses=ERRORS)
    def archive_client(code: str, restore: bool = False) -> Any:
        """Take the client off the lists (nothing is deleted), or put them back (`restore`)."""
        try:
            return backend.archive_client(code, restore)
        except UserError as err:
            return _problem(err)

    @router.get("/api/scenes", responses=ERRORS)
    def list_scenes() -> Any:
        """The exposure scenes a hierarchy can be built on."""
        return backend.scenes()

    @router.get("/api/scenes/{scene}", responses=ERRORS)
    def get_scene(scene: str) -> Any:
        """A scene's levels (name, parameters, SUDS) and its variables with their ranges."""
        try:
            return backend.scene(scene)
        except UserError as err:
            return _problem(err)

    @router.get("/api/clients/{code}/hierarchies/{scene}", responses=ERRORS)
    def get_hierarchy(code: str, scene: str) -> Any:
        """The latest version of the client's hierarchy for the scene (null when none)."""
        try:
            return backend.hierarchy(code, scene)
        except UserError as err:
            return _problem(err)

    @router.post("/api/clients/{code}/hierarchies/{scene}", responses=ERRORS)
    def save_hierarchy(code: str, scene: str, hierarchy: NewHierarchy) -> Any:
        """Save the steps as the next version; the client's next session on the scene uses it."""
        try:
            return backend.save_hierarchy(code, scene, [s.model_dump() for s in hierarchy.steps])
        except UserError as err:
            return _problem(err)

    @router.get("/api/instruments", responses=ERRORS)
    def list_instruments() -> Any:
        """The instruments for measures between sessions (items and scale from their files)."""
        return backend.instruments()

    @router.get("/api/clients/{code}/measures", responses=ERRORS)
    def list_measures(code: str) -> Any:
        """The client's measures taken outside sessions, by date."""
        try:
            return backend.measures(code)
        except UserError as err:
            return _problem(err)

    @router.post("/api/clients/{code}/measures", responses=ERRORS)
    def add_measure(code: str, measure: NewMeasure) -> Any:
        """Score the answers with the instrument's file and record them (409 when they do not
        fit the instrument: the sentence says which answer)."""
        try:
            return backend.add_measure(code, measure)
        except UserError as err:
            return _problem(err)

    @router.get("/clients/{code}/progress", include_in_schema=False)
    def progress(code: str) -> Any:
        try:
            return HTMLResponse(backend.progress_page(code))
        except UserError as err:
            return _problem(err)

    @router.get("/api/clinic", responses=ERRORS)
    def clinic() -> Any:
        """This station, the clients, and the sessions running on every station."""
        try:
            return {
                "station": backend.station,
                "clients": backend.clients(False),
                "sessions": backend.running_sessions(),
            }
        except UserError as err:
            return _problem(err)

    return router


def create_clinic_app(
    backend: ClinicBackend,
    token: str,
    *,
    network: ConsoleNetwork | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    body_timeout_s: float = BODY_TIMEOUT_S,
) -> FastAPI:
    """The clinic pages on their own, with no session (`vret clinic`): prepare a course before
    its first session, or watch every station from the office. Same token and guards as the
    session console."""
    network = network or ConsoleNetwork()
    app = FastAPI(
        title="vret clinic",
        version=__version__,
        description="Clients, fear hierarchies and progress; the sessions on every station.",
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": readable_request_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _unreadable(request: Request, exc: StarletteHTTPException) -> Response:
        # a body that is not UTF-8 is a body that is not JSON: the same 422 sentence
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            return JSONResponse(
                {"detail": "Bad request: the body is not valid JSON (it must be UTF-8 text)."},
                status_code=422,
            )
        return await http_exception_handler(request, exc)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/clinic", status_code=303)

    app.include_router(clinic_router(backend))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, timeout_s=body_timeout_s)
    app.add_middleware(
        AccessGuard,
        token=token,
        allowed_origins=set(network.allowed_origins),
        host_names=network.host_names(),
    )
    app.state.address = None
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
