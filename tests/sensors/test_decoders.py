"""Each decoder on hand-made input: the fields, the flags, the edge values."""

from __future__ import annotations

import json

import pytest

from sensors import ble_bridge
from sensors.cms50 import Cms50LegacyDecoder, Cms50LegacyEncoder, Cms50V7Decoder
from sensors.nonin import NoninFormat1Decoder, NoninFrameDecoder
from sensors.protocols import PROTOCOLS, get_protocol
from sensors.pulsesensor import PulseSensorDecoder
from sensors.simulator import SimulatedHeart
from sensors.text import TextDecoder
from tests.sensors.conftest import decode_ticks, simulate_stream


def legacy_packet(
    pulse: int, spo2: int, *, probe_error: bool = False, searching: bool = False, beep: bool = False
) -> bytes:
    b0 = 0x80 | (0x40 if beep else 0) | 5
    b2 = ((pulse >> 1) & 0x40) | (0x10 if probe_error else 0) | (0x20 if searching else 0) | 4
    return bytes([b0, 60, b2, pulse & 0x7F, spo2 & 0x7F])


def v7_packet(pulse: int, spo2: int, *, finger_out: bool = False, beep: bool = False) -> bytes:
    data = [
        (0x80 if finger_out else 0) | (0x40 if beep else 0) | 5,
        60,
        0x14,
        pulse,
        spo2,
        0xFF,
        0xFF,
    ]
    high = 0x80 | sum(((v >> 7) & 1) << k for k, v in enumerate(data))
    return bytes([0x01, high, *(0x80 | (v & 0x7F) for v in data)])


def nonin_frames(fmt: int, hr: int, spo2: int, status: int = 0x82) -> bytes:
    out = bytearray()
    for k in range(1, 26):
        value = {1: (hr >> 7) & 3, 2: hr & 0x7F, 3: spo2}.get(k, 0)
        st = status | (1 if k == 1 else 0)
        head = [0x01, st, 100, value] if fmt == 2 else [st, 0x75, 0x30, value]
        out += bytes([*head, sum(head) & 0xFF])
    return bytes(out)


# --------------------------------------------------------------------------- PulseSensor


def test_pulsesensor_visualizer_beats() -> None:
    decoder = PulseSensorDecoder()
    out = decoder.feed(b"S512\r\nS530\r\nB75\r\nQ800\r\nS600\r\n", 1.0)
    assert len(out) == 1
    assert out[0].hr == 75 and out[0].rr_ms == (800.0,) and out[0].quality == "ok"


def test_pulsesensor_plotter_lines_report_each_new_beat() -> None:
    decoder = PulseSensorDecoder()
    out = []
    for k in range(50):
        out += decoder.feed(f"72,833,{500 + k}\n".encode(), k * 0.02)
    out += decoder.feed(b"74,810,520\n", 1.01)
    assert [(r.hr, r.rr_ms) for r in out] == [(72, (833.0,)), (74, (810.0,))]


def test_pulsesensor_without_beats_says_searching() -> None:
    decoder = PulseSensorDecoder()
    out = []
    for k in range(300):
        out += decoder.feed(b"S512\n", k * 0.02)
    assert out and all(r.quality == "searching" and r.hr is None for r in out)
    assert 2 <= len(out) <= 4  # once a second after 3 s of waveform without a beat


def test_pulsesensor_implausible_bpm_is_not_emitted_as_hr() -> None:
    out = PulseSensorDecoder().feed(b"B400\nQ150\n", 0.0)
    assert out and out[0].hr is None


# --------------------------------------------------------------------------- CMS50


def test_cms50_legacy_fields_and_high_pulse_bit() -> None:
    out = Cms50LegacyDecoder().feed(legacy_packet(150, 96, beep=True), 0.0)
    assert [(r.hr, r.spo2, r.quality) for r in out] == [(150.0, 96.0, "ok")]


def test_cms50_legacy_flags() -> None:
    decoder = Cms50LegacyDecoder()
    assert decoder.feed(legacy_packet(0x7F, 0x7F, probe_error=True), 0.0)[0].quality == "no-contact"
    assert decoder.feed(legacy_packet(80, 97, searching=True), 0.5)[0].quality == "searching"
    invalid = decoder.feed(legacy_packet(0xFF, 0x7F), 0.6)[0]
    assert invalid.hr is None and invalid.spo2 is None and invalid.quality == "searching"


