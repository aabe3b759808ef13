"""The measures panel in a real Chromium: SSQ, "sick, not scared" and expectancy ratings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from exposure.models import Expectancy, Measure

pytestmark = pytest.mark.browser


def test_a_therapist_records_ssq_sickness_and_expectancy_on_the_panel(
    start_console: Any, browser: Any
) -> None:
    console = start_console()
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(console.page_url)
    expect(page.locator("#link")).to_have_text("Live")
    expect(page.locator("#measures-card")).to_have_attribute("data-ready", "true")
    expect(page.locator("#ssq-change")).to_have_text(re.compile("Take the SSQ before"))

    # the SSQ before exposure: general discomfort 1, headache 2, nausea 2, dizziness 1, stomach 3
    page.click("#ssq-form summary")
    expect(page.locator("#ssq-form select[data-item]")).to_have_count(16)
    for item, value in (
        ("general_discomfort", "1"),
        ("headache", "2"),
        ("nausea", "2"),
        ("dizzy_eyes_open", "1"),
        ("stomach_awareness", "3"),
    ):
        page.select_option(f'#ssq-form select[data-item="{item}"]', value)
    page.select_option("#ssq-phase", "pre")
    page.click("#ssq-send")
    expect(page.locator("#measures-recorded li").first).to_contain_text(
        "SSQ before: total 44.9 (N 57.2, O 22.7, D 41.8)"
    )

    # exposure at level 3, then the client feels sick: the panel alerts, the level stays
    page.select_option("#level-select", "3")
    page.click("#set-level")
    expect(page.locator("#level-num")).to_have_text("3")
    page.select_option("#sickness-value", "8")
    page.click("#sickness-send")
    expect(page.locator("#alerts")).to_contain_text("Sick, not scared")
    expect(page.locator("#next-step")).to_contain_text("sick, not scared")
    expect(page.locator("#log")).to_contain_text("Sickness 8/10")

    # expectancy before the step and after it: violation 80 - 0 = +80
    page.fill("#exp-expectation", "The spider will jump at me")
    page.fill("#exp-likelihood", "80")
    page.click("#exp-before")
    expect(page.locator("#measures-recorded")).to_contain_text(
        'Step 3, expected: "The spider will jump at me" (80 %)'
    )
    page.select_option("#exp-happened", "false")
    page.fill("#exp-surprise", "60")
    page.click("#exp-after")
    expect(page.locator("#measures-recorded li").first).to_contain_text(
        "Step 3: it did not happen, surprise 60, violation +80"
    )

    # the SSQ after the session: the change is shown
    page.select_option("#ssq-phase", "post")
    page.select_option('#ssq-form select[data-item="nausea"]', "3")
    page.click("#ssq-send")
    expect(page.locator("#ssq-change")).to_have_text(
        re.compile(r"SSQ total 44\.9 → 22\.4 \(-22\.4\)")
    )

    recorded = console.call(lambda: list(console.session.measures))
    assert [type(e) for e in recorded] == [Measure, Measure, Expectancy, Expectancy, Measure]
    assert recorded[0].scores["total"] == pytest.approx(44.88)
    assert recorded[1].scores == {"sickness": 8}
    assert recorded[3].level == 3 and recorded[3].happened is False
    # post: nausea 3 alone, N 3, D 3: total (3 + 0 + 3) x 3.74
    assert recorded[4].scores["total"] == pytest.approx(22.44)
    state = console.call(lambda: console.session.state)
    assert state.level == 3 and state.sick
    assert problems == []
