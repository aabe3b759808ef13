"""Contec CMS50D+/E/F pulse oximeters: the legacy 5-byte stream and communication protocol V7.0.

Legacy (19200 8O1, 60 packets/s, bit 7 set only in the first byte of each packet):
  byte 1: bits 0-3 signal strength, bit 4 searching too long, bit 5 SpO2 dropping, bit 6 beep
  byte 2: pleth (0-127)
  byte 3: bits 0-3 bar graph, bit 4 probe error (finger out), bit 5 searching, bit 6 pulse bit 7
  byte 4: pulse rate bits 0-6;  byte 5: SpO2.  Pulse 0xFF and SpO2 0x7F mean "no value".
V7.0 (115200 8N1): the host sends START (`7D 81 A1 80 80 80 80 80 80`) and a keep-alive
(`7D 81 AF ...`) every few seconds. The device answers with realtime packets of 9 bytes: type
0x01, a byte holding the high bits of the 7 data bytes, then the 7 data bytes with bit 7 forced
to 1. Data: strength/flags (bit 4 searching too long, bit 5 SpO2 dropping, bit 6 beep, bit 7 probe
error / finger out), pleth (bits 0-6; bit 7 searching for pulse), bar graph, pulse rate, SpO2, and
a perfusion index (0xFFFF when absent). A device warming up sends pulse 0 and
SpO2 0, which vret reads as "no data" (searching).
"""

from __future__ import annotations

from exposure.models import Quality, Reading
from sensors.base import HR_MAX, HR_MIN, HeartSample, OximeterDisplay, Throttle, reading

V7_START = bytes.fromhex("7d81a1808080808080")
"""Host to device: start sending realtime data."""
V7_KEEPALIVE = bytes.fromhex("7d81af808080808080")
"""Host to device: "still here"; without it the device stops streaming after a while."""
V7_STOP = bytes.fromhex("7d81a2808080808080")
"""Host to device: stop sending realtime data."""
KEEPALIVE_INTERVAL_S = 5.0


def _no_value(value: int, *invalid: int) -> bool:
    return value == 0 or value in invalid


class _Reporter:
    """Turns 60 packets a second into readings: one per beat, on any change, else once a second."""

    def __init__(self) -> None:
        self._throttle = Throttle(1.0)
        self._beeping = False

    def packet(
        self, t: float, *, beep: bool, quality: Quality, pulse: int | None, spo2: int | None
    ) -> list[Reading]:
        beat = beep and not self._beeping
        self._beeping = beep
        hr = float(pulse) if pulse is not None else None
        if hr is not None and not HR_MIN <= hr <= HR_MAX:
            hr = None
        if hr is None and quality == "ok":
            quality = "searching"
        key = (quality, hr, spo2)
        if self._throttle.due(t, key) or beat:
            if beat:
                self._throttle.due(t, key)  # restart the once-a-second clock at this beat
            return [reading(t, hr, quality, spo2=spo2)]
        return []


class Cms50LegacyDecoder:
    """Decoder for the legacy 5-byte CMS50 stream."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._reporter = _Reporter()

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode whole packets; bytes that do not fit the sync-bit pattern are skipped."""
        self._buffer.extend(data)
        out: list[Reading] = []
        buf = self._buffer
        i = 0
        while len(buf) - i >= 5:
            if not buf[i] & 0x80 or any(b & 0x80 for b in buf[i + 1 : i + 5]):
                i += 1
                continue
            b0, _pleth, b2, b3, b4 = buf[i : i + 5]
            i += 5
            pulse = b3 | ((b2 & 0x40) << 1)
            quality: Quality = "ok"
            if b2 & 0x10:
                quality = "no-contact"
            elif b2 & 0x20 or b0 & 0x10:
                quality = "searching"
            out.extend(
                self._reporter.packet(
                    t,
                    beep=bool(b0 & 0x40),
                    quality=quality,
                    pulse=None if _no_value(pulse, 0xFF) else pulse,
                    spo2=None if _no_value(b4, 0x7F) or b4 > 100 else b4,
                )
            )
        del buf[:i]
        return out


