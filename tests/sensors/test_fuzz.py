"""Every decoder is total: random and mutated bytes never raise and never give an implausible HR.

Numbers are hostile too: a 400-digit run, `1e400`, `nan` or `inf` inside an otherwise valid line
once raised OverflowError (JSON makes a 400-digit number a Python int, and float() of it
overflows), which ended the sensor thread for the rest of the session.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exposure.models import Reading
from sensors.base import Decoder
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


def feed_chunks(
    name: str,
    data: bytes,
    cuts: list[int],
    sample_rate: float | None,
    decoder: Decoder | None = None,
) -> list[Reading]:
    """Feed `data` cut at `cuts` to `decoder` (a fresh one by default); every reading checked."""
    if decoder is None:
        decoder = PROTOCOLS[name].make_decoder(sample_rate)
    t = 0.0
    start = 0
    out: list[Reading] = []
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        t += 0.01
        readings = decoder.feed(data[start:cut], t)
        check(readings)
        out.extend(readings)
        start = max(start, cut)
    return out


NINES = b"9" * 400
HOSTILE_LINES = (  # the cases that raised, and their kin, in every decoder's line shapes
    b"HR:" + NINES + b"\n",
    b"BPM=" + NINES + b" SpO2=" + NINES + b" RR=" + NINES + b"\n",
    b'{"hr": ' + NINES + b"}\n",
    b'{"bpm": 72, "rr_ms": [' + NINES + b', 1e400], "spo2": ' + NINES + b"}\n",
    b'{"rr": ' + NINES + b"}\n",
    b'{"hr": 1e400}\n{"hr": -1e400}\n{"hr": NaN}\n{"hr": Infinity}\n{"hr": -Infinity}\n',
    NINES + b",800\n",
    b"time,hr,rr\n1," + NINES + b"," + NINES + b"\n",
    NINES + b"\n1e400\nnan\ninf\n-inf\nNaN\nInfinity\n",
    b"HR:1e400\nHR:nan\nHR:inf\n",
    b"S" + NINES + b"\nB" + NINES + b"\nQ" + NINES + b"\n",
    b"B1e400\nQnan\nSinf\nB" + b"9" * 40 + b"\nQ" + b"9" * 40 + b"\nS" + b"9" * 40 + b"\n",
    b"9" * 40 + b"," + b"9" * 40 + b",1\n1e400,1e400,1e400\nnan,nan,nan\ninf,800,512\n",
    b"HRM " + b"16" * 80 + b"\nHRM 10" + b"F" * 60 + b"*" + NINES + b"\n",
)


@pytest.mark.parametrize("name", list(PROTOCOLS))
@FUZZ
@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    rate=st.sampled_from([None, 50.0]),
)
@example(data=HOSTILE_LINES[0], cuts=[], rate=None)
@example(data=HOSTILE_LINES[1], cuts=[], rate=None)
@example(data=HOSTILE_LINES[2], cuts=[], rate=None)
@example(data=HOSTILE_LINES[3], cuts=[], rate=None)
@example(data=HOSTILE_LINES[4], cuts=[], rate=None)
@example(data=HOSTILE_LINES[5], cuts=[], rate=None)
@example(data=HOSTILE_LINES[6], cuts=[], rate=None)
@example(data=HOSTILE_LINES[7], cuts=[], rate=None)
@example(data=HOSTILE_LINES[8], cuts=[], rate=50.0)
@example(data=HOSTILE_LINES[9], cuts=[], rate=None)
@example(data=HOSTILE_LINES[10], cuts=[], rate=50.0)
@example(data=HOSTILE_LINES[11], cuts=[], rate=50.0)
@example(data=HOSTILE_LINES[12], cuts=[], rate=None)
@example(data=HOSTILE_LINES[13], cuts=[], rate=None)
@example(data=b"".join(HOSTILE_LINES), cuts=[7, 300, 1000], rate=None)
def test_random_bytes(name: str, data: bytes, cuts: list[int], rate: float | None) -> None:
    feed_chunks(name, data, cuts, rate)


# --------------------------------------------------------------------------- hostile numbers

NUMBER_LIKE = (
    "9" * 400,
    "-" + "9" * 400,
    "9" * 400 + ".5",
    "0." + "0" * 400 + "1",
    "1e400",
    "-1e400",
    "1e-400",
    "1E+999",
    "1e308",
    "2e308",
    "4.9e-324",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1_000",
    "0x48",
    "\u0667\u0662",  # Arabic-Indic 72: float() reads it, \\d matches it
    "+72",
    ".5",
    "5.",
    "1e",
    "---",
    "-0",
    "null",
    "true",
    "[]",
)
DIGITS = "0123456789"
number_tokens = st.one_of(
    st.sampled_from(NUMBER_LIKE),
    st.integers(1, 700).map(lambda n: "9" * n),  # long digit runs, past every line limit too
    st.text(DIGITS, min_size=1, max_size=700),
    st.builds(
        lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
        st.sampled_from(["", "-", "+"]),
        st.text(DIGITS, min_size=1, max_size=330),
        st.sampled_from(["", "."]).flatmap(
            lambda dot: st.text(DIGITS, max_size=330).map(lambda d: dot + d if dot else "")
        ),
        st.sampled_from(["", "e", "E"]).flatmap(
            lambda e: st.integers(-2000, 2000).map(lambda x: f"{e}{x}" if e else "")
        ),
    ),
    st.integers(-(10**700), 10**700).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

LINE_TEMPLATES = {  # lines of each protocol's shape with a number-like token in every number
    "text": (
        "HR:{0}",
        "BPM={0}",
        "Pulse={0} SpO2={1} RR={2}",
        "HR:72 RR={0} RR={1}",
        "{0}",
        "{0},{1}",
        "{0};{1};{2}",
        '{{"hr": {0}}}',
        '{{"bpm": {0}, "rr_ms": [{1}, {2}], "spo2": {1}}}',
        '{{"hr": 72, "rr": {0}, "spo2": {1}}}',
        '{{"ibi": [{0}]}}',
        "time,hr,rr\n{0},{1},{2}",
    ),
    "pulsesensor": ("S{0}", "B{0}\nQ{1}", "B72\nQ{0}", "{0},{1},{2}", "72,{0},512", "B{0}", "Q{0}"),
    "pulsesensor-raw": ("S{0}", "{0}", "-{0}", "S512\nS{0}\nS530"),
    "ble-bridge": ("HRM {0}", "HRM 10{0}*{1}", "HRM 1648{0}", "HRM {0}*00", "HRM LOST{0}"),
}
"""Binary protocols have no lines: there the tokens' bytes are spliced into the valid stream."""
TEMPLATE_EXAMPLES = max(len(t) for t in LINE_TEMPLATES.values())


