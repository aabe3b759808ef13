"""`vret console --simulate`: the clinician console on a simulated session, to try it out.

A real session opens its console itself; this command runs a real station (the console, the
core, signal quality, records in a temporary file) with the simulated client's sensor on a pty
and no headset, and prints the URL with its access token.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from clinician_console.server import bind_socket
from exposure.errors import UserError
from vret.simulated_client import DEMO_NOTICE, DEMO_SETTINGS, SimulatedClient, demo_ladder
from vret.station import SessionPlan, Station


def register(subparsers: Any) -> None:
    """Add the `console` command to the `vret` parser."""
    parser = subparsers.add_parser(
        "console",
        help="open the clinician console on a simulated session (try it without a headset)",
        description="Run the clinician console in front of a simulated session: a generated "
        "heart signal, the spider ladder, shortened baseline and dwell times. Prints the URL "
        "with its access token; open it in a browser. Ctrl-C stops it.",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="drive the console from a simulated session (required for now)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only; "
        "0.0.0.0 lets a tablet on the clinic network connect)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another site whose pages may use the console (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the simulated console until Ctrl-C."""
    if not args.simulate:
        raise UserError(
            "vret console needs --simulate for now: a live session opens its own "
            "console when it starts; try 'vret console --simulate'."
        )
    if not 0 <= args.port <= 65535:
        raise UserError(f"Port {args.port} is not a port number: choose one from 1024 to 65535.")
    bind_socket(args.host, args.port).close()  # a port in use: one sentence before anything starts
    client = SimulatedClient()
    with tempfile.TemporaryDirectory(prefix="vret-console-") as folder:
        ladder, _events = demo_ladder()
        plan = SessionPlan(
            client="DEMO-01",
            ladder=ladder,
            sensor=client.start(),
            protocol=client.protocol,
            settings=DEMO_SETTINGS,
            host=args.host,
            port=args.port,
            db=f"sqlite:///{Path(folder) / 'simulated.db'}",  # a try-out leaves no record behind
            render=False,
            allowed_origins=frozenset(args.allow_origin),
            notice=DEMO_NOTICE,
            on_ready=lambda station: _announce(station, client),
        )
        try:
            asyncio.run(Station(plan).run())
        finally:
            client.stop()
    return 0


def _announce(station: Station, client: SimulatedClient) -> None:
    client.wear(station.live)
    print("vret clinician console (simulated session: no client, no headset)")
    for who, url in station.urls:
        print(f"  {who}: {url}")
    print("Press Ctrl-C to stop.", flush=True)
