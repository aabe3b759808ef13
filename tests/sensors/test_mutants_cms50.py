"""The simulated CMS50 speaks the Contec layouts bit for bit, and obeys the V7.0 host commands.

Written to kill mutants that survived `make mutation` (tools/mutation/). The simulator is a
device: demos and the pty tests read it through the real decoders, so a wrong bit here would
teach the decoders a protocol no oximeter speaks. The bytes are read back by hand from the
published layouts (see tests/sensors/test_datasheet_bits.py), not with the project's decoders.
"""

from __future__ import annotations

from sensors.base import HeartSample
from sensors.cms50 import (
    V7_KEEPALIVE,
    V7_START,
    V7_STOP,
    Cms50LegacyDecoder,
    Cms50LegacyEncoder,
    Cms50V7Decoder,
    Cms50V7Encoder,
)

WARM = 10.0  # the simulated display shows values 3 s after the finger goes in


def sample(t: float, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 75.2, "pleth": 0.5, "spo2": 97.4, "beats": ()}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


def warmed(encoder: Cms50LegacyEncoder | Cms50V7Encoder) -> None:
    """Finger in at t=0; by WARM the display shows pulse and SpO2."""
    encoder.encode(sample(0.0))


# --------------------------------------------------------------------------- legacy 5-byte stream


def test_legacy_packet_with_a_beat_is_laid_out_as_the_datasheet_says() -> None:
    encoder = Cms50LegacyEncoder()
    warmed(encoder)
    packet = encoder.encode(sample(WARM, beats=(800.0,)))
    # byte 1: sync | beep | signal strength 6;  byte 2: pleth 20 + 90 * 0.5;  byte 3: bar graph 5
    assert packet == bytes([0x80 | 0x40 | 6, 65, 0x05, 75, 97])


def test_legacy_packet_without_a_beat_does_not_beep() -> None:
    encoder = Cms50LegacyEncoder()
    warmed(encoder)
    assert encoder.encode(sample(WARM)) == bytes([0x80 | 6, 65, 0x05, 75, 97])


def test_legacy_pulse_of_128_and_above_carries_bit_7_in_byte_3() -> None:
    encoder = Cms50LegacyEncoder()
    warmed(encoder)
    packet = encoder.encode(sample(WARM, hr=203.0, spo2=99.0))
    assert packet[2] == 0x40 | 0x05  # pulse bit 7 in byte 3 bit 6
    assert packet[3] == 203 & 0x7F
    assert packet[4] == 99
    assert [r.hr for r in Cms50LegacyDecoder().feed(packet, 1.0)] == [203.0]


def test_legacy_finger_out_sets_probe_error_and_searching_and_no_values() -> None:
    encoder = Cms50LegacyEncoder()
    warmed(encoder)
    packet = encoder.encode(sample(WARM, contact=False, beats=(800.0,)))
    assert packet == bytes([0x80, 0, 0x10 | 0x20, 0, 0])


def test_legacy_warm_up_sends_zeros_flagged_searching_and_never_beeps() -> None:
    encoder = Cms50LegacyEncoder()
    packet = encoder.encode(sample(0.0, beats=(800.0,)))
    assert packet == bytes([0x80 | 6, 65, 0x20 | 0x05, 0, 0])


def test_legacy_pleth_stays_within_seven_bits() -> None:
    encoder = Cms50LegacyEncoder()
    warmed(encoder)
    assert encoder.encode(sample(WARM, pleth=1.2))[1] == 127
    assert encoder.encode(sample(WARM, pleth=0.0))[1] == 20


# --------------------------------------------------------------------------- V7.0


def realtime(packet: bytes) -> list[int]:
    """The 7 data bytes of a V7.0 realtime packet, bit 7 restored from the high byte."""
    assert len(packet) == 9 and packet[0] == 0x01
    assert all(b & 0x80 for b in packet[1:]), "every byte after the type has bit 7 set"
    high = packet[1]
    return [(packet[2 + k] & 0x7F) | (((high >> k) & 1) << 7) for k in range(7)]


