"""`vret session` (a real session) and `vret demo` (the same with a simulated client)."""

from __future__ import annotations

import argparse
import re

from clinician_console.network import add_network_arguments, network_from_args
from exposure.errors import UserError
from exposure.models import ControlSettings, Ladder
from scenes.registry import session_ladder
from sensors.protocols import get_protocol
from vret import clients, hierarchy
from vret.records import Records, RecordsError, data_folder
from vret.simulated_client import DEMO_SETTINGS, SimulatedClient, demo_heart
from vret.station import SessionError, SessionPlan, Station, has_display, run

DISPLAYS = ("openvr", "window", "offscreen")
CLIENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "session",
        help="run an exposure session: sensor, headset and console",
        description=(
            "Run one exposure session: read the heart-rate sensor, show the scene in the headset "
            "(or a window), serve the clinician console, and record everything. Prints the "
            "console's URL with its access token. Ctrl-C ends the session with its record closed."
        ),
    )
    p.add_argument(
        "--client", required=True, help="pseudonymous client code (no names), e.g. C-0042"
    )
    p.add_argument("--scene", required=True, help="scene name (see `vret scenes list`)")
    p.add_argument(
        "--ladder",
        metavar="FILE",
        help="a ladder as JSON (default: the client's latest hierarchy for the scene, else the "
        "scene's own ladder)",
    )
    p.add_argument(
        "--start-step",
        type=int,
        metavar="N",
        help="start exposure at step N (default: the highest step the client reached last time)",
    )
    p.add_argument(
        "--sensor",
        required=True,
        metavar="PORT_OR_URL",
        help="serial port (/dev/ttyUSB0, COM3) or pyserial URL (socket://host:port)",
    )
    p.add_argument(
        "--protocol", required=True, help="sensor protocol (see `vret sensors protocols`)"
    )
    p.add_argument("--baud", type=int, help="override the protocol's baud rate")
    _common(p, display_default="openvr")
    p.add_argument("--manual", action="store_true", help="start in manual mode (automatic off)")
    p.set_defaults(func=_session)

    d = sub.add_parser(
        "demo",
        help="a whole simulated session: scene, simulated heart sensor, console",
        description=(
            "Run a whole session with a simulated client: a simulated heart-rate sensor speaks a "
            "real protocol on a pseudo-terminal, and its heart responds to the level the session "
            "sets. Default scene and ladder, automatic mode on, demo pace (15 s baseline, 20 s "
            "dwell). Without a display it renders offscreen and says so."
        ),
    )
    d.add_argument("--scene", default="spiders", help="scene name (default: spiders)")
    d.add_argument("--protocol", default="cms50-v7", help="protocol the simulated sensor speaks")
    d.add_argument("--duration", type=float, metavar="S", help="end by itself after S seconds")
    d.add_argument(
        "--clinical-pace",
        action="store_true",
        help="use the clinical defaults (60 s baseline, 60 s dwell) instead of the demo pace",
    )
    _common(d, display_default=None)
    d.set_defaults(func=_demo)


def _common(p: argparse.ArgumentParser, display_default: str | None) -> None:
    p.add_argument(
        "--display",
        choices=DISPLAYS,
        default=display_default,
        help="where the client sees the scene"
        + ("" if display_default else " (default: window when a display exists, else offscreen)"),
    )
    p.add_argument("--size", default="1280x720", metavar="WxH", help="window or buffer size")
    add_network_arguments(p)
    p.add_argument(
        "--db", metavar="URL", help="records database (default: a SQLite file in your data folder)"
    )


def _size(text: str) -> tuple[int, int]:

    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise UserError(f"--size {text!r} is not WIDTHxHEIGHT: give one like 1280x720.")
    return int(match[1]), int(match[2])


def _check_display(display: str) -> None:

    if display == "openvr":
        # Panda3D and openvr load only when a headset is asked for
        from scenes.openvr_display import DisplayUnavailable, load_openvr

        try:
            load_openvr()
        except DisplayUnavailable as err:
            raise UserError(str(err)) from None
    elif display == "window" and not has_display():
        raise UserError(
            "No display to open a window on: run with --display offscreen, or set DISPLAY."
        )


