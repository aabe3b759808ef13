"""`vret replay`: recompute a session's decisions from its events."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from exposure.core import replay_steps
from exposure.errors import UserError
from exposure.eventlog import read_events
from exposure.models import SAFE_LEVEL, CoachLine, Decision, Event
from vret.records import Records, RecordsError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="recompute a session's decisions from its events",
        description=(
            "Fold recorded events through the exposure core and print one line per decision "
            "(level change) with its reason, and each line the coach said in the headset "
            "(text only; --json prints the decisions). SOURCE is a JSON-lines event file or the id of a "
            "recorded session (see `vret sessions list`)."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="events file (.jsonl) or a recorded session id")
    p.add_argument("--db", metavar="URL", help="records database (for a session id)")
    p.add_argument("--json", action="store_true", help="print each decision as a JSON object")
    p.set_defaults(func=_run)


def format_decision(d: Decision) -> str:
    """`t=12.0s level 2->3 auto: <reason>` (the safe scene shows as `safe`)."""

    def name(level: int) -> str:
        return "safe" if level == SAFE_LEVEL else str(level)

    return f"t={d.t:.1f}s level {name(d.from_level)}->{name(d.to_level)} {d.who}: {d.reason}"


def format_coach(line: CoachLine) -> str:
    """`t=12.0s coach: "<what it said>"` (a line the therapist typed or triggered says so)."""
    by = " (therapist)" if line.by == "clinician" else ""
    return f't={line.t:.1f}s coach{by}: "{line.text}"'


def _load(args: argparse.Namespace) -> Iterable[Event]:
    path = Path(args.source)
    if path.exists() or not args.source.isdigit():
        return read_events(path)
    try:
        return Records(args.db).events(int(args.source))
    except RecordsError as err:
        raise UserError(str(err)) from None


def _run(args: argparse.Namespace) -> int:
    for event, _, effects in replay_steps(_load(args)):
        if isinstance(event, CoachLine) and not args.json:
            print(format_coach(event))
        for decision in (e for e in effects if isinstance(e, Decision)):
            print(decision.model_dump_json() if args.json else format_decision(decision))
    return 0
