"""Helpers for the sensor tests: drive an encoder into a decoder without a port."""

from __future__ import annotations

import os
import random

from exposure.models import Reading
from sensors.protocols import ProtocolInfo
from sensors.simulator import SimulatedHeart

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
# Each decoder gets two fuzz tests (random bytes, mutated valid streams): 10,000 examples in
# the deep profile (`make fuzz`).
FUZZ_EXAMPLES = 5_000 if DEEP else 300


def simulate_stream(
    info: ProtocolInfo, seconds: float, heart: SimulatedHeart | None = None, seed: int = 0
) -> tuple[bytes, list[tuple[float, bytes]]]:
    """(all bytes, [(time, bytes of that tick)]) of a protocol's simulator for `seconds`."""
    heart = heart or SimulatedHeart(seed=seed)
    encoder = info.make_encoder(None, seed)
    if info.init_bytes:
        encoder.receive(info.init_bytes)
    ticks = []
    n = int(seconds * encoder.rate)
    next_keepalive = info.keepalive_interval_s
    for k in range(1, n + 1):
        t = k / encoder.rate
        if info.keepalive_bytes and t >= next_keepalive:  # the host's keep-alive (CMS50 V7)
            encoder.receive(info.keepalive_bytes)
            next_keepalive += info.keepalive_interval_s
        ticks.append((t, encoder.encode(heart.tick(t))))
    return b"".join(data for _, data in ticks), ticks


def decode_ticks(
    info: ProtocolInfo,
    ticks: list[tuple[float, bytes]],
    sample_rate: float | None = None,
    chunk: int = 0,
    seed: int = 0,
) -> list[Reading]:
    """Feed the ticks to a fresh decoder, optionally re-cut into random chunks of up to `chunk`."""
    decoder = info.make_decoder(sample_rate)
    out: list[Reading] = []
    if not chunk:
        for t, data in ticks:
            out.extend(decoder.feed(data, t))
        return out
    rng = random.Random(seed)
    for t, data in ticks:
        i = 0
        while i < len(data):
            step = rng.randint(1, chunk)
            out.extend(decoder.feed(data[i : i + step], t))
            i += step
    return out
