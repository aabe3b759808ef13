"""The therapist's hand on the coach in the headset: what it says next and why, its controls,
and the therapist's own recordings of its lines.

- `GET /api/coach` the coach's form, whether it is muted, its next line and why (and in how many
  seconds at the soonest), the script's lines with whether each is recorded, the lines said.
- `POST /api/coach` trigger (say the next line now), skip (pass over it), mute, unmute, say (a
  typed line, spoken by TTS: made before it is sent, so it plays at once), mode (person, voice,
  off), ask (a private question on the panel in the headset: suds, expectancy_before,
  expectancy_after, sickness, ssq). Each is a recorded `CoachControl` event; the lines it causes are `CoachLine` events.
- `PUT /api/coach/recordings/{line}` the therapist's recording of a line, as 16-bit PCM WAV
  (the page records with MediaRecorder and decodes it to WAV in the browser); `GET` plays it
  back, `DELETE` goes back to TTS for that line.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from clinician_console.schema import Problem
from exposure.coach import Coach
from exposure.errors import UserError
from exposure.live import LiveSession
from exposure.models import CoachControl, CoachLine

MAX_RECORDING_BYTES = 8 * 1024 * 1024
"""A minute of 16-bit mono at 48 kHz is 5.5 MiB: the one route allowed past the 64 KiB cap."""
RECORDINGS_PATH = "/api/coach/recordings/"
LineId = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="A script line's id.")
]


class CoachBackend(Protocol):
    """What the coach panel needs from the station (implemented in `vret.coach_voice`)."""

    def lines(self) -> list[dict[str, Any]]:
        """The script's lines: id, situation, text, ask, and `recorded` (a take is kept)."""
        ...

    def recording(self, line_id: str) -> bytes | None:
        """The therapist's take of a line, as WAV bytes, or None."""
        ...

    def store_recording(self, line_id: str, data: bytes) -> dict[str, Any]:
        """Keep a take (UserError: one sentence, when it is not a usable recording)."""
        ...

    def delete_recording(self, line_id: str) -> bool: ...

    def prepare_text(self, text: str) -> None:
        """Make a typed line's speech (slow: called in a worker thread)."""
        ...

    def spoken(self) -> dict[str, Any] | None:
        """The latest line the headset began: its text and whether its sound started."""
        ...

    def mode_set(self, mode: Literal["person", "voice", "off"]) -> None:
        """The therapist set the coach's form (kept for the client's next sessions)."""
        ...


class CoachCommand(BaseModel):
    """One press of the therapist on the coach panel."""

    action: Literal["mute", "unmute", "skip", "trigger", "say", "mode", "ask"]
    text: str | None = Field(default=None, max_length=400, description="The typed line (say).")
    mode: Literal["person", "voice", "off"] | None = Field(default=None, description="(mode)")
    ask: Literal["suds", "expectancy_before", "expectancy_after", "sickness", "ssq"] | None = Field(
        default=None, description="The question the panel in the headset asks (ask)."
    )


class NextLine(BaseModel):
    line: str
    text: str
    why: str
    in_s: float = Field(description="Seconds until the coach may say it by itself (0: now).")


class CoachView(BaseModel):
    """The coach panel: form, mute, the next line and why, the script, what was said."""

    enabled: bool
    mode: str
    muted: bool
    next: NextLine | None
    lines: list[dict[str, Any]]
    said: list[CoachLine]
    spoken: dict[str, Any] | None


