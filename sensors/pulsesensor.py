"""PulseSensor Playground (World Famous Electronics) serial output, 115200 8N1.

Three shapes of stream, all text lines:
- visualizer (`PROCESSING_VISUALIZER`): `S<signal>` per sample, `B<bpm>` and `Q<ibi ms>` per beat;
- plotter (`SERIAL_PLOTTER`): `<bpm>,<ibi ms>,<signal>` per sample;
- raw waveform only (`S<signal>` lines or bare integers): vret finds the beats itself.
"""

from __future__ import annotations

import math
import random

from exposure.models import Reading
from sensors.base import HeartSample, LineDecoder, Throttle, parse_number, reading
from sensors.beats import BeatDetector

NO_BEAT_SEARCHING_S = 3.0
"""With samples arriving but no beat for this long, the sensor is searching for a pulse."""


def _signal_value(text: str) -> float | None:
    value = parse_number(text)
    if value is None or not -1e6 < value < 1e6:
        return None
    return value


class _Searching:
    """Says "searching" once a second while a live waveform shows no beat."""

    def __init__(self) -> None:
        self.last_beat_t: float | None = None
        self.first_t: float | None = None
        self._last_said: float | None = None

    def beat(self, t: float) -> None:
        self.last_beat_t = t

    def sample(self, t: float) -> list[Reading]:
        if self.first_t is None:
            self.first_t = t
        since = self.last_beat_t if self.last_beat_t is not None else self.first_t
        if t - since < NO_BEAT_SEARCHING_S:
            return []
        if self._last_said is not None and t - self._last_said < 1.0:
            return []
        self._last_said = t
        return [reading(t, None, "searching")]


class PulseSensorDecoder(LineDecoder):
    """Visualizer (`S`/`B`/`Q`) and plotter (`bpm,ibi,signal`) lines of PulseSensor Playground."""

    def __init__(self) -> None:
        super().__init__(max_line=64)
        self._bpm: float | None = None
        self._throttle = Throttle(1.0)
        self._searching = _Searching()

    def parse_line(self, line: str, t: float) -> list[Reading]:
        out: list[Reading] = []
        head, rest = line[:1], line[1:]
        if head == "B":
            value = parse_number(rest)
            if value is not None:
                if self._bpm is not None:  # a B without its Q: report the earlier beat alone
                    out.append(self._beat(t, self._bpm, None))
                self._bpm = value
        elif head == "Q":
            ibi = parse_number(rest)
            if ibi is not None:
                bpm, self._bpm = self._bpm, None
                out.append(self._beat(t, bpm, ibi))
        elif head == "S":
            if _signal_value(rest) is not None:
                out.extend(self._searching.sample(t))
        elif line.count(",") == 2:
            fields = [parse_number(f) for f in line.split(",")]
            if all(f is not None for f in fields):
                bpm, ibi, _signal = (float(f) for f in fields if f is not None)
                if bpm > 0 and self._throttle.due(t, (bpm, ibi)):
                    self._searching.beat(t)
                    out.append(self._beat(t, bpm, ibi))
                elif bpm <= 0:
                    out.extend(self._searching.sample(t))
        return out

    def _beat(self, t: float, bpm: float | None, ibi: float | None) -> Reading:
        self._searching.beat(t)
        hr = bpm if bpm is not None and bpm > 0 else None
        if hr is None and ibi is not None and ibi > 0:
            hr = 60_000.0 / ibi
        rr = (ibi,) if ibi is not None and ibi > 0 else ()
        return reading(t, hr, "ok" if hr is not None else "searching", rr_ms=rr)


class PulseSensorRawDecoder(LineDecoder):
    """A raw pulse wave (`S<signal>` or bare integer lines): beats are found in the wave itself.

    With `sample_rate` (Hz) the samples are timed by their count, as the device took them;
    without it, the samples of each read are spread over the time since the previous read's
    last sample, and a read stamped no later than that goes on from it at 10 ms a sample.
    """

    def __init__(self, sample_rate: float | None = None) -> None:
        super().__init__(max_line=64)
        ok_rate = sample_rate is not None and math.isfinite(sample_rate) and sample_rate > 0
        self.sample_rate = sample_rate if ok_rate else None
        self._detector = BeatDetector()
        self._count = 0
        self._last_sample: float | None = None  # the time given to the last sample read
        self._searching = _Searching()

    def feed(self, data: bytes, t: float) -> list[Reading]:
        values: list[float] = []
        for line in self._lines.feed(data):
            text = line[1:] if line[:1] == "S" else line
            if text and (text[0].isdigit() or text[0] in "+-"):
                value = _signal_value(text)
                if value is not None:
                    values.append(value)
        if not values:
            return []
        times = self._sample_times(len(values), t)
        out: list[Reading] = []
        for value, sample_t in zip(values, times, strict=True):
            rr = self._detector.add(value, sample_t)
            if self._detector.last_beat_t == sample_t:
                self._searching.beat(t)
            if rr is not None:
                out.append(reading(t, 60_000.0 / rr, rr_ms=(rr,)))
        out.extend(self._searching.sample(t))
        return out

    def _sample_times(self, n: int, t: float) -> list[float]:
        if self.sample_rate is not None:
            first = self._count
            self._count += n
            return [(first + i + 1) / self.sample_rate for i in range(n)]
        last = self._last_sample
        if last is not None and t <= last:
            # the clock has not moved past the samples already timed (reads stamped with the
            # same time, a coarse clock): go on from the last sample, 10 ms each
            times = [last + 0.01 * (i + 1) for i in range(n)]
        else:
            if last is None:
                last = t - n * 0.01
            # Spread from the last sample, never back over it: time never runs backwards for
            # the beat detector. A long silence is not sampling time: at most 0.1 s a sample.
            start = max(last, t - n * 0.1)
            step = (t - start) / n
            times = [t - step * (n - 1 - i) for i in range(n)]  # the last one exactly at t
        self._last_sample = times[-1]
        return times

    def parse_line(self, line: str, t: float) -> list[Reading]:  # pragma: no cover - unused
        return []


# --------------------------------------------------------------------------- simulator side


def _signal(sample: HeartSample, rng: random.Random) -> int:
    if not sample.contact:
        return int(512 + rng.gauss(0, 3))  # no finger: a flat line with a little noise
    value = 430 + 260 * sample.pleth + rng.gauss(0, 4)
    if sample.artefact:
        value += rng.gauss(0, 180)  # motion: big swings that do not look like pulses
    return max(0, min(1023, int(value)))


class PulseSensorVisualizerEncoder:
    """Speaks the visualizer format: an `S` line per sample, `B` and `Q` lines on each beat."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 50.0
        self._rng = random.Random(seed)

    def encode(self, sample: HeartSample) -> bytes:
        text = f"S{_signal(sample, self._rng)}\r\n"
        for beat_rr in sample.beats if sample.contact else ():
            rr = beat_rr
            if sample.artefact:
                rr = rr * self._rng.choice((0.5, 0.6, 1.7))  # the device miscounts during motion
            text += f"B{round(60_000 / rr)}\r\nQ{round(rr)}\r\n"
        return text.encode()

    def receive(self, data: bytes) -> None:
        """PulseSensor ignores what the host writes."""


class PulseSensorRawEncoder:
    """Speaks a raw waveform: one bare integer line per sample at `rate` Hz (default 100)."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 100.0
        self._rng = random.Random(seed)

    def encode(self, sample: HeartSample) -> bytes:
        return f"{_signal(sample, self._rng)}\r\n".encode()

    def receive(self, data: bytes) -> None:
        """PulseSensor ignores what the host writes."""
