"""The simulated PulseSensor: its waveform, its beat lines and its miscounts during motion.

Written to kill mutants that survived `make mutation` (tools/mutation/). The raw-waveform decoder
finds beats in this wave, so its level, swing and noise are what the decoder is tested against.
"""

from __future__ import annotations

import random
import statistics

from sensors.base import HeartSample
from sensors.pulsesensor import (
    PulseSensorDecoder,
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
