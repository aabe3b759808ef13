"""Clients of a treatment course: pseudonymous codes, their measures, export and erasure.

A client is a code (letters, digits and `-`, such as C-0042), the phobia treated, the date the
course started and the therapist; there is no field for a name, by design, and a code with no
digit gets a warning, because it may be one. The clinic keeps the key from code to person
outside vret. Archiving takes a client off the lists without deleting anything.

Measures taken outside a session (a questionnaire at intake, a Behavioural Approach Test before
the first and after the last session) are rows of `client_measures`: date, instrument, the
answers, and the scores `exposure.measures` computes from the instrument's data file.
Measures taken during a session (SSQ before and after, expectancy around a step) are events of
that session instead, so replay sees them.

`export` writes everything held about one client to a zip (JSON and CSV of every row);
`erase` deletes every row about the client from every table, in one transaction, and leaves an
audit line that says when and how many rows went, and nothing about the client.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from exposure.errors import UserError
from exposure.measures import load_instrument, parse_answers, score
from vret.export import FORMULA_STARTS, export_csv, spreadsheet_safe
from vret.records import (
    Records,
    audit_table,
    client_measures_table,
    clients_table,
    effects_table,
    events_table,
    hierarchies_table,
    sessions_table,
)

CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
"""A client code: letters, digits and `-`, 1 to 32 characters, starting and ending with a
letter or digit."""

PHOBIA = re.compile(r"^[a-z][a-z -]{0,39}$")
"""The phobia treated, in lower case words (spiders, heights, public speaking...)."""

THERAPIST = re.compile(r"^[A-Za-z0-9 .-]{0,64}$")
"""The therapist: a code or initials, never needed to identify the client."""

NAME_WARNING = (
    "{code} has no digit: a client code must never be the client's name or initials; "
    "use a code such as C-0042 and keep the key to it outside vret."
)

EXPORT_TABLES: tuple[sa.Table, ...] = (
    clients_table,
    sessions_table,
    events_table,
    effects_table,
    hierarchies_table,
    client_measures_table,
)
"""Every table that holds rows about a client, in the order an export writes them."""


class ClientError(UserError):
    """A client that cannot be added, found or changed; one sentence with the fix."""


class UnknownClient(ClientError):
    """There is no client with that code."""


class Client(BaseModel):
    """A client as the lists show them: no name, by design."""

    model_config = ConfigDict(frozen=True)

    code: str
    phobia: str
    start_date: str
    therapist: str
    archived: bool
    sessions: int = 0
    last_session: str | None = None

    def summary(self) -> dict[str, Any]:
        """The client as one JSON object for `vret clients list --json`."""
        return self.model_dump(mode="json")


class ClientMeasure(BaseModel):
    """A questionnaire or Behavioural Approach Test taken outside a session."""

    model_config = ConfigDict(frozen=True)

    id: int
    client: str
    taken: str
    instrument: str
    answers: list[Any]
    scores: dict[str, float]
    note: str = ""


def check_code(code: str) -> str:
    """`code` if it is a valid client code, else ClientError with the rule."""
    if not CODE.fullmatch(code):
        raise ClientError(
            f"{code!r} is not a client code: use letters, digits and '-' (1 to 32, starting "
            "and ending with a letter or digit), like C-0042, and never a name."
        )
    return code


def name_warning(code: str) -> str | None:
    """A warning when `code` looks as if it could be a name (it has no digit)."""
    return None if any(c.isdigit() for c in code) else NAME_WARNING.format(code=code)


def add(
    records: Records,
    code: str,
    phobia: str,
    *,
    therapist: str = "",
    start_date: date | None = None,
) -> Client:
    """Add a client; ClientError when the code is not valid or already taken."""
    check_code(code)
    phobia = phobia.strip().lower()
    if not PHOBIA.fullmatch(phobia):
        raise ClientError(
            f"{phobia!r} is not a phobia: give it in words, such as spiders or heights."
        )
    therapist = therapist.strip()
    if not THERAPIST.fullmatch(therapist):
        raise ClientError(
            "The therapist is a code or initials: letters, digits, spaces, '.' and '-' (up to 64)."
        )
    started = (start_date or records.wall_clock().date()).isoformat()
    with records.transaction("add a client") as conn:
        taken = conn.execute(
            sa.select(clients_table.c.code).where(
                sa.func.lower(clients_table.c.code) == code.lower()
            )
        ).first()
        if taken is not None:
            raise ClientError(f"There is already a client {taken[0]}: choose another code.")
        try:
            conn.execute(
                clients_table.insert().values(
                    code=code,
                    phobia=phobia,
                    start_date=started,
                    therapist=therapist,
                    archived=False,
                    created=records.now_text(),
                )
            )
        except sa.exc.IntegrityError:  # another station added it a moment ago
            raise ClientError(f"There is already a client {code}: choose another code.") from None
    return get(records, code)


def list_clients(records: Records, *, archived: bool = False) -> list[Client]:
    """The clients by code, with how many sessions each had and when the last began.

    Archived clients only when `archived`.
    """
    counts = (
        sa.select(
            sessions_table.c.client,
            sa.func.count().label("n"),
            sa.func.max(sessions_table.c.started).label("last"),
        )
        .group_by(sessions_table.c.client)
        .subquery()
    )
    query = (
        sa.select(clients_table, counts.c.n, counts.c.last)
        .outerjoin(counts, counts.c.client == clients_table.c.code)
        .order_by(clients_table.c.code)
    )
    if not archived:
        query = query.where(clients_table.c.archived == sa.false())
    with records.transaction("read the clients") as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Client(
            code=r["code"],
            phobia=r["phobia"],
            start_date=r["start_date"],
            therapist=r["therapist"],
            archived=bool(r["archived"]),
            sessions=int(r["n"] or 0),
            last_session=r["last"],
        )
        for r in rows
    ]


def get(records: Records, code: str) -> Client:
    """One client (archived or not); ClientError when there is none with that code."""
    for client in list_clients(records, archived=True):
        if client.code == code:
            return client
    raise UnknownClient(f"No client {code!r}: see `vret clients list`, or add them first.")


def archive(records: Records, code: str, *, restore: bool = False) -> Client:
    """Take a client off the lists (or put them back with `restore`); nothing is deleted."""
    with records.transaction("archive a client") as conn:
        done = conn.execute(
            clients_table.update().where(clients_table.c.code == code).values(archived=not restore)
        )
    if done.rowcount == 0:
        raise UnknownClient(f"No client {code!r}: see `vret clients list --archived`.")
    return get(records, code)


# --------------------------------------------------------------------------- measures


def add_measure(
    records: Records,
    code: str,
    instrument: str,
    answers: list[Any],
    scores: dict[str, float],
    *,
    taken: date | None = None,
    note: str = "",
) -> ClientMeasure:
    """Record a measure taken outside a session (scored by the caller, see `score_measure`)."""
    client = get(records, code)
    when = (taken or records.wall_clock().date()).isoformat()
    with records.transaction("record a measure") as conn:
        result = conn.execute(
            client_measures_table.insert().values(
                client=client.code,
                taken=when,
                instrument=instrument,
                answers=json.dumps(answers),
                scores=json.dumps(scores),
                note=note,
            )
        )
        assert result.inserted_primary_key is not None
        new_id = int(result.inserted_primary_key[0])
    return ClientMeasure(
        id=new_id,
        client=client.code,
        taken=when,
        instrument=instrument,
        answers=answers,
        scores=scores,
        note=note,
    )


def score_measure(
    instrument: str, answers: str | Sequence[int | float]
) -> tuple[list[int | float], dict[str, float]]:
    """The answers (`"0,1,2"` or numbers) and their scores by the instrument's data file;
    `exposure.measures.MeasureError` (one sentence) when they do not fit the instrument.
    Whole numbers are kept as integers."""
    if isinstance(answers, str):
        values = parse_answers(answers)
    else:
        values = [int(a) if float(a).is_integer() else float(a) for a in answers]
    return values, score(load_instrument(instrument), values)


def measures(records: Records, code: str) -> list[ClientMeasure]:
    """The client's measures taken outside sessions, by date."""
    with records.transaction("read the measures") as conn:
        rows = conn.execute(
            sa.select(client_measures_table)
            .where(client_measures_table.c.client == code)
            .order_by(client_measures_table.c.taken, client_measures_table.c.id)
        ).mappings()
        return [
            ClientMeasure(
                id=r["id"],
                client=r["client"],
                taken=r["taken"],
                instrument=r["instrument"],
                answers=json.loads(r["answers"]),
                scores=json.loads(r["scores"]),
                note=r["note"],
            )
            for r in rows
        ]


