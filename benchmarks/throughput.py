"""Throughput: each decoder against its device's fastest line rate; durable record appends."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table
from exposure.models import Ladder, Level, Reading, SessionStart, Tick
from sensors.protocols import PROTOCOLS
from sensors.simulator import SimulatedHeart
from vret.records import Records

CHUNK = 64  # bytes per read, as a serial read returns them


def device_stream(name: str, seconds: float) -> bytes:
    """`seconds` of what the simulated device sends, at its own output rate."""
    info = PROTOCOLS[name]
    encoder = info.make_encoder(None, 1)
    if info.init_bytes:
        encoder.receive(info.init_bytes)  # a CMS50 V7 streams only after its start command
    heart = SimulatedHeart(seed=1)
    heart.set_level(3.0, 0.0)
    period = 1.0 / encoder.rate
    if info.keepalive_bytes:  # a CMS50 V7 stops streaming without its keep-alive
        every = max(1, int(info.keepalive_interval_s * encoder.rate / 2))
        chunks = []
        for i in range(int(seconds * encoder.rate)):
            if i % every == 0:
                encoder.receive(info.keepalive_bytes)
            chunks.append(encoder.encode(heart.tick((i + 1) * period)))
        return b"".join(chunks)
    return b"".join(
        encoder.encode(heart.tick((i + 1) * period)) for i in range(int(seconds * encoder.rate))
    )


def line_rate_bytes_per_s(name: str) -> float:
    """The fastest the device's serial line can carry: baud over bits per character."""
    info = PROTOCOLS[name]
    bits = 1 + info.bytesize + (0 if info.parity == "N" else 1) + info.stopbits
    return info.baudrate / bits


def decoders(seconds: float = 60.0) -> tuple[list[dict[str, Any]], float]:
    rows = []
    for name, info in PROTOCOLS.items():
        data = device_stream(name, seconds)
        decoder = info.make_decoder(250.0 if info.uses_sample_rate else None)
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
        readings = 0
        start = time.perf_counter()
        for i, chunk in enumerate(chunks):
            readings += len(decoder.feed(chunk, i * 0.001))
        elapsed = time.perf_counter() - start
        speed = len(data) / elapsed
        rows.append(
            {
                "protocol": name,
                "bytes": len(data),
                "readings": readings,
                "bytes_per_s": speed,
                "line_rate_bytes_per_s": line_rate_bytes_per_s(name),
                "speedup": speed / line_rate_bytes_per_s(name),
            }
        )
    return rows, min(r["speedup"] for r in rows)


def records(events: int = 3000, synchronous: str = "NORMAL") -> float:
    """Committed event appends per second to SQLite (one transaction per event)."""
    ladder = Ladder(scene="spiders", levels=[Level(name="one")])
    with tempfile.TemporaryDirectory() as tmp:
        recs = Records(f"sqlite:///{Path(tmp) / 'bench.db'}", sqlite_synchronous=synchronous)  # type: ignore[arg-type]
        sid = recs.open_session(SessionStart(ladder=ladder), "spiders")
        batch = [
            Reading(t=i * 0.2, hr=70 + i % 9) if i % 5 == 0 else Tick(t=i * 0.2)
            for i in range(events)
        ]
        start = time.perf_counter()
        for event in batch:
            recs.append(sid, event)
        elapsed = time.perf_counter() - start
        recs.close()
    return events / elapsed


def run(results: dict[str, Any], quick: bool = False) -> None:
    rows, worst = decoders(20.0 if quick else 60.0)
    per_s = records(1000 if quick else 3000)
    per_s_full = records(1000 if quick else 3000, "FULL")
    print(
        table(
            "Throughput: decoders against their device's fastest line rate",
            ["protocol", "bytes", "readings", "MB/s", "line kB/s", "speedup"],
            [
                [
                    r["protocol"],
                    r["bytes"],
                    r["readings"],
                    r["bytes_per_s"] / 1e6,
                    r["line_rate_bytes_per_s"] / 1e3,
                    r["speedup"],
                ]
                for r in rows
            ],
        )
    )
    print(
        f"records: {per_s:.0f} committed event appends/s as sessions write them (SQLite WAL, "
        f"synchronous=NORMAL, fsync by a checkpoint each second); {per_s_full:.0f}/s with an "
        "fsync per event (FULL)"
    )
    results["decoders"] = rows
    results["decoder_min_speedup"] = round(worst, 1)
    results["records_events_per_s"] = round(per_s)
    results["records_events_per_s_fsync_each"] = round(per_s_full)
