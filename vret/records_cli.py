"""`vret sessions list|export` and `vret report`: the recorded sessions, from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from exposure.errors import UserError
from exposure.models import Alert, Decision, Event
from vret.export import export_csv, export_json, write_file
from vret.records import Records, SessionRow
from vret.report import build_report
from vret.report.progress import client_progress, progress_page

READ_TIMEOUT_S = 60.0
"""PostgreSQL statement timeout for these commands: reading a clinic's whole record may take a
while, and nothing live waits on them (a station's writes keep the records' short default)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sessions` (list, export) and `report` to the `vret` command."""
    db_help = (
        "records database URL (default: $VRET_DB, else the vret.db file in the user data folder)"
    )

    sessions = sub.add_parser(
        "sessions",
        help="list and export recorded sessions",
        description="The sessions recorded on this station (or the clinic's database).",
    )
    sessions.set_defaults(func=_list, json=False, db=None)
    actions = sessions.add_subparsers(title="actions", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="one line per recorded session",
        description="List recorded sessions, oldest first. A session whose program stopped "
        "without closing it shows as interrupted.",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--db", metavar="URL", help=db_help)
    listing.set_defaults(func=_list)

    export = actions.add_parser(
        "export",
        help="write a session's record as CSV or JSON",
        description="CSV: one row per reading, command, system event and decision (ticks "
        "are left out) with t, type, hr, rr_ms, quality, level and detail columns. JSON: the "
        "session row, every event and every recorded decision and alert.",
    )
    export.add_argument(
        "id", type=_session_id, metavar="ID", help="session id (see `vret sessions list`)"
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument(
        "--out",
        metavar="FILE",
        help="file to write, readable by you only (default: standard output)",
    )
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.add_argument("--db", metavar="URL", help=db_help)
    export.set_defaults(func=_export)

    report = sub.add_parser(
        "report",
        help="write a session report, or a client's progress report (HTML)",
        description="One self-contained HTML page: heart rate, levels, SUDS and events on one "
        "chart, the figures of the session, every level change with its reason, and the notes. "
        "With --client CODE instead of an id: the client's progress across sessions.",
    )
    report.add_argument(
        "id",
        type=_session_id,
        metavar="ID",
        nargs="?",
        help="session id (see `vret sessions list`)",
    )
    report.add_argument(
        "--client", metavar="CODE", help="a progress report of all of CODE's sessions"
    )
    report.add_argument(
        "--out",
        metavar="FILE.html",
        help="file to write, readable by you only (default: vret-session-ID.html or "
        "vret-progress-CODE.html here)",
    )
    report.add_argument(
        "--summary",
        metavar="TEXT_OR_@FILE",
        help="the therapist's summary for the summary box (text, or @FILE to read it from a file); "
        "the box stays editable on the page",
    )
    report.add_argument("--force", action="store_true", help="replace FILE.html if it exists")
    report.add_argument("--db", metavar="URL", help=db_help)
    report.set_defaults(func=_report)


def _session_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a session id: give the number shown by `vret sessions list`"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a session id: ids start at 1")
    return value


def _open(args: argparse.Namespace) -> Records:
    return Records(args.db, statement_timeout_s=READ_TIMEOUT_S)


# --------------------------------------------------------------------------- list


def _length(row: SessionRow) -> str:
    if row.last_t is None:
        return "-"
    total = round(row.last_t - row.start.t)
    hours, rest = divmod(max(0, total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _started(row: SessionRow) -> str:
    try:
        return datetime.fromisoformat(row.started).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return row.started


def _list(args: argparse.Namespace) -> int:
    records = _open(args)
    try:
        rows = records.list_sessions()
    finally:
        records.close()
    if args.json:
        _write("".join(json.dumps(row.summary(), ensure_ascii=False) + "\n" for row in rows), None)
        return 0
    if not rows:
        print(f"No sessions recorded in {records.url_text} yet.")
        return 0
    table = [("ID", "CLIENT", "SCENE", "STARTED (UTC)", "LENGTH", "STATUS", "EVENTS")]
    for row in rows:
        table.append(
            (
                str(row.id),
                row.client or "-",
                row.scene,
                _started(row),
                _length(row),
                row.status,
                str(row.event_count),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = []
    for line in table:
        cells = [
            cell.rjust(widths[i]) if i in (0, 6) else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        lines.append("  ".join(cells).rstrip() + "\n")
    _write("".join(lines), None)
    return 0


# --------------------------------------------------------------------------- export


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _write(text: str, out: str | None, force: bool = False) -> None:
    """Print `text`, or write it to the file `out` (see `vret.export.write_file`)."""
    if out is None or out == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `vret sessions export 3 | head`: the reader has had enough
            _quiet_stdout()
        return
    write_file(out, text, force=force)


def _read_session(
    args: argparse.Namespace,
) -> tuple[SessionRow, list[Event], list[Decision | Alert], list[int | None]]:
    """Session `args.id`: its row, events, effects and each effect's cause, read at once."""
    records = _open(args)
    try:
        return (
            records.get_session(args.id),
            records.events(args.id),
            records.effects(args.id),
            records.effect_causes(args.id),
        )
    finally:
        records.close()


def _export(args: argparse.Namespace) -> int:
    row, events, effects, causes = _read_session(args)
    if args.format == "json":
        _write(export_json(row, events, effects), args.out, args.force)
    else:
        _write(export_csv(events, effects, causes), args.out, args.force)
    if args.out not in (None, "-"):
        print(
            f"Wrote session {row.id} ({len(events)} events) to {args.out} as {args.format.upper()}."
        )
    return 0


# --------------------------------------------------------------------------- report


def _report(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.client is None):
        raise UserError(
            "Give a session id (vret report 12) or a client (vret report --client C-0042), "
            "one of the two."
        )
    if args.client is not None:
        if args.summary:
            raise UserError("--summary belongs to a session's report, not a progress report.")
        return _progress(args)
    summary = _summary_text(args.summary)
    row, events, effects, _causes = _read_session(args)
    page = build_report(row, events, effects, generated_at=datetime.now(UTC), summary=summary)
    out = args.out or f"vret-session-{row.id}.html"
    _write(page, out, args.force)
    if out != "-":
        print(f"Wrote the report of session {row.id} (client {row.client or '-'}) to {out}.")
    return 0


def _summary_text(arg: str | None) -> str:
    """The summary text of `--summary`: as given, or read from the file after an `@`."""
    if not arg:
        return ""
    if not arg.startswith("@"):
        return arg
    path = Path(arg[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise UserError(f"--summary {arg}: cannot read {path} ({reason}).") from None


def _progress(args: argparse.Namespace) -> int:
    records = _open(args)
    try:
        progress = client_progress(records, args.client)
    finally:
        records.close()
    out = args.out or f"vret-progress-{args.client}.html"
    _write(progress_page(progress, generated_at=datetime.now(UTC)), out, args.force)
    if out != "-":
        print(
            f"Wrote the progress report of client {args.client} "
            f"({len(progress.sessions)} sessions) to {out}."
        )
    return 0