def hostile_stream(name: str, tokens: list[str], template: int, position: int) -> bytes:
    """Part of a valid stream with number-like tokens inside it (or after it)."""
    valid = VALID[name]
    cut = position % (len(valid) + 1)
    templates = LINE_TEMPLATES.get(name)
    if templates is None:
        return valid[:cut] + "".join(tokens).encode()
    cut = valid.find(b"\n", cut) + 1  # between two whole lines
    text = templates[template % len(templates)]
    return valid[:cut] + text.format(*(tokens[k % len(tokens)] for k in range(3))).encode()


def read_after_hostile(
    name: str, tokens: list[str], template: int, position: int, cuts: list[int]
) -> list[Reading]:
    """Feed a hostile stream, then a whole valid stream; the readings of the valid one."""
    rate = 100.0 if PROTOCOLS[name].uses_sample_rate else None
    decoder = PROTOCOLS[name].make_decoder(rate)
    feed_chunks(name, hostile_stream(name, tokens, template, position), cuts, rate, decoder)
    decoder.feed(b"\r\n", 1.0)  # ends a hostile line, as the device's next line would
    return feed_chunks(name, VALID[name], cuts, rate, decoder)


# Each example here feeds two whole streams: a fifth of the examples (1,000 in the deep profile) costs what the
# other fuzz tests do, and the known cases are explicit examples and the test after this one.
NUMBER_FUZZ = settings(FUZZ, max_examples=max(300, FUZZ_EXAMPLES // 5))


@pytest.mark.parametrize("name", list(PROTOCOLS))
@NUMBER_FUZZ
@given(
    tokens=st.lists(number_tokens, min_size=1, max_size=3),
    template=st.integers(0, TEMPLATE_EXAMPLES - 1),
    position=st.integers(0, 10_000),
    cuts=st.lists(st.integers(0, 20_000), max_size=6),
)
@example(tokens=["9" * 400], template=0, position=0, cuts=[])
@example(tokens=["9" * 400], template=1, position=0, cuts=[])
@example(tokens=["9" * 400], template=2, position=0, cuts=[])
@example(tokens=["9" * 400], template=3, position=0, cuts=[])
@example(tokens=["9" * 400], template=4, position=0, cuts=[])
@example(tokens=["9" * 400], template=5, position=0, cuts=[])
@example(tokens=["9" * 400], template=6, position=0, cuts=[])
@example(tokens=["9" * 400], template=7, position=0, cuts=[])
@example(tokens=["9" * 400], template=8, position=0, cuts=[])
@example(tokens=["9" * 400], template=9, position=0, cuts=[])
@example(tokens=["9" * 400], template=10, position=0, cuts=[])
@example(tokens=["9" * 400], template=11, position=0, cuts=[])
@example(tokens=["1e400", "nan", "inf"], template=8, position=0, cuts=[])
@example(tokens=["Infinity", "-Infinity", "NaN"], template=8, position=0, cuts=[])
@example(tokens=["9" * 300, "9" * 300, "9" * 300], template=2, position=0, cuts=[])
def test_number_like_tokens_in_valid_streams(
    name: str, tokens: list[str], template: int, position: int, cuts: list[int]
) -> None:
    readings = read_after_hostile(name, tokens, template, position, cuts)
    if name != "pulsesensor-raw":
        # The decoder goes on: the valid stream after the hostile line is read as before.
        # (A raw waveform is the exception: one sample of 999999 rightly dwarfs the pulse
        # in the beat detector's envelope for longer than this stream lasts.)
        assert any(r.good for r in readings), (name, tokens, template)


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_every_number_like_token_in_every_template(name: str) -> None:
    for template in range(len(LINE_TEMPLATES.get(name, ("",)))):
        for token in NUMBER_LIKE:
            readings = read_after_hostile(name, [token], template, 0, [])
            assert name == "pulsesensor-raw" or any(r.good for r in readings), (template, token)


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
        *HOSTILE_LINES,
    ):
        check(decoder.feed(line, 0.0))