def started(**kwargs: float) -> Cms50V7Encoder:
    encoder = Cms50V7Encoder(**kwargs)  # type: ignore[arg-type]
    encoder.receive(V7_START)
    warmed(encoder)
    return encoder


def test_v7_is_silent_until_the_host_sends_start() -> None:
    encoder = Cms50V7Encoder()
    assert encoder.encode(sample(0.0)) == b""
    encoder.receive(V7_KEEPALIVE)  # a keep-alive alone does not start the stream
    assert encoder.encode(sample(0.1)) == b""
    encoder.receive(V7_START)
    assert len(encoder.encode(sample(0.2))) == 9
    assert (encoder.starts, encoder.keepalives) == (1, 1)


def test_v7_realtime_packet_carries_each_field_where_the_protocol_puts_it() -> None:
    encoder = started()
    packet = encoder.encode(sample(WARM, beats=(800.0,)))
    flags, pleth, bar, pulse, spo2, pi_low, pi_high = realtime(packet)
    assert flags == 0x40 | 5  # beep, signal strength 5
    assert pleth == 65
    assert bar == 0x10 | 5
    assert (pulse, spo2) == (75, 97)
    assert (pi_low, pi_high) == (0xFF, 0xFF)  # perfusion index absent
    assert packet[1] == 0x80 | 0b1100000  # bit 7 of data 6 and 7 (0xFF) in the high byte


def test_v7_pulse_of_128_and_above_goes_through_the_high_byte() -> None:
    encoder = started()
    packet = encoder.encode(sample(WARM, hr=203.0))
    assert realtime(packet)[3] == 203
    assert packet[1] & 0b1000  # bit 7 of data 4 (pulse)
    assert packet[5] == 0x80 | (203 & 0x7F)


def test_v7_finger_out_sets_probe_error_and_clears_strength() -> None:
    encoder = started()
    flags, pleth, bar, pulse, spo2, _, _ = realtime(
        encoder.encode(sample(WARM, contact=False, beats=(800.0,)))
    )
    assert flags == 0x80
    assert (pleth, bar, pulse, spo2) == (0, 0x10, 0, 0)


def test_v7_does_not_beep_without_a_beat_or_while_warming_up() -> None:
    encoder = Cms50V7Encoder()
    encoder.receive(V7_START)
    warming = realtime(encoder.encode(sample(0.0, beats=(800.0,))))
    assert warming[0] == 5 and warming[3:5] == [0, 0]
    assert realtime(encoder.encode(sample(WARM)))[0] == 5


def test_v7_stops_streaming_after_15_s_without_a_command() -> None:
    encoder = started()  # START heard at t=0
    assert encoder.encode(sample(15.0)) != b""  # exactly 15 s: still streaming
    assert encoder.encode(sample(15.5)) == b""
    encoder.receive(V7_KEEPALIVE)  # too late: a stopped device needs START again
    assert encoder.encode(sample(16.0)) == b""
    encoder.receive(V7_START)
    assert encoder.encode(sample(16.5)) != b""
    assert encoder.starts == 2


def test_v7_keep_alives_keep_it_streaming() -> None:
    encoder = started()
    for t in range(5, 60, 5):
        encoder.receive(V7_KEEPALIVE)
        assert encoder.encode(sample(float(t))) != b""
    assert encoder.keepalives == 11


def test_v7_stop_command_stops_the_stream() -> None:
    encoder = started()
    encoder.receive(V7_STOP)
    assert encoder.encode(sample(1.0)) == b""
    assert encoder.starts == 1


