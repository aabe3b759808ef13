"""The console's measures: the SSQ before, during and after a session, the mid-session sickness
rating, and expectancy ratings before and after a step.

Routes (behind the same access token as the rest of the console):
- `GET /api/measures` the instruments the panel shows (items and scale, from their data files),
  what this session has recorded so far, the sickness threshold and the current level.
- `POST /api/measures` one questionnaire or rating: scored here (`exposure.measures.score`) and
  submitted to the session as a `Measure` event, so the record holds answers and scores.
- `POST /api/expectancy` one expectancy rating (`before` or `after` a step), submitted as an
  `Expectancy` event; `level` defaults to the level the client is at.

The request bodies are checked here, not by FastAPI, so a mistake answers 422 with one sentence
about measures (the console's command errors talk about commands); the OpenAPI document still
states each body exactly, answer counts and scales included, built from the instrument files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from clinician_console.schema import EffectView, Problem
from exposure.live import LiveSession
from exposure.measures import Instrument, MeasureError, load_instrument, score
from exposure.models import NOT_BLANK, SICKNESS_INSTRUMENT, Expectancy, Measure

CONSOLE_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "ssq": ("pre", "mid", "post"),
    SICKNESS_INSTRUMENT: ("mid",),
}
"""The instruments the session panel offers, with the phases each is taken in."""


class EntryError(ValueError):
    """A measures body the session cannot take; the message is one sentence."""

    status = 422


class NotOnThisLadder(EntryError):
    """A well-formed rating about a level this session's ladder does not have."""

    status = 409


class ItemView(BaseModel):
    id: str
    text: str
    min: float
    max: float
    labels: list[str] = Field(default_factory=list)


class InstrumentView(BaseModel):
    name: str
    title: str
    question: str
    reference: str
    phases: list[str]
    items: list[ItemView]


RecordedMeasure = Annotated[Measure | Expectancy, Field(discriminator="type")]


class MeasuresView(BaseModel):
    """What the measures panel needs: the instruments, and what is recorded so far."""

    instruments: list[InstrumentView]
    recorded: list[RecordedMeasure]
    sickness_threshold: float = Field(
        description="A mid-session sickness rating above this alerts."
    )
    level: int = Field(description="The level the client is at (0 is the safe scene).")
    top: int


class MeasureResult(BaseModel):
    """The event as recorded, and what the session did about it (a "sick, not scared" alert)."""

    event: RecordedMeasure
    effects: list[EffectView] = Field(default_factory=list)


def _item_view(instrument: Instrument) -> list[ItemView]:
    views = []
    for item in instrument.items:
        low, high = instrument.item_range(item)
        labels = item.labels if item.labels is not None else instrument.scale.labels
        views.append(ItemView(id=item.id, text=item.text, min=low, max=high, labels=list(labels)))
    return views


def _answers_schema(instrument: Instrument) -> dict[str, Any]:
    ranges = {instrument.item_range(item) for item in instrument.items}
    if len(ranges) != 1 or instrument.answers != "all":
        raise ValueError(f"the console panel needs one scale for all of {instrument.name}'s items")
    low, high = ranges.pop()
    n = len(instrument.items)
    kind = "integer" if instrument.scale.integer else "number"
    return {
        "type": "array",
        "minItems": n,
        "maxItems": n,
        "items": {"type": kind, "minimum": low, "maximum": high},
        "description": f"{n} answers in item order, {low:g} to {high:g}.",
    }


def _measure_schema(instruments: dict[str, Instrument]) -> dict[str, Any]:
    return {
        "oneOf": [
            {
                "type": "object",
                "title": f"{name} entry",
                "additionalProperties": False,
                "required": ["instrument", "phase", "answers"],
                "properties": {
                    "instrument": {"type": "string", "enum": [name]},
                    "phase": {"type": "string", "enum": list(CONSOLE_INSTRUMENTS[name])},
                    "answers": _answers_schema(instrument),
                },
            }
            for name, instrument in instruments.items()
        ]
    }


_LEVEL = {
    "type": "integer",
    "minimum": 0,
    "maximum": 30,
    "description": "Default: the current level.",
}
_PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}
EXPECTANCY_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "title": "before a step",
            "additionalProperties": False,
            "required": ["stage", "expectation", "likelihood"],
            "properties": {
                "stage": {"type": "string", "enum": ["before"]},
                "level": _LEVEL,
                "expectation": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 500,
                    "pattern": NOT_BLANK,
                    "description": "What the client expects will happen, in their words.",
                },
                "likelihood": {**_PERCENT, "description": "How likely, 0-100 %."},
            },
        },
        {
            "type": "object",
            "title": "after a step",
            "additionalProperties": False,
            "required": ["stage", "happened", "surprise"],
            "properties": {
                "stage": {"type": "string", "enum": ["after"]},
                "level": _LEVEL,
                "happened": {"type": "boolean", "description": "Did it happen?"},
                "surprise": {**_PERCENT, "description": "How surprised, 0-100."},
            },
        },
    ]
}


