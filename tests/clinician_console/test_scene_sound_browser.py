"""The scene-sound toggle in a real Chromium: click and keys, the headset's report beside it,
the log's words, touch size on a tablet, Safe untouched, and axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from exposure.models import CoachControl
from tests.clinician_console.conftest import ARTIFACTS, RunningConsole
from tests.clinician_console.test_browser import api_state, open_console
from tests.clinician_console.test_scene_sound_api import HeadsetReport

pytestmark = pytest.mark.browser


def headset_console(start_console: Any) -> tuple[RunningConsole, HeadsetReport]:
    headset = HeadsetReport()
    headset.muted = False  # a headset is up and playing the scene's sound
    return start_console(scene_sound=headset, scene_events=("spider_drop",)), headset


def test_the_therapist_mutes_the_scene_and_sees_what_the_headset_plays(
    start_console: Any, browser: Any
) -> None:
    console, headset = headset_console(start_console)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    button, heard = page.locator("#scene-sound"), page.locator("#scene-sound-heard")
    expect(button).to_have_text("Mute scene sound")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(heard).to_have_text("Headset: scene sound on")

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert api_state(console)["scene_sound"]["muted"] is True
    # asked, not yet done: the line says what the headset still plays
    expect(heard).to_have_text("Headset: scene sound on (changing…)")
    headset.muted = True  # the headset answers
    expect(heard).to_have_text("Headset: scene sound muted")
    expect(heard).to_have_attribute("data-state", "muted")
    expect(page.locator("#log")).to_contain_text("Therapist muted the scene sound in the headset")

    # from the keyboard: Space on the focused toggle turns the sound back on
    button.focus()
    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-pressed", "false")
    headset.muted = False
    expect(heard).to_have_text("Headset: scene sound on")
    expect(page.locator("#log")).to_contain_text("Therapist turned the scene sound back on")
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert api_state(console)["scene_sound"]["muted"] is True
    # the coach's own mute is another button, and the scene sound's is not it
    assert button.get_attribute("aria-describedby") == "scene-sound-heard"
    assert problems == []
    page.close()


def test_the_toggle_is_reachable_and_touch_sized_on_a_tablet_and_never_covers_safe(
    start_console: Any, browser: Any
) -> None:
    console, _headset = headset_console(start_console)
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport in ({"width": 1024, "height": 768}, {"width": 768, "height": 1024}):
        context = browser.new_context(viewport=viewport, has_touch=True)
        page: Page = context.new_page()
        open_console(page, console)
        safe = page.locator("#safe")
        safe_before = safe.bounding_box()
        button = page.locator("#scene-sound")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, (viewport, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (viewport, box)
        # Safe stays where it was, in front of everything, with the toggle scrolled into view
        safe_after = safe.bounding_box()
        assert safe_before is not None and safe_after is not None
        assert (safe_after["x"], safe_after["y"]) == (safe_before["x"], safe_before["y"])
        overlap = not (
            box["x"] >= safe_after["x"] + safe_after["width"]
            or box["x"] + box["width"] <= safe_after["x"]
            or box["y"] >= safe_after["y"] + safe_after["height"]
            or box["y"] + box["height"] <= safe_after["y"]
        )
        assert not overlap, (viewport, box, safe_after)
        centre = (safe_after["x"] + safe_after["width"] / 2, safe_after["y"] + 10)
        assert page.evaluate(
            "([x, y]) => document.getElementById('safe').contains(document.elementFromPoint(x, y))",
            list(centre),
        ), viewport
        button.tap()
        expect(button).to_have_attribute("aria-pressed", "true")
        button.tap()
        expect(button).to_have_attribute("aria-pressed", "false")
        page.screenshot(
            path=str(
                ARTIFACTS / f"console-scene-sound-{viewport['width']}x{viewport['height']}.png"
            )
        )
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_axe_finds_no_serious_or_critical_violation_with_the_scene_muted(
    start_console: Any, browser: Any, width: int, height: int
) -> None:
    console, headset = headset_console(start_console)
    page = browser.new_page(viewport={"width": width, "height": height})
    open_console(page, console)
    page.locator("#scene-sound").click()
    headset.muted = True
    expect(page.locator("#scene-sound-heard")).to_have_text("Headset: scene sound muted")
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    page.close()


def test_the_log_words_the_coachs_mute_apart_from_the_scene_sound(
    start_console: Any, browser: Any
) -> None:
    console, _headset = headset_console(start_console)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    console.call(console.session.submit, CoachControl(t=0.0, action="mute"))
    page.locator("#scene-sound").click()
    log = page.locator("#log")
    expect(log).to_contain_text("Therapist muted the coach: it says nothing by itself")
    expect(log).to_contain_text("Therapist muted the scene sound in the headset")
    assert problems == []
    page.close()
