"""Attention on the console (real Chromium): the gauge, the line, the gaze mark, Recentre.

The gaze summaries are submitted to the session as the render link submits them, a tenth of a
second apart on the session's clock, so the core computes attention exactly as in a session.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from exposure.models import Gaze, Reading
from tests.clinician_console.conftest import ARTIFACTS, RunningConsole
from tests.clinician_console.test_browser import api_state, open_console

pytestmark = pytest.mark.browser


class GazeFeed:
    """A head-tracked client: a gaze summary every 0.1 s, as the render link submits them."""

    def __init__(self, console: RunningConsole, on_stimulus: float, valid: bool = True) -> None:
        self.console = console
        self.on_stimulus = on_stimulus
        self.valid = valid
        self.running = True
        console.call(lambda: asyncio.ensure_future(self._run()))

    def gaze(self) -> Gaze:
        if not self.valid:
            return Gaze(t=0.0, on_stimulus=0.0, valid=False)
        return Gaze(t=0.0, on_stimulus=self.on_stimulus, distance_m=1.4, head_speed_dps=12.0)

    async def _run(self) -> None:
        while self.running:
            self.console.session.submit(self.gaze())
            await asyncio.sleep(0.1)

    def look(self, seconds: float, on_stimulus: float) -> None:
        """Fast-forward `seconds` of the client looking at `on_stimulus` of each interval."""
        self.on_stimulus = on_stimulus

        def run() -> None:
            session = self.console.session
            for k in range(round(seconds * 10)):
                session.clock.shift += 0.1  # type: ignore[attr-defined]
                session.submit(self.gaze())
                if k % 5 == 0:  # the heart goes on beating in the fast-forwarded time
                    session.submit(Reading(t=0.0, hr=70.0))

        self.console.call(run)

    def stop(self) -> None:
        self.running = False


def test_the_console_shows_attention_holds_and_the_gaze_on_the_view(
    start_console: Any, browser: Any
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (160, 120), (60, 70, 80)).save(picture, "JPEG")
    console = start_console(
        feed_period_s=0.25,
        prefill_s=60,  # past the baseline: exposure at level 1 or 2
        client_view=lambda: picture.getvalue(),
        client_view_fov_deg=80.0,
        gaze_cone_deg=30.0,
    )
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)

    # no pose source yet: the rule is off and the console says so
    expect(page.locator("#attention-note")).to_have_text("attention: no head tracking")
    expect(page.locator("#gaze-mark")).to_be_hidden()

    # the client looks away 70% of the time for 12 s, and goes on
    feed = GazeFeed(console, 0.3)
    feed.look(12.0, 0.3)
    state = api_state(console)
    assert state["tracking"] == "ok" and state["attention"] == pytest.approx(0.3, abs=0.01)
    assert state["gaze"]["on_stimulus"] == 0.3 and state["gaze"]["distance_m"] == 1.4
    expect(page.locator("#attention")).to_have_text("30%")
    expect(page.locator("#attention-note")).to_have_text("looked away 70% of the last 10 s")
    expect(page.locator("#attention-vital")).to_have_attribute("data-zone", "low")
    hint = page.locator('#alerts .alert[data-kind="looking_away"]')
    expect(hint).to_contain_text("Client looked away 70% of the last 10 s")

    # the gaze on the client's view: the cone around the centre, marked looking away
    mark = page.locator("#gaze-mark")
    expect(mark).to_be_visible()
    expect(mark.locator(".tag")).to_have_text("looking away")
    radius = float(mark.locator(".cone").get_attribute("r") or 0)
    view = page.locator("#view").bounding_box()
    assert view is not None
    shown_w = min(view["width"], view["height"] * 4 / 3)  # the 4:3 picture, letterboxed
    assert radius == pytest.approx(shown_w / 2 * 0.688, rel=0.05)  # tan 30 / tan 40

    # then they look: attention climbs, the hint clears, the mark turns to the stimulus
    feed.look(10.0, 1.0)
    expect(page.locator("#attention")).to_have_text("100%")
    expect(hint).to_have_count(0)
    expect(mark).to_have_attribute("data-on", "true")
    expect(mark.locator(".tag")).to_have_text("on the stimulus · 1.4 m")
    expect(page.locator(".key-attention")).to_be_visible()
    points = page.evaluate("window.vretAttention.points()")
    assert points >= 3  # the line on the chart has its points

    # Recentre from the console: recorded, and logged for the therapist
    page.locator("#recentre").click()
    expect(page.locator("#log")).to_contain_text("Therapist recentred the client's view")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-attention.png"), full_page=True)

    # a page that opens later gets the attention history in its hello
    second = browser.new_page(viewport={"width": 1366, "height": 768})
    open_console(second, console)
    assert second.evaluate("window.vretAttention.points()") >= points - 1
    second.close()
    feed.stop()
    assert problems == []
    page.close()


def test_the_recentre_route_records_a_recentre_command(console: RunningConsole) -> None:
    heard: list[Any] = []
    console.call(lambda: console.session.add_listener(lambda e, _s, _f: heard.append(e)))
    with console.client() as c:
        r = c.post("/api/recentre")
        assert r.status_code == 200 and r.json()["phase"] == "baseline"
        spec = c.get("/openapi.json").json()
    assert "/api/recentre" in spec["paths"]
    recentres = [e for e in heard if e.type == "recentre"]
    assert len(recentres) == 1 and recentres[0].by == "clinician"


def test_lost_tracking_reads_lost_on_the_gauge(start_console: Any, browser: Any) -> None:
    console = start_console(feed_period_s=0.25, prefill_s=30)
    feed = GazeFeed(console, 0.0, valid=False)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    open_console(page, console)
    expect(page.locator("#attention")).to_have_text("lost")
    expect(page.locator("#attention-note")).to_have_text("head tracking lost: step ups hold")
    expect(page.locator('#alerts .alert[data-kind="tracking_lost"]')).to_be_visible()
    feed.stop()
    page.close()