def _body(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "example": example}},
        }
    }


def measure_from(body: Any, instruments: dict[str, Instrument]) -> Measure:
    """The `Measure` event for a panel's body, scored; EntryError (one sentence) when it cannot be."""
    if not isinstance(body, dict):
        raise EntryError('The body must be a JSON object such as {"instrument": "ssq", ...}.')
    stray = sorted(set(body) - {"instrument", "phase", "answers"})
    if stray:
        raise EntryError(f"Unknown field {stray[0]!r}: give instrument, phase and answers.")
    name = body.get("instrument")
    if not isinstance(name, str) or name not in instruments:
        raise EntryError(f"instrument must be one of: {', '.join(instruments)}.")
    phases = CONSOLE_INSTRUMENTS[name]
    phase = body.get("phase")
    if phase not in phases:
        raise EntryError(f"phase must be one of {', '.join(phases)} for {name}.")
    answers = body.get("answers")
    if not isinstance(answers, list):
        raise EntryError("answers must be a list of numbers, one per item in order.")
    try:
        scores = score(instruments[name], answers)
    except MeasureError as err:
        raise EntryError(str(err)) from None
    return Measure(instrument=name, phase=phase, answers=answers, scores=scores)


def expectancy_from(body: Any, level: int, top: int) -> Expectancy:
    """The `Expectancy` event for a panel's body; EntryError (one sentence) when it cannot be."""
    if not isinstance(body, dict):
        raise EntryError('The body must be a JSON object such as {"stage": "before", ...}.')
    if "t" in body or "type" in body:
        raise EntryError("Leave out t and type: the session stamps them.")
    data = {"level": level, **body}
    try:
        event = Expectancy.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise EntryError(f"{where + ': ' if where else ''}{message}.") from None
    if event.level > top:
        raise NotOnThisLadder(f"Level {event.level} is past the top of this {top}-level ladder.")
    return event


def measures_router(folders: Sequence[Path] = ()) -> APIRouter:
    """The measures routes; the instruments are read from their files once, here."""
    instruments = {name: load_instrument(name, folders) for name in CONSOLE_INSTRUMENTS}
    views = [
        InstrumentView(
            name=name,
            title=i.title,
            question=i.question,
            reference=i.reference,
            phases=list(CONSOLE_INSTRUMENTS[name]),
            items=_item_view(i),
        )
        for name, i in instruments.items()
    ]
    router = APIRouter(prefix="/api", tags=["measures"])
    problems: dict[int | str, dict[str, Any]] = {422: {"model": Problem}}
    ladder_problems: dict[int | str, dict[str, Any]] = {**problems, 409: {"model": Problem}}

    @router.get("/measures", response_model=MeasuresView)
    async def get_measures(request: Request) -> Any:
        """The panel's instruments and this session's measures and expectancy ratings so far."""
        session: LiveSession = request.app.state.session
        state = session.state
        return MeasuresView(
            instruments=views,
            recorded=list(session.measures),
            sickness_threshold=state.settings.sickness_threshold,
            level=state.level,
            top=state.ladder.top,
        )

    @router.post(
        "/measures",
        response_model=MeasureResult,
        responses=problems,
        openapi_extra=_body(
            _measure_schema(instruments), {"instrument": "sickness", "phase": "mid", "answers": [3]}
        ),
    )
    async def post_measure(request: Request) -> Any:
        """Record one SSQ (pre, mid or post) or a mid-session sickness rating, scored here.

        A sickness rating above the session's threshold raises "sick, not scared" (among the
        `effects`): pause the session; the level does not step down for the raised heart rate.
        """
        session: LiveSession = request.app.state.session
        try:
            event = measure_from(await _json(request), instruments)
        except EntryError as err:
            return JSONResponse({"detail": str(err)}, status_code=err.status)
        return _submitted(session, event)

    @router.post(
        "/expectancy",
        response_model=MeasureResult,
        responses=ladder_problems,
        openapi_extra=_body(
            EXPECTANCY_SCHEMA,
            {"stage": "before", "expectation": "It will jump at me", "likelihood": 80},
        ),
    )
    async def post_expectancy(request: Request) -> Any:
        """Record an expectancy rating before a step (expectation, likelihood) or after it
        (happened, surprise); `level` defaults to the level the client is at now."""
        session: LiveSession = request.app.state.session
        state = session.state
        try:
            event = expectancy_from(await _json(request), state.level, state.ladder.top)
        except EntryError as err:
            return JSONResponse({"detail": str(err)}, status_code=err.status)
        return _submitted(session, event)

    return router


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise EntryError("The body is not valid JSON.") from None


def _submitted(session: LiveSession, event: Measure | Expectancy) -> dict[str, Any]:
    _state, effects = session.submit(event)
    last = session.measures[-1] if session.measures else event
    return {
        "event": last.model_dump(mode="json"),
        "effects": [e.model_dump(mode="json") for e in effects],
    }