# --------------------------------------------------------------------------- export, erase


def _session_ids(conn: sa.Connection, code: str) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute(
            sa.select(sessions_table.c.id)
            .where(sessions_table.c.client == code)
            .order_by(sessions_table.c.id)
        )
    ]


def _where(table: sa.Table, code: str, session_ids: list[int]) -> Any:
    if "session_id" in table.c:
        return table.c.session_id.in_(session_ids)
    column = table.c.code if table is clients_table else table.c.client
    return column == code


def client_rows(records: Records, code: str) -> dict[str, list[dict[str, Any]]]:
    """Every row about the client, table by table, exactly as stored (for export and tests)."""
    get(records, code)
    out: dict[str, list[dict[str, Any]]] = {}
    with records.transaction("read the client's records") as conn:
        ids = _session_ids(conn, code)
        for table in EXPORT_TABLES:
            order = [c for c in table.primary_key.columns]
            rows = conn.execute(
                sa.select(table).where(_where(table, code, ids)).order_by(*order)
            ).mappings()
            out[table.name] = [dict(r) for r in rows]
    return out


def export_zip(records: Records, code: str) -> bytes:
    """A zip of everything about the client: `client.json` (every table's rows), one CSV per
    table (`csv/<table>.csv`, cells made safe for spreadsheets), each session as the readable
    CSV of `vret sessions export` (`sessions/session-<id>.csv`), and a README.txt."""
    rows = client_rows(records, code)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        document = {"client": code, "exported": records.now_text(), "tables": rows}
        archive_file.writestr("client.json", json.dumps(document, ensure_ascii=False, indent=1))
        for table in EXPORT_TABLES:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow([c.name for c in table.columns])
            for row in rows[table.name]:
                writer.writerow(
                    [
                        "" if row[c.name] is None else spreadsheet_safe(row[c.name])
                        for c in table.columns
                    ]
                )
            archive_file.writestr(f"csv/{table.name}.csv", text.getvalue())
        for session_id in [row["id"] for row in rows["sessions"]]:
            archive_file.writestr(
                f"sessions/session-{session_id}.csv",
                export_csv(
                    records.events(session_id),
                    records.effects(session_id),
                    records.effect_causes(session_id),
                ),
            )
        archive_file.writestr("README.txt", EXPORT_README.format(code=code))
    return buffer.getvalue()


