"""`vret session` (a real session) and `vret demo` (the same with a simulated client)."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clinician_console.network import add_network_arguments, network_from_args
from exposure.errors import UserError
from exposure.models import ControlSettings, Ladder
from scenes.pose import PoseScript, from_hpr, pose_line
from scenes.registry import session_ladder
from sensors.protocols import get_protocol
from vret.coach_cli import DEMO_PACE, add_coach_arguments, coach_plan_from_args
from vret.records import Records, RecordsError, data_folder
from vret.simulated_client import DEMO_SETTINGS, SimulatedClient, demo_heart
from vret.station import SessionError, SessionPlan, Station, has_display, run
from vret.station_server import check_display, client_ladder

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
    add_settings_arguments(p)
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
    add_settings_arguments(d)
    d.set_defaults(func=_demo)


# --------------------------------------------------------------------------- control settings

PERCENT_FIELDS = ("window_low", "window_high", "ceiling", "hard_ceiling")
"""Settings that are fractions of the baseline HR: a flag takes 0.25 or 25%."""

ALIASES = {"dwell_s": "min_dwell_s"}
"""Short flags a therapist reaches for, and the setting each one sets."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    """A flag for every field of `ControlSettings` (made from the model, so none is missing),
    plus `--settings FILE`, `--window LOW,HIGH` and `--dwell-s`; docs/settings.md explains them."""
    group = p.add_argument_group(
        "control settings",
        "Every threshold of the exposure controller (see docs/settings.md). --settings FILE "
        "reads them from JSON or TOML; a flag overrides the file. Arousal thresholds take a "
        "fraction of the baseline HR or a percentage: 0.35 or 35%.",
    )
    group.add_argument(
        "--settings", metavar="FILE", type=Path, help="control settings from a JSON or TOML file"
    )
    for name, field in ControlSettings.model_fields.items():
        default = field.default
        if field.annotation is bool:
            group.add_argument(
                _flag(name),
                dest=f"setting_{name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{(field.description or '').rstrip('.')} (default: {'on' if default else 'off'})".replace(
                    "%", "%%"
                ),
            )
            continue
        shown = f"{default:.0%}" if name in PERCENT_FIELDS else f"{default:g}"
        group.add_argument(
            _flag(name),
            dest=f"setting_{name}",
            metavar="N",
            help=f"{(field.description or '').rstrip('.')} (default: {shown})".replace("%", "%%"),
        )
    group.add_argument(
        "--window",
        metavar="LOW,HIGH",
        help="the therapeutic window in one flag, e.g. 10%%,30%% (--window-low, --window-high)",
    )
    for alias, name in ALIASES.items():
        group.add_argument(
            _flag(alias), dest=f"setting_{name}_alias", metavar="N", help=f"same as {_flag(name)}"
        )


def _range(name: str) -> str:
    """The allowed range of one setting in words, from the model's constraints."""
    low = high = ""
    for rule in ControlSettings.model_fields[name].metadata:  # pydantic's Gt, Ge, Le
        if getattr(rule, "gt", None) is not None:
            low = f"greater than {rule.gt}"
        elif getattr(rule, "ge", None) is not None:
            low = f"at least {rule.ge}"
        elif getattr(rule, "le", None) is not None:
            high = f"at most {rule.le}"
    if ControlSettings.model_fields[name].annotation is int:
        kind = "a whole number"
    elif ControlSettings.model_fields[name].annotation is bool:
        return "true or false"
    else:
        kind = "a number"
    return " and ".join(part for part in (f"{kind} {low}".strip(), high) if part)


def _number(name: str, text: Any, source: str) -> Any:
    """One setting's value from a flag's text or a file's value; UserError names the source."""
    annotation = ControlSettings.model_fields[name].annotation
    if annotation is bool:
        if isinstance(text, bool):
            return text
        raise UserError(f"{source} must be true or false (got {text}).")
    raw = text.strip() if isinstance(text, str) else text
    try:
        if isinstance(raw, str) and raw.endswith("%") and name in PERCENT_FIELDS:
            return float(raw[:-1]) / 100
        if isinstance(raw, bool):
            raise ValueError
        if annotation is int:
            value = float(raw)
            if value != int(value):
                raise ValueError
            return int(value)
        return float(raw)
    except (TypeError, ValueError):
        pct = " (or a percentage, like 25%)" if name in PERCENT_FIELDS else ""
        raise UserError(f"{source} must be {_range(name)}{pct} (got {text}).") from None


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings in a JSON or TOML file, by field name; one sentence for any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"No settings file {path}: give a JSON or TOML file.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"Cannot read {path}: {err}.") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = json.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path} is not TOML ({err}).") from None
    except json.JSONDecodeError as err:
        raise UserError(f"{path} is not JSON ({err.msg} at line {err.lineno}).") from None
    if not isinstance(data, dict):
        raise UserError(f'{path} must hold settings by name, like {{"min_dwell_s": 90}}.')
    known = ControlSettings.model_fields
    for key in data:
        if key not in known:
            raise UserError(
                f"{path} has an unknown setting {key!r}: the settings are {', '.join(known)}."
            )
    return data


