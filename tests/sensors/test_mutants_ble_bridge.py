"""The Bluetooth bridge lines: the 0x2A37 layout both ways, checksums, and the simulated strap.

Written to kill mutants that survived `make mutation` (tools/mutation/). The layout is the
Bluetooth SIG Heart Rate Measurement characteristic: flags (bit 0 HR uint16, bit 1 contact
detected, bit 2 contact supported, bit 3 energy expended present, bit 4 RR present), the HR,
energy expended (uint16 kJ), then RR intervals (uint16, 1/1024 s), all little-endian.
"""

from __future__ import annotations

import pytest

from sensors.base import HeartSample
from sensors.ble_bridge import (
    BleBridgeDecoder,
    BleBridgeEncoder,
    encode_line,
    measurement,
    parse_measurement,
)


def line_value(line: bytes) -> bytes:
    """The characteristic value of a bridge line, its XOR checksum checked by hand."""
    text = line.decode()
    assert text.endswith("\r\n") and text.startswith("HRM ")
    hex_part, _, check = text[4:-2].partition("*")
    value = bytes.fromhex(hex_part)
    xor = 0
    for byte in value:
        xor ^= byte
    assert check == f"{xor:02X}"
    return value


# --------------------------------------------------------------------------- building values


def test_a_bridge_line_is_upper_case_hex_with_its_xor_checksum_by_default() -> None:
    assert encode_line(bytes([0x16, 0x48, 0xAB])) == b"HRM 1648AB*F5\r\n"
    assert encode_line(bytes([0x16, 0x48]), checksum=False) == b"HRM 1648\r\n"


def test_measurement_uses_the_uint8_layout_unless_asked() -> None:
    assert measurement(72) == bytes([0x06, 72])
    assert measurement(300, uint16=True) == bytes([0x07, 0x2C, 0x01])
    assert measurement(72, contact=None) == bytes([0x00, 72])
    assert measurement(72, contact=False) == bytes([0x04, 72])


def test_measurement_lays_out_energy_and_rr_little_endian_in_1024ths() -> None:
    value = measurement(72, (1000.0, 64_000.0, 500.0), energy_kj=0x1_2345)
    assert value[0] == 0x06 | 0x08 | 0x10
    assert value[1] == 72
    assert value[2:4] == (0x2345).to_bytes(2, "little")  # energy wraps at 16 bits
    assert value[4:6] == (1024).to_bytes(2, "little")
    assert value[6:8] == (0xFFFF).to_bytes(2, "little")  # 64 s does not fit: the top value
    assert value[8:10] == (512).to_bytes(2, "little")


# --------------------------------------------------------------------------- reading values


def test_a_value_cut_short_inside_its_energy_field_is_malformed() -> None:
    assert parse_measurement(bytes([0x16 | 0x08, 72]), 1.0) is None
    assert parse_measurement(bytes([0x16 | 0x08, 72, 0x01]), 1.0) is None


def test_bytes_after_the_fields_the_flags_announce_make_a_value_malformed() -> None:
    assert parse_measurement(bytes([0x07, 72, 0, 0x00, 0x04]), 1.0) is None
    assert parse_measurement(bytes([0x07, 72, 0]), 1.0) is not None


def test_uint16_hr_with_contact_supported_but_not_detected_is_no_contact() -> None:
    out = parse_measurement(bytes([0x05, 72, 0]), 1.0)
    assert out is not None and out.quality == "no-contact" and out.hr is None


# --------------------------------------------------------------------------- the line decoder


def test_a_line_with_a_character_that_is_not_hex_is_dropped() -> None:
    assert BleBridgeDecoder().feed(b"HRM 06X48\r\n", 1.0) == []
    assert [r.hr for r in BleBridgeDecoder().feed(b"HRM 06:48\r\n", 1.0)] == [72.0]


def test_hex_digits_of_either_case_are_read() -> None:
    # a value whose hex uses every digit, lower and upper case: 0-9, a-f and A-F
    text = "HRM 10 48 23 45 67 89 ab cd ef AB CD EF"  # flags: RR present; HR 72; five RRs
    out = BleBridgeDecoder().feed(text.encode() + b"\r\n", 1.0)
    assert [r.hr for r in out] == [72.0]
    assert len(out[0].rr_ms) == 5


@pytest.mark.parametrize("check", ["4", "048", "4G"])
def test_a_checksum_must_be_two_hex_digits(check: str) -> None:
    assert BleBridgeDecoder().feed(f"HRM 0648*{check}\r\n".encode(), 1.0) == []


def test_lines_up_to_160_characters_are_read() -> None:
    value = measurement(72, (800.0,) * 37)  # 2 + 74 bytes: 4 + 152 hex digits = 156 characters
    line = encode_line(value, checksum=False).decode().rstrip() + " " * 4
    assert len(line) == 160
    assert BleBridgeDecoder().feed(line.encode() + b"\r\n", 1.0)
    assert BleBridgeDecoder().feed(line.encode() + b" \r\n", 1.0) == []


# --------------------------------------------------------------------------- the simulated strap


def sample(t: float, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 72.4, "pleth": 0.5}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


def test_the_strap_notifies_once_a_second_with_that_seconds_beats() -> None:
    encoder = BleBridgeEncoder()
    assert encoder.rate == 1.0
    value = line_value(encoder.encode(sample(1.0, beats=(812.5, 830.0))))
    assert value == measurement(72, (812.5, 830.0))
    assert line_value(encoder.encode(sample(2.0))) == measurement(72)


def test_the_strap_sends_at_most_the_last_nine_beats() -> None:
    encoder = BleBridgeEncoder()
    beats = tuple(700.0 + k for k in range(12))
    assert line_value(encoder.encode(sample(1.0, beats=beats))) == measurement(72, beats[-9:])


def test_a_strap_off_the_chest_notifies_contact_not_detected_and_drops_its_beats() -> None:
    encoder = BleBridgeEncoder()
    off = line_value(encoder.encode(sample(1.0, contact=False, beats=(800.0,))))
    assert off == bytes([0x04, 0])
    assert line_value(encoder.encode(sample(2.0))) == measurement(72)


def test_a_loose_strap_double_counts_beats() -> None:
    encoder = BleBridgeEncoder()
    value = line_value(encoder.encode(sample(1.0, artefact=True, beats=(800.0,))))
    assert value == measurement(72, (440.0,))


def test_every_tenth_notification_carries_energy_and_every_seventh_uses_uint16() -> None:
    encoder = BleBridgeEncoder()
    values = [line_value(encoder.encode(sample(float(k)))) for k in range(1, 22)]
    for k, value in enumerate(values, start=1):
        assert bool(value[0] & 0x08) == (k % 10 == 0), k
        assert bool(value[0] & 0x01) == (k % 7 == 0), k
    assert values[9] == measurement(72, energy_kj=10)
    assert values[19] == measurement(72, energy_kj=20)
    assert values[13] == measurement(72, uint16=True)


def test_energy_counts_the_notifications_made_with_contact() -> None:
    encoder = BleBridgeEncoder()
    encoder.encode(sample(1.0, contact=False))
    values = [line_value(encoder.encode(sample(float(k)))) for k in range(2, 11)]
    assert values[-1] == measurement(72, energy_kj=9)
