"""What every decoder shares: numbers, plausibility, line framing, the throttle, and the\nsimulated oximeter display the device simulators are built on.

Written to kill mutants that survived `make mutation` (tools/mutation/).
"""

from __future__ import annotations

import math
import statistics

import pytest

from sensors.base import (
    HeartSample,
    LineSplitter,
    OximeterDisplay,
    Throttle,
    finite_number,
    parse_number,
    plausible_spo2,
    reading,
)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 10**400, "1e400", "nan", True])
def test_finite_number_is_none_for_anything_that_is_not_a_finite_number(value: object) -> None:
    assert finite_number(value) is None


@pytest.mark.parametrize("value, number", [(72, 72.0), (72.5, 72.5), (" 72 ", 72.0), (-3, -3.0)])
def test_finite_number_reads_ints_floats_and_number_text(value: object, number: float) -> None:
    assert finite_number(value) == number


def test_parse_number_is_none_for_text_that_is_not_a_finite_number() -> None:
    assert parse_number("inf") is None
    assert parse_number("9" * 400 + ".0e999") is None
    assert parse_number("12,5") is None
    assert parse_number(" 12.5\t") == 12.5


# --------------------------------------------------------------------------- plausibility


@pytest.mark.parametrize("value, kept", [(0.0, 0.0), (100.0, 100.0), (-0.5, None), (100.5, None)])
def test_spo2_from_0_to_100_percent_is_plausible(value: float, kept: float | None) -> None:
    assert plausible_spo2(value) == kept


def test_a_reading_keeps_beat_intervals_between_0_and_60_s_only() -> None:
    out = reading(1.0, 70.0, rr_ms=(0.0, 0.5, 812.0, 59_999.0, 60_000.0, math.inf, math.nan))
    assert out.rr_ms == (0.5, 812.0, 59_999.0)


def test_a_reading_with_a_time_that_is_not_finite_is_at_0() -> None:
    assert reading(math.nan, 70.0).t == 0.0
    assert reading(math.inf, 70.0).t == 0.0
    assert reading(12.5, 70.0).t == 12.5


# --------------------------------------------------------------------------- line framing


def test_cr_lf_and_crlf_each_end_one_line_and_empty_lines_are_not_lines() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"72\r\n73\r74\n\n\r\n75") == ["72", "73", "74"]
    assert splitter.feed(b"\r") == ["75"]


def test_a_line_of_max_line_bytes_is_read_and_a_longer_one_is_skipped_to_its_end() -> None:
    splitter = LineSplitter(max_line=8)
    assert splitter.feed(b"12345678\n") == ["12345678"]
    assert splitter.feed(b"123456789abc\n72\n") == ["72"]
    assert splitter.feed(b"123456789") == []
    assert splitter.feed(b"abc\n73\n") == ["73"]


def test_a_throttle_lets_the_same_content_through_once_an_interval() -> None:
    throttle = Throttle(1.0)
    assert [throttle.due(t, "same") for t in (0.0, 0.5, 0.99, 1.0, 1.5, 2.0)] == [
        True, False, False, True, False, True,
    ]  # fmt: skip
    assert throttle.due(2.1, "changed")


# --------------------------------------------------------------------------- the simulated display


def sample(t: float, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 72.4, "pleth": 0.5, "spo2": 96.6}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


def test_the_display_shows_zeros_until_3_s_after_the_finger_goes_in() -> None:
    display = OximeterDisplay(seed=0)
    assert display.values(sample(0.0, contact=False)) == (0, 0, False)
    assert display.values(sample(5.0)) == (0, 0, False)  # finger in at 5 s
    assert display.values(sample(7.9)) == (0, 0, False)
    assert display.values(sample(8.0)) == (72, 97, True)
    assert display.values(sample(9.0, contact=False)) == (0, 0, False)
    assert display.values(sample(10.0)) == (0, 0, False)  # back in: warming up again


def test_the_displayed_pulse_never_reaches_255_the_no_value_code() -> None:
    display = OximeterDisplay(seed=0)
    display.values(sample(0.0))
    assert display.values(sample(5.0, hr=300.0))[0] == 254
    assert display.values(sample(6.0, hr=0.2))[0] == 0


def test_motion_shows_a_pulse_of_0_55_or_1_6_times_the_heart_rate() -> None:
    display = OximeterDisplay(seed=3)
    display.values(sample(0.0))
    shown = {display.values(sample(5.0 + k, hr=72.0, artefact=True))[0] for k in range(40)}
    assert shown == {40, 115}


def test_the_pleth_is_20_to_110_for_the_wave_clipped_to_seven_bits() -> None:
    display = OximeterDisplay(seed=0)
    assert [display.pleth(sample(0.0, pleth=p)) for p in (0.0, 0.5, 1.0)] == [20, 65, 110]
    assert display.pleth(sample(0.0, pleth=1.5)) == 127
    assert display.pleth(sample(0.0, pleth=-0.5)) == 0
    assert display.pleth(sample(0.0, contact=False)) == 0


def test_motion_adds_noise_of_about_40_to_the_pleth() -> None:
    display = OximeterDisplay(seed=5)
    values = [display.pleth(sample(0.0, artefact=True)) for _ in range(4000)]
    assert 60 < statistics.mean(values) < 70
    assert 30 < statistics.stdev(values) < 40  # 40, narrowed by the clip at 0 and 127