def _run(plan_kwargs: dict, display: str) -> int:
    _check_display(display)
    try:
        run(SessionPlan(**plan_kwargs, display=display))
    except (SessionError, RecordsError) as err:
        raise UserError(str(err)) from None
    return 0


def _session(args: argparse.Namespace) -> int:
    if not CLIENT_CODE.match(args.client):
        raise UserError(
            "--client takes a pseudonymous code of letters, digits, '.', '_' or '-' (no names), like C-0042."
        )
    try:
        get_protocol(args.protocol)
    except ValueError as err:
        raise UserError(str(err)) from None
    ladder, version = _client_ladder(args)
    network = network_from_args(args, data_folder())
    plan = dict(
        client=args.client,
        ladder=ladder,
        hierarchy_version=version,
        sensor=args.sensor,
        protocol=args.protocol,
        baudrate=args.baud,
        size=_size(args.size),
        host=network.host,
        port=network.port,
        network=network,
        db=args.db,
        auto=not args.manual,
    )
    return _run(plan, args.display)


def _client_ladder(args: argparse.Namespace) -> tuple[Ladder, int | None]:
    """The session's ladder and the hierarchy version it came from.

    A ladder file wins; else a registered client's latest hierarchy for the scene (or the
    scene's ladder), starting where their last session reached or at --start-step; a code that
    is not a registered client gets the scene's ladder, as before clients existed.
    """
    if args.ladder is not None:
        ladder = session_ladder(args.scene, args.ladder)
        return _start_at(ladder, args.start_step), None
    with Records(args.db) as records:
        try:
            client = clients.get(records, args.client)
        except clients.ClientError:
            print(
                f"{args.client} is not a registered client: using the scene's ladder "
                f"(`vret clients add {args.client} --phobia ...` keeps a course together)."
            )
            return _start_at(session_ladder(args.scene, None), args.start_step), None
        if client.archived:
            raise UserError(
                f"{client.code} is archived: `vret clients archive {client.code} --restore` "
                "to treat them again."
            )
        ladder, version = hierarchy.session_ladder(
            records, client.code, args.scene, args.start_step
        )
    where = f"hierarchy v{version}" if version else "the scene's ladder"
    print(f"{client.code}: {where}, starting at step {ladder.start_level} of {ladder.top}.")
    return ladder, version


def _start_at(ladder: Ladder, step: int | None) -> Ladder:
    if step is None:
        return ladder
    if not 1 <= step <= ladder.top:
        raise UserError(
            f"--start-step {step} is not a step of this ladder: give 1 to {ladder.top}."
        )
    return ladder.model_copy(update={"start_level": step})


def _demo(args: argparse.Namespace) -> int:
    try:
        get_protocol(args.protocol)
    except ValueError as err:
        raise UserError(str(err)) from None
    display = args.display or ("window" if has_display() else "offscreen")
    if args.display is None and display == "offscreen":
        print("No display found: rendering offscreen; the console shows what the client sees.")
    ladder = session_ladder(args.scene, None)
    network = network_from_args(args, data_folder())
    client = SimulatedClient(args.protocol, demo_heart(seed=42, artefacts_per_min=0.5))
    port = client.start()
    print(f"Simulated client: a heart at rest near 68 bpm on {port} ({args.protocol}).")

    def wear(station: Station) -> None:
        client.wear(station.live)
        print(
            "Open the console URL above in a browser; press Ctrl-C here (or End in the console) to finish."
        )

    plan = dict(
        client="DEMO",
        ladder=ladder,
        sensor=port,
        protocol=args.protocol,
        settings=ControlSettings() if args.clinical_pace else DEMO_SETTINGS,
        size=_size(args.size),
        host=network.host,
        port=network.port,
        network=network,
        db=args.db,
        duration_s=args.duration,
        on_ready=wear,
    )
    try:
        return _run(plan, display)
    finally:
        client.stop()
