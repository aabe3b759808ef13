"""Reading a sensor over serial in a thread: open, decode, label quality, hand readings on.

Blocking reads live here, in one thread per sensor, never on the asyncio loop or the render loop.
The thread also writes to the device (CMS50 V7 start and keep-alive), reconnects when the port
disappears and comes back (a USB cable pulled and pushed back), and reports what happens in one
sentence a therapist can act on.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
import threading
import time
from collections.abc import Callable

import serial

from exposure.errors import UserError
from exposure.models import Reading
from sensors.protocols import ProtocolInfo, get_protocol
from sensors.quality import SignalQuality

Status = str  # "connected" | "disconnected" | "error" | "decoder_error"

log = logging.getLogger(__name__)


class PortError(UserError):
    """A port that cannot be opened; the message is one sentence with the fix."""


def describe_open_error(url: str, err: Exception) -> str:
    """One sentence saying why `url` did not open and what to do about it."""
    code = getattr(err, "errno", None)
    text = str(err)
    if code == errno.ENOENT or "No such file" in text or "[Errno 2]" in text:
        return (
            f"No serial port at {url}: plug the sensor in and check the name "
            "(python -m serial.tools.list_ports lists the ports)."
        )
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text or "[Errno 13]" in text:
        if sys.platform.startswith("linux"):
            return (
                f"Permission denied for {url}: add yourself to the dialout group "
                "(sudo usermod -aG dialout $USER) and log out and in again."
            )
        return f"Permission denied for {url}: give your user access to the serial port."
    if code == errno.EBUSY or "[Errno 16]" in text or "busy" in text.lower():
        return f"{url} is in use by another program: close it (a serial monitor?) and try again."
    if "[Errno 111]" in text or "Connection refused" in text:
        return f"Nothing is listening at {url}: start the bridge or check the address."
    detail = text.rstrip(".") or type(err).__name__
    return f"Cannot open {url} ({detail}): check the port name and that the sensor is connected."


def open_port(
    url: str, protocol: ProtocolInfo, *, baudrate: int | None = None, timeout: float = 0.1
) -> serial.SerialBase:
    """Open `url` (a device path or any pyserial URL) with the protocol's settings.

    Software flow control stays off: XON/XOFF would eat the 0x11 and 0x13 bytes of binary data.
    Raises PortError with one sentence.
    """
    try:
        return serial.serial_for_url(
            url,
            baudrate=baudrate or protocol.baudrate,
            bytesize=protocol.bytesize,
            parity=protocol.parity,
            stopbits=protocol.stopbits,
            timeout=timeout,
            write_timeout=1.0,
            xonxoff=False,
            rtscts=False,
            dsrdtr=False,
        )
    except (serial.SerialException, OSError, ValueError) as err:
        raise PortError(describe_open_error(url, err)) from err


class SerialSource:
    """A sensor on a serial port, read by a thread that calls `on_reading` for every reading.

    `on_reading` and `on_status` are called from the sensor thread: a caller with an asyncio
    loop hands them over with `loop.call_soon_threadsafe`. `on_status(kind, sentence)` gets
    "connected", "disconnected", "error" or "decoder_error". Reading times come from `clock()`.

    A decoder that raises (a bug: decoders are meant to be total) is logged, reported as
    "decoder_error" (at most once per `decoder_error_report_s`, with a count of the others),
    and replaced by a fresh one; the bytes it failed on are dropped and reading goes on, so one
    bad line never ends the heart-rate signal for the rest of a session.
    """

    def __init__(
        self,
        url: str,
        protocol: str | ProtocolInfo,
        *,
        baudrate: int | None = None,
        sample_rate: float | None = None,
        on_reading: Callable[[Reading], None],
        on_status: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        quality: SignalQuality | None = None,
        reconnect_interval_s: float = 1.0,
        read_timeout_s: float = 0.1,
        keepalive_interval_s: float | None = None,
        decoder_error_report_s: float = 10.0,
    ) -> None:
        self.url = url
        self.protocol = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self.baudrate = baudrate
        self.sample_rate = sample_rate
        self.on_reading = on_reading
        self.on_status = on_status or (lambda kind, sentence: None)
        self.clock = clock
        self.quality = quality if quality is not None else SignalQuality()
        self.reconnect_interval_s = reconnect_interval_s
        self.read_timeout_s = read_timeout_s
        self.keepalive_interval_s = (
            keepalive_interval_s
            if keepalive_interval_s is not None
            else self.protocol.keepalive_interval_s
        )
        self.decoder_error_report_s = decoder_error_report_s
        self.connected = threading.Event()
        self.connections = 0
        """How many times the port has been opened (reconnections included)."""
        self.decoder_errors = 0
        """How many times a decoder raised and was replaced by a fresh one."""
        self._decoder_errors_unreported = 0
        self._decoder_error_reported_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: serial.SerialBase | None = None

    def start(self) -> None:
        """Start the sensor thread (returns at once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"vret-sensor-{self.protocol.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            with contextlib.suppress(OSError, serial.SerialException, AttributeError):
                port.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> SerialSource:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the thread

    def _emit(self, reading: Reading | None) -> None:
        if reading is not None:
            self.on_reading(reading)

    def _run(self) -> None:
        last_error: str | None = None
        while not self._stop.is_set():
            try:
                port = open_port(
                    self.url, self.protocol, baudrate=self.baudrate, timeout=self.read_timeout_s
                )
            except PortError as err:
                if str(err) != last_error:
                    last_error = str(err)
                    self.on_status("error", last_error)
                self._emit(self.quality.tick(self.clock()))
                self._stop.wait(self.reconnect_interval_s)
                continue
            last_error = None
            self._port = port
            self.connections += 1
            self.connected.set()
            baud = self.baudrate or self.protocol.baudrate
            self.on_status(
                "connected", f"Connected to {self.url} ({self.protocol.name}, {baud} baud)."
            )
            pause = min(self.reconnect_interval_s, 0.2)
            try:
                self._read(port)
            except (serial.SerialException, OSError, TypeError) as err:
                # TypeError: pyserial's read on a port closed under it by another thread.
                if not self._stop.is_set():
                    self.on_status(
                        "disconnected",
                        f"The sensor at {self.url} stopped answering ({type(err).__name__}): "
                        "check the cable; vret reconnects by itself when it is back.",
                    )
            except Exception as err:  # a fault past the decoder (signal quality, a callback)
                log.exception("The sensor thread for %s failed; it reconnects.", self.url)
                self.on_status(
                    "error",
                    f"Reading the sensor at {self.url} failed ({type(err).__name__}): "
                    "vret reconnects by itself; if this repeats, check the protocol setting.",
                )
                pause = self.reconnect_interval_s
            finally:
                self.connected.clear()
                self._port = None
                with contextlib.suppress(OSError, serial.SerialException):
                    port.close()
            self._stop.wait(pause)

    def _read(self, port: serial.SerialBase) -> None:
        decoder = self.protocol.make_decoder(self.sample_rate)
        last_keepalive = self.clock()
        if self.protocol.init_bytes:
            port.write(self.protocol.init_bytes)
        while not self._stop.is_set():
            data = port.read(1)  # waits up to the read timeout, so stale checks keep running
            if data and port.in_waiting:
                data += port.read(port.in_waiting)
            now = self.clock()
            if data:
                try:
                    items = decoder.feed(data, now)
                except Exception as err:  # a decoder bug must not end the signal for the session
                    self._decoder_failed(err, len(data), now)
                    decoder = self.protocol.make_decoder(self.sample_rate)
                    items = []
                for item in items:
                    self.on_reading(self.quality.process(item))
            self._emit(self.quality.tick(now))
            if self.protocol.keepalive_bytes and now - last_keepalive >= self.keepalive_interval_s:
                port.write(self.protocol.keepalive_bytes)
                last_keepalive = now

    def _decoder_failed(self, err: Exception, size: int, now: float) -> None:
        self.decoder_errors += 1
        self._decoder_errors_unreported += 1
        log.error(
            "The %s decoder raised on %d bytes from %s; it was replaced by a fresh one.",
            self.protocol.name,
            size,
            self.url,
            exc_info=err,
        )
        last = self._decoder_error_reported_at
        if last is not None and now - last < self.decoder_error_report_s:
            return
        others = self._decoder_errors_unreported - 1
        since = f" ({others} more since the last report)" if others > 0 else ""
        self._decoder_error_reported_at = now
        self._decoder_errors_unreported = 0
        detail = f"{type(err).__name__}: {err}"
        if len(detail) > 120:
            detail = detail[:117] + "..."
        self.on_status(
            "decoder_error",
            f"The {self.protocol.name} decoder failed on data from {self.url} ({detail}){since}: "
            "it was restarted and readings go on; if this repeats, check the protocol setting.",
        )
