"""Plain text lines from home-made sensors and other programs, 115200 8N1.

Accepted, one reading per line (anything else is ignored):
- `HR:72`, `HR=72`, `BPM: 72`, `Pulse=72 SpO2=97 RR=830` (key and value pairs, any order);
- a bare number: `72`;
- CSV (`,`, `;` or tab): the heart rate is the first column, unless a header line names the
  columns (`time,hr,rr`), in which case the column called hr/bpm/heart_rate/pulse is used and
  a column called rr/rr_ms/ibi gives a beat interval in ms;
- JSON objects: `{"hr": 72}`, `{"bpm": 72, "rr_ms": [812, 830], "spo2": 97}`.
A heart rate of 0 or `---` means the sensor has no pulse (searching).
"""

from __future__ import annotations

import json
import math
import re

from exposure.models import Reading
from sensors.base import (
    HR_MAX,
    HR_MIN,
    HeartSample,
    LineDecoder,
    finite_number,
    parse_number,
    reading,
)

HR_KEYS = frozenset({"hr", "bpm", "heartrate", "pulse", "pulserate", "pr"})
RR_KEYS = frozenset({"rr", "rrms", "ibi", "rri", "ibims"})
SPO2_KEYS = frozenset({"spo2", "sp02", "o2"})
PAIR = re.compile(r"([A-Za-z][A-Za-z0-9_ ]{0,20}?)\s*[:=]\s*(-?\d+(?:\.\d+)?|-{2,})")
SEPARATORS = re.compile(r"[,;\t]")


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _result(
    t: float, hr: float | None, rr: list[float], spo2: float | None, missing: bool
) -> list[Reading]:
    rr_ok = tuple(x for x in rr if math.isfinite(x) and x > 0)
    if hr is None and rr_ok:
        hr = 60_000.0 / (sum(rr_ok) / len(rr_ok))
    if hr is None or hr == 0:
        if not missing and hr is None:
            return []
        return [reading(t, None, "searching", spo2=spo2)]
    if not HR_MIN <= hr <= HR_MAX:
        return [reading(t, None, "artefact", spo2=spo2)]
    return [reading(t, hr, rr_ms=rr_ok, spo2=spo2)]


def _hr_field(value: object) -> float | None:
    """A heart-rate field as a number: None when absent or `---` (searching), inf when it is a
    number but not a usable one (`1e400`, 400 nines, NaN), so the reading says artefact."""
    number = finite_number(value)
    if number is not None or isinstance(value, bool):
        return number
    if isinstance(value, int | float) or (
        isinstance(value, str) and any(c.isdigit() for c in value)
    ):
        return math.inf
    return None


class TextDecoder(LineDecoder):
    """Decoder for the text line formats above."""

    def __init__(self) -> None:
        super().__init__(max_line=512)
        self._hr_column: int | None = None
        self._rr_column: int | None = None

    def parse_line(self, line: str, t: float) -> list[Reading]:
        if line.startswith("{"):
            return self._json(line, t)
        pairs = PAIR.findall(line)
        if pairs:
            return self._pairs(pairs, t)
        fields = [f.strip() for f in SEPARATORS.split(line)]
        numbers = [parse_number(f) for f in fields]
        if len(fields) > 1 and all(n is None for n in numbers):
            self._header(fields)
            return []
        if any(n is None for n in numbers):
            return []
        column = self._hr_column if self._hr_column is not None else 0
        if column >= len(numbers):
            return []
        hr = numbers[column]
        rr: list[float] = []
        if self._rr_column is not None and self._rr_column < len(numbers):
            value = numbers[self._rr_column]
            if value is not None:
                rr.append(value)
        return _result(t, hr, rr, None, missing=True)

    def _header(self, fields: list[str]) -> None:
        keys = [_key(f) for f in fields]
        hr = [k for k, name in enumerate(keys) if name in HR_KEYS]
        if hr:
            self._hr_column = hr[0]
            rr = [k for k, name in enumerate(keys) if name in RR_KEYS]
            self._rr_column = rr[0] if rr else None

    def _pairs(self, pairs: list[tuple[str, str]], t: float) -> list[Reading]:
        hr: float | None = None
        spo2: float | None = None
        rr: list[float] = []
        missing = False
        for name, text in pairs:
            key = _key(name)
            if key in HR_KEYS:
                missing = True
                hr = _hr_field(text)
            elif key in RR_KEYS:
                value = parse_number(text)
                if value is not None:
                    rr.append(value)
            elif key in SPO2_KEYS:
                spo2 = parse_number(text)
        if not missing and not rr:
            return []
        return _result(t, hr, rr, spo2, missing=True)

    def _json(self, line: str, t: float) -> list[Reading]:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            return []
        if not isinstance(obj, dict):
            return []
        fields = {_key(str(k)): v for k, v in obj.items()}
        hr_key = next((k for k in fields if k in HR_KEYS), None)
        rr_key = next((k for k in fields if k in RR_KEYS), None)
        spo2_key = next((k for k in fields if k in SPO2_KEYS), None)
        if hr_key is None and rr_key is None:
            return []
        hr = _hr_field(fields[hr_key]) if hr_key is not None else None
        rr_value = fields[rr_key] if rr_key is not None else []
        rr_list = rr_value if isinstance(rr_value, list) else [rr_value]
        rr = [n for n in (finite_number(x) for x in rr_list[:32]) if n is not None]
        spo2 = finite_number(fields[spo2_key]) if spo2_key is not None else None
        return _result(t, hr, rr, spo2, missing=hr_key is not None)


class TextEncoder:
    """Speaks `HR:<bpm>` lines (a JSON line with RRs on every fifth tick), `rate` lines a second."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 1.0
        self._ticks = 0
        self._pending: list[float] = []

    def encode(self, sample: HeartSample) -> bytes:
        self._ticks += 1
        self._pending.extend(sample.beats)
        if not sample.contact:
            self._pending.clear()
            return b"HR:0\r\n"
        hr = sample.hr * (1.6 if sample.artefact else 1.0)
        if self._ticks % 5 == 0 and self._pending:
            rr = [round(x) for x in self._pending[-8:]]
            self._pending.clear()
            return (json.dumps({"hr": round(hr, 1), "rr_ms": rr}) + "\r\n").encode()
        self._pending = self._pending[-8:]
        return f"HR:{round(hr)}\r\n".encode()

    def receive(self, data: bytes) -> None:
        """Text sensors ignore what the host writes."""
