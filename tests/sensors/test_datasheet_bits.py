"""Every status bit of every device protocol, from literal bytes laid out as the datasheets publish.

The frames here are written by hand, byte by byte, from the published layouts, never by the
project's own encoders (a slip in an encoder would otherwise hide the same slip in its decoder).
Each status byte is tried one bit at a time, so a decoder that reads any flag one bit off
fails a test here.

Sources of the layouts:
- Contec CMS50D+/E/F legacy 5-byte stream (Contec "Communication protocol" for the 19200 8O1
  stream): byte 1 = sync 1 | pulse beep (6) | SpO2 dropping (5) | searching too long (4) |
  signal strength (3-0); byte 2 = pleth; byte 3 = pulse rate bit 7 (6) | searching for pulse (5) |
  probe error (4) | bar graph (3-0); byte 4 = pulse rate bits 6-0; byte 5 = SpO2. Bit 7 of
  bytes 2-5 is 0.
- Contec "Communication protocol of pulse oximeter V7.0", real-time data package (type 0x01):
  0x01, a high byte holding bit 7 of each of the 7 data bytes (bit k for data byte k), then the
  7 data bytes with bit 7 forced to 1. Data 1: probe error (7) | pulse beep (6) | SpO2 dropping
  (5) | searching too long (4) | signal strength (3-0); data 2: searching for pulse (7) | pleth
  (6-0); data 3: bar graph (3-0) and status bits; data 4: pulse rate (0xFF = none); data 5: SpO2
  (0x7F = none); data 6-7: perfusion index (0xFFFF = none).
- Nonin OEM III format #1 STATUS: 1 (7) | SNSD (6) | OOT (5) | LPRF (4) | MPRF (3) | ARTF (2) |
  HR bit 8 (1) | HR bit 7 (0). Formats #2 and #7 STATUS: 1 (7) | SNSD (6) | ARTF (5) | OOT (4) |
  SNSA (3) | RPRF (2) | GPRF (1) | SYNC (0); RPRF and GPRF together are YPRF (yellow).
  CHECKSUM = sum of the frame's first four bytes mod 256.
- Bluetooth Heart Rate Measurement (0x2A37) flags: HR uint16 (0) | sensor contact detected (1) |
  sensor contact supported (2) | energy expended present (3) | RR intervals present (4); bits
  5-7 reserved. RR in 1/1024 s.
- PulseSensor Playground serial output: visualizer `S<sample>`, then on a beat `B<bpm>` and
  `Q<ibi ms>`; plotter `<bpm>,<ibi ms>,<sample>` per sample.
"""

from __future__ import annotations

import pytest

from exposure.models import Reading
from sensors.ble_bridge import BleBridgeDecoder, parse_measurement
from sensors.cms50 import Cms50LegacyDecoder, Cms50V7Decoder
from sensors.nonin import FRAMES_PER_PACKET, NoninFormat1Decoder, NoninFrameDecoder
from sensors.pulsesensor import NO_BEAT_SEARCHING_S, PulseSensorDecoder


def only(readings: list[Reading]) -> Reading:
    assert len(readings) == 1, readings
    return readings[0]


# --------------------------------------------------------------------------- CMS50 legacy

# Pulse 75 (0x4B), SpO2 97 (0x61), pleth 0x20, no flags.
LEGACY_QUIET = bytes([0x80, 0x20, 0x00, 0x4B, 0x61])


