"""PulseSensor: the line decoders, beats found in a raw wave, and the simulated sensor.

Written to kill mutants that survived `make mutation` (tools/mutation/). The raw-waveform decoder
finds beats in this wave, so its level, swing and noise are what the decoder is tested against.
"""

from __future__ import annotations

import math
import random
import statistics

from exposure.models import Reading
from sensors.base import HeartSample
from sensors.pulsesensor import (
    PulseSensorDecoder,
    PulseSensorRawDecoder,
    PulseSensorRawEncoder,
    PulseSensorVisualizerEncoder,
    _signal,
)


def sample(t: float = 1.0, **fields: object) -> HeartSample:
    values: dict[str, object] = {"hr": 72.0, "pleth": 0.5}
    values.update(fields)
    return HeartSample(t=t, **values)  # type: ignore[arg-type]


def signals(n: int = 4000, **fields: object) -> list[int]:
    rng = random.Random(11)
    return [_signal(sample(**fields), rng) for _ in range(n)]


def test_without_a_finger_the_wave_is_a_flat_line_at_mid_scale() -> None:
    values = signals(contact=False)
    assert 511.0 < statistics.mean(values) < 512.0  # 512 + noise, truncated to an integer
    assert 2.5 < statistics.stdev(values) < 3.5


def test_with_a_finger_the_wave_follows_the_pulse_from_430_to_690() -> None:
    low, mid, high = signals(pleth=0.0), signals(pleth=0.5), signals(pleth=1.0)
    assert 429.3 < statistics.mean(low) < 429.8
    assert 559.3 < statistics.mean(mid) < 559.8
    assert 689.3 < statistics.mean(high) < 689.8
    assert 3.5 < statistics.stdev(low) < 4.5


def test_motion_swings_the_wave_across_the_whole_10_bit_range() -> None:
    values = signals(20_000, pleth=1.0, artefact=True)
    assert min(values) == 0 and max(values) == 1023
    assert 600 < statistics.mean(values) < 700
    assert 150 < statistics.stdev(values) < 200


def test_the_visualizer_sends_a_sample_line_then_b_and_q_for_each_beat() -> None:
    encoder = PulseSensorVisualizerEncoder()
    assert encoder.rate == 50.0
    text = encoder.encode(sample(beats=(794.703, 1000.0))).decode()
    lines = text.split("\r\n")
    assert lines[0].startswith("S") and lines[0][1:].isdigit()
    # B is 60000 / IBI rounded (75.49989 -> 75), Q the interval rounded
    assert lines[1:] == ["B75", "Q795", "B60", "Q1000", ""]


def test_the_visualizer_sends_no_beats_without_a_finger() -> None:
    encoder = PulseSensorVisualizerEncoder()
    text = encoder.encode(sample(contact=False, beats=(800.0,))).decode()
    assert text.count("\r\n") == 1 and text.startswith("S")


def test_during_motion_the_visualizer_miscounts_by_half_0_6_or_1_7() -> None:
    encoder = PulseSensorVisualizerEncoder(seed=3)
    factors = set()
    decoder = PulseSensorDecoder()
    for k in range(40):
        text = encoder.encode(sample(t=float(k), artefact=True, beats=(1000.0,)))
        q = next(line for line in text.decode().split("\r\n") if line.startswith("Q"))
        factors.add(int(q[1:]) / 1000)
        (reading,) = decoder.feed(text, float(k))
        assert reading.hr == round(60_000 / int(q[1:]))  # B and Q tell the same miscount
    assert factors == {0.5, 0.6, 1.7}


def test_the_raw_encoder_sends_one_integer_line_per_sample_at_100_hz() -> None:
    encoder = PulseSensorRawEncoder()
    assert encoder.rate == 100.0
    line = encoder.encode(sample()).decode()
    assert line.endswith("\r\n") and 400 < int(line) < 720


def test_the_simulators_are_reproducible_from_their_seed() -> None:
    def stream(encoder: PulseSensorRawEncoder | PulseSensorVisualizerEncoder) -> bytes:
        return b"".join(
            encoder.encode(sample(k / 50, artefact=True, beats=(800.0,))) for k in range(30)
        )

    assert stream(PulseSensorRawEncoder()) == stream(PulseSensorRawEncoder(seed=0))
    assert stream(PulseSensorVisualizerEncoder()) == stream(PulseSensorVisualizerEncoder(seed=0))


# --------------------------------------------------------------------------- the line decoders


