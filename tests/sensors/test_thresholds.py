"""The signal-quality thresholds at their documented values: at each limit and just either side.

Documented in `sensors/quality.py`: a beat or rate more than 25 % from the running median is an
artefact (exactly 25 % is still accepted); beat intervals outside 300-2000 ms are dropped (both
limits accepted); the signal is stale after 5 s without a good reading. In
`exposure/constants.py`: a plausible heart rate is 25-250 bpm (both limits plausible).
"""

from __future__ import annotations

import pytest

from exposure.models import Reading
from sensors.base import plausible_hr
from sensors.nonin import NoninFormat1Decoder
from sensors.quality import SignalQuality


def learned(median_bpm: float) -> SignalQuality:
    """A SignalQuality whose running median has just been learned at `median_bpm`."""
    quality = SignalQuality()
    labels = [quality.process(Reading(t=k, hr=median_bpm)).quality for k in (1.0, 2.0, 3.0)]
    assert labels == ["searching", "searching", "ok"]  # three agreeing values seed the median
    return quality


# --------------------------------------------------------------------------- 25 % jump


@pytest.mark.parametrize(
    "hr, label",
    [
        (124.9, "ok"),
        (125.0, "ok"),  # exactly 25 % above: still accepted
        (125.1, "artefact"),
        (75.1, "ok"),
        (75.0, "ok"),  # exactly 25 % below: still accepted
        (74.9, "artefact"),
    ],
)
def test_a_rate_more_than_25_percent_from_the_median_is_an_artefact(hr: float, label: str) -> None:
    out = learned(100.0).process(Reading(t=4.0, hr=hr))
    assert out.quality == label


@pytest.mark.parametrize(
    "rr_ms, label",
    [
        (641.0, "ok"),  # 93.6 bpm
        (640.0, "ok"),  # 93.75 bpm: exactly 25 % above a median of 75 bpm
        (639.0, "artefact"),  # 93.9 bpm
        (1066.0, "ok"),  # 56.3 bpm
        (1067.0, "artefact"),  # 56.2 bpm: more than 25 % below 75 bpm
    ],
)
def test_a_beat_more_than_25_percent_from_the_median_is_an_artefact(
    rr_ms: float, label: str
) -> None:
    out = learned(75.0).process(Reading(t=4.0, rr_ms=(rr_ms,)))
    assert out.quality == label


def test_an_artefact_keeps_the_device_value_for_the_record_but_is_not_good() -> None:
    out = learned(100.0).process(Reading(t=4.0, hr=140.0))
    assert out.quality == "artefact" and out.hr == 140.0 and not out.good


# --------------------------------------------------------------------------- RR 300-2000 ms


@pytest.mark.parametrize(
    "median_bpm, rr_ms, label",
    [
        (200.0, 299.0, "artefact"),
        (200.0, 300.0, "ok"),  # 300 ms is in range
        (200.0, 301.0, "ok"),
        (30.0, 1999.0, "ok"),
        (30.0, 2000.0, "ok"),  # 2000 ms is in range
        (30.0, 2001.0, "artefact"),
    ],
)
def test_beat_intervals_outside_300_to_2000_ms_are_dropped(
    median_bpm: float, rr_ms: float, label: str
) -> None:
    out = learned(median_bpm).process(Reading(t=4.0, rr_ms=(rr_ms,)))
    assert out.quality == label
    assert out.rr_ms == ((rr_ms,) if label == "ok" else ())


def test_out_of_range_intervals_are_dropped_from_a_reading_that_keeps_the_rest() -> None:
    out = learned(200.0).process(Reading(t=4.0, rr_ms=(299.0, 300.0)))
    assert out.quality == "ok" and out.rr_ms == (300.0,)
    out = learned(30.0).process(Reading(t=4.0, rr_ms=(2000.0, 2001.0)))
    assert out.quality == "ok" and out.rr_ms == (2000.0,)


# --------------------------------------------------------------------------- stale after 5 s


def test_signal_is_stale_5_s_after_the_last_good_reading() -> None:
    quality = learned(70.0)  # last good reading at t = 3.0
    assert quality.tick(7.999) is None
    stale = quality.tick(8.0)
    assert stale is not None and stale.quality == "stale" and stale.hr is None
    assert quality.stale


def test_signal_is_stale_5_s_after_the_start_when_nothing_good_ever_came() -> None:
    quality = SignalQuality()
    assert quality.tick(10.0) is None
    assert quality.process(Reading(t=12.0, hr=None, quality="no-contact")).quality == "no-contact"
    assert quality.tick(14.999) is None
    assert quality.tick(15.0) is not None


def test_stale_is_repeated_once_a_second_and_ends_with_a_good_reading() -> None:
    quality = learned(70.0)
    assert quality.tick(8.0) is not None
    assert quality.tick(8.999) is None
    assert quality.tick(9.0) is not None
    assert quality.process(Reading(t=9.5, hr=70.0)).quality == "ok"
    assert not quality.stale
    assert quality.tick(14.499) is None
    assert quality.tick(14.5) is not None


# --------------------------------------------------------------------------- plausible 25-250 bpm


@pytest.mark.parametrize(
    "value, plausible",
    [(24.9, False), (25.0, True), (25.1, True), (249.9, True), (250.0, True), (250.1, False)],
)
def test_plausible_heart_rate_is_25_to_250_bpm(value: float, plausible: bool) -> None:
    assert plausible_hr(value) == (value if plausible else None)


@pytest.mark.parametrize(
    "packet, hr",
    [
        (bytes([0x80, 0x18, 0x61]), None),  # 24 bpm
        (bytes([0x80, 0x19, 0x61]), 25.0),
        (bytes([0x81, 0x7A, 0x61]), 250.0),  # HR bit 7 + 0x7A
        (bytes([0x81, 0x7B, 0x61]), None),  # 251 bpm
    ],
)
def test_a_decoder_never_emits_a_rate_outside_25_to_250_bpm(
    packet: bytes, hr: float | None
) -> None:
    out = NoninFormat1Decoder().feed(packet, 0.0)
    assert [r.hr for r in out] == [hr]


@pytest.mark.parametrize("hr", [24.9, 250.1])
def test_a_reading_outside_25_to_250_bpm_cannot_be_made(hr: float) -> None:
    with pytest.raises(ValueError, match="hr"):
        Reading(t=0.0, hr=hr)


def test_rates_at_25_and_250_bpm_pass_signal_quality_unchanged() -> None:
    high = learned(250.0).process(Reading(t=4.0, hr=250.0))
    low = learned(25.0).process(Reading(t=4.0, hr=25.0))
    assert (high.quality, high.hr) == ("ok", 250.0)
    assert (low.quality, low.hr) == ("ok", 25.0)
