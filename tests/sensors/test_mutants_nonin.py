"""Nonin formats #1, #2 and #7: the decoder's sync and counters, the simulator's exact layout.

Written to kill mutants that survived `make mutation` (tools/mutation/). The frame layout of a
25-frame packet is the one in Nonin's OEM III specification: frame 1 HR MSB, 2 HR LSB, 3 SpO2,
4 SREV, 8 STAT2, 9 SpO2-D, 10 SpO2 fast, 11 SpO2 beat-to-beat, 14/15 E-HR, 16 E-SpO2,
17 E-SpO2-D, 20/21 HR-D, 22/23 E-HR-D; the others are reserved (0 here).
"""

from __future__ import annotations

import pytest

from sensors.base import HeartSample
from sensors.nonin import (
    FRAMES_PER_PACKET,
    HR_MISSING,
    SPO2_MISSING,
    SREV,
    NoninFormat1Decoder,
    NoninFormat1Encoder,
    NoninFrameDecoder,
    NoninFrameEncoder,
)

WARM = 10.0  # the simulated display shows values 3 s after the finger goes in


def sample(t: float, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 75.2, "pleth": 0.5, "spo2": 97.4}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- format #1 decoder


def test_format1_back_to_back_packets_each_give_a_reading() -> None:
    decoder = NoninFormat1Decoder()
    stream = bytes([0x80, 72, 97, 0x80, 73, 96, 0x80, 74, 95])
    assert [r.hr for r in decoder.feed(stream, 1.0)] == [72.0, 73.0, 74.0]
    assert decoder.packets == 3


def test_format1_counts_packets_across_reads() -> None:
    decoder = NoninFormat1Decoder()
    assert decoder.packets == 0
    decoder.feed(bytes([0x80, 72]), 1.0)
    assert decoder.packets == 0
    decoder.feed(bytes([97, 0x80, 73, 96]), 2.0)
    assert decoder.packets == 2


@pytest.mark.parametrize("garbage", [b"\x05", b"\x05\x06", b"\x05\x06\x07"])
def test_format1_resynchronises_after_any_number_of_stray_bytes(garbage: bytes) -> None:
    decoder = NoninFormat1Decoder()
    out = decoder.feed(garbage + bytes([0x80, 72, 97, 0x80, 73, 96]), 1.0)
    assert [r.hr for r in out] == [72.0, 73.0]


def test_format1_bytes_without_the_sync_bit_never_make_a_packet() -> None:
    # 0x03 has the HR-bit flags of a status byte but not bit 7: not a status byte
    assert NoninFormat1Decoder().feed(bytes([0x03, 0x10, 0x20]), 1.0) == []


# --------------------------------------------------------------------------- format #1 encoder


def test_format1_encoder_sends_status_hr_and_spo2_in_one_packet_a_second() -> None:
    encoder = NoninFormat1Encoder()
    assert encoder.rate == 1.0
    encoder.encode(sample(0.0))
    assert encoder.encode(sample(WARM)) == bytes([0x80, 75, 97])


def test_format1_encoder_carries_hr_bits_8_and_7_in_the_status_byte() -> None:
    encoder = NoninFormat1Encoder()
    encoder.encode(sample(0.0))
    packet = encoder.encode(sample(WARM, hr=203.0))
    assert packet == bytes([0x80 | 0x01, 203 & 0x7F, 97])
    assert [r.hr for r in NoninFormat1Decoder().feed(packet, 1.0)] == [203.0]


def test_format1_encoder_flags_finger_out_warm_up_and_artefact() -> None:
    encoder = NoninFormat1Encoder()
    # warming up: out of track, HR 511 (its bits 8-7 in the status) and SpO2 127 = missing
    assert encoder.encode(sample(0.0)) == bytes([0x80 | 0x20 | 0x03, 0x7F, SPO2_MISSING])
    assert encoder.encode(sample(WARM, artefact=True, hr=60.0))[0] == 0x80 | 0x04  # 33 or 96 shown
    assert encoder.encode(sample(WARM + 1, contact=False)) == bytes(
        [0x80 | 0x40 | 0x03, 0x7F, 0x7F]
    )


# --------------------------------------------------------------------------- formats #2 and #7


def packet(encoder: NoninFrameEncoder, t: float, **fields: object) -> list[bytes]:
    frames = [encoder.encode(sample(t, **fields)) for _ in range(FRAMES_PER_PACKET)]
    for frame in frames:
        assert sum(frame[:4]) & 0xFF == frame[4], "checksum = sum of the first four bytes"
    return frames


