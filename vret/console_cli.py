"""`vret console --simulate`: the clinician console on a simulated session, to try it out.

A real session opens its console itself; this command runs the same server, on one asyncio loop,
in front of a LiveSession fed by a simulated heart, and prints the URL with its access token.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from typing import Any

from clinician_console.server import (
    bind_socket,
    create_app,
    make_token,
    serve,
)
from clinician_console.urls import console_urls
from exposure.errors import UserError
from vret.simulated_client import DEMO_NOTICE, demo_session, feed_heart, make_heart


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
    sock = bind_socket(args.host, args.port)  # ConsoleAddressError is a UserError: one sentence
    asyncio.run(_simulate(sock, args.host, set(args.allow_origin)))
    return 0


async def _simulate(sock: socket.socket, host: str, allowed_origins: set[str]) -> None:
    session, scene_events = demo_session()
    token = make_token()
    app = create_app(
        session,
        token,
        allowed_origins=allowed_origins,
        scene_events=scene_events,
        notice=DEMO_NOTICE,
    )
    port = sock.getsockname()[1]
    ready = asyncio.Event()
    tasks = [
        asyncio.create_task(serve(app, sock=sock, ready=ready)),
        asyncio.create_task(session.tick_forever()),
        asyncio.create_task(feed_heart(session, make_heart())),
    ]
    try:
        await asyncio.wait(
            {tasks[0], asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if ready.is_set():
            print("vret clinician console (simulated session: no client, no headset)")
            for who, url in console_urls(host, port, token):
                print(f"  {who}: {url}")
            print("Press Ctrl-C to stop.", flush=True)
        await tasks[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
