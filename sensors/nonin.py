"""Nonin OEM III / Xpod serial data formats #1, #2 and #7 (9600 8N1).

Format #1: 3-byte packets once a second: STATUS (bit 7 = 1; bit 6 SNSD sensor disconnect,
  bit 5 OOT out of track, bit 4 LPRF, bit 3 MPRF, bit 2 ARTF artefact, bits 1-0 = HR bits 8-7),
  HR bits 6-0, SpO2; bytes 2 and 3 have bit 7 clear.
Format #2: 5-byte frames, 75 a second: 0x01, STATUS, PLETH (8 bit), DATA, CHECKSUM.
Format #7: 5-byte frames, 75 a second: STATUS, PLETH MSB, PLETH LSB, DATA, CHECKSUM.
  In both, CHECKSUM = sum of the first four bytes mod 256; STATUS bit 7 is 1, bit 6 SNSD,
  bit 5 ARTF, bit 4 OOT, bit 3 SNSA sensor alarm, bit 0 SYNC (frame 1 of a 25-frame packet).
  The DATA byte of frame 1 holds HR bits 8-7, frame 2 HR bits 6-0, frame 3 SpO2.
Missing data is HR 511 and SpO2 127 in every format. Heart rates of 128 bpm and above need the
high HR bits, which is why they are carried separately.
"""

from __future__ import annotations

from exposure.models import Quality, Reading
from sensors.base import HeartSample, OximeterDisplay, reading

HR_MISSING = 511
SPO2_MISSING = 127
FRAMES_PER_PACKET = 25
LATE_FLAGS = 0x40 | 0x20 | 0x10 | 0x08
"""SNSD, ARTF, OOT and SNSA: seen in frames 4-25, after the packet's reading was made, they mark
the next packet's reading, so a short artefact is never lost (a reading comes 3 times a second)."""
SREV = 45  # firmware revision byte sent in frame 4 (the value in the recorded capture)


def _quality(snsd: bool, oot: bool, artf: bool, alarm: bool, hr: int) -> Quality:
    if snsd:
        return "no-contact"
    if artf or alarm:
        return "artefact"
    if oot or hr == HR_MISSING:
        return "searching"
    return "ok"


def _hr(value: int) -> float | None:
    return None if value in (0, HR_MISSING) else float(value)


def _spo2(value: int) -> float | None:
    return None if value == SPO2_MISSING or value > 100 else float(value)


class NoninFormat1Decoder:
    """Decoder for format #1 (3-byte packets, synchronised by the bit-7 pattern)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.packets = 0

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode whole packets; bytes that break the sync pattern are skipped."""
        self._buffer.extend(data)
        buf = self._buffer
        out: list[Reading] = []
        i = 0
        while len(buf) - i >= 3:
            status, low, spo2 = buf[i], buf[i + 1], buf[i + 2]
            if not status & 0x80 or low & 0x80 or spo2 & 0x80:
                i += 1
                continue
            i += 3
            self.packets += 1
            hr = ((status & 0x03) << 7) | low
            quality = _quality(
                bool(status & 0x40), bool(status & 0x20), bool(status & 0x04), False, hr
            )
            out.append(reading(t, _hr(hr), quality, spo2=_spo2(spo2)))
        del buf[:i]
        return out


