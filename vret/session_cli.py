"""`vret session` (a real session) and `vret demo` (the same with a simulated client)."""

from __future__ import annotations

import argparse
import re

from clinician_console.network import add_network_arguments, network_from_args
from exposure.errors import UserError
from exposure.models import ControlSettings
from scenes.pose import PoseScript, from_hpr, pose_line
from scenes.registry import session_ladder
from sensors.protocols import get_protocol
from vret.records import RecordsError, data_folder
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
        "--ladder", metavar="FILE", help="the client's own ladder as JSON (default: the scene's)"
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
            "dwell). A scripted head looks at the stimulus and, for 12 s of every minute, away "
            "from it, so the attention rule shows. Without a display it renders offscreen and "
            "says so."
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
    p.add_argument(
        "--pose-script",
        metavar="FILE",
        help="move the client's head by a script of timed poses (JSON lines, see docs/attention.md)"
        " instead of the window's mouse and keys; not with --display openvr",
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


def _pose_script(args: argparse.Namespace, display: str) -> PoseScript | None:
    if not args.pose_script:
        return None
    if display == "openvr":
        raise UserError(
            "--pose-script moves a simulated head, and the headset tracks the real one: "
            "leave it out, or use --display window or offscreen."
        )
    return PoseScript.load(args.pose_script)


DEMO_LOOK_AWAY = (40.0, 52.0)
"""When, in each minute of the demo's pose script, the simulated client looks away."""


def demo_pose_script() -> PoseScript:
    """The demo's simulated head: it looks at the stimulus, swaying a little, and for 12 s of
    every minute turns away to the side, so the attention rule holds a step up now and then.

    Relative to each scene's resting view, so it looks at the stimulus of any scene.
    """
    start, end = DEMO_LOOK_AWAY
    eye = (0.0, 0.0, 1.6)
    lines = []
    for second in range(61):
        t = float(second)
        sway = 4.0 * ((second % 6) - 2.5) / 2.5  # a slow scan across the stimulus
        away = start + 1.0 <= t <= end  # turned round to the right and up, away from it
        q = from_hpr(-120.0 + sway, 25.0) if away else from_hpr(sway, 0.0)
        lines.append(pose_line(t, eye, q))
    return PoseScript.parse("\n".join(lines), "the demo's pose script", relative=True)


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
    network = network_from_args(args, data_folder())
    plan = dict(
        client=args.client,
        ladder=session_ladder(args.scene, args.ladder),
        sensor=args.sensor,
        protocol=args.protocol,
        baudrate=args.baud,
        size=_size(args.size),
        host=network.host,
        port=network.port,
        network=network,
        db=args.db,
        auto=not args.manual,
        pose_script=_pose_script(args, args.display),
    )
    return _run(plan, args.display)


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
    poses = _pose_script(args, display) or demo_pose_script()
    client = SimulatedClient(args.protocol, demo_heart(seed=42, artefacts_per_min=0.5))
    port = client.start()
    print(f"Simulated client: a heart at rest near 68 bpm on {port} ({args.protocol}).")
    if display != "openvr":
        print(
            f"Simulated head: {poses.source}, looking at the stimulus"
            + (", and away for 12 s of every minute." if not args.pose_script else ".")
        )

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
        pose_script=poses,
    )
    try:
        return _run(plan, display)
    finally:
        client.stop()