def settings_from_args(args: argparse.Namespace, base: ControlSettings) -> ControlSettings:
    """`base`, then the `--settings` file, then the flags; every bad value is one sentence
    that names its flag (or the file's key) and the allowed range."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    given: dict[str, Any] = {}  # as the person wrote it, for the error
    path: Path | None = getattr(args, "settings", None)
    if path is not None:
        for key, value in read_settings_file(path).items():
            values[key] = _number(key, value, f"{key} in {path}")
            sources[key], given[key] = f"{key} in {path}", value
    window = getattr(args, "window", None)
    if window is not None:
        parts = window.split(",")
        if len(parts) != 2:
            raise UserError(f"--window takes LOW,HIGH, like 10%,30% (got {window}).")
        for name, part in zip(("window_low", "window_high"), parts, strict=True):
            values[name] = _number(name, part, "--window")
            sources[name], given[name] = "--window", part
    for name in ControlSettings.model_fields:
        for dest, flag in ((f"setting_{name}_alias", None), (f"setting_{name}", _flag(name))):
            text = getattr(args, dest, None)
            if text is None:
                continue
            source = flag or _flag(next(a for a, n in ALIASES.items() if n == name))
            values[name] = _number(name, text, source)
            sources[name], given[name] = source, text
    try:
        return ControlSettings.model_validate({**base.model_dump(), **values})
    except ValidationError as err:
        first = err.errors()[0]
        if first["loc"]:
            name = str(first["loc"][0])
            source = sources.get(name, _flag(name))
            raise UserError(f"{source} must be {_range(name)} (got {given.get(name)}).") from None
        order = " <= ".join(
            f"{sources.get(n, _flag(n))} ({ ({**base.model_dump(), **values}[n]):.0%})"
            for n in PERCENT_FIELDS
        )
        raise UserError(f"The arousal thresholds must be ordered: {order} does not hold.") from None


def settings_lines(settings: ControlSettings) -> list[str]:
    """The control settings as printed at the start of a session: one line each, changed ones
    marked with *."""
    default = ControlSettings()
    lines = ["Control settings (* differs from the default; see docs/settings.md):"]
    for name, field in ControlSettings.model_fields.items():
        value = getattr(settings, name)
        if name in PERCENT_FIELDS:
            shown = f"{value:.0%}"
        elif isinstance(value, bool):
            shown = "on" if value else "off"
        else:
            shown = f"{value:g}"
        mark = "*" if value != getattr(default, name) else " "
        lines.append(f" {mark} {_flag(name):<24} {shown:>6}  {field.description}")
    return lines


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
    add_coach_arguments(p)


def _size(text: str) -> tuple[int, int]:

    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise UserError(f"--size {text!r} is not WIDTHxHEIGHT: give one like 1280x720.")
    return int(match[1]), int(match[2])


def _check_display(display: str) -> None:
    check_display(display)  # the same check as the station's before Start


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
    settings = settings_from_args(args, ControlSettings())
    poses = _pose_script(args, args.display)  # every argument checked before the records open
    size = _size(args.size)
    ladder, version = _client_ladder(args)
    if args.ladder is not None:
        print(f"Ladder: {args.ladder}, {ladder.top} levels.")
    network = network_from_args(args, data_folder())
    plan = dict(
        client=args.client,
        ladder=ladder,
        hierarchy_version=version,
        sensor=args.sensor,
        protocol=args.protocol,
        baudrate=args.baud,
        settings=settings,
        size=size,
        host=network.host,
        port=network.port,
        network=network,
        db=args.db,
        auto=not args.manual,
        pose_script=poses,
        coach=coach_plan_from_args(args, args.client),
    )
    print("\n".join(settings_lines(settings)), flush=True)
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
    with Records(args.db) as records:  # the same path as the station's POST /api/sessions
        ladder, version, where = client_ladder(records, args.client, args.scene, args.start_step)
    print(where)
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
    settings = settings_from_args(args, ControlSettings() if args.clinical_pace else DEMO_SETTINGS)
    display = args.display or ("window" if has_display() else "offscreen")
    if args.display is None and display == "offscreen":
        print("No display found: rendering offscreen; the console shows what the client sees.")
    ladder = session_ladder(args.scene, None)
    network = network_from_args(args, data_folder())
    poses = _pose_script(args, display) or demo_pose_script()
    client = SimulatedClient(args.protocol, demo_heart(seed=42, artefacts_per_min=0.5))
    port = client.start()
    print(f"Simulated client: a heart at rest near 68 bpm on {port} ({args.protocol}).")
    print("\n".join(settings_lines(settings)), flush=True)
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
        settings=settings,
        size=_size(args.size),
        host=network.host,
        port=network.port,
        network=network,
        db=args.db,
        duration_s=args.duration,
        on_ready=wear,
        pose_script=poses,
        coach=coach_plan_from_args(args, "DEMO", 1.0 if args.clinical_pace else DEMO_PACE),
    )
    try:
        return _run(plan, display)
    finally:
        client.stop()