@pytest.mark.parametrize(
    "packet, quality, hr",
    [
        pytest.param(bytes([0x80, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="no flags"),
        # byte 1: bits 3-0 signal strength, bit 5 SpO2 dropping, bit 6 beep: not a quality flag
        pytest.param(bytes([0x81, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit0 strength"),
        pytest.param(bytes([0x82, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit1 strength"),
        pytest.param(bytes([0x84, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit2 strength"),
        pytest.param(bytes([0x88, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit3 strength"),
        pytest.param(
            bytes([0x90, 0x20, 0x00, 0x4B, 0x61]), "searching", None, id="b1 bit4 too long"
        ),
        pytest.param(bytes([0xA0, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit5 spo2 drop"),
        pytest.param(bytes([0xC0, 0x20, 0x00, 0x4B, 0x61]), "ok", 75.0, id="b1 bit6 beep"),
        # byte 3: bits 3-0 bar graph, bit 4 probe error, bit 5 searching, bit 6 pulse rate bit 7
        pytest.param(bytes([0x80, 0x20, 0x01, 0x4B, 0x61]), "ok", 75.0, id="b3 bit0 bar"),
        pytest.param(bytes([0x80, 0x20, 0x02, 0x4B, 0x61]), "ok", 75.0, id="b3 bit1 bar"),
        pytest.param(bytes([0x80, 0x20, 0x04, 0x4B, 0x61]), "ok", 75.0, id="b3 bit2 bar"),
        pytest.param(bytes([0x80, 0x20, 0x08, 0x4B, 0x61]), "ok", 75.0, id="b3 bit3 bar"),
        pytest.param(bytes([0x80, 0x20, 0x10, 0x4B, 0x61]), "no-contact", None, id="b3 bit4 probe"),
        pytest.param(bytes([0x80, 0x20, 0x20, 0x4B, 0x61]), "searching", None, id="b3 bit5 search"),
        pytest.param(bytes([0x80, 0x20, 0x40, 0x4B, 0x61]), "ok", 203.0, id="b3 bit6 pulse bit7"),
    ],
)
def test_cms50_legacy_each_status_bit_alone_means_what_the_datasheet_says(
    packet: bytes, quality: str, hr: float | None
) -> None:
    out = only(Cms50LegacyDecoder().feed(packet, 0.0))
    assert out.quality == quality
    if hr is not None:
        assert out.hr == hr and out.spo2 == 97.0


@pytest.mark.parametrize(
    "packet, quality",
    [
        # probe error wins over both searching flags and the beep
        pytest.param(bytes([0xD0, 0x20, 0x30, 0x4B, 0x61]), "no-contact", id="probe+search+beep"),
        pytest.param(bytes([0x80, 0x20, 0x30, 0x4B, 0x61]), "no-contact", id="probe+searching"),
        pytest.param(bytes([0x90, 0x20, 0x20, 0x4B, 0x61]), "searching", id="too long+searching"),
        pytest.param(bytes([0xEF, 0x20, 0x4F, 0x4B, 0x61]), "ok", id="every non-flag bit"),
        pytest.param(bytes([0xFF, 0x20, 0x7F, 0x4B, 0x61]), "no-contact", id="every bit"),
    ],
)
def test_cms50_legacy_flags_together(packet: bytes, quality: str) -> None:
    assert only(Cms50LegacyDecoder().feed(packet, 0.0)).quality == quality


def test_cms50_legacy_pulse_beep_is_byte1_bit6_and_reports_the_beat_at_once() -> None:
    decoder = Cms50LegacyDecoder()
    assert len(decoder.feed(LEGACY_QUIET, 0.0)) == 1
    assert decoder.feed(LEGACY_QUIET, 0.1) == []  # nothing new within the second
    beep = bytes([0xC0, 0x20, 0x00, 0x4B, 0x61])  # byte 1 bit 6: pulse beep
    assert only(decoder.feed(beep, 0.2)).hr == 75.0
    assert decoder.feed(beep, 0.25) == []  # the same beep, still sounding: not a second beat


@pytest.mark.parametrize("byte1", [0x81, 0x82, 0x84, 0x88, 0xA0], ids=lambda b: f"{b:#04x}")
def test_cms50_legacy_no_other_byte1_bit_counts_as_a_beat(byte1: int) -> None:
    decoder = Cms50LegacyDecoder()
    decoder.feed(LEGACY_QUIET, 0.0)
    assert decoder.feed(bytes([byte1, 0x20, 0x00, 0x4B, 0x61]), 0.2) == []


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(bytes([0x00, 0x20, 0x00, 0x4B, 0x61]), id="byte1 sync bit clear"),
        pytest.param(bytes([0x80, 0xA0, 0x00, 0x4B, 0x61]), id="byte2 bit7 set"),
        pytest.param(bytes([0x80, 0x20, 0x80, 0x4B, 0x61]), id="byte3 bit7 set"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0xCB, 0x61]), id="byte4 bit7 set"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x4B, 0xE1]), id="byte5 bit7 set"),
    ],
)
def test_cms50_legacy_packet_that_breaks_the_sync_bits_is_skipped(packet: bytes) -> None:
    assert Cms50LegacyDecoder().feed(packet, 0.0) == []


def test_cms50_legacy_resynchronises_on_the_byte1_sync_bit() -> None:
    stream = bytes([0x20, 0x00, 0x4B, 0x61]) + LEGACY_QUIET  # a packet cut at its first byte
    assert only(Cms50LegacyDecoder().feed(stream, 0.0)).hr == 75.0


@pytest.mark.parametrize(
    "packet, hr, spo2",
    [
        pytest.param(bytes([0x80, 0x20, 0x00, 0x00, 0x61]), None, 97.0, id="pulse 0"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x18, 0x61]), None, 97.0, id="pulse 24"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x19, 0x61]), 25.0, 97.0, id="pulse 25"),
        pytest.param(bytes([0x80, 0x20, 0x40, 0x7A, 0x61]), 250.0, 97.0, id="pulse 250"),
        pytest.param(bytes([0x80, 0x20, 0x40, 0x7B, 0x61]), None, 97.0, id="pulse 251"),
        pytest.param(bytes([0x80, 0x20, 0x40, 0x7F, 0x61]), None, 97.0, id="pulse 0xFF none"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x4B, 0x64]), 75.0, 100.0, id="spo2 100"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x4B, 0x65]), 75.0, None, id="spo2 101"),
        pytest.param(bytes([0x80, 0x20, 0x00, 0x4B, 0x7F]), 75.0, None, id="spo2 0x7F none"),
    ],
)
def test_cms50_legacy_values_and_no_value_markers(
    packet: bytes, hr: float | None, spo2: float | None
) -> None:
    out = only(Cms50LegacyDecoder().feed(packet, 0.0))
    assert (out.hr, out.spo2) == (hr, spo2)
    if hr is None:
        assert out.quality == "searching"


# --------------------------------------------------------------------------- CMS50 V7

# 0x01, high byte, then data 1-7: flags, pleth 0x20, bar graph 5, pulse 75, SpO2 97, PI 0xFFFF.
V7_QUIET = bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF])


@pytest.mark.parametrize(
    "packet, quality, hr",
    [
        pytest.param(
            bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="none"
        ),
        # data 1: bits 3-0 signal strength, bit 4 searching too long, bit 5 SpO2 dropping,
        # bit 6 pulse beep, bit 7 probe error (its bit 7 travels in bit 0 of the high byte)
        pytest.param(
            bytes([0x01, 0xE0, 0x81, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d1 bit0"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x82, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d1 bit1"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x84, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d1 bit2"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x88, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d1 bit3"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x90, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "searching",
            None,
            id="d1 bit4 searching too long",
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0xA0, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "ok",
            75.0,
            id="d1 bit5 spo2 dropping",
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0xC0, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "ok",
            75.0,
            id="d1 bit6 beep",
        ),
        pytest.param(
            bytes([0x01, 0xE1, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "no-contact",
            None,
            id="d1 bit7 probe error",
        ),
        # data 2: bits 6-0 pleth, bit 7 searching for pulse (high byte bit 1)
        pytest.param(
            bytes([0x01, 0xE0, 0x80, 0xE0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "ok",
            75.0,
            id="d2 bit6 pleth",
        ),
        pytest.param(
            bytes([0x01, 0xE2, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "searching",
            None,
            id="d2 bit7 searching for pulse",
        ),
        # data 3: bar graph and its status bits, none of them about the pulse rate
        pytest.param(
            bytes([0x01, 0xE0, 0x80, 0xA0, 0x95, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d3 bit4"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x80, 0xA0, 0xA5, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d3 bit5"
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0x80, 0xA0, 0xC5, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d3 bit6"
        ),
        pytest.param(
            bytes([0x01, 0xE4, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), "ok", 75.0, id="d3 bit7"
        ),
    ],
)
def test_cms50_v7_each_status_bit_alone_means_what_the_datasheet_says(
    packet: bytes, quality: str, hr: float | None
) -> None:
    out = only(Cms50V7Decoder().feed(packet, 0.0))
    assert out.quality == quality
    if hr is not None:
        assert out.hr == hr and out.spo2 == 97.0


@pytest.mark.parametrize(
    "packet, quality",
    [
        pytest.param(
            bytes([0x01, 0xE1, 0x90, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "no-contact",
            id="probe error+searching too long",
        ),
        pytest.param(
            bytes([0x01, 0xE1, 0xC0, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "no-contact",
            id="probe error+beep",
        ),
        pytest.param(
            bytes([0x01, 0xE0, 0xD0, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "searching",
            id="searching too long+beep",
        ),
        pytest.param(
            bytes([0x01, 0xE2, 0x90, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "searching",
            id="both searching flags",
        ),
        pytest.param(
            bytes([0x01, 0xE3, 0xFF, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]),
            "no-contact",
            id="every flag",
        ),
    ],
)
def test_cms50_v7_flags_together(packet: bytes, quality: str) -> None:
    assert only(Cms50V7Decoder().feed(packet, 0.0)).quality == quality


def test_cms50_v7_pulse_beep_is_data1_bit6_and_reports_the_beat_at_once() -> None:
    decoder = Cms50V7Decoder()
    assert len(decoder.feed(V7_QUIET, 0.0)) == 1
    assert decoder.feed(V7_QUIET, 0.1) == []
    beep = bytes([0x01, 0xE0, 0xC0, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF])  # data 1 bit 6
    assert only(decoder.feed(beep, 0.2)).hr == 75.0
    assert decoder.feed(beep, 0.25) == []


@pytest.mark.parametrize("data1", [0x81, 0x82, 0x84, 0x88, 0xA0], ids=lambda b: f"{b:#04x}")
def test_cms50_v7_no_other_data1_bit_counts_as_a_beat(data1: int) -> None:
    decoder = Cms50V7Decoder()
    decoder.feed(V7_QUIET, 0.0)
    assert decoder.feed(bytes([0x01, 0xE0, data1, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), 0.2) == []


@pytest.mark.parametrize(
    "packet, hr, spo2",
    [
        # pulse rate bit 7 travels in bit 3 of the high byte
        pytest.param(bytes([0x01, 0xE8, 0x80, 0xA0, 0x85, 0xC8, 0xE1, 0xFF, 0xFF]), 200.0, 97.0),
        pytest.param(bytes([0x01, 0xE8, 0x80, 0xA0, 0x85, 0xFA, 0xE1, 0xFF, 0xFF]), 250.0, 97.0),
        pytest.param(bytes([0x01, 0xE8, 0x80, 0xA0, 0x85, 0xFB, 0xE1, 0xFF, 0xFF]), None, 97.0),
        pytest.param(bytes([0x01, 0xE8, 0x80, 0xA0, 0x85, 0xFF, 0xE1, 0xFF, 0xFF]), None, 97.0),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0x99, 0xE1, 0xFF, 0xFF]), 25.0, 97.0),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0x98, 0xE1, 0xFF, 0xFF]), None, 97.0),
        # warm-up: the device sends pulse 0 and SpO2 0
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0x80, 0x80, 0xFF, 0xFF]), None, None),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE4, 0xFF, 0xFF]), 75.0, 100.0),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE5, 0xFF, 0xFF]), 75.0, None),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xFF, 0xFF, 0xFF]), 75.0, None),
        # SpO2 with bit 7 from the high byte (bit 4): 0xE1 | 0x80 is not a saturation
        pytest.param(bytes([0x01, 0xF0, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), 75.0, None),
    ],
    ids=[
        "pulse 200",
        "pulse 250",
        "pulse 251",
        "pulse 0xFF none",
        "pulse 25",
        "pulse 24",
        "warm-up zeros",
        "spo2 100",
        "spo2 101",
        "spo2 0x7F none",
        "spo2 high bit",
    ],
)
def test_cms50_v7_values_and_no_value_markers(
    packet: bytes, hr: float | None, spo2: float | None
) -> None:
    out = only(Cms50V7Decoder().feed(packet, 0.0))
    assert (out.hr, out.spo2) == (hr, spo2)
    if hr is None:
        assert out.quality == "searching"


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(bytes([0x02, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), id="type 0x02"),
        pytest.param(bytes([0x01, 0x60, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), id="high b7"),
        pytest.param(bytes([0x01, 0xE0, 0x00, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0xFF]), id="d1 b7"),
        pytest.param(bytes([0x01, 0xE0, 0x80, 0xA0, 0x85, 0xCB, 0xE1, 0xFF, 0x7F]), id="d7 b7"),
    ],
)
def test_cms50_v7_packet_without_its_type_or_sync_bits_is_skipped(packet: bytes) -> None:
    assert Cms50V7Decoder().feed(packet, 0.0) == []


# --------------------------------------------------------------------------- Nonin format #1

# STATUS, HR bits 6-0, SpO2: 75 bpm (0x4B), 97 % (0x61).


@pytest.mark.parametrize(
    "packet, quality, hr",
    [
        pytest.param(bytes([0x80, 0x4B, 0x61]), "ok", 75.0, id="none"),
        pytest.param(bytes([0x81, 0x4B, 0x61]), "ok", 203.0, id="bit0 HR bit 7"),
        pytest.param(bytes([0x84, 0x4B, 0x61]), "artefact", 75.0, id="bit2 ARTF"),
        pytest.param(bytes([0x88, 0x4B, 0x61]), "ok", 75.0, id="bit3 MPRF marginal perfusion"),
        pytest.param(bytes([0x90, 0x4B, 0x61]), "ok", 75.0, id="bit4 LPRF low perfusion"),
        pytest.param(bytes([0xA0, 0x4B, 0x61]), "searching", 75.0, id="bit5 OOT out of track"),
        pytest.param(bytes([0xC0, 0x4B, 0x61]), "no-contact", 75.0, id="bit6 SNSD disconnect"),
    ],
)
def test_nonin_format1_each_status_bit_alone_means_what_the_datasheet_says(
    packet: bytes, quality: str, hr: float
) -> None:
    out = only(NoninFormat1Decoder().feed(packet, 0.0))
    assert (out.quality, out.hr, out.spo2) == (quality, hr, 97.0)


def test_nonin_format1_status_bit1_is_hr_bit_8() -> None:
    # 0x82 with HR bits 6-0 = 0: 256 bpm, a rate no heart has: an artefact without a rate
    implausible = only(NoninFormat1Decoder().feed(bytes([0x82, 0x00, 0x61]), 0.0))
    assert (implausible.quality, implausible.hr) == ("artefact", None)
    # 0x83 with 0x7F: 511, "missing": still searching
    missing = only(NoninFormat1Decoder().feed(bytes([0x83, 0x7F, 0x7F]), 0.0))
    assert (missing.quality, missing.hr, missing.spo2) == ("searching", None, None)
    # 0x81 + 0x7F = 255 bpm (HR bit 7 alone, not 511): above 250, an artefact, not "missing"
    assert only(NoninFormat1Decoder().feed(bytes([0x81, 0x7F, 0x61]), 0.0)).quality == "artefact"
    # 0x81 + 0x77 = 247 bpm: a plausible rate, read as such
    assert only(NoninFormat1Decoder().feed(bytes([0x81, 0x77, 0x61]), 0.0)).hr == 247.0


@pytest.mark.parametrize(
    "packet, quality",
    [
        pytest.param(bytes([0xC4, 0x4B, 0x61]), "no-contact", id="SNSD+ARTF"),
        pytest.param(bytes([0xE0, 0x4B, 0x61]), "no-contact", id="SNSD+OOT"),
        pytest.param(bytes([0xA4, 0x4B, 0x61]), "artefact", id="OOT+ARTF"),
        pytest.param(bytes([0xB8, 0x4B, 0x61]), "searching", id="OOT+LPRF+MPRF"),
        pytest.param(bytes([0x9C, 0x4B, 0x61]), "artefact", id="ARTF+LPRF+MPRF"),
        pytest.param(bytes([0xFC, 0x4B, 0x61]), "no-contact", id="every flag"),
    ],
)
def test_nonin_format1_flags_together(packet: bytes, quality: str) -> None:
    assert only(NoninFormat1Decoder().feed(packet, 0.0)).quality == quality


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(bytes([0x00, 0x4B, 0x61]), id="status bit7 clear"),
        pytest.param(bytes([0x80, 0xCB, 0x61]), id="HR byte bit7 set"),
        pytest.param(bytes([0x80, 0x4B, 0xE1]), id="SpO2 byte bit7 set"),
    ],
)
def test_nonin_format1_packet_that_breaks_the_sync_bits_is_skipped(packet: bytes) -> None:
    assert NoninFormat1Decoder().feed(packet, 0.0) == []


# --------------------------------------------------------------------------- Nonin formats #2, #7


def frame7(status: int, data: int) -> bytes:
    """A format #7 frame: STATUS, PLETH MSB 0x75, PLETH LSB 0x30, DATA, CHECKSUM (sum mod 256)."""
    head = [status, 0x75, 0x30, data]
    return bytes([*head, sum(head) % 256])


def frame2(status: int, data: int) -> bytes:
    """A format #2 frame: START 0x01, STATUS, PLETH 0x64, DATA, CHECKSUM (sum mod 256)."""
    head = [0x01, status, 0x64, data]
    return bytes([*head, sum(head) % 256])


def test_frame_helpers_build_the_datasheet_bytes() -> None:
    # Frame 1 of a packet, HR MSB 0: the checksum wraps (0x81 + 0x75 + 0x30 = 0x126).
    assert frame7(0x81, 0x00) == bytes([0x81, 0x75, 0x30, 0x00, 0x26])
    assert frame2(0x81, 0x00) == bytes([0x01, 0x81, 0x64, 0x00, 0xE6])


# The first three frames of a packet (HR MSB 0, HR LSB 75, SpO2 97), fully literal.
NONIN7_HEAD = bytes(
    [0x81, 0x75, 0x30, 0x00, 0x26]  # STATUS = 1 | SYNC, pleth, HR bits 8-7 = 0, checksum
    + [0x80, 0x75, 0x30, 0x4B, 0x70]  # HR bits 6-0 = 75
    + [0x80, 0x75, 0x30, 0x61, 0x86]  # SpO2 97
)
NONIN2_HEAD = bytes(
    [0x01, 0x81, 0x64, 0x00, 0xE6]  # START, STATUS = 1 | SYNC, pleth, HR bits 8-7, checksum
    + [0x01, 0x80, 0x64, 0x4B, 0x30]
    + [0x01, 0x80, 0x64, 0x61, 0x46]
)
FRAME = {7: frame7, 2: frame2}


def nonin_head(fmt: int, status: int, *, hr_msb: int = 0x00, hr_lsb: int = 0x4B) -> bytes:
    """Frames 1-3 with `status` in each (and SYNC in frame 1)."""
    frame = FRAME[fmt]
    return frame(status | 0x01, hr_msb) + frame(status, hr_lsb) + frame(status, 0x61)


@pytest.mark.parametrize("fmt, head", [(7, NONIN7_HEAD), (2, NONIN2_HEAD)])
def test_nonin_frames_hr_and_spo2_come_from_frames_1_to_3(fmt: int, head: bytes) -> None:
    assert nonin_head(fmt, 0x80) == head
    out = only(NoninFrameDecoder(fmt).feed(head, 0.0))
    assert (out.quality, out.hr, out.spo2) == ("ok", 75.0, 97.0)


@pytest.mark.parametrize("fmt", [7, 2])
@pytest.mark.parametrize(
    "status, quality",
    [
        pytest.param(0x82, "ok", id="bit1 GPRF green perfusion"),
        pytest.param(0x84, "ok", id="bit2 RPRF red perfusion"),
        pytest.param(0x86, "ok", id="bits1+2 YPRF yellow perfusion"),
        pytest.param(0x88, "artefact", id="bit3 SNSA sensor alarm"),
        pytest.param(0x90, "searching", id="bit4 OOT out of track"),
        pytest.param(0xA0, "artefact", id="bit5 ARTF artefact"),
        pytest.param(0xC0, "no-contact", id="bit6 SNSD sensor disconnect"),
        pytest.param(0xC8, "no-contact", id="SNSD+SNSA"),
        pytest.param(0xB0, "artefact", id="ARTF+OOT"),
        pytest.param(0x98, "artefact", id="SNSA+OOT"),
        pytest.param(0x96, "searching", id="OOT+perfusion"),
        pytest.param(0xFE, "no-contact", id="every flag"),
    ],
)
def test_nonin_frames_each_status_bit_means_what_the_datasheet_says(
    fmt: int, status: int, quality: str
) -> None:
    out = only(NoninFrameDecoder(fmt).feed(nonin_head(fmt, status), 0.0))
    assert out.quality == quality
    if quality in ("ok", "artefact"):
        assert out.hr == 75.0 and out.spo2 == 97.0


@pytest.mark.parametrize("fmt", [7, 2])
@pytest.mark.parametrize("flagged", [0, 1, 2], ids=["frame 1", "frame 2", "frame 3"])
def test_nonin_frames_an_artefact_in_any_of_frames_1_to_3_marks_the_reading(
    fmt: int, flagged: int
) -> None:
    frame = FRAME[fmt]
    statuses = [0x81, 0x80, 0x80]
    statuses[flagged] |= 0x20  # ARTF
    data = [0x00, 0x4B, 0x61]
    stream = b"".join(frame(s, d) for s, d in zip(statuses, data, strict=True))
    assert only(NoninFrameDecoder(fmt).feed(stream, 0.0)).quality == "artefact"


@pytest.mark.parametrize("fmt", [7, 2])
@pytest.mark.parametrize("late", [3, 10, 24])  # frames 4, 11 and 25 of the packet
def test_nonin_frames_an_artefact_after_frame_3_marks_the_next_packets_reading(
    fmt: int, late: int
) -> None:
    frame = FRAME[fmt]

    def packet(flag_at: int | None) -> bytes:
        statuses = [0x81] + [0x80] * (FRAMES_PER_PACKET - 1)
        if flag_at is not None:
            statuses[flag_at] |= 0x20  # ARTF
        data = [0x00, 0x4B, 0x61] + [0x00] * (FRAMES_PER_PACKET - 3)
        return b"".join(frame(st, d) for st, d in zip(statuses, data, strict=True))

    decoder = NoninFrameDecoder(fmt)
    readings = decoder.feed(packet(late) + packet(None) + packet(None), 0.0)
    assert [r.quality for r in readings] == ["ok", "artefact", "ok"]


@pytest.mark.parametrize("fmt", [7, 2])
def test_nonin_frames_hr_bits_8_and_7_come_from_frame_1(fmt: int) -> None:
    # HR MSB 0x01, LSB 0x16: 128 + 22 = 150
    out = only(NoninFrameDecoder(fmt).feed(nonin_head(fmt, 0x80, hr_msb=0x01, hr_lsb=0x16), 0.0))
    assert out.hr == 150.0
    # 0x03 / 0x7F: 511, the "missing" marker
    out = only(NoninFrameDecoder(fmt).feed(nonin_head(fmt, 0x80, hr_msb=0x03, hr_lsb=0x7F), 0.0))
    assert (out.quality, out.hr) == ("searching", None)
    # 0x02 / 0x00: 256, implausible
    assert (
        only(NoninFrameDecoder(fmt).feed(nonin_head(fmt, 0x80, hr_msb=0x02, hr_lsb=0), 0.0)).hr
        is None
    )


@pytest.mark.parametrize("fmt", [7, 2])
def test_nonin_frames_a_reading_needs_the_sync_bit_in_frame_1(fmt: int) -> None:
    frame = FRAME[fmt]
    no_sync = frame(0x80, 0x00) + frame(0x80, 0x4B) + frame(0x80, 0x61)
    assert NoninFrameDecoder(fmt).feed(no_sync, 0.0) == []
    # frames 2-25 of a packet whose frame 1 was missed, then a whole packet's first frames
    tail = b"".join(frame(0x80, 0x00) for _ in range(24))
    assert only(NoninFrameDecoder(fmt).feed(tail + nonin_head(fmt, 0x80), 0.0)).hr == 75.0


@pytest.mark.parametrize("fmt, head", [(7, NONIN7_HEAD), (2, NONIN2_HEAD)])
@pytest.mark.parametrize("frame_index", [0, 1, 2])
@pytest.mark.parametrize("delta", [1, -1])
def test_nonin_frames_a_checksum_off_by_one_drops_the_frame(
    fmt: int, head: bytes, frame_index: int, delta: int
) -> None:
    broken = bytearray(head)
    broken[frame_index * 5 + 4] = (broken[frame_index * 5 + 4] + delta) % 256
    assert NoninFrameDecoder(fmt).feed(bytes(broken), 0.0) == []


@pytest.mark.parametrize(
    "fmt, head",
    [
        # format #7: STATUS bit 7 clear in frame 1 (checksum still right)
        pytest.param(7, frame7(0x01, 0x00) + NONIN7_HEAD[5:], id="7 status bit7"),
        # format #2: START byte 0x02 instead of 0x01
        pytest.param(2, bytes([0x02, 0x81, 0x64, 0x00, 0xE7]) + NONIN2_HEAD[5:], id="2 start"),
        # format #2: STATUS bit 7 clear
        pytest.param(2, frame2(0x01, 0x00) + NONIN2_HEAD[5:], id="2 status bit7"),
    ],
)
def test_nonin_frames_a_frame_without_its_fixed_bits_is_dropped(fmt: int, head: bytes) -> None:
    decoder = NoninFrameDecoder(fmt)
    assert decoder.feed(head, 0.0) == []
    assert decoder.frames == 2  # frames 2 and 3 are fine, but without frame 1 there is no HR


# --------------------------------------------------------------------------- BLE 0x2A37


@pytest.mark.parametrize(
    "value, quality, hr, rr",
    [
        pytest.param(bytes([0x00, 0x48]), "ok", 72.0, (), id="uint8 HR"),
        pytest.param(bytes([0x01, 0x48, 0x00]), "ok", 72.0, (), id="bit0 uint16 HR"),
        pytest.param(bytes([0x01, 0xFA, 0x00]), "ok", 250.0, (), id="uint16 HR 250 little-endian"),
        pytest.param(bytes([0x02, 0x48]), "ok", 72.0, (), id="bit1 alone: contact not supported"),
        pytest.param(bytes([0x04, 0x48]), "no-contact", None, (), id="bit2 alone: no contact"),
        pytest.param(bytes([0x06, 0x48]), "ok", 72.0, (), id="bits1+2 contact detected"),
        pytest.param(bytes([0x08, 0x48, 0x10, 0x00]), "ok", 72.0, (), id="bit3 energy"),
        pytest.param(bytes([0x10, 0x48, 0x00, 0x04]), "ok", 72.0, (1000.0,), id="bit4 RR"),
        pytest.param(bytes([0x20, 0x48]), "ok", 72.0, (), id="bit5 reserved"),
        pytest.param(bytes([0x40, 0x48]), "ok", 72.0, (), id="bit6 reserved"),
        pytest.param(bytes([0x80, 0x48]), "ok", 72.0, (), id="bit7 reserved"),
        pytest.param(bytes([0x00, 0x00]), "searching", None, (), id="HR 0"),
        # energy (0x0010 kJ) comes before the RR intervals, which it must not be mistaken for
        pytest.param(
            bytes([0x18, 0x48, 0x10, 0x00, 0x00, 0x02]), "ok", 72.0, (500.0,), id="energy+RR"
        ),
        pytest.param(
            bytes([0x19, 0x48, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00, 0x02]),
            "ok",
            72.0,
            (1000.0, 500.0),
            id="uint16+energy+2 RR",
        ),
        pytest.param(bytes([0x16, 0x48, 0x00, 0x04]), "ok", 72.0, (1000.0,), id="contact+RR"),
        pytest.param(bytes([0x14, 0x48, 0x00, 0x04]), "no-contact", None, (1000.0,), id="off+RR"),
    ],
)
def test_ble_heart_rate_measurement_flags_mean_what_the_spec_says(
    value: bytes, quality: str, hr: float | None, rr: tuple[float, ...]
) -> None:
    out = parse_measurement(value, 0.0)
    assert out is not None
    assert (out.quality, out.hr, out.rr_ms) == (quality, hr, rr)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(bytes([0x01, 0x48]), id="uint16 flag with one HR byte"),
        pytest.param(bytes([0x00, 0x48, 0x00]), id="uint8 flag with a trailing byte"),
        pytest.param(bytes([0x08, 0x48]), id="energy flag without energy"),
        pytest.param(bytes([0x00, 0x48, 0x10, 0x00]), id="energy bytes without the flag"),
        pytest.param(bytes([0x10, 0x48, 0x00]), id="half an RR interval"),
        pytest.param(bytes([0x00]), id="flags only"),
    ],
)
def test_ble_measurement_whose_length_disagrees_with_its_flags_is_dropped(value: bytes) -> None:
    assert parse_measurement(value, 0.0) is None


