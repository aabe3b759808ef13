"""Sensors found, not named: ports listed, protocols told by USB id or by listening."""

from __future__ import annotations

import os
import random
import sys
import tty

import pytest

from sensors.discovery import by_usb_id, discover, guess_protocol, present_ports, probe
from sensors.protocols import PROTOCOLS
from sensors.simulator import PtySimulator, SimulatedHeart
from tests.sensors.conftest import simulate_stream

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def test_two_ptys_speaking_different_protocols_are_each_told_apart() -> None:
    nonin = PtySimulator("nonin-7", SimulatedHeart(80.0, variability_bpm=0.5, seed=1), seed=1)
    text = PtySimulator("text", SimulatedHeart(70.0, variability_bpm=0.5, seed=2), seed=2)
    with nonin, text:
        found = {f.port: f for f in discover([nonin.port_path, text.port_path], seconds=2.0)}
    assert found[nonin.port_path].protocol == "nonin-7"
    assert found[text.port_path].protocol == "text"
    assert found[text.port_path].basis == "listened"
    assert "decoded as text" in found[text.port_path].detail


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_protocols_own_bytes_are_guessed_as_that_protocol(name: str) -> None:
    info = PROTOCOLS[name]
    _data, ticks = simulate_stream(info, 3.0, SimulatedHeart(75.0, variability_bpm=0.5, seed=3))
    same_setting = [p for p in PROTOCOLS.values() if p.settings == info.settings]
    guessed, count = guess_protocol(ticks, same_setting, 3.0)
    assert guessed == name
    assert count >= 1


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_no_protocol(seed: int) -> None:
    rng = random.Random(seed)
    noise = [(k / 10, rng.randbytes(8)) for k in range(30)]
    guessed, _count = guess_protocol(noise, list(PROTOCOLS.values()), 3.0)
    assert guessed is None


def test_an_arduino_is_known_by_its_usb_id_and_a_generic_bridge_is_not() -> None:
    assert by_usb_id(0x2341, 0x0043) == ("pulsesensor", "an Arduino Uno (PulseSensor Playground)")
    assert by_usb_id(0x10C4, 0xEA60) is None  # CP210x: carries any device
    assert by_usb_id(None, None) is None


def test_a_silent_port_says_to_check_the_sensor() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        name, sentence = probe(os.ttyname(slave), seconds=0.3)
    finally:
        os.close(master)
        os.close(slave)
    assert name is None
    assert sentence.startswith("Nothing came from") and sentence.endswith("worn?")


def test_a_port_that_cannot_be_opened_is_one_sentence() -> None:
    name, sentence = probe("/dev/vret-no-such-port", seconds=0.1)
    assert name is None
    assert sentence.startswith("No serial port at /dev/vret-no-such-port")


def test_extra_paths_are_listed_after_the_system_ports_and_busy_ports_are_not_opened() -> None:
    listed = present_ports(["/tmp/vret-pretend"])
    assert listed[-1].port == "/tmp/vret-pretend"
    found = discover(["/tmp/vret-pretend"], skip=["/tmp/vret-pretend"], listen_to_ports=False)
    busy = [f for f in found if f.port == "/tmp/vret-pretend"][0]
    assert busy.basis == "busy" and busy.protocol is None