class Cms50V7Decoder:
    """Decoder for CMS50 protocol V7.0 realtime packets (type 0x01)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._reporter = _Reporter()

    def feed(self, data: bytes, t: float) -> list[Reading]:
        """Decode whole realtime packets; other packet types and garbage are skipped."""
        self._buffer.extend(data)
        out: list[Reading] = []
        buf = self._buffer
        i = 0
        while i < len(buf):
            if buf[i] != 0x01:
                i += 1  # a data byte out of place, or another packet type: resynchronise
                continue
            body = buf[i + 1 : i + 9]
            short = next((k for k, b in enumerate(body) if not b & 0x80), None)
            if short is not None:
                i += 1 + short  # the packet was cut short: start again at the new type byte
                continue
            if len(body) < 8:
                break  # wait for the rest of the packet
            i += 9
            high = body[0]
            d = [(body[1 + k] & 0x7F) | (((high >> k) & 1) << 7) for k in range(7)]
            flags, pleth, _bar, pulse, spo2 = d[0], d[1], d[2], d[3], d[4]
            quality: Quality = "ok"
            if flags & 0x80:
                quality = "no-contact"
            elif flags & 0x10 or pleth & 0x80:
                quality = "searching"
            out.extend(
                self._reporter.packet(
                    t,
                    beep=bool(flags & 0x40),
                    quality=quality,
                    pulse=None if _no_value(pulse, 0xFF) else pulse,
                    spo2=None if _no_value(spo2, 0x7F, 0xFF) or spo2 > 100 else spo2,
                )
            )
        del buf[:i]
        return out


# --------------------------------------------------------------------------- simulator side


class Cms50LegacyEncoder:
    """Speaks the legacy 5-byte stream at 60 packets a second."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 60.0
        self._state = OximeterDisplay(seed)

    def encode(self, sample: HeartSample) -> bytes:
        pulse, spo2, ready = self._state.values(sample)
        beep = bool(sample.beats) and ready
        b0 = 0x80 | (0x40 if beep else 0) | (6 if sample.contact else 0)
        b2 = ((pulse >> 1) & 0x40) | (0 if sample.contact else 0x10) | (0 if ready else 0x20)
        b2 |= 5 if sample.contact else 0
        pleth = self._state.pleth(sample)
        return bytes([b0, pleth & 0x7F, b2, pulse & 0x7F, spo2 & 0x7F])

    def receive(self, data: bytes) -> None:
        """The legacy stream needs no commands."""


class Cms50V7Encoder:
    """Speaks protocol V7.0: streams realtime packets only after START, until keep-alives stop."""

    def __init__(
        self, rate: float | None = None, seed: int = 0, *, keepalive_timeout_s: float = 15.0
    ) -> None:
        self.rate = rate or 60.0
        self.keepalive_timeout_s = keepalive_timeout_s
        self._state = OximeterDisplay(seed)
        self._commands = bytearray()
        self._streaming = False
        self._heard = False  # a command arrived since the last tick
        self._last_command_t: float | None = None
        self.starts = 0
        """How many START commands the device has received (tests read this)."""
        self.keepalives = 0
        """How many keep-alive commands the device has received."""

    def receive(self, data: bytes) -> None:
        self._commands.extend(data)
        while len(self._commands) >= 9:
            start = self._commands.find(0x7D)
            if start < 0:
                self._commands.clear()
                return
            del self._commands[:start]
            if len(self._commands) < 9:
                return
            command = bytes(self._commands[:9])
            del self._commands[:9]
            if command == V7_START:
                self.starts += 1
                self._streaming = True
                self._heard = True
            elif command == V7_KEEPALIVE:
                self.keepalives += 1
                self._heard = True
            elif command == V7_STOP:
                self._streaming = False

    def encode(self, sample: HeartSample) -> bytes:
        if self._heard:
            self._heard = False
            self._last_command_t = sample.t
        if not self._streaming:
            return b""
        if self._last_command_t is not None and (
            sample.t - self._last_command_t > self.keepalive_timeout_s
        ):
            self._streaming = False  # the host went quiet: a real device stops here too
            return b""
        pulse, spo2, ready = self._state.values(sample)
        beep = bool(sample.beats) and ready
        flags = (0x40 if beep else 0) | (0x80 if not sample.contact else 0)
        flags |= 5 if sample.contact else 0
        data = [
            flags,
            self._state.pleth(sample),
            0x10 | (5 if sample.contact else 0),
            pulse,
            spo2,
            0xFF,
            0xFF,
        ]
        high = 0x80
        for k, value in enumerate(data):
            high |= ((value >> 7) & 1) << k
        return bytes([0x01, high, *(0x80 | (v & 0x7F) for v in data)])
