"""Private self-report in the headset: a run of questions on the panel, answered with keys
(as a controller or gaze would point), comes back as one answer of its kind."""

from __future__ import annotations

import pytest

from scenes.render import start_render
from scenes.render.messages import ClientInput, FrameEffect, OpenQuestions, PanelItem
from tests.conftest import wait_for

pytestmark = pytest.mark.render


def test_a_run_of_questions_is_answered_by_pointing_and_sent_together() -> None:
    handle = start_render(size=(64, 48), frame_rate=30.0, thumbnail_hz=0.0, scenes=["safe_place"])
    try:
        handle.wait_ready(60)
        handle.ask_questions(
            OpenQuestions(
                kind="expectancy_after",
                level=2,
                items=(
                    PanelItem("Did it happen?", 0, 1, 1, ("no", "yes")),
                    PanelItem("How surprised?", 0, 100, 5),
                ),
            )
        )
        for key in ("1", "enter", "8", "arrow_right", "enter"):  # yes; 80 + 5
            handle.press(key)
        ssq = tuple(
            PanelItem(f"Symptom {i}", 0, 3, 1, ("none", "slight", "moderate", "severe"))
            for i in range(16)
        )
        handle.ask_questions(OpenQuestions(kind="ssq", items=ssq))
        for i in range(16):
            handle.press("arrow_left" if i % 2 else "arrow_right")  # from 1: 2 or 0
            handle.press("enter")
        handle.press("enter")  # the panel is closed: nothing more is sent
        marker = handle.send_target("safe_place", 0.0, True)
        got: list = []

        def answered() -> bool:
            handle.send_target("safe_place", 0.0, True)
            got.extend(handle.poll())
            return any(isinstance(m, FrameEffect) and m.target_seq >= marker for m in got)

        wait_for(answered, 20, "the frame after the keys")
        events = [m.event for m in got if isinstance(m, ClientInput)]
        assert events == [
            {"type": "panel", "kind": "expectancy_after", "level": 2, "answers": [1, 85]},
            {"type": "panel", "kind": "ssq", "level": 0, "answers": [2, 0] * 8},
        ]
    finally:
        wait_for(lambda: not handle.poll(), 10, "the pipe read to the end")
        handle.stop()
