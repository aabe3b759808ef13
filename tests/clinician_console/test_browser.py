"""The console page in a real Chromium (Playwright): live heart rate, controls, layout."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from exposure.models import Reading, SystemEvent
from tests.clinician_console.conftest import ARTIFACTS, RunningConsole
from vret.simulated_client import DEMO_NOTICE

pytestmark = pytest.mark.browser

CONTROLS = [
    "#step-up",
    "#step-down",
    "#safe",
    "#pause",
    "#auto",
    "#set-level",
    "#level-select",
    "#suds-send",
    "#suds-ask",
    "#note-send",
    "#end",
]


def api_state(console: RunningConsole) -> dict[str, Any]:
    with console.client() as c:
        return c.get("/api/state").json()


def open_console(page: Page, console: RunningConsole) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(console.page_url)
    expect(page.locator("#link")).to_have_text("Live")
    return problems


def test_a_therapist_watches_and_steers_a_live_session(start_console: Any, browser: Any) -> None:
    # two and a half minutes of a simulated session already behind it, readings coming at 4 Hz
    console = start_console(
        feed_period_s=0.25,
        prefill_s=150,
        scene_events=("spider_drop",),
        notice=DEMO_NOTICE,
    )
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    assert page.url == f"{console.base}/"  # the token left the address bar for a cookie

    # heart-rate values arrive and are shown
    expect(page.locator("#hr")).to_have_text(re.compile(r"^\d{2,3}$"))
    seen = int(page.locator("#chart").get_attribute("data-readings") or "0")
    assert seen >= 250  # the history came with the hello
    page.wait_for_function(
        "n => Number(document.querySelector('#chart').dataset.readings) >= n",
        arg=seen + 4,
        timeout=5000,
    )
    shown = int(page.locator("#hr").inner_text())
    assert abs(shown - api_state(console)["hr"]) < 6
    expect(page.locator("#baseline")).to_have_text(re.compile(r"^\d+ bpm$"))

    # manual mode, so the level moves only when the therapist says
    page.click("#auto")
    expect(page.locator("#auto")).to_have_attribute("aria-pressed", "false")
    state = api_state(console)
    assert state["auto"] is False and state["phase"] == "exposure"
    level = state["level"]
    expect(page.locator("#level-num")).to_have_text(str(level))

    page.click("#step-up")
    expect(page.locator("#level-num")).to_have_text(str(level + 1))
    expect(page.locator(f'#ladder li[data-level="{level + 1}"]')).to_have_attribute(
        "data-current", "true"
    )
    assert api_state(console)["level"] == level + 1

    # SUDS and a note go to the session and show up on the page
    page.fill("#suds-value", "45")
    page.click("#suds-send")
    expect(page.locator("#suds-last")).to_have_text(re.compile(r"^45 at "))
    page.fill("#note", "Client leans back but keeps looking.")
    page.click("#note-send")
    expect(page.locator("#log")).to_contain_text("Client leans back but keeps looking.")
    expect(page.locator("#note")).to_have_value("")
    assert api_state(console)["suds"] == 45

    page.click("#auto")
    expect(page.locator("#auto")).to_have_attribute("aria-pressed", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)

    # the safe scene, at once
    page.click("#safe")
    expect(page.locator("#phase")).to_have_text("Safe scene")
    expect(page.locator("#level-num")).to_have_text("Safe")
    expect(page.locator("#pause")).to_have_text("Resume")
    state = api_state(console)
    assert state["phase"] == "safe" and state["level"] == 0
    expect(page.locator("#log")).to_contain_text("Therapist sent the client to the safe scene")
    page.screenshot(path=str(ARTIFACTS / "console-safe.png"))
    assert problems == []
    page.close()


def test_client_view_alerts_that_cannot_be_missed_and_a_lost_connection(
    start_console: Any, browser: Any
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (320, 180), (52, 96, 128)).save(picture, "JPEG")
    console = start_console(
        settings={"stale_after_s": 1.0},  # no heart feed: the signal is soon stale
        client_view=lambda: picture.getvalue(),
    )
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    open_console(page, console)

    # the client's view, refreshed from the render process's latest picture
    view = page.locator("#view")
    expect(view).to_be_visible()
    page.wait_for_function("document.querySelector('#view').naturalWidth === 320")

    stale = page.locator('#alerts .alert[data-kind="stale_signal"]')
    expect(stale).to_be_visible(timeout=10000)
    expect(stale).to_have_attribute("data-severity", "critical")
    expect(stale).to_contain_text("No good heart-rate reading")
    assert page.title().startswith("⚠")

    console.call(console.session.submit, SystemEvent(t=0, kind="render_restarted", detail="exit 1"))
    expect(page.locator('#alerts .alert[data-kind="render_restarted"]')).to_contain_text(
        "restarted in the safe scene"
    )

    console.call(
        console.session.publish,
        {"kind": "frames", "data": {"fps": 88.7, "p99_ms": 12.4, "late": 3}},
    )
    expect(page.locator("#render-health")).to_have_text("Headset 89 fps · p99 12.4 ms · 3 late")
    expect(page.locator("#render-health")).to_have_attribute("data-state", "bad")
    console.call(console.session.publish, {"kind": "frames", "data": {"fps": 90.0, "late": 0}})
    expect(page.locator("#render-health")).to_have_text("Headset 90 fps · 0 late")
    # a plainer scene is said, with why
    console.call(
        console.session.publish,
        {"kind": "frames", "data": {"fps": 90.0, "late": 0, "detail": 1, "detail_steps": 2}},
    )
    expect(page.locator("#render-health")).to_have_text(
        "Headset 90 fps · 0 late · detail lowered (1 of 2)"
    )
    expect(page.locator("#render-health")).to_have_attribute(
        "title", "The headset draws the scene with less detail to keep its frames on time."
    )

    console.stop()  # the control process goes away
    lost = page.locator('#alerts .alert[data-kind="connection"]')
    expect(lost).to_contain_text("Connection to the session lost")
    expect(lost).to_have_attribute("data-severity", "critical")
    expect(page.locator("#link")).to_have_text("Offline")
    expect(page.locator("#safe")).to_be_disabled()
    page.close()


def test_controls_are_touch_sized_on_a_tablet_and_the_essentials_fit_1366x768(
    start_console: Any, browser: Any
) -> None:
    console = start_console()
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport in ({"width": 1024, "height": 768}, {"width": 768, "height": 1024}):
        context = browser.new_context(viewport=viewport, has_touch=True)
        page = context.new_page()
        open_console(page, console)
        for selector in CONTROLS:
            box = page.locator(selector).bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, (
                viewport,
                selector,
                box,
            )
        rows = page.locator("#ladder li")
        for i in range(rows.count()):
            assert rows.nth(i).bounding_box()["height"] >= 44, (viewport, "ladder row", i)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), viewport
        page.screenshot(
            path=str(ARTIFACTS / f"console-{viewport['width']}x{viewport['height']}.png")
        )
        context.close()

    page = browser.new_page(viewport={"width": 1366, "height": 768})
    open_console(page, console)
    for selector in [
        "#hr",
        "#chart",
        "#next-step",
        "#level-num",
        "#step-up",
        "#step-down",
        "#safe",
        "#pause",
        "#auto",
        "#ladder",
    ]:
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + min(box["height"], 60) <= 768, (selector, box)
    page.close()


def test_crossing_the_ceiling_is_shown_and_an_automatic_step_down_stands_out(
    start_console: Any, browser: Any
) -> None:
    console = start_console()
    session = console.session

    def feed(hr: float, seconds: float) -> None:  # readings every 0.5 s of session time
        for _ in range(int(seconds * 2)):
            session.clock.shift += 0.5
            session.submit(Reading(t=0, hr=hr))

    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    console.call(feed, 70.0, 17)  # a resting baseline of 70 bpm, then level 1 by itself
    with console.client() as c:
        c.post("/api/commands", json={"type": "set_level", "level": 3})
    console.call(feed, 100.0, 6)  # 43% above baseline: over the 35% ceiling
    over = page.locator('#alerts .alert[data-kind="over_ceiling"]')
    expect(over).to_contain_text("over the ceiling (35%)")
    expect(over).to_contain_text("the system steps down if it stays there")
    expect(page.locator("#arousal")).to_have_attribute("data-zone", "ceiling")

    console.call(feed, 100.0, 7)  # held there past the sustain time
    expect(page.locator("#level-num")).to_have_text("2")
    down = page.locator('#alerts .alert[data-kind="stepped_down"]')
    expect(down).to_contain_text("Automatic at")
    expect(down).to_contain_text("step down to level 2")
    expect(down).to_have_attribute("data-severity", "warning")
    assert api_state(console)["level"] == 2
    assert problems == []
    page.close()