def lines(decoder: PulseSensorDecoder | PulseSensorRawDecoder, timed: list[tuple[float, str]]):
    out = []
    for t, line in timed:
        out.extend(decoder.feed(line.encode() + b"\r\n", t))
    return out


def test_signal_values_must_lie_within_a_million_either_way() -> None:
    for text, counts in (
        ("1000000", False),
        ("-1000000", False),
        ("999999", True),
        ("-999999", True),
    ):
        out = lines(PulseSensorDecoder(), [(k / 2, "S" + text) for k in range(9)])
        assert bool(out) == counts, text  # only real samples make the sensor say searching


def test_visualizer_lines_up_to_64_characters_are_read() -> None:
    padded = "B72" + " " * 61
    assert [r.hr for r in lines(PulseSensorDecoder(), [(1.0, padded), (1.0, "Q800")])] == [72.0]
    # one more character: the B line is dropped and the rate comes from the interval alone
    too_long = padded + " "
    assert [r.hr for r in lines(PulseSensorDecoder(), [(1.0, too_long), (1.0, "Q800")])] == [75.0]


def test_plotter_lines_report_once_a_second_unless_the_values_change() -> None:
    timed = [(t, "72,833,512") for t in (0.0, 0.5, 1.0, 1.5, 2.0)] + [(2.2, "75,800,512")]
    out = lines(PulseSensorDecoder(), timed)
    assert [(r.t, r.hr) for r in out] == [(0.0, 72.0), (1.0, 72.0), (2.0, 72.0), (2.2, 75.0)]


def test_a_beat_without_a_rate_takes_it_from_its_interval() -> None:
    (out,) = lines(PulseSensorDecoder(), [(1.0, "B0"), (1.0, "Q800")])
    assert (out.quality, out.hr, out.rr_ms) == ("ok", 75.0, (800.0,))


def test_a_beat_without_rate_or_interval_is_searching() -> None:
    (out,) = lines(PulseSensorDecoder(), [(1.0, "Q0")])
    assert (out.quality, out.hr, out.rr_ms) == ("searching", None, ())


def test_a_rate_without_its_interval_is_reported_when_the_next_rate_comes() -> None:
    out = lines(PulseSensorDecoder(), [(1.0, "B72"), (2.0, "B75"), (2.0, "Q800")])
    assert [(r.t, r.hr, r.rr_ms) for r in out] == [(2.0, 72.0, ()), (2.0, 75.0, (800.0,))]


# --------------------------------------------------------------------------- the raw waveform


def wave(bpm: float, fs: float, seconds: float) -> list[int]:
    """A pulse wave (one narrow hump a beat) around mid-scale, as integer ADC samples."""
    out = []
    for n in range(int(fs * seconds)):
        phase = (n / fs * bpm / 60.0) % 1.0
        out.append(round(512 + 250 * math.exp(-(((phase - 0.2) / 0.08) ** 2) / 2)))
    return out


def rates(readings: list[Reading]) -> list[float]:
    """The rates of the beats found (the first interval is measured while the detector learns
    the wave's height, so the tests judge the ones after it)."""
    return [r.hr for r in readings if r.hr is not None]


def test_a_declared_sample_rate_must_be_a_positive_finite_number() -> None:
    for bad in (0.0, -5.0, math.nan, math.inf):
        assert PulseSensorRawDecoder(sample_rate=bad).sample_rate is None
    assert PulseSensorRawDecoder(sample_rate=1.0).sample_rate == 1.0
    assert PulseSensorRawDecoder(sample_rate=50.0).sample_rate == 50.0


def test_with_a_declared_rate_samples_are_timed_by_their_count() -> None:
    decoder = PulseSensorRawDecoder(sample_rate=50.0)
    data = "".join(f"{v}\r\n" for v in wave(60, 50, 6)).encode()
    found = rates(decoder.feed(data, 1.0))  # six seconds of samples arrive at once
    assert len(found) >= 4 and all(abs(hr - 60.0) < 1 for hr in found[1:])


def test_without_a_rate_samples_are_spread_over_the_time_since_the_last_read() -> None:
    decoder = PulseSensorRawDecoder()
    samples = wave(60, 50, 8)
    found = []
    for k in range(16):  # 25 samples (half a second at 50 Hz) every half second
        chunk = samples[25 * k : 25 * (k + 1)]
        found += rates(decoder.feed("".join(f"{v}\r\n" for v in chunk).encode(), 0.5 * (k + 1)))
    assert len(found) >= 5 and all(abs(hr - 60.0) < 1 for hr in found[1:])


