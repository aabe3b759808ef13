"""The clinic pages' backend: the console's `ClinicBackend` over the records database.

Every station of a clinic points at one PostgreSQL database (`--db postgresql+psycopg://...`),
so any station's console, or `vret clinic` in the office, sees every client and the sessions
running on every station. A station only steers its own session (its live console at `/`); the
others are listed read-only, with their station's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clinician_console.clinic import NewClient, NewMeasure, NotFound
from exposure.measures import MeasureError, list_instruments, load_instrument
from exposure.models import Decision
from scenes.registry import discover
from vret import clients, hierarchy
from vret.records import Records, effects_table
from vret.report.progress import ProgressCache, client_progress, progress_page


@contextmanager
def _found() -> Iterator[None]:
    """A client or scene that does not exist becomes the console's NotFound (404)."""
    try:
        yield
    except (clients.UnknownClient, hierarchy.UnknownScene) as err:
        raise NotFound(str(err)) from None


IN_SESSION_ONLY = frozenset({"expectancy", "sickness"})
"""Ratings that belong to a moment of a session (around a step, mid-exposure), not between."""

QUIET_S = 60
"""A running session with nothing recorded for this long is shown as silent (its station may
have stopped without closing it)."""


class RecordsClinic:
    """`clinician_console.clinic.ClinicBackend` over `records`; `own_session` is the session this
    station runs (None for `vret clinic`)."""

    def __init__(self, records: Records, own_session: int | None = None) -> None:
        self.records = records
        self.own_session = own_session
        self.station = records.host
        self._progress: ProgressCache = {}

    def clients(self, archived: bool) -> list[dict[str, Any]]:
        return [
            {**c.summary(), "warning": clients.name_warning(c.code)}
            for c in clients.list_clients(self.records, archived=archived)
        ]

    def add_client(self, client: NewClient) -> dict[str, Any]:
        added = clients.add(
            self.records,
            client.code,
            client.phobia,
            therapist=client.therapist,
            start_date=client.start_date,
        )
        return {**added.summary(), "warning": clients.name_warning(added.code)}

    def archive_client(self, code: str, restore: bool) -> dict[str, Any]:
        with _found():
            return clients.archive(self.records, code, restore=restore).summary()

    def scenes(self) -> list[dict[str, Any]]:
        found, _problems = discover()
        return [
            {
                "name": s.name,
                "phobia": s.phobia,
                "description": s.description,
                "levels": s.ladder.top,
            }
            for s in sorted(found.values(), key=lambda s: s.name)
            if not s.calm
        ]

    def scene(self, name: str) -> dict[str, Any]:
        with _found():
            ladder = hierarchy.scene_ladder(name)
        return {
            "name": name,
            "levels": [
                {"number": n, **level.model_dump(mode="json")}
                for n, level in enumerate(ladder.levels, start=1)
            ],
            "variables": {k: list(v) for k, v in hierarchy.scene_variables(ladder).items()},
        }

    def hierarchy(self, code: str, scene: str) -> dict[str, Any] | None:
        with _found():
            clients.get(self.records, code)
        found = hierarchy.latest(self.records, code, scene)
        return None if found is None else found.model_dump(mode="json")

    def save_hierarchy(self, code: str, scene: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        with _found():
            saved = hierarchy.save(self.records, code, scene, hierarchy.parse_steps(steps))
        return saved.model_dump(mode="json")

    def progress_page(self, code: str) -> str:
        with _found():
            return progress_page(client_progress(self.records, code, self._progress))

    def instruments(self) -> list[dict[str, Any]]:
        out = []
        for name in list_instruments():
            if name in IN_SESSION_ONLY:
                continue
            try:
                instrument = load_instrument(name)
            except MeasureError:  # a broken file is left off the list; the CLI names its error
                continue
            if instrument.placeholder:
                continue
            out.append(
                {
                    "name": name,
                    "title": instrument.title,
                    "question": instrument.question,
                    "items": [item.text for item in instrument.items],
                    "min": instrument.scale.min,
                    "max": instrument.scale.max,
                    "completed_steps": instrument.answers == "completed_steps",
                }
            )
        return out

    def measures(self, code: str) -> list[dict[str, Any]]:
        with _found():
            clients.get(self.records, code)
            return [m.model_dump(mode="json") for m in clients.measures(self.records, code)]

    def add_measure(self, code: str, measure: NewMeasure) -> dict[str, Any]:
        with _found():
            clients.get(self.records, code)
            answers, scores = clients.score_measure(measure.instrument, measure.answers)
            added = clients.add_measure(
                self.records,
                code,
                measure.instrument,
                answers,
                scores,
                taken=measure.taken,
                note=measure.note,
            )
        return added.model_dump(mode="json")

    def running_sessions(self) -> list[dict[str, Any]]:
        now = self.records.wall_clock()
        out = []
        for row in self.records.list_sessions():
            if row.status != "running":
                continue
            # the session's start plus its last event's session time is when it last wrote: a
            # station that died without closing its session (its pid cannot be checked from
            # another machine) goes quiet, and the page says so
            try:
                last = datetime.fromisoformat(row.started) + timedelta(seconds=row.last_t or 0.0)
                quiet_s: float | None = max(0.0, (now - last).total_seconds())
            except ValueError:
                quiet_s = None
            out.append(
                {
                    "id": row.id,
                    "client": row.client,
                    "scene": row.scene,
                    "station": row.host,
                    "started": row.started,
                    "level": self._level(row.id),
                    "steps": row.start.ladder.top,
                    "seconds": None if row.last_t is None else round(row.last_t, 1),
                    "quiet_s": None if quiet_s is None else round(quiet_s),
                    "silent": quiet_s is not None and quiet_s > QUIET_S,
                    "this_station": row.host == self.station,
                    "this_session": row.id == self.own_session,
                }
            )
        return out

    def _level(self, session_id: int) -> int:
        """The level the session's latest recorded decision moved to (0 before any)."""
        with self.records.transaction("read the session's level") as conn:
            text = conn.execute(
                sa.select(effects_table.c.json)
                .where(effects_table.c.session_id == session_id, effects_table.c.type == "decision")
                .order_by(effects_table.c.seq.desc())
                .limit(1)
            ).scalar()
        return 0 if text is None else Decision.model_validate(json.loads(text)).to_level