EXPORT_README = """Everything vret holds about client {code}.

client.json: every row of every table about the client, exactly as stored ("tables": name ->
list of rows). Events and effects hold each event, decision and alert as JSON in their "json"
column; a session's ladder and settings are JSON too.
csv/<table>.csv: the same rows, one file per table, for a spreadsheet. A text cell that a
spreadsheet could run as a formula (starting with = + - @) has a leading ' added.
sessions/session-<id>.csv: each session as `vret sessions export` writes it, one row per
reading, command, measure and decision, with the level in force (ticks left out).
"""


def read_export(data: bytes) -> dict[str, Any]:
    """The tables of an export zip, read back from its JSON and its CSV files.

    Returns {"json": tables, "csv": tables}; CSV values are text (empty for NULL), the leading
    ' of a spreadsheet-safe cell removed.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive_file:
        tables = json.loads(archive_file.read("client.json"))["tables"]
        from_csv: dict[str, list[dict[str, str]]] = {}
        for table in EXPORT_TABLES:
            text = archive_file.read(f"csv/{table.name}.csv").decode("utf-8")
            from_csv[table.name] = [
                {k: _unsafe(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))
            ]
    return {"json": tables, "csv": from_csv}


def _unsafe(cell: str) -> str:
    return (
        cell[1:]
        if cell.startswith("'") and cell[1:2].startswith(FORMULA_STARTS) and len(cell) > 1
        else cell
    )


def running_sessions(records: Records, code: str) -> list[int]:
    """Ids of the client's sessions that are running now (on this or another station)."""
    return [
        row.id for row in records.list_sessions() if row.client == code and row.status == "running"
    ]


def erase(records: Records, code: str) -> dict[str, int]:
    """Delete every row about the client from every table, in one transaction.

    Refuses while one of the client's sessions runs. Writes an audit line with the time and
    the number of rows removed per table, and nothing about the client (not even the code).
    Returns the counts.
    """
    get(records, code)
    running = running_sessions(records, code)
    if running:
        raise ClientError(
            f"Session {running[0]} of {code} is still running: end it before erasing the client."
        )
    counts: dict[str, int] = {}
    with records.transaction("erase the client") as conn:
        ids = _session_ids(conn, code)
        for table in (
            events_table,
            effects_table,
            sessions_table,
            hierarchies_table,
            client_measures_table,
            clients_table,
        ):
            counts[table.name] = int(
                conn.execute(table.delete().where(_where(table, code, ids))).rowcount or 0
            )
        detail = ", ".join(f"{n} {name}" for name, n in counts.items())
        conn.execute(
            audit_table.insert().values(
                at=records.now_text(), action="erase_client", detail=f"rows removed: {detail}"
            )
        )
    return counts


def audit_lines(records: Records) -> Iterator[dict[str, Any]]:
    """The audit trail, oldest first."""
    with records.transaction("read the audit") as conn:
        rows = conn.execute(sa.select(audit_table).order_by(audit_table.c.id)).mappings().all()
    for r in rows:
        yield dict(r)


__all__ = [
    "Client",
    "ClientError",
    "ClientMeasure",
    "UnknownClient",
    "add",
    "add_measure",
    "archive",
    "audit_lines",
    "check_code",
    "client_rows",
    "erase",
    "export_zip",
    "get",
    "list_clients",
    "measures",
    "name_warning",
    "score_measure",
    "read_export",
]