def expected_data(hr: int, spo2: int) -> dict[int, int]:
    msb, lsb = (hr >> 7) & 0x03, hr & 0x7F
    return {
        1: msb, 2: lsb, 3: spo2, 4: SREV, 9: spo2, 10: spo2, 11: spo2, 14: msb, 15: lsb,
        16: spo2, 17: spo2, 20: msb, 21: lsb, 22: msb, 23: lsb,
    }  # fmt: skip


@pytest.mark.parametrize("hr", [75, 203])
def test_format7_packet_puts_every_value_in_its_frame(hr: int) -> None:
    encoder = NoninFrameEncoder(7)
    packet(encoder, 0.0)  # finger in: the display warms up
    frames = packet(encoder, WARM, hr=float(hr))
    data = expected_data(hr, 97)
    for k, frame in enumerate(frames, start=1):
        status = 0x80 | 0x02 | (0x01 if k == 1 else 0)  # good perfusion; SYNC on frame 1
        assert frame[0] == status, k
        assert frame[3] == data.get(k, 0), k
        assert (frame[1] << 8 | frame[2]) == 65 * 500 + 30_000  # 16-bit pleth


def test_format2_frames_begin_with_01_and_carry_the_pleth_high_byte() -> None:
    encoder = NoninFrameEncoder(2)
    packet(encoder, 0.0)
    frames = packet(encoder, WARM)
    for k, frame in enumerate(frames, start=1):
        assert frame[0] == 0x01
        assert frame[1] == 0x80 | 0x02 | (0x01 if k == 1 else 0)
        assert frame[2] == (65 * 500 + 30_000) >> 8
        assert frame[3] == expected_data(75, 97).get(k, 0)


def test_frame_stream_starts_with_the_sync_frame() -> None:
    for fmt in (2, 7):
        encoder = NoninFrameEncoder(fmt)
        first = encoder.encode(sample(WARM))
        assert first[1 if fmt == 2 else 0] & 0x01


def test_hr_and_spo2_are_sampled_once_a_packet_at_its_first_frame() -> None:
    encoder = NoninFrameEncoder(7)
    packet(encoder, 0.0)
    frames = [encoder.encode(sample(WARM, hr=80.0 + k, spo2=90.0 + k)) for k in range(25)]
    assert frames[1][3] == 80 and frames[2][3] == 90  # frame 1's values, held for the packet
    assert frames[14][3] == 80 and frames[16][3] == 90
    decoded = NoninFrameDecoder(7).feed(b"".join(frames) + packet(encoder, WARM + 1)[0], 1.0)
    assert decoded and decoded[0].hr == 80.0


def test_frames_flag_warm_up_finger_out_and_artefact() -> None:
    encoder = NoninFrameEncoder(7)
    warming = packet(encoder, 0.0)
    sync = [0x01] + [0x00] * (FRAMES_PER_PACKET - 1)
    assert [f[0] for f in warming] == [0x80 | 0x10 | k for k in sync]  # out of track
    assert warming[0][3] == (HR_MISSING >> 7) & 0x03 and warming[1][3] == HR_MISSING & 0x7F
    assert warming[2][3] == SPO2_MISSING
    out = packet(encoder, WARM, contact=False)
    assert [f[0] for f in out] == [0x80 | 0x40 | k for k in sync]  # sensor disconnect only
    assert all(f[1] == 0 and f[2] == 0 for f in out)  # no pleth without a finger
    encoder = NoninFrameEncoder(7)
    packet(encoder, 0.0)
    moving = packet(encoder, WARM, artefact=True)
    assert [f[0] for f in moving] == [0x80 | 0x20 | 0x02 | k for k in sync]  # artefact


def test_frame_encoder_default_rate_is_75_frames_a_second() -> None:
    assert NoninFrameEncoder(2).rate == 75.0
    assert NoninFrameEncoder(7, rate=10.0).rate == 10.0


def test_the_simulators_are_reproducible_from_their_seed() -> None:
    def stream(encoder: NoninFrameEncoder | NoninFormat1Encoder) -> bytes:
        return b"".join(encoder.encode(sample(k / 10, artefact=True)) for k in range(40, 120))

    assert stream(NoninFrameEncoder(7)) == stream(NoninFrameEncoder(7, seed=0))
    assert stream(NoninFormat1Encoder()) == stream(NoninFormat1Encoder(seed=0))


