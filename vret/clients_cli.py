"""`vret clients ...`: the clients of a treatment course, their hierarchies and measures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from datetime import date
from pathlib import Path

from clinician_console.clinic import create_clinic_app
from clinician_console.network import add_network_arguments, network_from_args, print_notices
from clinician_console.server import bind_socket, make_token, serve
from exposure.errors import UserError
from vret import clients, hierarchy
from vret.clinic import RecordsClinic
from vret.export import write_bytes
from vret.records import Records, data_folder

READ_TIMEOUT_S = 60.0
"""PostgreSQL statement timeout: an export or erase reads or deletes a whole course."""

DB_HELP = "records database URL (default: $VRET_DB, else the vret.db file in the user data folder)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `clients` (add, list, archive, hierarchy, measure, export, erase) to `vret`."""
    parser = sub.add_parser(
        "clients",
        help="the clients of a treatment course: add, list, hierarchies, measures, export, erase",
        description="Clients are pseudonymous codes (letters, digits and '-', like C-0042); "
        "vret has no field for a name. Keep the key from code to person outside vret.",
    )
    parser.set_defaults(func=_list, json=False, archived=False, db=None)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")

    add = actions.add_parser("add", help="add a client", description="Add a client by code.")
    add.add_argument("code", metavar="CODE", help="pseudonymous code such as C-0042, never a name")
    add.add_argument("--phobia", required=True, help="the phobia treated (spiders, heights...)")
    add.add_argument("--therapist", default="", help="the therapist's code or initials")
    add.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="default: today")
    add.add_argument("--db", metavar="URL", help=DB_HELP)
    add.set_defaults(func=_add)

    listing = actions.add_parser(
        "list",
        help="one line per client",
        description="Clients by code with their phobia, sessions and the last session's start.",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--archived", action="store_true", help="include archived clients")
    listing.add_argument("--db", metavar="URL", help=DB_HELP)
    listing.set_defaults(func=_list)

    arch = actions.add_parser("archive", help="take a client off the lists (nothing is deleted)")
    arch.add_argument("code", metavar="CODE")
    arch.add_argument("--restore", action="store_true", help="put the client back on the lists")
    arch.add_argument("--db", metavar="URL", help=DB_HELP)
    arch.set_defaults(func=_archive)

    hier = actions.add_parser(
        "hierarchy",
        help="show or save a client's fear hierarchy for a scene",
        description="Without --steps: print the latest version as JSON. With --steps FILE: save "
        'the steps in FILE (a JSON list of {"level": N, "suds": 0-100, "name": "...", '
        '"params": {...}}) as the next version.',
    )
    hier.add_argument("code", metavar="CODE")
    hier.add_argument("--scene", required=True, help="scene name (see `vret scenes list`)")
    hier.add_argument("--steps", metavar="FILE", help="JSON file of steps to save")
    hier.add_argument("--db", metavar="URL", help=DB_HELP)
    hier.set_defaults(func=_hierarchy)

    measure = actions.add_parser(
        "measure",
        help="record a questionnaire or approach test taken outside a session",
        description="Scores the answers with the instrument's data file and records them "
        "with the date (see `vret measures`).",
    )
    measure.add_argument("code", metavar="CODE")
    measure.add_argument("instrument", metavar="INSTRUMENT", help="instrument name, e.g. bat")
    measure.add_argument("--answers", required=True, help="comma-separated answers, item order")
    measure.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="default: today")
    measure.add_argument("--note", default="", help="a short remark (no names)")
    measure.add_argument("--db", metavar="URL", help=DB_HELP)
    measure.set_defaults(func=_measure)

    export = actions.add_parser(
        "export",
        help="write everything about a client to a zip (JSON and CSV)",
        description="Every row about the client: the client, sessions, events with readings, "
        "decisions and alerts, hierarchies and measures; JSON and one CSV per table.",
    )
    export.add_argument("code", metavar="CODE")
    export.add_argument("--out", required=True, metavar="FILE.zip", help="readable by you only")
    export.add_argument("--force", action="store_true", help="replace FILE.zip if it exists")
    export.add_argument("--db", metavar="URL", help=DB_HELP)
    export.set_defaults(func=_export)

    erase = actions.add_parser(
        "erase",
        help="delete every row about a client (cannot be undone)",
        description="Deletes the client, their sessions with every event, decision and alert, "
        "their hierarchies and measures. The audit keeps the time and row counts only.",
    )
    erase.add_argument("code", metavar="CODE")
    erase.add_argument("--yes", action="store_true", help="really erase (required)")
    erase.add_argument("--db", metavar="URL", help=DB_HELP)
    erase.set_defaults(func=_erase)

    clinic = sub.add_parser(
        "clinic",
        help="the clinic pages without a session: clients, hierarchies, progress, every station",
        description="Serve the clients, hierarchy, progress and clinic pages of the console "
        "with no session running: prepare a course before its first session, or watch the "
        "sessions of every station sharing the --db. Prints the URL with its access token.",
    )
    add_network_arguments(clinic)
    clinic.add_argument("--db", metavar="URL", help=DB_HELP)
    clinic.set_defaults(func=_clinic)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give YYYY-MM-DD") from None


