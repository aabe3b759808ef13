"""The coach's options on `vret session` and `vret demo`: its form, language and voice."""

from __future__ import annotations

import argparse
from pathlib import Path

from exposure.coach import available_languages
from vret.coach_voice import ENGINES, CoachPlan

MODES = ("person", "voice", "off")


def add_coach_arguments(p: argparse.ArgumentParser) -> None:
    """--coach, --coach-language, --coach-voice and --coach-folder."""
    group = p.add_argument_group(
        "coach", "the automated coach in the headset (see docs/coach.md); it never decides exposure"
    )
    group.add_argument(
        "--coach",
        choices=MODES,
        default="person",
        help="a figure at the client's side (person, the default), a soft light with its voice "
        "(voice), or no coach at all (off)",
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


def coach_plan_from_args(args: argparse.Namespace, pace: float = 1.0) -> CoachPlan | None:
    """The session's coach from the options; None for --coach off."""
    if args.coach == "off":
        return None
    folder = Path(args.coach_folder).expanduser() if args.coach_folder else None
    return CoachPlan(
        mode=args.coach,
        language=args.coach_language,
        engine=args.coach_voice,
        folder=folder,
        pace=pace,
    )