def test_v7_commands_are_found_split_glued_and_after_garbage() -> None:
    encoder = Cms50V7Encoder()
    encoder.receive(b"\x00\x13")  # line noise before the first command
    encoder.receive(V7_START[:4])
    encoder.receive(V7_START[4:] + V7_KEEPALIVE + V7_KEEPALIVE[:2])
    assert (encoder.starts, encoder.keepalives) == (1, 1)
    encoder.receive(V7_KEEPALIVE[2:])
    assert (encoder.starts, encoder.keepalives) == (1, 2)
    encoder.receive(bytes.fromhex("7d81a7808080808080"))  # another command: ignored
    assert (encoder.starts, encoder.keepalives) == (1, 2)
    assert encoder.encode(sample(0.0)) != b""


def test_v7_a_host_that_writes_without_a_command_byte_is_ignored() -> None:
    encoder = Cms50V7Encoder()
    encoder.receive(bytes(20))
    encoder.receive(V7_START)
    assert encoder.starts == 1


def test_default_rates_are_the_devices_own() -> None:
    assert Cms50LegacyEncoder().rate == 60.0
    assert Cms50V7Encoder().rate == 60.0
    assert Cms50V7Encoder(rate=5.0).rate == 5.0


def test_the_simulator_is_reproducible_from_its_seed() -> None:
    def stream(encoder: Cms50LegacyEncoder | Cms50V7Encoder) -> bytes:
        encoder.receive(V7_START)
        return b"".join(
            encoder.encode(sample(k / 10, artefact=True, hr=80.0)) for k in range(40, 80)
        )

    assert stream(Cms50LegacyEncoder()) == stream(Cms50LegacyEncoder(seed=0))
    assert stream(Cms50V7Encoder()) == stream(Cms50V7Encoder(seed=0))
    assert stream(Cms50LegacyEncoder(seed=4)) == stream(Cms50LegacyEncoder(seed=4))
    assert stream(Cms50V7Encoder(seed=4)) == stream(Cms50V7Encoder(seed=4))


# --------------------------------------------------------------------------- the decoders


def test_legacy_stray_bytes_of_any_count_are_skipped_to_the_next_sync_byte() -> None:
    for garbage in (b"\x05", b"\x05\x06", b"\x05\x06\x07"):
        out = Cms50LegacyDecoder().feed(garbage + bytes([0x80, 0x20, 0x00, 72, 97]), 1.0)
        assert [r.hr for r in out] == [72.0]


def test_legacy_five_bytes_without_a_sync_bit_are_not_a_packet() -> None:
    assert Cms50LegacyDecoder().feed(bytes([0x01, 0x20, 0x00, 72, 97]), 1.0) == []


def test_legacy_back_to_back_packets_are_each_decoded() -> None:
    stream = b"".join(bytes([0x80, 0x20, 0x00, hr, 97]) for hr in (72, 73, 74))
    assert [r.hr for r in Cms50LegacyDecoder().feed(stream, 1.0)] == [72.0, 73.0, 74.0]


def test_legacy_bar_graph_bits_do_not_leak_into_the_pulse() -> None:
    out = Cms50LegacyDecoder().feed(bytes([0x80, 0x20, 0x0F, 72, 97]), 1.0)
    assert [r.hr for r in out] == [72.0]


def test_legacy_spo2_of_0_means_no_value() -> None:
    (out,) = Cms50LegacyDecoder().feed(bytes([0x80, 0x20, 0x00, 72, 0]), 1.0)
    assert out.hr == 72.0 and out.spo2 is None


def test_v7_stray_bytes_of_any_count_are_skipped_to_the_next_packet() -> None:
    packet = bytes([0x01, 0x80, 0x80 | 5, 0x80 | 65, 0x80 | 0x15, 0x80 | 72, 0x80 | 97, 0xFF, 0xFF])
    for garbage in (b"\x05", b"\x05\x06", b"\x05\x06\x07"):
        out = Cms50V7Decoder().feed(garbage + packet, 1.0)
        assert [(r.hr, r.spo2) for r in out] == [(72.0, 97.0)]