def _open(args: argparse.Namespace) -> Records:
    return Records(args.db, statement_timeout_s=READ_TIMEOUT_S)


def _add(args: argparse.Namespace) -> int:
    clients.check_code(args.code)
    with _open(args) as records:
        client = clients.add(
            records, args.code, args.phobia, therapist=args.therapist, start_date=args.start
        )
    print(f"Added client {client.code} ({client.phobia}, from {client.start_date}).")
    warning = clients.name_warning(client.code)
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _open(args) as records:
        found = clients.list_clients(records, archived=args.archived)
        url = records.url_text
    if args.json:
        sys.stdout.write("".join(json.dumps(c.summary()) + "\n" for c in found))
        return 0
    if not found:
        print(f"No clients in {url} yet: add one with `vret clients add CODE --phobia ...`.")
        return 0
    table = [("CODE", "PHOBIA", "SINCE", "SESSIONS", "LAST SESSION (UTC)", "")]
    for c in found:
        last = (c.last_session or "-")[:16].replace("T", " ")
        table.append(
            (
                c.code,
                c.phobia,
                c.start_date,
                str(c.sessions),
                last,
                "archived" if c.archived else "",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0


def _archive(args: argparse.Namespace) -> int:
    with _open(args) as records:
        client = clients.archive(records, args.code, restore=args.restore)
    print(f"Client {client.code} {'is back on the lists' if args.restore else 'archived'}.")
    return 0


def _hierarchy(args: argparse.Namespace) -> int:
    with _open(args) as records:
        clients.get(records, args.code)
        if args.steps is None:
            found = hierarchy.latest(records, args.code, args.scene)
            if found is None:
                print(
                    f"{args.code} has no hierarchy for {args.scene} yet: sessions use the "
                    "scene's own ladder."
                )
                return 0
            print(found.model_dump_json(indent=1))
            return 0
        steps = hierarchy.read_steps(Path(args.steps))
        saved = hierarchy.save(records, args.code, args.scene, steps)
    print(
        f"Saved version {saved.version} of {args.code}'s {args.scene} hierarchy "
        f"({len(saved.steps)} steps)."
    )
    return 0


def _measure(args: argparse.Namespace) -> int:
    values, scores = clients.score_measure(args.instrument, args.answers)
    with _open(args) as records:
        measure = clients.add_measure(
            records, args.code, args.instrument, values, scores, taken=args.date, note=args.note
        )
    print(json.dumps({"instrument": measure.instrument, "taken": measure.taken, **measure.scores}))
    return 0


def _export(args: argparse.Namespace) -> int:
    with _open(args) as records:
        data = clients.export_zip(records, args.code)
    write_bytes(args.out, data, force=args.force)
    print(f"Wrote everything about {args.code} to {args.out}.")
    return 0


def _erase(args: argparse.Namespace) -> int:
    if not args.yes:
        raise UserError(
            f"Erasing deletes every record of {args.code} for good: add --yes to do it "
            "(export it first with `vret clients export`)."
        )
    with _open(args) as records:
        counts = clients.erase(records, args.code)
    total = sum(counts.values())
    print(f"Erased {args.code}: {total} rows ({counts['sessions']} sessions).")
    return 0


def _clinic(args: argparse.Namespace) -> int:
    network = network_from_args(args, data_folder())
    sock = bind_socket(network.host, network.port)  # a port in use: one sentence, no database
    records = _open(args)
    token = make_token()
    app = create_clinic_app(RecordsClinic(records), token, network=network)
    print(f"vret clinic on {records.url_text}")
    print_notices(network)
    for who, url in network.urls(sock.getsockname()[1], token):
        print(f"  {who}: {url}")
    print("Press Ctrl-C to stop.", flush=True)

    async def run() -> None:
        # Ctrl-C and SIGTERM (a service manager's stop) end it gracefully, even where the
        # process was started with SIGINT ignored (a background job of a script)
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(app, sock=sock, network=network)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        records.close()
    return 0
