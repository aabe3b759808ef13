"""Beat detection on a synthetic pulse wave, the signal-quality rules, the simulated heart."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from exposure.models import Reading
from sensors.beats import BeatDetector
from sensors.pulsesensor import PulseSensorRawDecoder
from sensors.quality import SignalQuality
from sensors.simulator import SimulatedHeart


def pulse_wave(phase: float) -> float:
    return math.exp(-(((phase - 0.2) / 0.08) ** 2) / 2) + 0.4 * math.exp(
        -(((phase - 0.55) / 0.1) ** 2) / 2
    )


def wave_samples(bpm: float, fs: float, seconds: float, noise: float, drift: float, seed: int = 1):
    rng = random.Random(seed)
    for n in range(int(fs * seconds)):
        t = n / fs
        x = pulse_wave((t * bpm / 60) % 1) + noise * rng.gauss(0, 1)
        x += drift * math.sin(2 * math.pi * 0.12 * t) + 0.3 * drift * t / seconds
        yield t, 512 + 250 * x


@pytest.mark.parametrize(
    "bpm, fs, noise, drift",
    [
        (60, 100, 0.0, 0.0),
        (72, 100, 0.05, 1.0),
        (45, 50, 0.05, 1.0),
        (120, 100, 0.1, 2.0),
        (180, 200, 0.05, 0.5),
        (95, 25, 0.05, 1.0),
    ],
)
def test_beat_detector_finds_the_rate(bpm: float, fs: float, noise: float, drift: float) -> None:
    detector = BeatDetector()
    rrs = [rr for t, x in wave_samples(bpm, fs, 60, noise, drift) if (rr := detector.add(x, t))]
    expected = 60_000 / bpm
    assert abs(len(rrs) - bpm) <= 3  # one interval per beat over a minute
    assert abs(60_000 / statistics.median(rrs) - bpm) < 1.5
    wrong = [rr for rr in rrs if abs(rr - expected) / expected > 0.1]
    assert len(wrong) <= 0.05 * len(rrs)


def test_beat_detector_is_silent_on_a_flat_line() -> None:
    detector = BeatDetector()
    assert all(detector.add(512.0, n / 100) is None for n in range(1000))


def test_raw_decoder_with_declared_sample_rate_times_by_count() -> None:
    decoder = PulseSensorRawDecoder(sample_rate=100.0)
    out: list[Reading] = []
    # Arrival times are bunched (a 0.5 s USB buffer): the sample rate still gives true intervals.
    lines = [f"{round(x)}\n".encode() for _, x in wave_samples(80, 100, 30, 0.03, 0.5)]
    for k in range(0, len(lines), 50):
        out += decoder.feed(b"".join(lines[k : k + 50]), 0.5 * (k // 50 + 1))
    beats = [r for r in out if r.hr is not None]
    assert abs(statistics.median(r.hr for r in beats) - 80) < 1.5
    assert all(len(r.rr_ms) == 1 for r in beats)


def test_raw_decoder_by_arrival_time_and_s_lines() -> None:
    decoder = PulseSensorRawDecoder()
    out: list[Reading] = []
    samples = list(wave_samples(66, 50, 30, 0.03, 0.5))
    for k in range(0, len(samples), 5):  # five samples per read, arriving every 0.1 s
        chunk = b"".join(f"S{round(x)}\n".encode() for _, x in samples[k : k + 5])
        out += decoder.feed(chunk, samples[k + 4][0])
    hrs = [r.hr for r in out if r.hr is not None]
    assert abs(statistics.median(hrs) - 66) < 2


# --------------------------------------------------------------------------- quality


def ok(t: float, hr: float | None = None, rr: tuple[float, ...] = ()) -> Reading:
    return Reading(t=t, hr=hr, rr_ms=rr)


def test_device_flags_gate() -> None:
    quality = SignalQuality()
    out = quality.process(Reading(t=0, hr=80, quality="no-contact"))
    assert out.quality == "no-contact" and out.hr is None
    assert quality.process(Reading(t=0, hr=80, quality="artefact")).quality == "artefact"


def test_rr_range_and_jumps_are_artefacts() -> None:
    quality = SignalQuality()
    labels = [quality.process(ok(k, rr=(800.0,))).quality for k in range(6)]
    assert labels == ["searching", "searching"] + ["ok"] * 4  # three agreeing beats to learn
    assert quality.process(ok(6, rr=(250.0,))).quality == "artefact"  # below 300 ms
    assert quality.process(ok(7, rr=(2100.0,))).quality == "artefact"  # above 2000 ms
    assert quality.process(ok(8, rr=(500.0,))).quality == "artefact"  # 37% jump: an extra beat
    kept = quality.process(ok(9, rr=(780.0, 400.0)))
    assert kept.quality == "ok" and kept.rr_ms == (780.0,)


def test_a_real_change_is_learned_after_it_lasts() -> None:
    quality = SignalQuality(relearn_s=8.0)
    for k in range(6):
        quality.process(ok(k, hr=70.0))
    labels = [quality.process(ok(6 + k, hr=100.0)).quality for k in range(12)]
    # A burst shorter than 8 s stays an artefact; a rate that holds for 8 s is the new normal.
    assert labels[:8] == ["artefact"] * 8 and labels[-1] == "ok"


def test_smoothing_follows_slowly() -> None:
    quality = SignalQuality(smooth_tau_s=2.0)
    for k in range(3):
        quality.process(ok(k, hr=70.0))
    step = quality.process(ok(3, hr=80.0))
    assert step.hr is not None and 70 < step.hr < 80


def test_stale_after_a_few_seconds_without_good_data() -> None:
    quality = SignalQuality(stale_after_s=5.0)
    for t in (8, 9, 10):
        quality.process(ok(t, hr=70.0))
    assert quality.tick(14.0) is None
    stale = quality.tick(15.5)
    assert stale is not None and stale.quality == "stale" and stale.hr is None
    assert quality.tick(15.7) is None  # repeated once a second, not on every tick
    assert quality.tick(16.6) is not None
    quality.process(Reading(t=17, hr=None, quality="searching"))
    assert quality.stale
    quality.process(ok(18, hr=71.0))
    assert not quality.stale and quality.tick(18.5) is None


def test_the_signal_comes_back_after_a_long_dropout() -> None:
    # regression: after a gap longer than gap_reset_s the median was reset on every reading,
    # so a replugged sensor stayed "searching" for ever
    quality = SignalQuality(gap_reset_s=10.0)
    for t in range(5):
        quality.process(ok(t, hr=70.0))
    labels = [quality.process(ok(30 + k * 0.25, hr=72.0)).quality for k in range(8)]
    assert labels[:2] == ["searching"] * 2 and labels[-1] == "ok"


# --------------------------------------------------------------------------- simulated heart


def test_heart_rises_after_a_lag_and_habituates() -> None:
    heart = SimulatedHeart(
        70.0, reactivity_bpm=10.0, lag_s=8.0, habituation_s=120.0, variability_bpm=0.0, seed=1
    )
    rest = heart.hr_at(60.0)
    heart.set_level(3, 60.0)
    assert heart.hr_at(62.0) < rest + 8  # not yet: the body lags
    peak = max(heart.hr_at(60.0 + s) for s in range(5, 60))
    assert peak > rest + 15
    later = heart.hr_at(60.0 + 600)
    assert rest + 5 < later < peak - 8  # habituated, but not all the way back
    heart.set_level(0, 700.0)
    assert abs(heart.hr_at(760.0) - 70) < 4


def test_heart_beats_match_its_rate_and_is_seeded() -> None:
    def run(seed: int) -> list[float]:
        heart = SimulatedHeart(90.0, variability_bpm=0.0, seed=seed)
        beats: list[float] = []
        for k in range(1, 3001):
            beats.extend(heart.tick(k / 50).beats)
        return beats

    beats = run(4)
    assert abs(len(beats) - 90) <= 2
    assert abs(statistics.median(beats) - 60_000 / 90) < 25
    assert run(4) == beats


def test_heart_artefacts_and_dropouts() -> None:
    heart = SimulatedHeart(artefacts_per_min=6, dropouts_per_min=3, seed=2)
    samples = [heart.tick(k / 10) for k in range(1, 6001)]
    assert any(s.artefact for s in samples) and any(not s.contact for s in samples)
    assert sum(not s.contact for s in samples) < len(samples) / 2


@pytest.mark.parametrize("name", ["pulsesensor", "ble-bridge", "text", "cms50-v7", "nonin-7"])
def test_quality_keeps_simulated_artefacts_out(name: str) -> None:
    """With motion artefacts and dropouts, every reading labelled ok is still near the true rate."""
    from sensors.protocols import PROTOCOLS
    from tests.sensors.conftest import decode_ticks, simulate_stream

    heart = SimulatedHeart(
        80.0, variability_bpm=1.0, artefacts_per_min=4, dropouts_per_min=2, seed=7
    )
    _, ticks = simulate_stream(PROTOCOLS[name], 180.0, heart)
    quality = SignalQuality()
    labelled = [quality.process(r) for r in decode_ticks(PROTOCOLS[name], ticks)]
    labels = {r.quality for r in labelled}
    assert "ok" in labels and labels & {"artefact", "no-contact", "searching"}
    # After the first 20 s: a burst of consistent artefacts at the very start can be learned
    # as the rate until the true rate has held for 8 s (nothing can tell them apart sooner).
    good = [r.hr for r in labelled if r.good and r.t > 20]
    assert len(good) > 50
    assert all(68 <= hr <= 92 for hr in good if hr is not None), (
        sorted(good)[:3] + sorted(good)[-3:]
    )
