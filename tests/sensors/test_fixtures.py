"""The real device captures decode the way their README says.

The captures live next to these tests in `captures/` (copied byte for byte from the project's
shared fixtures, with their README), so they run on every checkout and are never skipped.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from exposure.models import Reading
from sensors.cms50 import Cms50V7Decoder
from sensors.nonin import NoninFrameDecoder

CAPTURES = Path(__file__).resolve().parent / "captures"
CMS50 = CAPTURES / "cms50dplus_v7_capture.hex"
NONIN = CAPTURES / "nonin_format7_60s.dat"
NONIN_CSV = CAPTURES / "nonin_format7_60s.csv"

# SHA-256 of the published captures: a copy that was edited, truncated or re-encoded fails here.
PUBLISHED_SHA256 = {
    "cms50dplus_v7_capture.hex": "dff0dfec16cdd146c4bce2a7fc78bd5759342f4e937af507c62e4d2ace244948",
    "nonin_format7_60s.dat": "e09c2860cc64a08a2f5ee30a4e2732dde39fc58eb54ae1f4cacb3be336f833a7",
    "nonin_format7_60s.csv": "1608250e3be7709eb458ac077d1588a28b440e4f2647f6f1cf00df2408ee3965",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_SHA256))
def test_captures_are_the_published_bytes(name: str) -> None:
    assert hashlib.sha256((CAPTURES / name).read_bytes()).hexdigest() == PUBLISHED_SHA256[name]


def test_captures_come_with_their_readme() -> None:
    text = (CAPTURES / "README.md").read_text()
    assert all(name in text for name in PUBLISHED_SHA256)


def cms50_bytes() -> bytes:
    text = CMS50.read_text().strip()
    assert text[:10] == "1709831973" and text[-10:] == "1709832005"
    return bytes.fromhex(text[10:-10])


def decode_cms50_by_packet() -> list[tuple[int, Reading]]:
    """Feed the capture one 9-byte packet at a time, at 60 packets a second."""
    data = cms50_bytes()
    decoder = Cms50V7Decoder()
    out: list[tuple[int, Reading]] = []
    for k in range(0, len(data), 9):
        for item in decoder.feed(data[k : k + 9], k / 9 / 60):
            out.append((k // 9, item))
    return out


def test_cms50_capture_length_and_packets() -> None:
    data = cms50_bytes()
    assert len(data) == 1617 * 9
    assert all(data[k] == 0x01 for k in range(0, len(data), 9))


def test_cms50_warm_up_zeros_are_no_data() -> None:
    out = decode_cms50_by_packet()
    warm_up = [item for packet, item in out if packet < 363]
    assert warm_up, "the device reports something while it warms up"
    assert all(item.hr is None and item.spo2 is None for item in warm_up)
    assert all(item.quality == "searching" for item in warm_up)


def test_cms50_pulse_and_spo2_after_warm_up() -> None:
    out = decode_cms50_by_packet()
    live = [item for packet, item in out if 363 <= packet < 1476]
    assert live and all(item.quality == "ok" for item in live)
    assert {item.hr for item in live} == {83.0}
    assert {item.spo2 for item in live} == {97.0, 98.0}
    # The first good reading comes with the first packet that carries a pulse.
    assert min(packet for packet, item in out if item.hr is not None) == 363


def test_cms50_finger_out_at_the_end() -> None:
    out = decode_cms50_by_packet()
    tail = [item for packet, item in out if packet >= 1476]
    assert tail and all(item.quality == "no-contact" and item.hr is None for item in tail)
    # 141 packets of finger out at 60 packets/s: about 2.35 s, reported about once a second.
    assert 2 <= len(tail) <= 4


def test_cms50_one_reading_per_beep() -> None:
    data = cms50_bytes()
    beeps = 0
    for k in range(0, len(data), 9):
        flags = (data[k + 2] & 0x7F) | ((data[k + 1] & 1) << 7)
        beeps += bool(flags & 0x40)
    assert beeps == 59
    out = decode_cms50_by_packet()
    live = [item for packet, item in out if 363 <= packet < 1476]
    # 1,113 packets (18.6 s) with a pulse: one reading per beat (beeps come in runs of 1-2).
    assert 18 <= len(live) <= 40


def test_cms50_any_chunking_gives_the_same_readings() -> None:
    data = cms50_bytes()
    whole = [(r.hr, r.quality, r.spo2) for r in Cms50V7Decoder().feed(data, 0.0)]
    decoder = Cms50V7Decoder()
    pieces: list[tuple[float | None, str, float | None]] = []
    for k in range(0, len(data), 7):
        pieces.extend((r.hr, r.quality, r.spo2) for r in decoder.feed(data[k : k + 7], 0.0))
    assert Counter(whole) == Counter(pieces)


def test_nonin_format7_frames_packets_and_values() -> None:
    data = NONIN.read_bytes()
    decoder = NoninFrameDecoder(7)
    out: list[Reading] = []
    for k in range(0, len(data), 11):
        out.extend(decoder.feed(data[k : k + 11], k / 375))
    assert decoder.frames == 4531
    assert decoder.packets == 181
    assert decoder.skipped == 1  # the capture starts one byte into a frame
    assert all(r.quality == "ok" and r.hr is not None and r.spo2 is not None for r in out)
    hrs = [r.hr for r in out if r.hr is not None]
    spo2s = [r.spo2 for r in out if r.spo2 is not None]
    assert min(hrs) == 89 and max(hrs) == 104
    assert min(spo2s) == 94 and max(spo2s) == 98


def test_nonin_format7_agrees_with_the_recorders_own_decode() -> None:
    with NONIN_CSV.open() as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    expected = []
    frames = {}
    for row in rows:
        frames[(row["PACKAGE"], int(row["FRAME"]))] = int(row["ADDON"])
        if int(row["FRAME"]) == 3:
            package = row["PACKAGE"]
            msb, lsb = frames.get((package, 1)), frames.get((package, 2))
            if msb is not None and lsb is not None:
                expected.append((((msb & 0x03) << 7) | (lsb & 0x7F), int(row["ADDON"])))
    out = NoninFrameDecoder(7).feed(NONIN.read_bytes(), 0.0)
    assert [(int(r.hr or 0), int(r.spo2 or 0)) for r in out] == expected
