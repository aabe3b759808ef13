"""The registry of heart-rate protocols: serial settings, decoder and simulator for each name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import serial

from sensors import ble_bridge, cms50, nonin, pulsesensor, text
from sensors.base import Decoder, Encoder


@dataclass(frozen=True)
class ProtocolInfo:
    """One protocol: what to open the port with, how to decode it, how to simulate it."""

    name: str
    description: str
    baudrate: int
    decoder: Callable[[float | None], Decoder]
    """Makes a fresh decoder; the argument is a declared sample rate (Hz) or None."""
    encoder: Callable[[float | None, int], Encoder]
    """Makes the simulator's encoder: (rate in ticks/s or None for the device's own, seed)."""
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_NONE
    stopbits: float = serial.STOPBITS_ONE
    init_bytes: bytes = b""
    """Written once after the port opens (CMS50 V7: start streaming)."""
    keepalive_bytes: bytes = b""
    """Written every `keepalive_interval_s` while connected (CMS50 V7)."""
    keepalive_interval_s: float = 0.0
    uses_sample_rate: bool = False
    """True when `--sample-rate` means something (raw waveforms)."""

    def make_decoder(self, sample_rate: float | None = None) -> Decoder:
        """A fresh decoder for one connection."""
        return self.decoder(sample_rate)

    def make_encoder(self, rate: float | None = None, seed: int = 0) -> Encoder:
        """A fresh simulator encoder."""
        return self.encoder(rate, seed)

    @property
    def settings(self) -> str:
        """Serial settings the way a device manual writes them, e.g. `19200 8O1`."""
        return f"{self.baudrate} {self.bytesize}{self.parity}{int(self.stopbits)}"


PROTOCOLS: dict[str, ProtocolInfo] = {
    info.name: info
    for info in (
        ProtocolInfo(
            name="pulsesensor",
            description="PulseSensor Playground visualizer (S/B/Q) or plotter (bpm,ibi,signal) lines",
            baudrate=115200,
            decoder=lambda rate: pulsesensor.PulseSensorDecoder(),
            encoder=lambda rate, seed: pulsesensor.PulseSensorVisualizerEncoder(rate, seed),
        ),
        ProtocolInfo(
            name="pulsesensor-raw",
            description="a raw pulse wave (S lines or bare numbers); vret finds the beats",
            baudrate=115200,
            decoder=lambda rate: pulsesensor.PulseSensorRawDecoder(rate),
            encoder=lambda rate, seed: pulsesensor.PulseSensorRawEncoder(rate, seed),
            uses_sample_rate=True,
        ),
        ProtocolInfo(
            name="cms50-legacy",
            description="Contec CMS50D+/E/F, legacy 5-byte packets",
            baudrate=19200,
            parity=serial.PARITY_ODD,
            decoder=lambda rate: cms50.Cms50LegacyDecoder(),
            encoder=lambda rate, seed: cms50.Cms50LegacyEncoder(rate, seed),
        ),
        ProtocolInfo(
            name="cms50-v7",
            description="Contec CMS50D+/E/F, communication protocol V7.0 (start + keep-alive)",
            baudrate=115200,
            decoder=lambda rate: cms50.Cms50V7Decoder(),
            encoder=lambda rate, seed: cms50.Cms50V7Encoder(rate, seed),
            init_bytes=cms50.V7_START,
            keepalive_bytes=cms50.V7_KEEPALIVE,
            keepalive_interval_s=cms50.KEEPALIVE_INTERVAL_S,
        ),
        ProtocolInfo(
            name="nonin-1",
            description="Nonin OEM III / Xpod data format #1 (3-byte packets, 1 per second)",
            baudrate=9600,
            decoder=lambda rate: nonin.NoninFormat1Decoder(),
            encoder=lambda rate, seed: nonin.NoninFormat1Encoder(rate, seed),
        ),
        ProtocolInfo(
            name="nonin-2",
            description="Nonin OEM III / Xpod data format #2 (5-byte frames, 8-bit pleth)",
            baudrate=9600,
            decoder=lambda rate: nonin.NoninFrameDecoder(2),
            encoder=lambda rate, seed: nonin.NoninFrameEncoder(2, rate, seed),
        ),
        ProtocolInfo(
            name="nonin-7",
            description="Nonin OEM III / Xpod data format #7 (5-byte frames, 16-bit pleth)",
            baudrate=9600,
            decoder=lambda rate: nonin.NoninFrameDecoder(7),
            encoder=lambda rate, seed: nonin.NoninFrameEncoder(7, rate, seed),
        ),
        ProtocolInfo(
            name="ble-bridge",
            description="Bluetooth heart-rate strap (0x2A37) relayed by a serial bridge as HRM lines",
            baudrate=115200,
            decoder=lambda rate: ble_bridge.BleBridgeDecoder(),
            encoder=lambda rate, seed: ble_bridge.BleBridgeEncoder(rate, seed),
        ),
        ProtocolInfo(
            name="text",
            description='plain text lines: HR:72, BPM=72, 72, CSV, JSON {"hr": 72}',
            baudrate=115200,
            decoder=lambda rate: text.TextDecoder(),
            encoder=lambda rate, seed: text.TextEncoder(rate, seed),
        ),
    )
}


def get_protocol(name: str) -> ProtocolInfo:
    """The protocol called `name`; raises ValueError with one sentence listing the valid names."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        names = ", ".join(PROTOCOLS)
        raise ValueError(f"Unknown sensor protocol {name!r}: use one of {names}.") from None