# --------------------------------------------------------------------------- the frame decoder


def frame7(k: int, data: int, status: int = 0x82) -> bytes:
    """Frame `k` (1..25) of a format #7 packet, by hand: STATUS, PLETH MSB, LSB, DATA, CHECKSUM."""
    head = [status | (0x01 if k == 1 else 0), 0x75, 0x30, data]
    return bytes([*head, sum(head) & 0xFF])


def packet7(hr: int = 72, spo2: int = 97) -> list[bytes]:
    data = expected_data(hr, spo2)
    return [frame7(k, data.get(k, 0)) for k in range(1, FRAMES_PER_PACKET + 1)]


def test_spo2_of_100_percent_is_read() -> None:
    frames = packet7(spo2=100)
    (out,) = NoninFrameDecoder(7).feed(b"".join(frames[:4]), 1.0)
    assert out.spo2 == 100.0
    assert NoninFormat1Decoder().feed(bytes([0x80, 72, 100]), 1.0)[0].spo2 == 100.0


def test_sync_needs_two_good_frames_in_a_row_then_each_frame_is_read_as_it_arrives() -> None:
    decoder = NoninFrameDecoder(7)
    frames = packet7()
    decoder.feed(frames[0], 1.0)
    assert decoder.frames == 0  # one good frame may be chance
    decoder.feed(frames[1], 1.0)
    assert decoder.frames == 2
    out = decoder.feed(frames[2], 1.0)
    assert decoder.frames == 3 and [r.hr for r in out] == [72.0]
    decoder.feed(frames[3], 1.0)
    assert decoder.frames == 4


def test_after_a_bad_frame_sync_again_needs_two_good_frames() -> None:
    decoder = NoninFrameDecoder(7)
    frames = packet7()
    decoder.feed(b"".join(frames[:5]), 1.0)
    assert decoder.frames == 5
    bad = bytearray(frames[5])
    bad[4] ^= 0xFF
    decoder.feed(bytes(bad) + frames[6], 1.0)
    assert decoder.frames == 5 and decoder.skipped == 5
    decoder.feed(frames[7], 1.0)
    assert decoder.frames == 7


def test_packets_are_counted_from_their_sync_frame_only() -> None:
    decoder = NoninFrameDecoder(7)
    frames = packet7()
    decoder.feed(b"".join(frames[1:]), 1.0)  # frames 2-25: the stream started mid-packet
    assert decoder.packets == 0
    decoder.feed(b"".join(packet7()), 2.0)
    assert decoder.packets == 1


def test_a_sync_loss_mid_packet_does_not_count_that_packet() -> None:
    decoder = NoninFrameDecoder(7)
    frames = packet7()
    decoder.feed(b"".join(frames[:10]), 1.0)
    decoder.feed(b"\x00", 1.0)  # a stray byte: sync lost in the middle of the packet
    decoder.feed(b"".join(frames[10:]), 1.0)  # the rest of it: frames 11-25
    assert decoder.packets == 0
    decoder.feed(b"".join(frames[:1]) + b"\x00" + b"".join(frames[1:]), 1.0)  # lost after SYNC
    assert decoder.packets == 0
    decoder.feed(b"".join(packet7()), 2.0)
    assert decoder.packets == 1


def test_every_byte_dropped_while_looking_for_sync_is_counted() -> None:
    decoder = NoninFrameDecoder(7)
    frames = packet7()
    decoder.feed(bytes(7) + b"".join(frames[:3]), 1.0)
    assert decoder.skipped == 7 and decoder.frames == 3


def test_a_chance_checksum_match_in_garbage_does_not_cost_the_frame_after_it() -> None:
    frames = packet7()
    first = frames[0]
    # a stray byte that, with the first four bytes of the real frame, looks like a frame
    stray = (first[3] - sum(first[:3])) & 0xFF
    lookalike = bytes([stray]) + first[:4]
    assert stray & 0x80 and sum(lookalike[:4]) & 0xFF == lookalike[4]
    decoder = NoninFrameDecoder(7)
    out = decoder.feed(bytes(3) + bytes([stray]) + b"".join(frames[:4]), 1.0)
    assert decoder.skipped == 4 and decoder.frames == 4  # three zeros and the lookalike
    assert [r.hr for r in out] == [72.0]
