"""Signal quality, rule by rule: what an artefact keeps, how the median learns and relearns,
smoothing, the gap that forgets, and when a stream that never settles goes stale.

Written to kill mutants that survived `make mutation` (tools/mutation/). The rules are those of
`sensors/quality.py`'s docstring; each test drives `SignalQuality` with readings as a decoder
would hand them over.
"""

from __future__ import annotations

from exposure.models import Reading
from sensors.quality import SignalQuality


def ok(t: float, hr: float | None = None, rr: tuple[float, ...] = ()) -> Reading:
    return Reading(t=t, hr=hr, rr_ms=rr)


def learned(quality: SignalQuality, hr: float = 70.0, until: float = 5.0) -> float:
    """Feed steady readings once a second up to `until`; returns the next time."""
    t = 0.0
    while t <= until:
        quality.process(ok(t, hr))
        t += 1.0
    return t


# --------------------------------------------------------------------------- device flags


def test_a_device_flagged_artefact_keeps_its_rate_and_other_flags_drop_it() -> None:
    quality = SignalQuality()
    out = quality.process(Reading(t=0.0, hr=150.0, quality="artefact"))
    assert (out.quality, out.hr) == ("artefact", 150.0)
    out = quality.process(Reading(t=1.0, hr=150.0, quality="no-contact"))
    assert (out.quality, out.hr) == ("no-contact", None)


# --------------------------------------------------------------------------- beats and rates


def test_while_learning_beats_that_disagree_are_searching_without_a_rate() -> None:
    quality = SignalQuality()
    out = quality.process(ok(0.0, hr=75.0, rr=(800.0,)))
    assert (out.quality, out.hr, out.rr_ms) == ("searching", None, ())
    out = quality.process(ok(1.0, hr=120.0))
    assert (out.quality, out.hr) == ("searching", None)


def test_after_learning_a_rejected_beat_is_an_artefact_that_keeps_the_device_rate() -> None:
    quality = SignalQuality()
    t = learned(quality)
    out = quality.process(ok(t, hr=71.0, rr=(400.0,)))  # 150 bpm beat: far from the median
    assert (out.quality, out.hr, out.rr_ms) == ("artefact", 71.0, ())


def test_a_device_rate_that_disagrees_with_its_accepted_beats_is_an_artefact() -> None:
    quality = SignalQuality()
    for t in range(6):
        quality.process(ok(float(t), rr=(800.0,)))
    out = quality.process(ok(6.0, hr=120.0, rr=(800.0, 2500.0)))
    assert (out.quality, out.rr_ms) == ("artefact", (800.0,))  # the beat out of range dropped


def test_without_a_device_rate_the_rate_is_that_of_the_mean_beat() -> None:
    quality = SignalQuality()
    outs = [quality.process(ok(float(t), rr=(750.0, 850.0))) for t in range(6)]
    assert outs[-1].quality == "ok"
    assert outs[-1].hr == 75.0
    assert outs[-1].rr_ms == (750.0, 850.0)


def test_the_device_rate_wins_over_its_beats_when_they_agree() -> None:
    quality = SignalQuality()
    outs = [quality.process(ok(float(t), hr=72.0, rr=(800.0,))) for t in range(6)]
    assert outs[-1].hr == 72.0


def test_an_ok_reading_without_rate_or_beats_is_searching() -> None:
    out = SignalQuality().process(ok(0.0))
    assert out.quality == "searching" and out.hr is None


def test_a_good_reading_without_beats_has_no_beats() -> None:
    quality = SignalQuality()
    learned(quality)
    assert quality.process(ok(6.0, hr=70.0)).rr_ms == ()


# --------------------------------------------------------------------------- the median


def test_the_median_follows_the_last_nine_accepted_rates() -> None:
    quality = SignalQuality()
    t = 0.0
    for hr in [60.0] * 9 + [74.0] * 5:
        quality.process(ok(t, hr))
        t += 1.0
    # the last nine: four at 60, five at 74 -> median 74, so 90 is within 25%
    assert quality.process(ok(t, 90.0)).quality == "ok"


def test_a_real_change_becomes_the_median_after_8_s_of_agreeing_readings() -> None:
    quality = SignalQuality()
    t = learned(quality, 70.0)
    first = t
    labels = {}
    while t <= first + 9.0:
        labels[t - first] = quality.process(ok(t, 100.0)).quality
        t += 1.0
    assert all(labels[k] == "artefact" for k in range(8))
    assert labels[8.0] == "ok" and labels[9.0] == "ok"


def test_slow_readings_need_four_agreeing_values_to_relearn() -> None:
    quality = SignalQuality()
    t = learned(quality, 70.0)
    labels = [quality.process(ok(t + 3.0 * k, 100.0)).quality for k in range(5)]
    # 0, 3, 6, 9 s: the fourth agreeing value, 9 s after the first, is the new median
    assert labels == ["artefact", "artefact", "artefact", "ok", "ok"]


def test_rejected_values_that_disagree_with_each_other_never_become_the_median() -> None:
    quality = SignalQuality()
    t = learned(quality, 70.0)
    labels = [quality.process(ok(t + k, 100.0 if k % 2 else 140.0)).quality for k in range(20)]
    assert "ok" not in labels  # artefacts, then (the history forgotten after 10 s) searching


def test_rejected_values_within_half_the_jump_of_their_median_agree() -> None:
    quality = SignalQuality()
    t = learned(quality, 50.0)
    # 63, 81, 72, 72: their median is 72 and each is within 12.5% (9 bpm) of it
    labels = [
        quality.process(ok(t + dt, hr)).quality for dt, hr in ((0, 63), (3, 81), (6, 72), (9, 72))
    ]
    assert labels == ["artefact", "artefact", "artefact", "ok"]


def test_rejected_values_further_apart_than_half_the_jump_do_not_agree() -> None:
    quality = SignalQuality()
    t = learned(quality, 50.0)
    # 64 and 80 are 25% apart around 72: they cannot relearn together
    labels = [quality.process(ok(t + 3.0 * k, 64.0 if k % 2 else 80.0)).quality for k in range(6)]
    assert "ok" not in labels


# --------------------------------------------------------------------------- smoothing and gaps


def test_accepted_rates_are_smoothed_with_a_2_s_time_constant() -> None:
    quality = SignalQuality()
    t = learned(quality, 70.0)
    # one second later, a step to 80 moves the output by 1 - exp(-1/2) of the step: 73.93
    assert quality.process(ok(t, 80.0)).hr == 73.9
    quality = SignalQuality()
    t = learned(quality, 70.0)
    # 20 ms or less counts as 20 ms: 1 - exp(-0.01) of the step
    assert quality.process(ok(t - 1.0 + 0.01, 80.0)).hr == 70.1


def test_a_gap_of_exactly_10_s_keeps_the_history_and_a_longer_one_forgets_it() -> None:
    quality = SignalQuality()
    t = learned(quality, 70.0)
    last = t - 1.0
    assert quality.process(ok(last + 10.0, 100.0)).quality == "artefact"
    quality = SignalQuality()
    t = learned(quality, 70.0)
    last = t - 1.0
    out = quality.process(ok(last + 10.5, 100.0))
    assert out.quality == "searching"  # learning afresh, not judged against the old median


def test_a_stream_that_never_gives_a_good_reading_is_stale_5_s_after_its_first() -> None:
    quality = SignalQuality()
    quality.process(Reading(t=10.0, hr=None, quality="searching"))
    assert quality.tick(14.9) is None
    stale = quality.tick(15.0)
    assert stale is not None and stale.quality == "stale"
