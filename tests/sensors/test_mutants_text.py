"""Plain text heart-rate lines: beat intervals, SpO2, limits, CSV columns, and the simulator.

Written to kill mutants that survived `make mutation` (tools/mutation/): each test is a rule of
the text formats in `sensors/text.py`'s docstring that no test stated before.
"""

from __future__ import annotations

import json

import pytest

from exposure.models import Reading
from sensors.base import HeartSample
from sensors.text import TextDecoder, TextEncoder


def feed(*lines: str) -> list[Reading]:
    decoder = TextDecoder()
    out: list[Reading] = []
    for line in lines:
        out.extend(decoder.feed(line.encode() + b"\r\n", 1.0))
    return out


def only(readings: list[Reading]) -> Reading:
    assert len(readings) == 1, readings
    return readings[0]


# --------------------------------------------------------------------------- key=value pairs


def test_a_beat_interval_alone_gives_the_heart_rate() -> None:
    out = only(feed("RR=800"))
    assert (out.hr, out.rr_ms, out.quality) == (75.0, (800.0,), "ok")


def test_the_rate_of_several_intervals_is_that_of_their_mean() -> None:
    out = only(feed('{"rr_ms": [750, 850, 800]}'))
    assert out.hr == 75.0
    assert out.rr_ms == (750.0, 850.0, 800.0)


def test_spo2_comes_with_every_kind_of_reading() -> None:
    assert only(feed("HR=72 SpO2=97")).spo2 == 97.0
    assert only(feed("HR=--- SpO2=96")).spo2 == 96.0  # searching
    assert only(feed("HR=400 SpO2=95")).spo2 == 95.0  # artefact
    assert only(feed('{"hr": 72, "spo2": 94}')).spo2 == 94.0
    assert only(feed('{"hr": 0, "o2": 93}')).spo2 == 93.0


def test_any_positive_interval_is_a_beat_and_one_too_short_for_a_heart_is_an_artefact() -> None:
    assert only(feed("RR=0.5")).quality == "artefact"  # 120,000 bpm
    assert only(feed("RR=0")).quality == "searching"  # no beat at all


def test_a_pair_line_without_heart_rate_or_beats_is_ignored() -> None:
    assert feed("Temp=36.6") == []
    assert feed("SpO2=97") == []


def test_keys_that_are_not_heart_rate_beats_or_spo2_are_ignored_in_a_pair_line() -> None:
    out = only(feed("Pulse=72 Temp=36 Battery=80"))
    assert (out.hr, out.rr_ms, out.spo2) == (72.0, (), None)


@pytest.mark.parametrize(
    "hr, quality", [(25, "ok"), (250, "ok"), (24, "artefact"), (251, "artefact")]
)
def test_heart_rates_from_25_to_250_are_read_and_others_are_artefacts(
    hr: int, quality: str
) -> None:
    out = only(feed(f"HR:{hr}"))
    assert out.quality == quality
    assert out.hr == (float(hr) if quality == "ok" else None)


# --------------------------------------------------------------------------- JSON


def test_json_beats_without_a_heart_rate_give_the_rate() -> None:
    assert only(feed('{"ibi": 600}')).hr == 100.0


def test_json_with_an_empty_beat_list_and_no_heart_rate_says_nothing() -> None:
    assert feed('{"rr_ms": []}') == []


def test_at_most_32_beat_intervals_are_read_from_one_line() -> None:
    line = json.dumps({"rr_ms": [800] * 32 + [400] * 8})
    out = only(feed(line))
    assert out.hr == 75.0 and len(out.rr_ms) == 32


def test_a_heart_rate_too_long_to_be_a_number_is_an_artefact() -> None:
    out = only(feed('{"hr": ' + "9" * 400 + "}"))
    assert (out.quality, out.hr) == ("artefact", None)


# --------------------------------------------------------------------------- CSV


def test_a_two_column_header_names_the_heart_rate_and_beat_columns() -> None:
    out = only(feed("ibi,bpm", "830,72"))
    assert (out.hr, out.rr_ms) == (72.0, (830.0,))


def test_a_lone_word_line_does_not_change_the_columns() -> None:
    out = feed("time,bpm", "Pulse", "12.5,72")
    assert [r.hr for r in out] == [72.0]


def test_a_data_line_shorter_than_the_header_gives_nothing_and_never_raises() -> None:
    assert feed("time,hr,rr", "12") == []
    assert only(feed("hr,rr", "72")).hr == 72.0  # the beat column is missing: no RR


def test_lines_up_to_512_characters_are_read() -> None:
    line = "HR:72" + " " * 507
    assert len(line) == 512
    assert only(feed(line)).hr == 72.0
    assert feed(line + " ") == []


# --------------------------------------------------------------------------- the simulator


def sample(t: float, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 72.4, "pleth": 0.5}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


def test_the_simulated_text_sensor_writes_hr_lines_and_a_json_line_every_fifth_tick() -> None:
    encoder = TextEncoder()
    assert encoder.rate == 1.0
    lines = [encoder.encode(sample(float(k), beats=(800.0 + k,))) for k in range(1, 11)]
    assert lines[0] == b"HR:72\r\n"
    assert lines[3] == b"HR:72\r\n"
    assert json.loads(lines[4]) == {"hr": 72.4, "rr_ms": [801, 802, 803, 804, 805]}
    assert lines[4].endswith(b"\r\n")
    assert json.loads(lines[9]) == {"hr": 72.4, "rr_ms": [806, 807, 808, 809, 810]}


def test_the_json_line_carries_the_last_eight_beats() -> None:
    encoder = TextEncoder()
    lines = [
        encoder.encode(sample(float(k), beats=(700.0 + 3 * k, 701.0 + 3 * k))) for k in range(5)
    ]
    assert json.loads(lines[4])["rr_ms"] == [703, 704, 706, 707, 709, 710, 712, 713]


def test_the_simulated_text_sensor_says_zero_without_contact_and_forgets_its_beats() -> None:
    encoder = TextEncoder()
    encoder.encode(sample(1.0, beats=(800.0,)))
    assert encoder.encode(sample(2.0, contact=False, beats=(810.0,))) == b"HR:0\r\n"
    encoder.encode(sample(3.0))
    encoder.encode(sample(4.0))
    assert encoder.encode(sample(5.0, beats=(820.0,))) == b'{"hr": 72.4, "rr_ms": [820]}\r\n'


def test_the_json_line_gives_the_rate_to_a_tenth_of_a_bpm() -> None:
    encoder = TextEncoder()
    lines = [encoder.encode(sample(float(k), hr=72.46, beats=(800.0,))) for k in range(1, 6)]
    assert json.loads(lines[4])["hr"] == 72.5


def test_motion_makes_the_simulated_text_sensor_overcount() -> None:
    assert TextEncoder().encode(sample(1.0, artefact=True, hr=70.0)) == b"HR:112\r\n"


def test_a_fifth_tick_without_beats_is_a_plain_hr_line() -> None:
    encoder = TextEncoder()
    lines = [encoder.encode(sample(float(k))) for k in range(1, 6)]
    assert lines == [b"HR:72\r\n"] * 5