class NoninFrameDecoder:
    """Decoder for the 5-byte frame formats #2 and #7, synchronised by checksum.

    Counters for tests and diagnostics: `frames` (good frames), `packets` (whole 25-frame
    packets), `skipped` (bytes dropped while looking for frame sync).
    """

    def __init__(self, fmt: int) -> None:
        if fmt not in (2, 7):
            raise ValueError(f"Nonin frame format must be 2 or 7, not {fmt}.")
        self.format = fmt
        self._buffer = bytearray()
        self._locked = False
        self._index = 0  # position of the last good frame in its packet (1..25), 0 = unknown
        self._data: list[int] = []
        self._flags = 0
        self._late_flags = 0
        self.frames = 0
        self.packets = 0
        self.skipped = 0

    def _valid(self, frame: bytes | bytearray) -> bool:
        if (sum(frame[:4]) & 0xFF) != frame[4]:
            return False
        if self.format == 2:
            return frame[0] == 0x01 and bool(frame[1] & 0x80)
        return bool(frame[0] & 0x80)

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode whole frames; a frame with a bad checksum drops sync until it is found again."""
        self._buffer.extend(data)
        buf = self._buffer
        out: list[Reading] = []
        i = 0
        while len(buf) - i >= 5:
            frame = buf[i : i + 5]
            if not self._valid(frame):
                self._lose_sync()
                i += 1
                self.skipped += 1
                continue
            if not self._locked:
                # Two good frames in a row before trusting sync: one can be chance (1 in 256).
                if len(buf) - i < 10:
                    break
                if not self._valid(buf[i + 5 : i + 10]):
                    i += 1
                    self.skipped += 1
                    continue
                self._locked = True
            i += 5
            out.extend(self._frame(bytes(frame), t))
        del buf[:i]
        return out

    def _lose_sync(self) -> None:
        self._locked = False
        self._index = 0
        self._data = []

    def _frame(self, frame: bytes, t: float) -> list[Reading]:
        self.frames += 1
        status = frame[1] if self.format == 2 else frame[0]
        value = frame[3]
        if status & 0x01:
            # a trouble flag seen after frame 3 of the last packet marks this packet's reading
            self._index, self._data = 1, [value]
            self._flags, self._late_flags = status | self._late_flags, 0
        elif self._index:
            self._index += 1
            self._data.append(value)
            if self._index <= 3:
                self._flags |= status
            else:
                self._late_flags |= status & LATE_FLAGS
            if self._index == FRAMES_PER_PACKET:
                self.packets += 1
                self._index = 0
        if self._index == 3 and len(self._data) == 3:
            hr = ((self._data[0] & 0x03) << 7) | (self._data[1] & 0x7F)
            flags = self._flags
            quality = _quality(
                bool(flags & 0x40), bool(flags & 0x10), bool(flags & 0x20), bool(flags & 0x08), hr
            )
            return [reading(t, _hr(hr), quality, spo2=_spo2(self._data[2]))]
        return []


# --------------------------------------------------------------------------- simulator side


class NoninFormat1Encoder:
    """Speaks format #1: a 3-byte packet once a second."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 1.0
        self._display = OximeterDisplay(seed)
        self._artefact = False

    def encode(self, sample: HeartSample) -> bytes:
        pulse, spo2, ready = self._display.values(sample)
        hr = pulse if ready else HR_MISSING
        ox = spo2 if ready else SPO2_MISSING
        status = 0x80 | ((hr >> 7) & 0x03)
        if not sample.contact:
            status |= 0x40
        elif not ready:
            status |= 0x20
        if sample.artefact:
            status |= 0x04
        return bytes([status, hr & 0x7F, ox & 0x7F])

    def receive(self, data: bytes) -> None:
        """Format #1 takes no commands."""


class NoninFrameEncoder:
    """Speaks format #2 or #7: 75 frames a second, 25 frames a packet."""

    def __init__(self, fmt: int, rate: float | None = None, seed: int = 0) -> None:
        self.format = fmt
        self.rate = rate or 75.0
        self._display = OximeterDisplay(seed)
        self._frame = 0
        self._hr = HR_MISSING
        self._spo2 = SPO2_MISSING

    def encode(self, sample: HeartSample) -> bytes:
        self._frame = self._frame % FRAMES_PER_PACKET + 1
        k = self._frame
        if k == 1:
            pulse, spo2, ready = self._display.values(sample)
            self._hr = pulse if ready else HR_MISSING
            self._spo2 = spo2 if ready else SPO2_MISSING
        hr_msb, hr_lsb = (self._hr >> 7) & 0x03, self._hr & 0x7F
        data = {
            1: hr_msb,
            2: hr_lsb,
            3: self._spo2,
            4: SREV,
            9: self._spo2,
            10: self._spo2,
            11: self._spo2,
            14: hr_msb,
            15: hr_lsb,
            16: self._spo2,
            17: self._spo2,
            20: hr_msb,
            21: hr_lsb,
            22: hr_msb,
            23: hr_lsb,
        }.get(k, 0)
        status = 0x80 | (0x01 if k == 1 else 0)
        if not sample.contact:
            status |= 0x40
        elif self._hr == HR_MISSING:
            status |= 0x10
        else:
            status |= 0x02  # good perfusion
        if sample.artefact:
            status |= 0x20
        pleth = self._display.pleth(sample) * 500 + 30_000 if sample.contact else 0
        if self.format == 2:
            head = [0x01, status, (pleth >> 8) & 0xFF, data]
        else:
            head = [status, (pleth >> 8) & 0xFF, pleth & 0xFF, data]
        return bytes([*head, sum(head) & 0xFF])

    def receive(self, data: bytes) -> None:
        """The realtime formats take no commands here."""
