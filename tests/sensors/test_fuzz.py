"""Every decoder is total: random and mutated bytes never raise and never give an implausible HR."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exposure.models import Reading
from sensors.protocols import PROTOCOLS
from tests.sensors.conftest import FUZZ_EXAMPLES, simulate_stream

VALID = {name: simulate_stream(info, 8.0, seed=5)[0] for name, info in PROTOCOLS.items()}
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(readings: list[Reading]) -> None:
    for item in readings:
        assert item.hr is None or 25 <= item.hr <= 250
        assert item.spo2 is None or 0 <= item.spo2 <= 100


def feed_chunks(name: str, data: bytes, cuts: list[int], sample_rate: float | None) -> None:
    decoder = PROTOCOLS[name].make_decoder(sample_rate)
    t = 0.0
    start = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        t += 0.01
        check(decoder.feed(data[start:cut], t))
        start = max(start, cut)


@pytest.mark.parametrize("name", list(PROTOCOLS))
@FUZZ
@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    rate=st.sampled_from([None, 50.0]),
)
def test_random_bytes(name: str, data: bytes, cuts: list[int], rate: float | None) -> None:
    feed_chunks(name, data, cuts, rate)


@pytest.mark.parametrize("name", list(PROTOCOLS))
@FUZZ
@given(
    start=st.integers(0, 10_000),
    length=st.integers(1, 600),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "drop", "insert", "set"]),
            st.integers(0, 599),
            st.integers(0, 255),
        ),
        max_size=8,
    ),
    cuts=st.lists(st.integers(0, 600), max_size=6),
)
def test_mutated_valid_streams(
    name: str, start: int, length: int, edits: list[tuple[str, int, int]], cuts: list[int]
) -> None:
    valid = VALID[name]
    offset = start % max(1, len(valid))
    data = bytearray(valid[offset : offset + length])
    for kind, position, value in edits:
        if not data:
            break
        i = position % len(data)
        if kind == "flip":
            data[i] ^= 1 << (value % 8)
        elif kind == "drop":
            del data[i]
        elif kind == "insert":
            data.insert(i, value)
        else:
            data[i] = value
    feed_chunks(name, bytes(data), cuts, 100.0 if PROTOCOLS[name].uses_sample_rate else None)


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_huge_hr_values_are_never_emitted(name: str) -> None:
    # Structured attempts at impossible rates for the text formats (other formats cannot say >511).
    decoder = PROTOCOLS[name].make_decoder(None)
    for line in (
        b"HR:251\n",
        b"B999\nQ10\n",
        b"999,60,512\n",
        b'{"hr": 1e308}\n',
        b"nan\n",
        b"inf\n",
    ):
        check(decoder.feed(line, 0.0))
