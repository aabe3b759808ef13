"""What every decoder shares: the decoder and encoder interfaces, plausibility, line framing."""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from exposure.constants import HR_MAX_BPM, HR_MIN_BPM
from exposure.models import Quality, Reading

HR_MIN = HR_MIN_BPM
"""Lowest heart rate (bpm) a decoder may emit; anything lower is read as no data."""
HR_MAX = HR_MAX_BPM
"""Highest heart rate (bpm) a decoder may emit; anything higher is read as no data."""


class Decoder(Protocol):
    """A pure, incremental decoder: bytes in (with their arrival time), readings out, never raises."""

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode `data` that arrived at time `t` (seconds); returns the readings it completed."""
        ...


@dataclass(frozen=True)
class HeartSample:
    """One tick of the simulated heart, as a device would sense it.

    `pleth` is the pulse wave scaled 0..1; `beats` holds the interval (ms) of every beat that
    started during this tick; `contact` is False during a dropout.
    """

    t: float
    hr: float
    pleth: float
    beats: tuple[float, ...] = ()
    contact: bool = True
    artefact: bool = False
    spo2: float = 97.0


class Encoder(Protocol):
    """The simulator's side of a protocol: one tick of the heart in, the device's bytes out."""

    rate: float
    """Ticks per second this encoder is driven at (the device's own output rate by default)."""

    def encode(self, sample: HeartSample) -> bytes:
        """The bytes the device sends for this tick (possibly none)."""
        ...

    def receive(self, data: bytes) -> None:
        """Bytes the host wrote to the device (commands); most devices ignore them."""
        ...


def plausible_hr(value: float | None) -> float | None:
    """`value` as a heart rate if it is a finite number within 25-250 bpm, else None."""
    if value is None or not math.isfinite(value) or not HR_MIN <= value <= HR_MAX:
        return None
    return float(value)


def plausible_spo2(value: float | None) -> float | None:
    """`value` as an SpO2 percentage if it is within 0-100, else None."""
    if value is None or not math.isfinite(value) or not 0 <= value <= 100:
        return None
    return float(value)


def reading(
    t: float,
    hr: float | None,
    quality: Quality = "ok",
    *,
    rr_ms: tuple[float, ...] = (),
    spo2: float | None = None,
) -> Reading:
    """A Reading with every value checked: implausible numbers become None, never an error.

    A rate the device calls good but no heart can have (a corrupted frame) is an `artefact`.
    """
    rr = tuple(float(x) for x in rr_ms if math.isfinite(x) and 0 < x < 60_000)
    rate = plausible_hr(hr)
    if quality == "ok" and hr is not None and rate is None:
        quality = "artefact"
    return Reading(
        t=t if math.isfinite(t) else 0.0,
        hr=rate,
        rr_ms=rr,
        quality=quality,
        spo2=plausible_spo2(spo2),
    )


@dataclass
class LineSplitter:
    """Cuts a byte stream into text lines; overlong lines are dropped up to the next newline."""

    max_line: int = 256
    _buffer: bytearray = field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> list[str]:
        """The complete lines in `data` (CR, LF or CRLF ended), stripped, decoded leniently."""
        lines: list[str] = []
        for byte in data:
            if byte in (0x0A, 0x0D):
                if not self._discarding and self._buffer:
                    lines.append(self._buffer.decode("utf-8", errors="replace").strip())
                self._buffer.clear()
                self._discarding = False
            elif not self._discarding:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_line:
                    # Garbage or a wrong baud rate: skip to the next newline to resynchronise.
                    self._buffer.clear()
                    self._discarding = True
        return lines


class LineDecoder(ABC):
    """Base for line protocols: subclasses implement `parse_line(line, t)`."""

    def __init__(self, max_line: int = 256) -> None:
        self._lines = LineSplitter(max_line=max_line)

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode the complete lines in `data`."""
        out: list[Reading] = []
        for line in self._lines.feed(data):
            if line:
                out.extend(self.parse_line(line, t))
        return out

    @abstractmethod
    def parse_line(self, line: str, t: float) -> list[Reading]:
        """The readings in one complete line (none for a line that is not the protocol's)."""


@dataclass
class Throttle:
    """Lets a high-rate device report at most once per `interval_s` unless what it says changes."""

    interval_s: float = 1.0
    _last_t: float | None = None
    _last_key: object = None

    def due(self, t: float, key: object) -> bool:
        """True when a reading with content `key` should be emitted at time `t`."""
        if key != self._last_key or self._last_t is None or t - self._last_t >= self.interval_s:
            self._last_t = t
            self._last_key = key
            return True
        return False


def parse_number(text: str) -> float | None:
    """A finite float from `text`, or None (no exceptions escape).

    `1e400`, a run of 400 nines, `nan` and `inf` are all None: none is a number a device meant.
    """
    try:
        value = float(text.strip())
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def finite_number(value: object) -> float | None:
    """`value` (an int, a float or number text, as JSON gives them) as a finite float, or None.

    Never raises: JSON turns a 400-digit number into a Python int, and `float()` of that raises
    OverflowError, which would otherwise end the sensor thread.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return parse_number(value)
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


WARM_UP_S = 3.0
"""After the finger goes in, the simulated oximeter shows zeros this long, as the real one does."""


class OximeterDisplay:
    """What a simulated fingertip oximeter displays: warm-up zeros, then pulse and SpO2."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._contact_since: float | None = None

    def values(self, sample: HeartSample) -> tuple[int, int, bool]:
        """(pulse, spo2, warmed_up); zeros while the finger is out or the device warms up."""
        if not sample.contact:
            self._contact_since = None
            return 0, 0, False
        if self._contact_since is None:
            self._contact_since = sample.t
        if sample.t - self._contact_since < WARM_UP_S:
            return 0, 0, False
        pulse = sample.hr
        if sample.artefact:
            pulse *= self.rng.choice((0.55, 1.6))  # motion confuses the averaging
        return max(0, min(254, round(pulse))), round(sample.spo2), True

    def pleth(self, sample: HeartSample) -> int:
        if not sample.contact:
            return 0
        value = 20 + 90 * sample.pleth
        if sample.artefact:
            value += self.rng.gauss(0, 40)
        return max(0, min(127, int(value)))


DecoderFactory = Callable[[float | None], Decoder]
EncoderFactory = Callable[[float | None], Encoder]
