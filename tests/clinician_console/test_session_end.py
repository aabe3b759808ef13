"""The end of a session at the console, in a real Chromium: the server says the session ended
and its record is saved before it stops, and the page shows that instead of a connection alarm
(issue 16)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from clinician_console.server import say_goodbye
from exposure.models import ControlSettings, End
from scenes.registry import default_ladder
from tests.clinician_console.conftest import ARTIFACTS
from tests.clinician_console.test_browser import open_console
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

pytestmark = pytest.mark.browser


def test_end_shows_the_ended_page_not_a_connection_alarm(start_console: Any, browser: Any) -> None:
    console = start_console()
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    problems = open_console(page, console)
    expect(page.locator("#pages")).to_be_hidden()  # a console without clinic pages links none
    console.call(console.session.submit, End(t=0))
    expect(page.locator("#phase")).to_have_text("Session ended")
    ended = {
        "session_id": 42,
        "saved": True,
        "status": "completed",
        "report": "vret report 42 --out session-42.html",
    }
    told = asyncio.run_coroutine_threadsafe(
        say_goodbye(console.app, ended, timeout_s=5.0), console.loop
    ).result(timeout=10)
    assert told is True  # the page got the message and closed its stream normally
    console.stop()  # then the server goes away, as the station does
    expect(page.locator("#ended-text")).to_have_text("Session 42 ended, record saved.")
    expect(page.locator("#ended-report")).to_have_text("vret report 42 --out session-42.html")
    page.wait_for_timeout(1500)  # longer than the first reconnect delay
    expect(page.locator('#alerts .alert[data-kind="connection"]')).to_have_count(0)
    expect(page.locator("#ended")).to_be_visible()
    expect(page.locator("#link")).to_have_text("Ended")
    assert page.title() == "Session 42 ended · vret console"
    assert not page.title().startswith("⚠")
    expect(page.locator("#safe")).to_be_disabled()
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    page.screenshot(path=str(ARTIFACTS / "console-ended.png"))
    assert problems == []
    page.close()


@pytest.mark.parametrize("kept", [True, False], ids=["a session", "a try-out"])
def test_a_station_ended_from_the_console_says_its_record_is_saved(
    browser: Any, tmp_path: Path, kept: bool
) -> None:
    db = f"sqlite:///{tmp_path / 'records.db'}"
    client = SimulatedClient("text", rate=4.0)
    plan = SessionPlan(
        client="T-16",
        ladder=default_ladder("spiders"),
        sensor=client.start(),
        protocol="text",
        settings=ControlSettings(baseline_s=6, min_baseline_readings=4),
        port=0,
        db=db,
        render=False,
        record_kept=kept,  # False as `vret console --simulate` runs it
        on_ready=lambda station: client.wear(station.live),
    )
    runner = StationThread(plan)
    station = runner.start(timeout=60)
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        problems: list[str] = []
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.goto(station.url)
        expect(page.locator("#link")).to_have_text("Live")
        # a station's console links to the clients and clinic pages, in a new tab
        expect(page.locator("#pages a[href='/clients']")).to_be_visible()
        assert page.locator("#pages a[href='/clinic']").get_attribute("target") == "_blank"
        page.locator("#end").click()
        expect(page.locator("#end")).to_have_text("Tap again to end the session")
        page.locator("#end").click()
        sid = station.session_id
        if kept:
            expect(page.locator("#ended-text")).to_have_text(f"Session {sid} ended, record saved.")
            expect(page.locator("#ended-report")).to_contain_text(f"report {sid} --out")
            expect(page.locator("#ended-report")).to_contain_text(f"--db {db}")
        else:  # no report command for a record about to be deleted
            expect(page.locator("#ended-text")).to_have_text(
                f"Session {sid} ended (a try-out: its record is not kept)."
            )
            expect(page.locator("#ended-report-line")).to_be_hidden()
        runner.thread.join(30)
        # the report came with the goodbye: it opens with the console gone
        with page.context.expect_page() as opened:
            page.locator("#ended-open").click()
        report = opened.value
        report.wait_for_load_state()
        expect(report.locator("h1")).to_have_text("Exposure session report")
        expect(report.locator("header")).to_contain_text(f"Session #{sid}")
        report.close()
        assert runner.status == "completed"
        page.wait_for_timeout(1200)  # longer than the first reconnect delay
        expect(page.locator('#alerts .alert[data-kind="connection"]')).to_have_count(0)
        assert page.title() == f"Session {sid} ended · vret console"
        with Records(db) as records:
            assert records.get_session(sid).status == "completed"
        assert problems == []
        page.close()
    finally:
        runner.stop()
        client.stop()