def test_cms50_legacy_resynchronises_after_garbage() -> None:
    stream = (
        b"\x00\x13\x11\xff" + legacy_packet(70, 98) + b"\x80\x80" + legacy_packet(71, 98, beep=True)
    )
    out = Cms50LegacyDecoder().feed(stream, 0.0)
    assert [r.hr for r in out] == [70.0, 71.0]


def test_cms50_v7_finger_out_and_high_pulse() -> None:
    decoder = Cms50V7Decoder()
    assert decoder.feed(v7_packet(200, 95), 0.0)[0].hr == 200.0
    out = decoder.feed(v7_packet(0, 0, finger_out=True), 0.1)
    assert out[0].quality == "no-contact" and out[0].hr is None


def test_cms50_v7_skips_a_cut_packet() -> None:
    cut = v7_packet(70, 97)[:5]
    out = Cms50V7Decoder().feed(cut + v7_packet(71, 97), 0.0)
    assert [r.hr for r in out] == [71.0]


def test_cms50_v7_reports_once_a_second_without_beats() -> None:
    decoder = Cms50V7Decoder()
    out = []
    for k in range(180):
        out += decoder.feed(v7_packet(70, 97), k / 60)
    assert len(out) == 3


# --------------------------------------------------------------------------- Nonin


@pytest.mark.parametrize("hr", [60, 127, 128, 129, 200, 250])
def test_nonin_format1_heart_rates_above_127(hr: int) -> None:
    status = 0x80 | ((hr >> 7) & 0x03)
    out = NoninFormat1Decoder().feed(bytes([status, hr & 0x7F, 97]), 0.0)
    assert [(r.hr, r.spo2, r.quality) for r in out] == [(float(hr), 97.0, "ok")]


def test_nonin_format1_missing_and_disconnected() -> None:
    out = NoninFormat1Decoder().feed(bytes([0x80 | 0x40 | 0x03, 0x7F, 0x7F]), 0.0)
    assert out[0].hr is None and out[0].spo2 is None and out[0].quality == "no-contact"


@pytest.mark.parametrize("fmt", [2, 7])
@pytest.mark.parametrize("hr", [72, 128, 180])
def test_nonin_frame_formats_decode_hr_and_spo2(fmt: int, hr: int) -> None:
    decoder = NoninFrameDecoder(fmt)
    out = decoder.feed(nonin_frames(fmt, hr, 96) * 2, 0.0)
    assert [(r.hr, r.spo2) for r in out] == [(float(hr), 96.0)] * 2
    assert decoder.packets == 2


@pytest.mark.parametrize("fmt", [2, 7])
def test_nonin_frame_missing_values(fmt: int) -> None:
    out = NoninFrameDecoder(fmt).feed(nonin_frames(fmt, 511, 127, status=0x90), 0.0)
    assert out[0].hr is None and out[0].spo2 is None and out[0].quality == "searching"


def test_nonin_frame_sync_by_checksum_after_corruption() -> None:
    good = nonin_frames(7, 90, 97)
    broken = bytearray(good)
    broken[7] ^= 0x55  # corrupt frame 2: the packet cannot be trusted
    decoder = NoninFrameDecoder(7)
    out = decoder.feed(b"\x81\x01" + bytes(broken) + good, 0.0)
    assert [r.hr for r in out] == [90.0]


def test_nonin_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="2 or 7"):
        NoninFrameDecoder(3)


# --------------------------------------------------------------------------- BLE bridge


def test_ble_uint8_hr_with_rr() -> None:
    value = bytes([0x16, 72, 0x00, 0x04])  # contact detected, RR 1024/1024 s
    out = ble_bridge.BleBridgeDecoder().feed(b"HRM " + value.hex().encode() + b"\n", 2.0)
    assert out[0].hr == 72 and out[0].rr_ms == (1000.0,) and out[0].quality == "ok"


def test_ble_uint16_hr_energy_and_several_rr() -> None:
    value = ble_bridge.measurement(180, (333.0, 340.0), energy_kj=12, uint16=True)
    out = ble_bridge.BleBridgeDecoder().feed(ble_bridge.encode_line(value), 0.0)
    assert out[0].hr == 180
    assert [round(x) for x in out[0].rr_ms] == [333, 340]


def test_ble_no_contact_lost_and_bad_checksum() -> None:
    decoder = ble_bridge.BleBridgeDecoder()
    no_contact = ble_bridge.encode_line(ble_bridge.measurement(70, contact=False))
    assert decoder.feed(no_contact, 0.0)[0].quality == "no-contact"
    assert decoder.feed(b"HRM LOST\n", 0.0)[0].quality == "searching"
    line = ble_bridge.encode_line(ble_bridge.measurement(70)).replace(b"*", b"*F")[:-3] + b"\n"
    assert decoder.feed(line, 0.0) == []
    assert decoder.feed(b"I (123) boot: ESP-IDF v5\nHRM 06 48\n", 0.0)[0].hr == 72


