"""`vret console --simulate`: the therapist console on a simulated session, to try it out.

A real session opens its console itself; this command runs a real station (the console, the
core, signal quality, records in a temporary file) with the simulated client's sensor on a pty
and no headset, and prints the URL with its access token. The coach runs as in the demo, at the
demo's pace, with captions only (there is no headset to speak in): its panel on the console
shows what it would say next and why, and the lines it said.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from clinician_console.network import add_network_arguments, network_from_args, print_notices
from clinician_console.server import bind_socket
from exposure.errors import UserError
from vret.coach_cli import DEMO_PACE, MODES
from vret.coach_voice import CoachPlan
from vret.records import data_folder
from vret.simulated_client import DEMO_NOTICE, DEMO_SETTINGS, SimulatedClient, demo_ladder
from vret.station import SessionPlan, Station


def register(subparsers: Any) -> None:
    """Add the `console` command to the `vret` parser."""
    parser = subparsers.add_parser(
        "console",
        help="open the therapist console on a simulated session (try it without a headset)",
        description="Run the therapist console in front of a simulated session: a generated "
        "heart signal, the spider ladder, shortened baseline and dwell times. Prints the URL "
        "with its access token; open it in a browser. Ctrl-C stops it.",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="drive the console from a simulated session (required for now)",
    )
    parser.add_argument(
        "--coach",
        choices=MODES,
        default="person",
        help="the coach's form in the simulated session (captions only: there is no headset), "
        "or off (default: person)",
    )
    add_network_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the simulated console until Ctrl-C."""
    if not args.simulate:
        raise UserError(
            "vret console needs --simulate for now: a live session opens its own "
            "console when it starts; try 'vret console --simulate'."
        )
    network = network_from_args(args, data_folder())  # bad flags: one sentence, nothing started
    bind_socket(network.host, network.port).close()  # a port in use: likewise
    client = SimulatedClient()
    with tempfile.TemporaryDirectory(prefix="vret-console-") as folder:
        ladder, _events = demo_ladder()
        plan = SessionPlan(
            client="DEMO-01",
            ladder=ladder,
            sensor=client.start(),
            protocol=client.protocol,
            settings=DEMO_SETTINGS,
            host=network.host,
            port=network.port,
            network=network,
            db=f"sqlite:///{Path(folder) / 'simulated.db'}",  # a try-out leaves no record behind
            render=False,
            notice=DEMO_NOTICE,
            record_kept=False,
            coach=None
            if args.coach == "off"
            else CoachPlan(
                mode=args.coach, engine="none", folder=Path(folder) / "coach", pace=DEMO_PACE
            ),
            on_ready=lambda station: _announce(station, client),
        )
        try:
            asyncio.run(Station(plan).run())
        finally:
            client.stop()
    return 0


def _announce(station: Station, client: SimulatedClient) -> None:
    client.wear(station.live)
    print("vret therapist console (simulated session: no client, no headset)")
    print_notices(station.plan.console_network)
    for who, url in station.urls:
        print(f"  {who}: {url}")
    print("Press Ctrl-C to stop.", flush=True)