def test_ble_bridge_line_checksum_is_the_xor_of_the_value_bytes() -> None:
    decoder = BleBridgeDecoder()
    # 0x16 ^ 0x48 ^ 0x00 ^ 0x04 = 0x5A
    assert only(decoder.feed(b"HRM 16 48 00 04*5A\r\n", 0.0)).rr_ms == (1000.0,)
    assert decoder.feed(b"HRM 16 48 00 04*5B\r\n", 0.0) == []
    assert decoder.feed(b"HRM 16 48 00 04*59\r\n", 0.0) == []
    assert only(decoder.feed(b"HRM LOST\r\n", 0.0)).quality == "searching"


# --------------------------------------------------------------------------- PulseSensor


def test_pulsesensor_visualizer_b_is_bpm_and_q_is_the_interbeat_interval() -> None:
    out = only(PulseSensorDecoder().feed(b"S512\r\nB72\r\nQ833\r\n", 0.0))
    assert (out.quality, out.hr, out.rr_ms) == ("ok", 72.0, (833.0,))


def test_pulsesensor_q_without_b_gives_the_rate_from_the_interval() -> None:
    out = only(PulseSensorDecoder().feed(b"Q750\r\n", 0.0))
    assert (out.hr, out.rr_ms) == (80.0, (750.0,))


