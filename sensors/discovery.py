"""Sensors found, not named: the serial ports present and the protocol each likely speaks.

A port's protocol comes from its USB vendor and product id where that id says it (an Arduino
board runs PulseSensor Playground), else from listening: the port is opened with each serial
setting the protocols use (115200 8N1, 19200 8O1, 9600 8N1), the start command of any protocol
that needs one is written, the bytes of a few seconds are read, and every decoder of that
setting is fed the same bytes (`guess_protocol`, pure). Decoders are total, so the wrong ones
stay quiet or emit readings at a rate their own device never would; the best fit wins.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import serial
from serial.tools import list_ports

from exposure.models import Reading
from sensors.base import HeartSample
from sensors.protocols import PROTOCOLS, ProtocolInfo
from sensors.simulator import SimulatedHeart
from sensors.source import PortError, open_port

LISTEN_S = 2.5
"""Seconds of bytes read at each serial setting (slow devices send a packet a second)."""

USB_PROTOCOLS: dict[tuple[int, int], tuple[str, str]] = {
    (0x2341, 0x0043): ("pulsesensor", "an Arduino Uno (PulseSensor Playground)"),
    (0x2341, 0x0001): ("pulsesensor", "an Arduino Uno (PulseSensor Playground)"),
    (0x2341, 0x0010): ("pulsesensor", "an Arduino Mega (PulseSensor Playground)"),
    (0x2341, 0x0042): ("pulsesensor", "an Arduino Mega (PulseSensor Playground)"),
    (0x2341, 0x8036): ("pulsesensor", "an Arduino Leonardo (PulseSensor Playground)"),
}
"""USB ids that name a device's protocol. Generic USB-serial bridges (CP210x, PL2303, FTDI,
CH340) carry every kind of device, so their ports are listened to instead."""


@dataclass(frozen=True)
class FoundPort:
    """One serial port and what it likely speaks."""

    port: str
    description: str
    vid: int | None = None
    pid: int | None = None
    manufacturer: str | None = None
    product: str | None = None
    protocol: str | None = None
    """The likely protocol; None when nothing could be told."""
    basis: str = "unknown"
    """How `protocol` was found: "usb id", "listened", "unknown" or "busy"."""
    detail: str = ""
    """One sentence for the person choosing."""

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["usb"] = f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None else None
        return out


def present_ports(extra: Iterable[str] = ()) -> list[FoundPort]:
    """The serial ports pyserial lists (with USB ids where known), then `extra` paths."""
    found = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        found.append(
            FoundPort(
                port=info.device,
                description=info.description if info.description != "n/a" else info.device,
                vid=info.vid,
                pid=info.pid,
                manufacturer=info.manufacturer,
                product=info.product,
            )
        )
    seen = {f.port for f in found}
    found += [FoundPort(port=p, description=p) for p in extra if p not in seen]
    return found


def by_usb_id(vid: int | None, pid: int | None) -> tuple[str, str] | None:
    """(protocol, what the device is) for a USB id that says it, else None."""
    if vid is None or pid is None:
        return None
    return USB_PROTOCOLS.get((vid, pid))


def _settings(info: ProtocolInfo) -> tuple[int, int, str, float]:
    return (info.baudrate, info.bytesize, info.parity, info.stopbits)


def setting_groups(
    protocols: Sequence[ProtocolInfo] | None = None,
) -> list[list[ProtocolInfo]]:
    """The protocols grouped by serial setting, the most common setting first."""
    groups: dict[tuple[int, int, str, float], list[ProtocolInfo]] = {}
    for info in protocols if protocols is not None else PROTOCOLS.values():
        groups.setdefault(_settings(info), []).append(info)
    return sorted(groups.values(), key=len, reverse=True)


_OWN_RATE: dict[str, float] = {}


def own_rate(info: ProtocolInfo, seconds: float = 20.0) -> float:
    """Readings a second this protocol's decoder makes of its own device's stream (from the
    simulator's encoder, so it follows the registry); measured once per protocol."""
    if info.name not in _OWN_RATE:
        heart = SimulatedHeart(75.0, variability_bpm=0.5, seed=1)
        encoder = info.make_encoder(None, 1)
        encoder.receive(info.init_bytes)
        decoder = info.make_decoder(encoder.rate if info.uses_sample_rate else None)
        count = 0
        for k in range(1, int(seconds * encoder.rate) + 1):
            t = k / encoder.rate
            sample: HeartSample = heart.tick(t)
            count += len(decoder.feed(encoder.encode(sample), t))
        _OWN_RATE[info.name] = count / seconds
    return _OWN_RATE[info.name]


def fit(info: ProtocolInfo, readings: list[Reading], seconds: float) -> float:
    """How well `readings` (what `info`'s decoder made of `seconds` of bytes) fit the protocol:
    0 for none; less the further their rate is from what the device itself sends."""
    if not readings or seconds <= 0:
        return 0.0
    expected = max(own_rate(info) * seconds, 1.0)
    ratio = len(readings) / expected
    if not 1 / 3 <= ratio <= 3.0:  # far from what its device sends: another protocol's, or noise
        return 0.0
    if not steady(readings):
        return 0.0
    closeness = min(ratio, 1.0 / ratio)
    return closeness + 0.1 * sum(r.hr is not None for r in readings) / len(readings)


def steady(readings: list[Reading]) -> bool:
    """True when the readings look like one device on one person: their flags do not flip
    from reading to reading and their heart rates agree (random bytes give neither)."""
    flips = sum(a.quality != b.quality for a, b in zip(readings, readings[1:], strict=False))
    if flips > len(readings) // 2:
        return False
    rates = sorted(r.hr for r in readings if r.hr is not None)
    if len(rates) < 3:
        return True
    median = rates[len(rates) // 2]
    agree = sum(abs(hr - median) <= 0.25 * median for hr in rates)
    return agree >= 0.6 * len(rates)


def guess_protocol(
    chunks: Sequence[tuple[float, bytes]], candidates: Sequence[ProtocolInfo], seconds: float
) -> tuple[str | None, int]:
    """The candidate whose decoder best fits the bytes read (each with its arrival time), and
    how many readings it made; (None, 0) when none fits. Pure."""
    best: tuple[float, str | None, int] = (0.0, None, 0)
    for info in candidates:
        decoder = info.make_decoder(None)
        readings: list[Reading] = []
        for t, data in chunks:
            readings += decoder.feed(data, t)
        score = fit(info, readings, seconds)
        if info.uses_sample_rate:  # a raw wave is read out of any numbers: the last resort
            score *= 0.5
        if score > best[0]:
            best = (score, info.name, len(readings))
    return best[1], best[2]


def listen(
    port: str, group: Sequence[ProtocolInfo], seconds: float, clock: Callable[[], float]
) -> list[tuple[float, bytes]]:
    """The bytes `port` sends in `seconds` at the group's serial setting (start commands
    written first). Raises PortError when the port cannot be opened."""
    conn = open_port(port, group[0])
    chunks: list[tuple[float, bytes]] = []
    try:
        with_start = b"".join(info.init_bytes for info in group)
        if with_start:
            with contextlib.suppress(serial.SerialException):  # one that takes none still talks
                conn.write(with_start)
        started = clock()
        while clock() - started < seconds:
            try:
                data = conn.read(4096)
            except (serial.SerialException, OSError) as err:
                raise PortError(
                    f"{port} stopped answering while it was listened to ({err})."
                ) from err
            if data:
                chunks.append((clock() - started, data))
    finally:
        conn.close()
    return chunks


def probe(
    port: str,
    seconds: float = LISTEN_S,
    protocols: Sequence[ProtocolInfo] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str | None, str]:
    """Listen to `port` at each serial setting; (likely protocol or None, one sentence)."""
    heard = False
    for group in setting_groups(protocols):
        try:
            chunks = listen(port, group, seconds, clock)
        except PortError as err:
            return None, str(err)
        heard = heard or bool(chunks)
        name, count = guess_protocol(chunks, group, seconds)
        if name is not None:
            return name, f"{count} readings in {seconds:g} s decoded as {name}."
    if not heard:
        return None, f"Nothing came from {port} in {seconds:g} s: is the sensor on and worn?"
    return None, f"{port} sends data no protocol of vret decodes: choose the protocol by hand."


def discover(
    extra: Iterable[str] = (),
    *,
    seconds: float = LISTEN_S,
    skip: Iterable[str] = (),
    listen_to_ports: bool = True,
) -> list[FoundPort]:
    """Every port present with its likely protocol: by USB id, else by listening (all ports at
    once, each in its own thread). Ports in `skip` (the running session's) are listed, not
    opened."""
    ports = present_ports(extra)
    skipped = set(skip)
    out: list[FoundPort | None] = [None] * len(ports)

    def one(i: int, found: FoundPort) -> None:
        known = by_usb_id(found.vid, found.pid)
        if found.port in skipped:
            out[i] = _with(found, None, "busy", "The running session reads this sensor.")
        elif known is not None:
            out[i] = _with(found, known[0], "usb id", f"USB id of {known[1]}.")
        elif not listen_to_ports:
            out[i] = _with(found, None, "unknown", "Not listened to.")
        else:
            name, sentence = probe(found.port, seconds)
            out[i] = _with(found, name, "listened" if name else "unknown", sentence)

    threads = [
        threading.Thread(target=one, args=(i, f), name=f"vret-probe-{i}", daemon=True)
        for i, f in enumerate(ports)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [f for f in out if f is not None]


def _with(found: FoundPort, protocol: str | None, basis: str, detail: str) -> FoundPort:
    return FoundPort(**{**asdict(found), "protocol": protocol, "basis": basis, "detail": detail})