def test_a_first_read_takes_10_ms_a_sample() -> None:
    samples = wave(60, 100, 6)
    decoder = PulseSensorRawDecoder()
    found = rates(decoder.feed("".join(f"{v}\r\n" for v in samples).encode(), 6.0))
    assert len(found) >= 4 and all(abs(hr - 60.0) < 1 for hr in found[1:])


def test_reads_stamped_with_the_same_time_continue_at_10_ms_a_sample() -> None:
    samples = wave(60, 100, 6)
    decoder = PulseSensorRawDecoder()
    found = []
    for k in range(12):  # a clock that did not move: every read stamped 3.0
        chunk = samples[50 * k : 50 * (k + 1)]
        found += rates(decoder.feed("".join(f"{v}\r\n" for v in chunk).encode(), 3.0))
    assert len(found) >= 4 and all(abs(hr - 60.0) < 1 for hr in found[1:])


def test_on_a_clock_that_moves_in_whole_seconds_time_never_runs_backwards() -> None:
    samples = wave(60, 100, 12)
    decoder = PulseSensorRawDecoder()
    found = []
    for k in range(48):  # a quarter of a second of samples a read, stamped with whole seconds
        chunk = samples[25 * k : 25 * (k + 1)]
        found += rates(decoder.feed("".join(f"{v}\r\n" for v in chunk).encode(), k // 4))
    # reads stamped with the last read's time go on from its last sample at 10 ms a sample,
    # and a read stamped later is spread from there, not back over samples already timed
    assert len(found) >= 10 and all(abs(hr - 60.0) < 0.01 for hr in found[1:])


def test_after_a_long_silence_a_read_is_taken_as_at_most_0_1_s_a_sample() -> None:
    decoder = PulseSensorRawDecoder()
    decoder.feed(b"512\r\n", 0.0)
    samples = wave(30, 10, 12)  # twelve seconds at 10 Hz, delivered a minute later
    found = rates(decoder.feed("".join(f"{v}\r\n" for v in samples).encode(), 60.0))
    assert len(found) >= 3 and all(abs(hr - 30.0) < 1 for hr in found[1:])


def test_the_rate_of_a_found_beat_is_60000_over_its_interval() -> None:
    decoder = PulseSensorRawDecoder(sample_rate=100.0)
    data = "".join(f"{v}\r\n" for v in wave(72, 100, 6)).encode()
    beats = [r for r in decoder.feed(data, 1.0) if r.rr_ms]
    assert beats and all(r.hr == 60_000.0 / r.rr_ms[0] for r in beats)


def test_signed_lines_are_samples_and_an_empty_s_line_is_nothing() -> None:
    decoder = PulseSensorRawDecoder()
    assert decoder.feed(b"S\r\n\r\nS512\r\n", 0.0) == []
    out = lines(PulseSensorRawDecoder(), [(k / 2, "+512") for k in range(9)])
    assert [r.quality for r in out] == ["searching", "searching"]
    out = lines(PulseSensorRawDecoder(), [(k / 2, "-3") for k in range(9)])
    assert [r.quality for r in out] == ["searching", "searching"]


def test_raw_lines_up_to_64_characters_are_read() -> None:
    padded = "512" + " " * 61
    out = lines(PulseSensorRawDecoder(), [(k / 2, padded) for k in range(9)])
    assert [r.quality for r in out] == ["searching", "searching"]  # they were samples
    assert lines(PulseSensorRawDecoder(), [(k / 2, padded + " ") for k in range(9)]) == []


def test_a_flat_line_says_searching_once_a_second_from_3_s() -> None:
    out = lines(PulseSensorRawDecoder(), [(k / 2, "S512") for k in range(12)])
    assert [(r.t, r.quality) for r in out] == [
        (3.0, "searching"),
        (4.0, "searching"),
        (5.0, "searching"),
    ]


def test_a_steady_pulse_never_says_searching() -> None:
    decoder = PulseSensorRawDecoder()
    samples = wave(60, 50, 10)
    out = []
    for k in range(20):
        chunk = samples[25 * k : 25 * (k + 1)]
        out += decoder.feed("".join(f"{v}\r\n" for v in chunk).encode(), 0.5 * (k + 1))
    assert out and all(r.quality == "ok" for r in out)
