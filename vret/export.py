"""A recorded session as data for other programs: CSV for a spreadsheet, JSON for everything.

The CSV has one row per event (ticks left out) and per recorded decision and alert, with the
exposure level in force at each row, replayed through `exposure.core.replay_steps`. The JSON is
the session row, every event and every recorded effect, exactly as stored.

A CSV is opened in spreadsheets, which run a cell that starts with `=`, `+`, `-` or `@` as a
formula: a note such as `=HYPERLINK("http://...")` would become a link that sends data away. So
text cells that start with one of those (or a tab or carriage return) get a leading `'`, as
OWASP recommends; numbers are written as numbers, so a negative value stays a negative number.

Files are written by `write_file`: 0600 whatever the umask, never through a symbolic link, and
never over an existing file unless asked to.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import stat
from collections.abc import Iterator, Sequence
from typing import Any

from exposure.core import replay_steps
from exposure.errors import UserError
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AskSuds,
    Decision,
    Event,
    Note,
    Reading,
    SceneEvent,
    SceneSound,
    SessionStart,
    SetLevel,
    Suds,
    SystemEvent,
    Tick,
)
from vret.records import SessionRow

CSV_COLUMNS = ("t", "type", "hr", "rr_ms", "quality", "level", "detail")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, CSV injection)."""

FILE_MODE = 0o600
"""Exports and reports hold health data: only their owner reads them."""


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as written: text that could start a formula gets a `'`.

    Numbers pass unchanged (a negative number is a number, not a formula); only text is touched.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
        case SceneSound():
            return f"scene sound {'muted' if event.muted else 'on'}{by}"
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
    for row in csv_rows(events, effects, causes):
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return buffer.getvalue()


def _cell(value: object) -> object:
    """A CSV cell: safe for spreadsheets, with every line break as \n (csv quotes those;
    it would leave a lone \r, as a browser may send in a note, unquoted)."""
    safe = spreadsheet_safe(value)
    if isinstance(safe, str):
        return safe.replace("\r\n", "\n").replace("\r", "\n")
    return safe


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


def write_file(path: str | os.PathLike[str], text: str, *, force: bool = False) -> None:
    """Write `text` (UTF-8) to a new file readable by its owner only (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"), force=force)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> None:
    """Write `data` to a new file readable by its owner only (0600, whatever the umask).

    Refuses an existing file unless `force` (then it is emptied and rewritten, and made 0600),
    and never follows a symbolic link (O_NOFOLLOW) nor writes into anything but a regular file.
    Raises UserError with the fix. A new file that could not be written whole is removed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    shown = os.fspath(path)
    created = True
    try:
        try:
            fd = os.open(path, flags | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            if os.path.islink(path):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP)) from None
            if not force:
                raise UserError(
                    f"{shown} already exists: give --force to replace it, "
                    "or choose another --out path."
                ) from None
            created = False
            fd = os.open(path, flags, FILE_MODE)  # O_NOFOLLOW still refuses a link
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UserError(
                f"{shown} is a symbolic link, which vret does not write through: "
                "choose another --out path."
            ) from None
        raise _cannot_write(shown, err) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{shown} is not a regular file: choose another --out path.")
        os.fchmod(fd, FILE_MODE)  # before any data goes in
        os.ftruncate(fd, 0)
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
    except UserError:
        os.close(fd)
        raise
    except OSError as err:
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise _cannot_write(shown, err) from None
    os.close(fd)


def _cannot_write(shown: str, err: OSError) -> UserError:
    return UserError(f"Cannot write {shown} ({err.strerror or err}): choose another --out path.")
