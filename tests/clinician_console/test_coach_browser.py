"""The coach panel in a real Chromium with a fake microphone: the therapist records a line,
the station keeps it, and the headset plays it (a render process, offscreen, null audio)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from exposure.models import CoachLine
from scenes.render import start_render
from scenes.render.messages import CoachSpoke
from tests.clinician_console.conftest import CHROMIUM_ARGS
from tests.clinician_console.test_coach import SCRIPT, coach_console  # noqa: F401, F811 (fixture)
from tests.conftest import wait_for
from vret.coach_voice import wav_rms, wav_seconds
from vret.headset_questions import answer_event

pytestmark = pytest.mark.browser

FAKE_MICROPHONE = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def mic_browser(chromium_path: str) -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, *FAKE_MICROPHONE]
        )
        yield chromium
        chromium.close()


def test_a_therapist_records_a_line_and_the_headset_plays_it(
    coach_console: Any,  # noqa: F811 (the fixture imported above)
    mic_browser: Any,
) -> None:
    console, desk = coach_console()
    context = mic_browser.new_context(permissions=["microphone"])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(console.page_url)
    expect(page.locator("#coach-card")).to_be_visible()
    expect(page.locator("#coach-next")).to_contain_text("Why:")

    # the therapist's hand: say the next line now, type one, mute
    page.click("#coach-trigger")
    expect(page.locator("#coach-said li")).to_have_count(2)
    page.fill("#coach-text", "Take a slow breath with me.")
    page.click("#coach-say")
    expect(page.locator("#coach-said")).to_contain_text("Take a slow breath with me.")
    page.click("#coach-mute")
    expect(page.locator("#coach-mute")).to_have_text("Unmute")
    page.select_option("#coach-ask", "sickness")
    page.click("#coach-ask-send")
    expect(page.locator("#coach-said")).to_contain_text("How sick do you feel")

    # record the welcome line with the (fake) microphone: about 1.5 s of its tone
    page.click("#coach-card details summary")
    row = page.locator('#coach-lines li[data-line="welcome"]')
    row.locator('button[data-action="record"]').click()
    expect(row.locator('button[data-action="stop"]')).to_be_visible()
    time.sleep(1.5)
    row.locator('button[data-action="stop"]').click()
    expect(row).to_have_attribute("data-recorded", "true", timeout=10000)
    welcome = SCRIPT.of("welcome")[0]
    speech = desk.speaker.voice.ready(welcome.id, welcome.text)
    assert speech is not None and speech.source == "recorded"
    assert 1.0 <= wav_seconds(speech.path) <= 3.0
    assert wav_rms(speech.path) > 0.01  # the fake microphone's beeps, not silence
    assert not problems, problems
    context.close()

    # the headset plays the stored take for that line
    say = desk.speaker.say_for(CoachLine(line=welcome.id, text=welcome.text))
    assert say.wav == str(speech.path) and max(say.envelope) > 0.05
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0.0, scenes=["safe_place"])
    try:
        handle.wait_ready(60)
        handle.coach_say(say)
        spoke: list[CoachSpoke] = []

        def started() -> bool:
            handle.send_target("safe_place", 0.0, True)
            spoke.extend(m for m in handle.poll() if isinstance(m, CoachSpoke))
            return bool(spoke)

        wait_for(started, 20, "the headset starting the recorded line")
        assert spoke[0].wav == str(speech.path) and spoke[0].sound
    finally:
        wait_for(lambda: not handle.poll(), 10, "the pipe read to the end")
        handle.stop()


def test_an_answer_from_the_headset_shows_on_the_measures_panel_as_it_arrives(
    coach_console: Any,  # noqa: F811 (the fixture imported above)
    mic_browser: Any,
) -> None:
    console, _ = coach_console()
    page = mic_browser.new_page()
    page.goto(console.page_url)
    expect(page.locator("#measures-card")).to_have_attribute("data-ready", "true")
    answer = answer_event({"kind": "expectancy_after", "level": 2, "answers": [0, 85]}, "exposure")
    console.call(console.session.submit, answer)
    recorded = page.locator("#measures-recorded li")
    expect(recorded).to_have_count(1)
    expect(recorded.first).to_contain_text("it did not happen, surprise 85")
    page.close()
