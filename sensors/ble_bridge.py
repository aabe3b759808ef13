"""Bluetooth heart-rate straps (Polar, Garmin, Wahoo...) relayed over serial by a small bridge.

A bridge (an ESP32 or nRF board subscribed to the strap's Heart Rate Measurement characteristic,
0x2A37) writes one text line per notification, 115200 8N1:

    HRM <value as hex>[*<checksum>]
    HRM LOST

`<value as hex>` is the characteristic value exactly as received, two hex digits per byte (spaces
or colons between bytes allowed). The optional `*<checksum>` is the XOR of those bytes as two hex
digits; a line whose checksum does not match is dropped. `HRM LOST` says the bridge lost the strap
(out of range, battery) and is scanning. Any other line (boot messages, logs) is ignored.

The value is the standard layout: a flags byte (bit 0: HR is uint16, bits 1-2: sensor contact
supported/detected, bit 3: energy expended present, bit 4: RR intervals present), the heart rate
(uint8 or uint16 little-endian), energy expended (uint16, kJ) when flagged, then RR intervals
(uint16 each, in 1/1024 s) when flagged.
"""

from __future__ import annotations

from exposure.models import Quality, Reading
from sensors.base import HeartSample, LineDecoder, reading

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_measurement(value: bytes, t: float) -> Reading | None:
    """One Heart Rate Measurement (0x2A37) value as a Reading, or None if it is malformed."""
    if len(value) < 2:
        return None
    flags = value[0]
    index = 1
    if flags & 0x01:
        if len(value) < 3:
            return None
        hr = int.from_bytes(value[1:3], "little")
        index = 3
    else:
        hr = value[1]
        index = 2
    if flags & 0x08:
        if len(value) < index + 2:
            return None
        index += 2  # energy expended: not needed for arousal
    rr: list[float] = []
    if flags & 0x10:
        body = value[index:]
        if len(body) % 2:
            return None
        rr = [
            int.from_bytes(body[k : k + 2], "little") * 1000.0 / 1024.0
            for k in range(0, len(body), 2)
        ]
    elif len(value) != index:
        return None
    quality: Quality = "ok"
    if flags & 0x04 and not flags & 0x02:
        quality = "no-contact"
    elif hr == 0:
        quality = "searching"
    return reading(t, float(hr) if quality == "ok" else None, quality, rr_ms=tuple(rr))


def encode_line(value: bytes, checksum: bool = True) -> bytes:
    """The bridge line for one characteristic value."""
    text = "HRM " + value.hex().upper()
    if checksum:
        xor = 0
        for byte in value:
            xor ^= byte
        text += f"*{xor:02X}"
    return (text + "\r\n").encode()


def measurement(
    hr: int,
    rr_ms: tuple[float, ...] = (),
    *,
    contact: bool | None = True,
    energy_kj: int | None = None,
    uint16: bool = False,
) -> bytes:
    """A Heart Rate Measurement value (what a strap notifies) built from its fields."""
    flags = 0x01 if uint16 else 0
    if contact is not None:
        flags |= 0x04 | (0x02 if contact else 0)
    if energy_kj is not None:
        flags |= 0x08
    if rr_ms:
        flags |= 0x10
    out = bytearray([flags])
    out += hr.to_bytes(2, "little") if uint16 else bytes([hr & 0xFF])
    if energy_kj is not None:
        out += (energy_kj & 0xFFFF).to_bytes(2, "little")
    for rr in rr_ms:
        out += min(0xFFFF, round(rr * 1024 / 1000)).to_bytes(2, "little")
    return bytes(out)


class BleBridgeDecoder(LineDecoder):
    """Decoder for the `HRM` line format above."""

    def __init__(self) -> None:
        super().__init__(max_line=160)

    def parse_line(self, line: str, t: float) -> list[Reading]:
        if not line.startswith("HRM"):
            return []
        rest = line[3:].strip()
        if rest == "LOST":
            return [reading(t, None, "searching")]
        text, _, check = rest.partition("*")
        digits = "".join(c for c in text if c not in " :")
        if not digits or len(digits) % 2 or not set(digits) <= HEX_DIGITS:
            return []
        value = bytes.fromhex(digits)
        if check:
            check = check.strip()
            if len(check) != 2 or not set(check) <= HEX_DIGITS:
                return []
            xor = 0
            for byte in value:
                xor ^= byte
            if xor != int(check, 16):
                return []
        parsed = parse_measurement(value, t)
        return [parsed] if parsed is not None else []


class BleBridgeEncoder:
    """Speaks like a bridge relaying a strap: one notification a second with that second's RRs."""

    def __init__(self, rate: float | None = None, seed: int = 0) -> None:
        self.rate = rate or 1.0
        self._ticks = 0
        self._energy = 0
        self._pending: list[float] = []
        self._lost = False

    def encode(self, sample: HeartSample) -> bytes:
        self._ticks += 1
        self._pending.extend(sample.beats)
        if not sample.contact:
            self._pending.clear()
            # A strap off the chest still notifies, with contact "not detected".
            return encode_line(measurement(0, contact=False))
        rr = tuple(self._pending[-9:])
        self._pending.clear()
        hr = round(sample.hr)
        if sample.artefact and rr:
            rr = tuple(x * 0.55 for x in rr)  # a loose strap double-counts beats
        self._energy += 1
        energy = self._energy if self._ticks % 10 == 0 else None
        # Every few notifications use the uint16 HR layout, as some straps do.
        return encode_line(measurement(hr, rr, energy_kj=energy, uint16=self._ticks % 7 == 0))

    def receive(self, data: bytes) -> None:
        """The bridge ignores what the host writes."""