def coach_router(backend: CoachBackend | None) -> APIRouter:
    """The coach panel's routes; without a `backend` (a session with no coach) GET says so and
    the rest answer 409."""
    router = APIRouter(prefix="/api", tags=["coach"])
    problems: dict[int | str, dict[str, Any]] = {
        409: {"model": Problem, "description": "The session has no coach."},
        422: {"model": Problem, "description": "A body or recording that cannot be used."},
    }

    def coach_of(request: Request) -> tuple[LiveSession, Coach | None]:
        session: LiveSession = request.app.state.session
        return session, session.coach if backend is not None else None

    def no_coach() -> JSONResponse:
        return JSONResponse({"detail": "This session has no coach."}, status_code=409)

    @router.get("/coach", response_model=CoachView)
    async def get_coach(request: Request) -> Any:
        """What the coach will say next and why, its form and the lines recorded so far."""
        session, coach = coach_of(request)
        if coach is None or backend is None:
            return CoachView(
                enabled=False, mode="off", muted=False, next=None, lines=[], said=[], spoken=None
            )
        choice, wait = coach.upcoming(session.state)
        upcoming = None
        if choice is not None:
            upcoming = NextLine(
                line=choice.line.id, text=choice.line.text, why=choice.why, in_s=wait
            )
        return CoachView(
            enabled=True,
            mode=coach.mode,
            muted=coach.muted,
            next=upcoming,
            lines=backend.lines(),
            said=coach.said[-20:],
            spoken=backend.spoken(),
        )

    @router.post("/coach", responses=problems)
    async def post_coach(request: Request, body: CoachCommand) -> Any:
        """Trigger, skip, mute, unmute, type a line for TTS, or set the coach's form.

        A typed line's speech is made first (a fraction of a second), then the line is
        recorded and sent to the headset, where its sound starts at once."""
        session, coach = coach_of(request)
        if coach is None or backend is None:
            return no_coach()
        try:
            control = CoachControl(action=body.action, text=body.text, mode=body.mode, ask=body.ask)
        except ValidationError as err:
            message = err.errors()[0]["msg"].removeprefix("Value error, ")
            return JSONResponse(
                {"detail": message[:1].upper() + message[1:] + "."}, status_code=422
            )
        detail = ""
        if control.action == "say" and control.text:
            try:
                await asyncio.to_thread(backend.prepare_text, control.text.strip())
            except UserError as err:  # no TTS: the line is still captioned
                detail = str(err)
        before = len(coach.said)
        session.submit(control)
        if control.action == "mode" and control.mode is not None:
            backend.mode_set(control.mode)
        said = coach.said[before:]
        return {
            "event": control.model_dump(mode="json"),
            "said": [line.model_dump(mode="json") for line in said],
            "note": detail,
        }

    @router.put(
        "/coach/recordings/{line_id}",
        responses={**problems, 404: {"model": Problem, "description": "No such line."}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "16-bit PCM WAV (sent as audio/wav or application/octet-stream).",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def put_recording(request: Request, line_id: LineId) -> Any:
        """Keep the therapist's take of a script line (16-bit PCM WAV, 0.3 s to a minute)."""
        if backend is None:
            return no_coach()
        if not any(line["id"] == line_id for line in backend.lines()):
            return JSONResponse({"detail": f"No line {line_id!r} in the script."}, status_code=404)
        data = await request.body()
        if len(data) > MAX_RECORDING_BYTES:
            return JSONResponse({"detail": "The recording is too large."}, status_code=422)
        try:
            kept = await asyncio.to_thread(backend.store_recording, line_id, data)
        except UserError as err:
            return JSONResponse({"detail": str(err)}, status_code=422)
        return kept

    @router.get(
        "/coach/recordings/{line_id}",
        response_class=Response,
        responses={
            200: {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
            404: {"model": Problem, "description": "Not recorded."},
            409: problems[409],
            422: problems[422],
        },
    )
    async def get_recording(line_id: LineId) -> Any:
        """The therapist's take of a line, to listen back."""
        if backend is None:
            return no_coach()
        data = backend.recording(line_id)
        if data is None:
            return JSONResponse({"detail": f"Line {line_id!r} is not recorded."}, status_code=404)
        return Response(data, media_type="audio/wav")

    @router.delete("/coach/recordings/{line_id}", responses=problems)
    async def delete_recording(line_id: LineId) -> Any:
        """Forget a take: the line is spoken by TTS again."""
        if backend is None:
            return no_coach()
        return {"deleted": backend.delete_recording(line_id)}

    return router