def test_pulsesensor_plotter_fields_are_bpm_ibi_signal_in_that_order() -> None:
    out = only(PulseSensorDecoder().feed(b"75,800,530\r\n", 0.0))
    assert (out.quality, out.hr, out.rr_ms) == ("ok", 75.0, (800.0,))


def test_pulsesensor_plotter_bpm_zero_is_no_beat_yet() -> None:
    decoder = PulseSensorDecoder()
    assert decoder.feed(b"0,0,512\r\n", 0.0) == []
    assert only(decoder.feed(b"0,0,512\r\n", NO_BEAT_SEARCHING_S)).quality == "searching"


def test_pulsesensor_says_searching_after_three_seconds_of_samples_without_a_beat() -> None:
    assert NO_BEAT_SEARCHING_S == 3.0
    decoder = PulseSensorDecoder()
    assert decoder.feed(b"S512\r\n", 10.0) == []
    assert decoder.feed(b"S512\r\n", 12.999) == []
    assert only(decoder.feed(b"S512\r\n", 13.0)).quality == "searching"
    decoder.feed(b"B70\r\nQ857\r\n", 13.5)  # a beat restarts the three seconds
    assert decoder.feed(b"S512\r\n", 16.499) == []
    assert only(decoder.feed(b"S512\r\n", 16.5)).quality == "searching"
