"""`vret measures list|show|score`: the clinical instruments, and scoring answers from the command line.

The instruments are data files (`exposure/instruments/`); a clinic's own questionnaires live in
a folder given with `--instruments DIR` or `$VRET_INSTRUMENTS` (folders separated by `:`), and
are found before the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from exposure.measures import (
    Instrument,
    MeasureError,
    list_instruments,
    load_instrument,
    load_instrument_file,
    parse_answers,
    score,
)

ENV_VAR = "VRET_INSTRUMENTS"
"""Environment variable with the clinic's instrument folders (separated like PATH)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `measures` (list, show, score) to the `vret` command."""
    folder_help = f"a folder of the clinic's own instrument files (default: ${ENV_VAR})"
    measures = sub.add_parser(
        "measures",
        help="list clinical instruments and score answers",
        description="Questionnaires and ratings as data files: the SSQ, the mid-session "
        "sickness rating, expectancy, the Behavioural Approach Test and a template for the "
        "clinic's own questionnaires. See docs/measures.md.",
    )
    measures.set_defaults(func=_list, json=False, instruments=None)
    actions = measures.add_subparsers(title="actions", metavar="ACTION")

    listing = actions.add_parser("list", help="the instruments, one a line")
    listing.add_argument("--json", action="store_true", help="one JSON object per instrument")
    listing.add_argument("--instruments", metavar="DIR", help=folder_help)
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="an instrument's items and scale, in answer order")
    show.add_argument("instrument", metavar="INSTRUMENT", help="a name, or a .toml/.json file")
    show.add_argument("--instruments", metavar="DIR", help=folder_help)
    show.set_defaults(func=_show)

    scoring = actions.add_parser(
        "score",
        help="score answers and print the scores as JSON",
        description="Print the instrument's scores for the answers as one JSON object, e.g. "
        "`vret measures score ssq --answers 0,1,0,0,2,0,0,1,0,0,1,0,0,0,1,0` gives nausea, "
        "oculomotor, disorientation and total.",
    )
    scoring.add_argument("instrument", metavar="INSTRUMENT", help="a name, or a .toml/.json file")
    scoring.add_argument(
        "--answers",
        required=True,
        metavar="A,B,C",
        help="the answers in item order, separated by commas",
    )
    scoring.add_argument("--instruments", metavar="DIR", help=folder_help)
    scoring.set_defaults(func=_score)


def _folders(args: argparse.Namespace) -> list[Path]:
    if args.instruments:
        folder = Path(args.instruments)
        if not folder.is_dir():
            raise MeasureError(
                f"No folder {folder}: give --instruments the folder holding the clinic's "
                "instrument files."
            )
        return [folder]
    return [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]


def _instrument(args: argparse.Namespace) -> Instrument:
    name: str = args.instrument
    if name.endswith((".toml", ".json")):
        return load_instrument_file(Path(name))
    return load_instrument(name, _folders(args))


def _list(args: argparse.Namespace) -> int:
    folders = _folders(args)
    for name in list_instruments(folders):
        try:
            instrument = load_instrument(name, folders)
        except MeasureError as err:  # one broken clinic file must not hide the others
            print(f"{name:24} (cannot be read: {err})")
            continue
        if args.json:
            row = {
                "name": name,
                "title": instrument.title,
                "items": len(instrument.items),
                "scores": [rule.id for rule in instrument.scores],
                "placeholder": instrument.placeholder,
            }
            print(json.dumps(row))
        else:
            mark = "  [template: placeholder items]" if instrument.placeholder else ""
            n = len(instrument.items)
            items = f"{n:3} item{'' if n == 1 else 's'}"
            print(f"{name:24} {items:9}  {instrument.title}{mark}")
    return 0


def _show(args: argparse.Namespace) -> int:
    instrument = _instrument(args)
    print(instrument.title)
    if instrument.reference:
        print(instrument.reference)
    if instrument.question:
        print(instrument.question)
    for number, item in enumerate(instrument.items, start=1):
        low, high = instrument.item_range(item)
        keyed = ", reversed" if item.reverse else ""
        print(f"{number:3}. {item.text}  ({low:g}-{high:g}{keyed})")
    print("scores: " + ", ".join(rule.id for rule in instrument.scores))
    return 0


def _score(args: argparse.Namespace) -> int:
    instrument = _instrument(args)
    print(json.dumps(score(instrument, parse_answers(args.answers))))
    return 0
