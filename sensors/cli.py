"""`vret sensors ...`: list the protocols, read a sensor, or simulate one on a pseudo-terminal."""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from typing import Any

from exposure.errors import UserError
from exposure.models import Reading
from sensors.protocols import PROTOCOLS, ProtocolInfo, get_protocol
from sensors.simulator import PtySimulator, SimulatedHeart
from sensors.source import PortError, SerialSource, open_port


def register(subparsers: Any) -> None:
    """Add the `sensors` command group to the `vret` parser."""
    parser = subparsers.add_parser(
        "sensors",
        help="heart-rate sensors: list protocols, check a device, simulate one",
        description="Heart-rate sensors: list protocols, check a device, simulate one.",
    )
    parser.set_defaults(func=lambda args: _help(parser))
    sub = parser.add_subparsers(title="sensor commands", metavar="SUBCOMMAND")

    protocols = sub.add_parser("protocols", help="list the protocols and their serial settings")
    protocols.set_defaults(func=cmd_protocols)

    listen = sub.add_parser(
        "listen",
        help="read a sensor and print its readings",
        description="Read a sensor and print each reading with its quality.",
    )
    listen.add_argument("port", metavar="PORT", help="serial port or pyserial URL (socket://...)")
    listen.add_argument(
        "--protocol", required=True, help="protocol name (see `vret sensors protocols`)"
    )
    listen.add_argument(
        "--baud", type=int, default=None, help="baud rate (default: the protocol's)"
    )
    listen.add_argument(
        "--sample-rate",
        type=float,
        default=None,
        metavar="HZ",
        help="samples per second of a raw waveform (default: timed by arrival)",
    )
    listen.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    listen.add_argument("--json", action="store_true", help="one JSON object per line")
    listen.set_defaults(func=cmd_listen)

    simulate = sub.add_parser(
        "simulate",
        help="speak a protocol on a pseudo-terminal, like a real sensor",
        description=(
            "Open a pseudo-terminal, print its path, and speak PROTOCOL there with a simulated "
            "heart. While it runs, type a level (0 = safe scene, 1..N = ladder levels) and Enter "
            "to change the exposure, `u` to unplug the sensor and `r` to plug it back in."
        ),
    )
    simulate.add_argument(
        "--protocol", required=True, help="protocol name (see `vret sensors protocols`)"
    )
    simulate.add_argument("--hr", type=float, default=72.0, help="resting heart rate (default 72)")
    simulate.add_argument("--level", type=float, default=0.0, help="exposure level to start at")
    simulate.add_argument(
        "--rate",
        type=float,
        default=None,
        help="output ticks per second (default: the device's own)",
    )
    simulate.add_argument(
        "--artefacts",
        type=float,
        default=0.0,
        metavar="PER_MIN",
        help="motion artefacts per minute",
    )
    simulate.add_argument(
        "--dropouts",
        type=float,
        default=0.0,
        metavar="PER_MIN",
        help="dropouts (finger out) per minute",
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument(
        "--seconds", type=float, default=None, help="stop after this many seconds"
    )
    simulate.set_defaults(func=cmd_simulate)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _protocol(name: str) -> ProtocolInfo:
    try:
        return get_protocol(name)
    except ValueError as err:
        raise UserError(str(err)) from None


def cmd_protocols(args: argparse.Namespace) -> int:
    """Print each protocol with its default serial settings."""
    width = max(len(name) for name in PROTOCOLS)
    print(f"{'PROTOCOL':<{width}}  {'SERIAL':<12}  DEVICE")
    for info in PROTOCOLS.values():
        print(f"{info.name:<{width}}  {info.settings:<12}  {info.description}")
    return 0


def _line(item: Reading) -> str:
    hr = f"{item.hr:5.1f} bpm" if item.hr is not None else "   -- bpm"
    text = f"{item.t:8.1f} s  {hr}  {item.quality:<10}"
    if item.rr_ms:
        text += "  RR " + " ".join(f"{rr:.0f}" for rr in item.rr_ms) + " ms"
    if item.spo2 is not None:
        text += f"  SpO2 {item.spo2:.0f}%"
    return text


def cmd_listen(args: argparse.Namespace) -> int:
    """Read a sensor and print its readings until --seconds pass or Ctrl-C."""
    info = _protocol(args.protocol)
    if args.baud is not None and args.baud <= 0:
        raise UserError("The baud rate must be a positive number, such as 9600 or 115200.")
    if args.sample_rate is not None and args.sample_rate <= 0:
        raise UserError("The sample rate must be a positive number of samples per second.")
    try:
        open_port(args.port, info, baudrate=args.baud).close()
    except PortError as err:
        raise UserError(str(err)) from None
    started = time.monotonic()
    readings: queue.Queue[Reading] = queue.Queue()

    def status(kind: str, sentence: str) -> None:
        print(f"vret: {sentence}", file=sys.stderr, flush=True)

    source = SerialSource(
        args.port,
        info,
        baudrate=args.baud,
        sample_rate=args.sample_rate,
        on_reading=readings.put,
        on_status=status,
        clock=lambda: time.monotonic() - started,
    )
    deadline = None if args.seconds is None else started + max(0.0, args.seconds)
    source.start()
    try:
        while deadline is None or time.monotonic() < deadline:
            wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            try:
                item = readings.get(timeout=wait)
            except queue.Empty:
                continue
            if args.json:
                record = {
                    "t": round(item.t, 3),
                    "hr": item.hr,
                    "quality": item.quality,
                    "rr_ms": [round(rr, 1) for rr in item.rr_ms],
                    "spo2": item.spo2,
                }
                print(json.dumps(record), flush=True)
            else:
                print(_line(item), flush=True)
    finally:
        source.stop()
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run a simulated sensor on a pseudo-terminal until --seconds pass or Ctrl-C."""
    info = _protocol(args.protocol)
    if not 25 <= args.hr <= 220:
        raise UserError("The resting heart rate must be between 25 and 220 bpm, such as --hr 72.")
    if args.rate is not None and not 0 < args.rate <= 5000:
        raise UserError("The rate must be between 0 and 5000 ticks per second, such as --rate 500.")
    heart = SimulatedHeart(
        args.hr,
        artefacts_per_min=max(0.0, args.artefacts),
        dropouts_per_min=max(0.0, args.dropouts),
        seed=args.seed,
    )
    heart.set_level(args.level, 0.0)
    sim = PtySimulator(info.name, heart, rate=args.rate, seed=args.seed)
    print(sim.port_path, flush=True)
    print(
        f"vret: simulating {info.name} ({info.settings}) at {args.hr:.0f} bpm on {sim.port_path}; "
        f"read it with `vret sensors listen {sim.port_path} --protocol {info.name}`. Type a level "
        "and Enter to change exposure, u to unplug, r to replug, Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    sim.start()
    threading.Thread(target=_commands, args=(sim,), name="vret-sim-stdin", daemon=True).start()
    try:
        if args.seconds is None:
            while True:
                time.sleep(1.0)
        else:
            time.sleep(max(0.0, args.seconds))
    finally:
        sim.stop()
    return 0


def _commands(sim: PtySimulator) -> None:
    """Level changes and cable pulls typed on stdin while the simulator runs."""
    for raw in sys.stdin:
        text = raw.strip().lower()
        if text in ("u", "unplug"):
            sim.unplug()
            print("vret: unplugged", file=sys.stderr, flush=True)
        elif text in ("r", "replug", "plug"):
            sim.replug()
            print("vret: plugged back in", file=sys.stderr, flush=True)
        elif text:
            try:
                level = float(text)
            except ValueError:
                print("vret: type a level such as 3, or u / r", file=sys.stderr, flush=True)
                continue
            sim.set_level(max(0.0, level))
            print(f"vret: exposure level {max(0.0, level):g}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m sensors.cli SUBCOMMAND ...`: the sensor commands without the rest of vret."""
    parser = argparse.ArgumentParser(prog="vret")
    register(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args(["sensors", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"vret: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
