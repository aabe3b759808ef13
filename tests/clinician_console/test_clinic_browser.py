"""A course of treatment in a real Chromium: add a client, build their hierarchy on the clients
page, run two simulated sessions that use it, and read both on the progress page."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinician_console.clinic import create_clinic_app
from clinician_console.server import make_token, serve
from exposure.measures import load_instrument, score
from exposure.models import ControlSettings, Expectancy, Measure
from sensors.simulator import SimulatedHeart
from tests.clinician_console.conftest import ARTIFACTS
from vret import hierarchy
from vret.clinic import RecordsClinic
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

pytestmark = pytest.mark.browser

FAST = ControlSettings(
    baseline_s=6,
    min_baseline_readings=4,
    min_dwell_s=4,
    stale_after_s=3,
    trend_window_s=8,
    arousal_window_s=4,
)
SPEEDUP = 4.0


class ClinicServer:
    """`create_clinic_app` served for real on a free port, on its own loop in a thread."""

    def __init__(self, records: Records) -> None:
        self.token = make_token()
        self.app = create_clinic_app(RecordsClinic(records), self.token)
        self.ready = threading.Event()
        self.base = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        served = asyncio.Event()
        task = asyncio.create_task(serve(self.app, port=0, ready=served))
        await served.wait()
        host, port = self.app.state.address
        self.base = f"http://{host}:{port}"
        self.ready.set()
        await self._stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def start(self) -> ClinicServer:
        self._thread.start()
        assert self.ready.wait(15), "the clinic server did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[tuple[ClinicServer, str]]:
    url = f"sqlite:///{tmp_path / 'records' / 'vret.db'}"
    records = Records(url)
    server = ClinicServer(records).start()
    yield server, url
    server.stop()
    records.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ssq(answers: list[int], phase: str) -> Measure:
    return Measure(
        instrument="ssq",
        phase=phase,
        answers=answers,
        scores=score(load_instrument("ssq"), answers),
    )  # type: ignore[arg-type]


def simulated_session(url: str, code: str, seconds: float, seed: int) -> int:
    """A short session of `code` on spiders with their hierarchy, as `vret session` runs it
    (station, simulated sensor on a pty, console, records), at four times the wall clock."""
    with Records(url) as records:
        ladder, version = hierarchy.session_ladder(records, code, "spiders")
    heart = SimulatedHeart(
        resting_hr=70, reactivity_bpm=1.0, variability_bpm=0.5, lag_s=3, seed=seed
    )
    client = SimulatedClient("text", heart, rate=4.0 * SPEEDUP)
    t0 = time.monotonic()
    plan = SessionPlan(
        client=code,
        ladder=ladder,
        hierarchy_version=version,
        sensor=client.start(),
        protocol="text",
        settings=FAST,
        port=_free_port(),
        db=url,
        render=False,
        clock=lambda: (time.monotonic() - t0) * SPEEDUP,
        tick_s=0.25 / SPEEDUP,
        on_ready=lambda station: client.wear(station.live),
    )
    runner = StationThread(plan)
    try:
        station = runner.start(timeout=60)
        live = station.live
        runner.call(lambda: live.submit(ssq([0] * 16, "pre")))
        deadline = time.monotonic() + 20
        while live.state.phase != "exposure" and time.monotonic() < deadline:
            time.sleep(0.05)
        level = live.state.level
        runner.call(
            lambda: live.submit(
                Expectancy(level=level, stage="before", expectation="it will jump", likelihood=70)
            )
        )
        time.sleep(seconds)
        runner.call(
            lambda: live.submit(Expectancy(level=level, stage="after", happened=False, surprise=60))
        )
        runner.call(lambda: live.submit(ssq([1] + [0] * 15, "post")))
        time.sleep(0.3)
    finally:
        runner.stop()
        client.stop()
    return station.session_id


def open_page(page: Page, base: str, token: str) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base}/?token={token}")  # the cookie, then the clinic page
    expect(page.locator("#station")).not_to_have_text("—")
    return problems


def test_a_course_from_the_first_client_to_the_progress_of_two_sessions(
    clinic: tuple[ClinicServer, str], browser: Any
) -> None:
    server, url = clinic
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = open_page(page, server.base, server.token)

    # add the client on the clients page
    page.goto(f"{server.base}/clients")
    page.fill("#add-code", "C-0042")
    page.fill("#add-phobia", "spiders")
    page.fill("#add-therapist", "TH1")
    page.click("#add-send")
    expect(page.locator("#add-message")).to_have_text("Added C-0042.")
    row = page.locator('#clients-table tr[data-code="C-0042"]')
    expect(row).to_contain_text("spiders")
    # a code without a digit is taken, with the warning that it must not be a name
    page.fill("#add-code", "Anna")
    page.fill("#add-phobia", "heights")
    page.click("#add-send")
    expect(page.locator("#add-message")).to_contain_text("must never be the client's name")

    # build the hierarchy: three of the scene's levels, one with a slower spider
    row.locator("button.hierarchy").click()
    expect(page.locator("#h-scene")).to_have_value("spiders")
    expect(page.locator("#h-version")).to_contain_text("no hierarchy yet")
    for level in ("1", "2", "4"):
        page.click(f'button.add-level[data-level="{level}"]')
    steps = page.locator("#h-steps tbody tr")
    expect(steps).to_have_count(3)
    steps.nth(0).locator(".step-suds").fill("15")
    steps.nth(1).locator(".step-name").fill("Jar in the middle")
    steps.nth(2).locator('.step-param[data-param="movement"]').fill("0.05")
    page.click("#h-save")
    expect(page.locator("#h-message")).to_have_text("Saved version 1 (3 steps).")
    with Records(url) as records:
        saved = hierarchy.latest(records, "C-0042", "spiders")
    assert saved is not None
    assert [s.level for s in saved.steps] == [1, 2, 4]
    assert (saved.steps[0].suds, saved.steps[1].name) == (15, "Jar in the middle")
    assert saved.steps[2].params == {"movement": 0.05}

    # the Behavioural Approach Test before the course, scored from its file
    page.locator('#clients-table tr[data-code="C-0042"] button.measures').click()
    page.select_option("#m-instrument", "bat")
    expect(page.locator("#m-hint")).to_contain_text("one answer per step completed")
    page.fill("#m-answers", "10, 25, x")
    page.click("#m-send")
    expect(page.locator("#m-message")).to_contain_text("numbers separated by commas")
    page.fill("#m-answers", "10, 25, 40")
    page.fill("#m-date", "2026-10-02")
    page.click("#m-send")
    expect(page.locator("#m-message")).to_have_text("Recorded bat of 2026-10-02.")
    expect(page.locator("#m-table tbody tr")).to_contain_text("steps completed 3")

    # two sessions, each with the hierarchy as its ladder
    first = simulated_session(url, "C-0042", 3.0, seed=3)
    second = simulated_session(url, "C-0042", 3.0, seed=4)
    with Records(url) as records:
        assert [records.get_session(i).hierarchy_version for i in (first, second)] == [1, 1]
        assert records.get_session(first).start.ladder.levels[1].name == "Jar in the middle"

    # the clinic page counts them; the progress page shows both
    page.goto(f"{server.base}/clinic")
    expect(page.locator('#clinic-clients tr[data-code="C-0042"]')).to_contain_text("2")
    expect(page.locator("#sessions-table")).to_contain_text("No session is running")
    page.goto(f"{server.base}/clients/C-0042/progress")
    expect(page.locator("#client-code")).to_have_text("C-0042")
    sessions = page.locator("#sessions tbody tr")
    expect(sessions).to_have_count(2)
    expect(sessions.nth(0)).to_contain_text(f"#{first} spiders · v1")
    expect(sessions.nth(1)).to_contain_text(f"#{second} spiders · v1")
    expect(sessions.nth(0)).to_contain_text("1 of 1")  # one violated expectancy of one
    expect(page.locator("#expectancies tbody tr")).to_have_count(2)
    assert page.locator("svg.mini").count() == 5  # four across sessions, and the BAT's
    expect(page.locator("#measures")).to_contain_text("steps completed 3")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "progress.png"), full_page=True)
    assert problems == []
