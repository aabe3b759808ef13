"""The coach's options on `vret session` and `vret demo`: its form, language and voice."""

from __future__ import annotations

import argparse
from pathlib import Path

from exposure.coach import available_languages
from vret.coach_voice import ENGINES, CoachForms, CoachPlan

MODES = ("person", "voice", "off")


def add_coach_arguments(p: argparse.ArgumentParser) -> None:
    """--coach, --coach-language, --coach-voice and --coach-folder."""
    group = p.add_argument_group(
        "coach", "the automated coach in the headset (see docs/coach.md); it never decides exposure"
    )
    group.add_argument(
        "--coach",
        choices=MODES,
        help="a figure at the client's side (person), a soft light with its voice (voice), or "
        "no coach at all (off); default: the form last set for this client, else person",
    )
    group.add_argument(
        "--coach-language",
        default="en",
        choices=available_languages(),
        help="the script the coach speaks (default: en)",
    )
    group.add_argument(
        "--coach-voice",
        default="auto",
        choices=ENGINES,
        help="TTS for lines the therapist has not recorded: piper (the [voice] extra), "
        "espeak-ng, none (captions only), or auto (piper if installed, else espeak-ng)",
    )
    group.add_argument(
        "--coach-folder",
        metavar="DIR",
        help="where the therapist's recordings and the speech cache live (default: "
        "coach/ in vret's data folder)",
    )


DEMO_PACE = 0.4
"""The demo's coach speaks at 0.4 of the script's timings, as its dwell is 20 s, not 60."""


def coach_plan_from_args(
    args: argparse.Namespace, client: str, pace: float = 1.0
) -> CoachPlan | None:
    """The session's coach from the options and the client's kept form; None for off."""
    folder = Path(args.coach_folder).expanduser() if args.coach_folder else None
    home = CoachPlan(folder=folder).home
    mode = args.coach or CoachForms(home).get(client) or "person"
    if args.coach is not None:
        CoachForms(home).set(client, mode)  # the form chosen now is this client's from now on
    if mode == "off":
        return None
    return CoachPlan(
        mode=mode,
        language=args.coach_language,
        engine=args.coach_voice,
        folder=folder,
        pace=pace,
    )