def test_ble_truncated_values_are_skipped() -> None:
    decoder = ble_bridge.BleBridgeDecoder()
    assert decoder.feed(b"HRM 01 48\n", 0.0) == []  # uint16 flag with one byte of HR
    assert decoder.feed(b"HRM 10 48 00\n", 0.0) == []  # half an RR interval


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "line, hr",
    [
        ("HR:72", 72.0),
        ("BPM=72", 72.0),
        ("72", 72.0),
        ("72.5", 72.5),
        ("Pulse = 64, SpO2 = 97", 64.0),
        ("SPO2=097 HR=081", 81.0),
        ('{"hr": 72}', 72.0),
        ('{"BPM": 150, "spo2": 97}', 150.0),
        ("88,812", 88.0),
        ("88;812", 88.0),
    ],
)
def test_text_formats(line: str, hr: float) -> None:
    out = TextDecoder().feed(line.encode() + b"\r\n", 0.0)
    assert [r.hr for r in out] == [hr]


def test_text_csv_header_picks_the_columns() -> None:
    decoder = TextDecoder()
    out = decoder.feed(b"time,hr,rr\n1700000000.1,71,845\n1700000001.0,72,833\n", 0.0)
    assert [(r.hr, r.rr_ms) for r in out] == [(71.0, (845.0,)), (72.0, (833.0,))]


def test_text_json_rr_list_and_no_pulse() -> None:
    decoder = TextDecoder()
    out = decoder.feed(json.dumps({"bpm": 70, "rr_ms": [850, 860]}).encode() + b"\n", 0.0)
    assert out[0].rr_ms == (850.0, 860.0)
    for line in (b"HR:0\n", b"SPO2=--- HR=---\n", b'{"hr": null}\n'):
        missing = decoder.feed(line, 0.0)
        assert missing and missing[0].hr is None and missing[0].quality == "searching"


def test_text_implausible_and_garbage() -> None:
    decoder = TextDecoder()
    assert decoder.feed(b"HR:300\n", 0.0)[0].quality == "artefact"
    assert decoder.feed(b"hello world\n\xff\xfe\n{not json\n[1,2]\n", 0.0) == []
    assert decoder.feed(b"9" * 2000 + b"\nHR:70\n", 0.0)[0].hr == 70.0  # overlong line dropped


# --------------------------------------------------------------------------- registry, round trips


def test_get_protocol_lists_valid_names() -> None:
    with pytest.raises(ValueError) as err:
        get_protocol("polar")
    message = str(err.value)
    assert all(name in message for name in PROTOCOLS) and message.endswith(".")


def test_protocol_serial_defaults() -> None:
    assert PROTOCOLS["cms50-legacy"].settings == "19200 8O1"
    assert PROTOCOLS["cms50-v7"].settings == "115200 8N1"
    assert {PROTOCOLS[n].baudrate for n in ("nonin-1", "nonin-2", "nonin-7")} == {9600}
    assert PROTOCOLS["cms50-v7"].init_bytes == bytes.fromhex("7d81a1808080808080")
    assert PROTOCOLS["cms50-v7"].keepalive_interval_s > 0


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_every_simulated_protocol_round_trips(name: str) -> None:
    info = PROTOCOLS[name]
    heart = SimulatedHeart(90.0, variability_bpm=0.5, seed=3)
    _, ticks = simulate_stream(info, 12.0, heart)
    rate = 100.0 if info.uses_sample_rate else None
    out = decode_ticks(info, ticks, sample_rate=rate, chunk=7, seed=1)
    good = [r.hr for r in out if r.quality == "ok" and r.hr is not None and r.t > 6]
    assert good, f"{name} gave no heart rate"
    assert all(80 <= hr <= 100 for hr in good), good


def test_simulated_legacy_encoder_reports_finger_out() -> None:
    heart = SimulatedHeart(seed=0, dropouts_per_min=30, dropout_s=3)
    _, ticks = simulate_stream(PROTOCOLS["cms50-legacy"], 20.0, heart)
    assert any(r.quality == "no-contact" for r in decode_ticks(PROTOCOLS["cms50-legacy"], ticks))
    assert Cms50LegacyEncoder().rate == 60.0
