"""Private self-report in the headset: a run of questions on the panel, answered with keys (as
a controller points) or by holding the gaze on a value, comes back as one answer of its kind."""

from __future__ import annotations

import pytest

from scenes.pose import PoseScript, from_hpr, pose_line
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


def test_the_client_answers_by_holding_the_gaze_on_a_value() -> None:
    eye = (0.0, 0.0, 1.6)
    ahead, right = from_hpr(0.0, 0.0), from_hpr(-9.0, 0.0)  # Panda3D's heading turns left
    script = PoseScript.parse(
        "\n".join(
            pose_line(t, eye, q)
            for t, q in ((0.0, ahead), (5.0, ahead), (5.5, right), (600.0, right))
        )
    )
    handle = start_render(
        size=(64, 48),
        frame_rate=30.0,
        thumbnail_hz=0.0,
        scenes=["safe_place"],
        pose_script=script,
    )
    try:
        handle.wait_ready(60)
        handle.ask_suds("How anxious are you now?")  # opens fixed where the client looks
        got: list = []

        def answered() -> bool:
            handle.send_target("safe_place", 0.0, True)
            got.extend(m for m in handle.poll() if isinstance(m, ClientInput))
            return bool(got)

        wait_for(answered, 30, "an answer by gaze")
        # 9 degrees right of where it opened, on a panel 1.1 m ahead: about 3/4 along the bar
        event = got[0].event
        assert event["type"] == "suds" and 65 <= event["value"] <= 90, event
    finally:
        wait_for(lambda: not handle.poll(), 10, "the pipe read to the end")
        handle.stop()
