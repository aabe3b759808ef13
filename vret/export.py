"""A recorded session as data for other programs: CSV for a spreadsheet, JSON for everything.

The CSV has one row per event (ticks left out) and per recorded decision and alert, with the
exposure level in force at each row, replayed through `exposure.core.replay_steps`. The JSON is
the session row, every event and every recorded effect, exactly as stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

from exposure.core import replay_steps
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AskSuds,
    Decision,
    Event,
    Note,
    Reading,
    SceneEvent,
    SessionStart,
    SetLevel,
    Suds,
    SystemEvent,
    Tick,
)
from vret.records import SessionRow

CSV_COLUMNS = ("t", "type", "hr", "rr_ms", "quality", "level", "detail")


def event_detail(event: Event) -> str:
    """The part of an event a spreadsheet reader needs, in words."""
    by = f" by {event.by}" if hasattr(event, "by") else ""
    match event:
        case SessionStart():
            mode = "automatic" if event.auto else "manual"
            return (
                f"client {event.client or '-'}, scene {event.ladder.scene}, "
                f"{event.ladder.top} levels, {mode} mode"
            )
        case Reading():
            return f"SpO2 {event.spo2:g}%" if event.spo2 is not None else ""
        case SetLevel():
            return f"level {event.level}{by}"
        case Suds():
            return f"SUDS {event.value}{by}"
        case Note():
            return f"{event.text}{' (' + event.by + ')' if event.by != 'clinician' else ''}"
        case SceneEvent():
            return f"{event.name}{by}"
        case AskSuds():
            return f"{event.question}{by}"
        case SystemEvent():
            return f"{event.kind}: {event.detail}" if event.detail else event.kind
    return by.strip()


def csv_rows(
    events: Sequence[Event],
    effects: Sequence[Decision | Alert],
    causes: Sequence[int | None] | None = None,
) -> Iterator[dict[str, Any]]:
    """One row per event (ticks left out) and per recorded effect, in the order they happened.

    `level` is the exposure level in force when the row happened (replayed through the core;
    0 is the safe scene, and the baseline); a decision row carries the level it moved to. Effects follow the event that caused them (`causes[i]` is the seq of effect i's
    event; without it they follow the last event at or before their time).
    """
    by_event: dict[int, list[Decision | Alert]] = {}
    for index, effect in enumerate(effects):
        cause = causes[index] if causes is not None and index < len(causes) else None
        if cause is None:
            cause = max(
                (seq for seq, e in enumerate(events) if e.t <= effect.t), default=len(events) - 1
            )
        by_event.setdefault(cause, []).append(effect)
    level = SAFE_LEVEL
    for seq, (event, state, _) in enumerate(replay_steps(events)):
        if not isinstance(event, Tick):
            row: dict[str, Any] = {"t": event.t, "type": event.type, "level": level}
            if isinstance(event, Reading):
                row.update(
                    hr="" if event.hr is None else event.hr,
                    rr_ms=";".join(f"{rr:g}" for rr in event.rr_ms),
                    quality=event.quality,
                )
            row["detail"] = event_detail(event)
            yield row
        for effect in by_event.get(seq, ()):
            if isinstance(effect, Decision):
                yield {
                    "t": effect.t,
                    "type": "decision",
                    "level": effect.to_level,
                    "detail": f"{effect.from_level}->{effect.to_level} {effect.who}: {effect.reason}",
                }
            else:
                state_word = "" if effect.active else " (cleared)"
                yield {
                    "t": effect.t,
                    "type": "alert",
                    "level": level,
                    "detail": f"{effect.severity} {effect.kind}{state_word}: {effect.message}",
                }
        level = state.level


def export_csv(
    events: Sequence[Event],
    effects: Sequence[Decision | Alert],
    causes: Sequence[int | None] | None = None,
) -> str:
    """The session as CSV text (see `csv_rows`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(events, effects, causes))
    return buffer.getvalue()


def export_json(
    row: SessionRow, events: Sequence[Event], effects: Sequence[Decision | Alert]
) -> str:
    """The session row, its events and its recorded effects as one JSON document."""
    document = {
        "session": row.model_dump(mode="json"),
        "events": [e.model_dump(mode="json") for e in events],
        "effects": [e.model_dump(mode="json") for e in effects],
    }
    return json.dumps(document, ensure_ascii=False) + "\n"
