"""Simulator -> pseudo-terminal -> pyserial -> decoder -> signal quality, for every protocol."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from exposure.models import Reading
from sensors import cli as sensors_cli
from sensors.base import HeartSample
from sensors.cli import main as sensors_main
from sensors.cms50 import Cms50V7Encoder
from sensors.protocols import PROTOCOLS, get_protocol
from sensors.quality import SignalQuality
from sensors.simulator import PtySimulator, SimulatedHeart
from sensors.source import SerialSource, describe_open_error
from sensors.text import TextDecoder, TextEncoder
from vret.cli import COMMAND_MODULES

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


class Collector:
    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.status: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def reading(self, item: Reading) -> None:
        with self.lock:
            self.readings.append(item)

    def on_status(self, kind: str, sentence: str) -> None:
        with self.lock:
            self.status.append((kind, sentence))

    def good(self) -> list[Reading]:
        with self.lock:
            return [r for r in self.readings if r.good]


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def all_protocols() -> Iterator[dict[str, Collector]]:
    """Every protocol's simulator read by a SerialSource, all at once to keep the suite fast."""
    sims, sources, results = [], [], {}
    for k, name in enumerate(PROTOCOLS):
        sim = PtySimulator(name, SimulatedHeart(88.0, variability_bpm=0.5, seed=k), seed=k).start()
        collector = Collector()
        rate = sim.rate if PROTOCOLS[name].uses_sample_rate else None
        source = SerialSource(
            sim.port_path,
            name,
            sample_rate=rate,
            on_reading=collector.reading,
            on_status=collector.on_status,
        )
        source.start()
        sims.append(sim)
        sources.append(source)
        results[name] = collector
    try:
        wait_for(lambda: all(len(c.good()) >= 3 for c in results.values()), timeout=20)
        yield results
    finally:
        for source in sources:
            source.stop()
        for sim in sims:
            sim.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_end_to_end_every_protocol(all_protocols: dict[str, Collector], name: str) -> None:
    collector = all_protocols[name]
    good = collector.good()
    assert len(good) >= 3, (name, collector.readings[-5:], collector.status)
    assert all(78 <= (r.hr or 0) <= 98 for r in good), [r.hr for r in good]
    assert collector.status[0][0] == "connected"


@pytest.mark.timeout(60)
def test_unplug_and_replug_reconnects() -> None:
    collector = Collector()
    with PtySimulator("text", SimulatedHeart(seed=1), rate=20) as sim:
        source = SerialSource(
            sim.port_path,
            "text",
            on_reading=collector.reading,
            on_status=collector.on_status,
            reconnect_interval_s=0.2,
        )
        source.start()
        try:
            assert wait_for(lambda: len(collector.good()) >= 5, 10)
            sim.unplug()
            assert wait_for(lambda: any(k == "disconnected" for k, _ in collector.status), 5)
            assert wait_for(lambda: any(k == "error" for k, _ in collector.status), 5)
            error = next(s for k, s in collector.status if k == "error")
            assert error.startswith("No serial port at") and "plug" in error
            before = len(collector.good())
            sim.replug()
            assert wait_for(lambda: len(collector.good()) >= before + 5, 10)
            assert [k for k, _ in collector.status].count("connected") == 2
            assert source.connections == 2
        finally:
            source.stop()


@pytest.mark.timeout(60)
def test_signal_goes_stale_when_the_device_stops_talking() -> None:
    collector = Collector()
    with PtySimulator("text", SimulatedHeart(seed=1), rate=20) as sim:
        source = SerialSource(
            sim.port_path,
            "text",
            on_reading=collector.reading,
            quality=SignalQuality(stale_after_s=1.0),
            reconnect_interval_s=0.2,
        )
        with source:
            assert wait_for(lambda: len(collector.good()) >= 3, 10)
            sim.unplug()
            assert wait_for(lambda: any(r.quality == "stale" for r in collector.readings), 5)


@pytest.mark.timeout(60)
def test_cms50_v7_start_and_keep_alive() -> None:
    """The V7 device streams only after START and stops when keep-alives stop."""
    collector = Collector()
    encoder = Cms50V7Encoder(keepalive_timeout_s=1.0)
    with PtySimulator("cms50-v7", SimulatedHeart(seed=1), encoder=encoder) as sim:
        source = SerialSource(
            sim.port_path, "cms50-v7", on_reading=collector.reading, keepalive_interval_s=0.3
        )
        with source:
            assert wait_for(lambda: len(collector.good()) >= 3, 10)
            assert encoder.starts == 1 and encoder.keepalives >= 3  # still streaming after 3 s
    silent = Collector()
    encoder = Cms50V7Encoder(keepalive_timeout_s=1.0)
    with PtySimulator("cms50-v7", SimulatedHeart(seed=1), encoder=encoder) as sim:
        source = SerialSource(
            sim.port_path, "cms50-v7", on_reading=silent.reading, keepalive_interval_s=1000.0
        )
        with source:
            assert wait_for(lambda: encoder.starts == 1, 5)

            def stale_twice() -> bool:  # stale is repeated once a second while nothing comes
                return sum(r.quality == "stale" for r in silent.readings) >= 2

            assert wait_for(stale_twice, 15)
            # Without keep-alives the device went quiet: only "stale" follows the first stale.
            first = next(i for i, r in enumerate(silent.readings) if r.quality == "stale")
            assert all(r.quality == "stale" for r in silent.readings[first:])
            assert encoder.keepalives == 0


class FragileTextDecoder(TextDecoder):
    """The real text decoder with a planted bug: a line starting `FAULT` raises."""

    def parse_line(self, line: str, t: float) -> list[Reading]:
        if line.startswith("FAULT"):
            raise OverflowError("a planted decoder bug")
        return super().parse_line(line, t)


