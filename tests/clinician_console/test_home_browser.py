"""The station's home page in a real Chromium: add a client, pick the simulated sensor and test
it, start, step up, end, and land back on the home page with the report a click away."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from clinician_console.network import ConsoleNetwork
from tests.clinician_console.conftest import ARTIFACTS
from vret.station_server import StationServer, StationThread

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pytest.fixture
def station(tmp_path: Path) -> Iterator[StationServer]:
    # no render process: the waiting room and a session's render process have their own test
    thread = StationThread(
        network=ConsoleNetwork(port=0),
        db=f"sqlite:///{tmp_path / 'station.db'}",
        render=False,
        listen_s=0.3,
        sensor_test_s=8.0,
    )
    yield thread.start()
    thread.stop()


def test_a_session_from_the_home_page_and_back(station: StationServer, browser: Any) -> None:
    base = f"http://127.0.0.1:{station.port}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(f"{base}/?token={station.token}")  # the cookie, then home
    expect(page).to_have_url(re.compile(r"/home$"))

    page.fill("#new-code", "C-0100")
    page.fill("#new-phobia", "spiders")
    page.click("#add-client")
    expect(page.locator("#client")).to_have_value("C-0100")
    page.select_option("#scene", "spiders")
    expect(page.locator("#hierarchy")).to_contain_text("the scene's own ladder")

    page.click("#find-sensors")
    expect(page.locator("#find-sensors")).to_be_enabled(timeout=30_000)
    page.select_option("#sensor", "simulated")
    page.click("#test-sensor")
    expect(page.locator("#test-readings li").first).to_be_visible(timeout=10_000)
    expect(page.locator("#test-left")).to_have_text("Test finished.", timeout=20_000)
    expect(page.locator("#test-verdict")).to_have_text(re.compile(r"good readings, last \d+ bpm"))

    expect(page.locator("input[name=display][value=offscreen]")).to_be_checked()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "station-home.png"), full_page=True)
    page.click("#start")
    expect(page).to_have_url(re.compile(r"/$"), timeout=60_000)
    expect(page.locator("#level-num")).to_be_visible(timeout=20_000)
    page.click("#step-up")  # in the baseline: ends it early, at the ladder's first step
    expect(page.locator("#level-num")).to_have_text("1", timeout=10_000)

    page.locator("#end").click()
    page.locator("#end").click()  # the second tap confirms
    expect(page).to_have_url(re.compile(r"/home\?ended=\d+$"), timeout=30_000)
    expect(page.locator("#last-text")).to_contain_text("ended: completed")
    link = page.locator("#last-report")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.endswith("/report")
    with page.expect_popup() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    assert "C-0100" in report.content()
    answer = httpx.get(
        base + "/api/sessions/current", headers={"Authorization": f"Bearer {station.token}"}
    ).json()
    assert answer["session"] is None and answer["last"]["client"] == "C-0100"
    assert problems == []
    page.close()