class FaultyTextEncoder(TextEncoder):
    """The text simulator, with a `FAULT` line before the line of every `every`-th tick."""

    def __init__(self, every: int, rate: float) -> None:
        super().__init__(rate)
        self.every = every
        self.faults = 0

    def encode(self, sample: HeartSample) -> bytes:
        line = super().encode(sample)
        if self._ticks % self.every:
            return line
        self.faults += 1
        return b"FAULT\r\n" + line


@pytest.mark.timeout(60)
def test_a_decoder_that_raises_is_replaced_and_reading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made: list[FragileTextDecoder] = []

    def make_decoder(rate: float | None) -> FragileTextDecoder:
        made.append(FragileTextDecoder())
        return made[-1]

    protocol = dataclasses.replace(get_protocol("text"), decoder=make_decoder)
    encoder = FaultyTextEncoder(every=10, rate=20)  # a fault every half second
    collector = Collector()

    def reports() -> list[str]:
        with collector.lock:
            return [s for k, s in collector.status if k == "decoder_error"]

    caplog.set_level(logging.ERROR, logger="sensors.source")
    with PtySimulator("text", SimulatedHeart(seed=1), encoder=encoder) as sim:
        source = SerialSource(
            sim.port_path,
            protocol,
            on_reading=collector.reading,
            on_status=collector.on_status,
            decoder_error_report_s=1.0,
        )
        with source:
            assert wait_for(lambda: source.decoder_errors >= 3, 10), collector.status
            good = len(collector.good())
            assert wait_for(lambda: len(collector.good()) >= good + 5, 10)  # reading goes on
            assert wait_for(lambda: len(reports()) >= 2, 10)
            errors = source.decoder_errors
    assert len(made) == errors + 1  # each fault: a fresh decoder
    assert source.connections == 1  # reset, not reconnected
    assert [k for k, _ in collector.status if k != "decoder_error"] == ["connected"]
    # Reported at most once a second, and a later report counts the faults it stood for.
    assert len(reports()) < errors
    first, second = reports()[:2]
    assert first.startswith("The text decoder failed on data from ")
    assert "OverflowError: a planted decoder bug" in first and "restarted" in first
    assert first.count(". ") == 0 and first.endswith(".")  # one sentence
    assert "more since the last report" in second
    assert any(
        r.exc_info is not None and "text decoder raised" in r.message for r in caplog.records
    )


@pytest.mark.timeout(60)
def test_high_line_rate_is_kept_up_with() -> None:
    collector = Collector()
    sim = PtySimulator("text", SimulatedHeart(seed=1), rate=500)
    with sim, SerialSource(sim.port_path, "text", on_reading=collector.reading):
        # 500 lines a second, each one a reading: none is lost or left behind on the way
        assert wait_for(lambda: len(collector.readings) > 600, 20)


# --------------------------------------------------------------------------- the commands


def test_cli_protocols_lists_every_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert sensors_main(["protocols"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PROTOCOLS) and "19200 8O1" in out


def test_cli_listen_missing_port_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert sensors_main(["listen", "/dev/ttyVRETnone", "--protocol", "text", "--seconds", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vret: No serial port at /dev/ttyVRETnone:") and err.count("\n") == 0
    assert sensors_main(["listen", "/dev/null", "--protocol", "nope"]) == 2
    assert "use one of" in capsys.readouterr().err


def test_permission_error_names_the_dialout_group() -> None:
    sentence = describe_open_error("/dev/ttyUSB0", PermissionError(13, "Permission denied"))
    assert "dialout" in sentence if sys.platform.startswith("linux") else "Permission" in sentence


def test_sensors_are_registered_in_vret() -> None:
    assert sensors_cli in COMMAND_MODULES


@pytest.mark.timeout(60)
def test_cli_listen_json_against_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    with PtySimulator("ble-bridge", SimulatedHeart(75.0, seed=2)) as sim:
        code = sensors_main(
            ["listen", sim.port_path, "--protocol", "ble-bridge", "--seconds", "3.5", "--json"]
        )
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) >= 2
    for record in lines:
        assert {"t", "hr", "quality", "rr_ms"} <= set(record)
        assert isinstance(record["rr_ms"], list) and record["t"] >= 0
    assert any(r["quality"] == "ok" and 65 < r["hr"] < 85 for r in lines)


@pytest.mark.timeout(60)
def test_cli_simulate_prints_its_path_and_takes_levels_on_stdin() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sensors.cli",
            "simulate",
            "--protocol",
            "text",
            "--hr",
            "70",
            "--rate",
            "5",
            "--seconds",
            "20",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        path = process.stdout.readline().strip()
        assert path.startswith("/") and "text" in path
        import serial

        with serial.serial_for_url(path, baudrate=115200, timeout=0.5, xonxoff=False) as port:
            assert b"HR:" in port.read(200)
        process.stdin.write("4\n")
        process.stdin.flush()
        assert process.stderr is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if "exposure level 4" in line:
                break
        else:
            pytest.fail("the simulator did not take the level typed on stdin")
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.timeout(60)
def test_socket_url_bridge() -> None:
    """Any pyserial URL works: here a TCP bridge (socket://) sending text lines."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            while not stop.is_set():
                try:
                    connection.sendall(b"HR:64\r\n")
                except OSError:  # the reader closed the connection first
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    collector = Collector()
    try:
        with SerialSource(f"socket://127.0.0.1:{port}", "text", on_reading=collector.reading):
            assert wait_for(lambda: len(collector.good()) >= 5, 10)
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert {r.hr for r in collector.good()} == {64.0}
