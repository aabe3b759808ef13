"""The console's measures API over real HTTP: SSQ, the sickness rating, expectancy ratings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from exposure.models import Expectancy, Measure
from tests.clinician_console.conftest import RunningConsole

HAND_SSQ = [1, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 3, 0]
"""General discomfort 1, headache 2, nausea 2, dizziness (eyes open) 1, stomach awareness 3:
raw N 6, O 3, D 3."""


def recorded(console: RunningConsole) -> list[Measure | Expectancy]:
    return console.call(lambda: list(console.session.measures))


def one_sentence(r: httpx.Response) -> str:
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and "\n" not in detail
    return detail


def test_the_panel_gets_its_instruments_from_the_files(console: RunningConsole) -> None:
    with console.client() as c:
        view = c.get("/api/measures").json()
    by_name = {i["name"]: i for i in view["instruments"]}
    assert list(by_name) == ["ssq", "sickness"]
    ssq = by_name["ssq"]
    assert ssq["phases"] == ["pre", "mid", "post"] and len(ssq["items"]) == 16
    assert ssq["items"][0] == {
        "id": "general_discomfort",
        "text": "General discomfort",
        "min": 0,
        "max": 3,
        "labels": ["none", "slight", "moderate", "severe"],
    }
    assert by_name["sickness"]["phases"] == ["mid"]
    assert by_name["sickness"]["items"][0]["max"] == 10
    assert view["recorded"] == [] and view["sickness_threshold"] == 5 and view["top"] == 10


def test_an_ssq_is_scored_by_the_server_and_recorded_as_an_event(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.post("/api/measures", json={"instrument": "ssq", "phase": "pre", "answers": HAND_SSQ})
        assert r.status_code == 200, r.text
        event = r.json()["event"]
        assert event["type"] == "measure" and event["phase"] == "pre"
        assert event["scores"] == pytest.approx(
            {"nausea": 57.24, "oculomotor": 22.74, "disorientation": 41.76, "total": 44.88}
        )
        assert r.json()["effects"] == []
        assert c.get("/api/measures").json()["recorded"] == [event]
    (kept,) = recorded(console)
    assert isinstance(kept, Measure) and kept.answers == HAND_SSQ and kept.t == event["t"]


def test_a_sickness_rating_over_the_threshold_raises_sick_not_scared(
    console: RunningConsole,
) -> None:
    with console.client() as c:
        assert c.post("/api/commands", json={"type": "set_level", "level": 3}).status_code == 200
        r = c.post("/api/measures", json={"instrument": "sickness", "phase": "mid", "answers": [7]})
        assert r.status_code == 200, r.text
        (alert,) = [e for e in r.json()["effects"] if e["type"] == "alert"]
        assert alert["kind"] == "sick_not_scared" and alert["active"]
        assert "Pause the session" in alert["message"]
        state = c.get("/api/state").json()
        assert state["sick"] is True and state["sickness"] == 7 and state["level"] == 3
        assert "sick_not_scared" in [a["kind"] for a in state["alerts"]]
        r = c.post("/api/measures", json={"instrument": "sickness", "phase": "mid", "answers": [2]})
        assert [e["active"] for e in r.json()["effects"]] == [False]
        assert c.get("/api/state").json()["sick"] is False


def test_expectancy_before_and_after_a_step(console: RunningConsole) -> None:
    with console.client() as c:
        c.post("/api/commands", json={"type": "set_level", "level": 4})
        before = {"stage": "before", "expectation": "It will run at me", "likelihood": 80}
        r = c.post("/api/expectancy", json=before)
        assert r.status_code == 200, r.text
        assert r.json()["event"] | {"t": 0} == {
            "type": "expectancy",
            "t": 0,
            "level": 4,  # the level the client is at
            "stage": "before",
            "expectation": "It will run at me",
            "likelihood": 80,
            "happened": None,
            "surprise": None,
        }
        after = {"stage": "after", "level": 4, "happened": False, "surprise": 65}
        assert c.post("/api/expectancy", json=after).status_code == 200
    kinds = [(e.type, getattr(e, "stage", None)) for e in recorded(console)]
    assert kinds == [("expectancy", "before"), ("expectancy", "after")]


BAD_MEASURES: list[tuple[Any, str]] = [
    ({"instrument": "ssq", "phase": "pre", "answers": [0] * 15}, "ssq needs 16 answers"),
    (
        {"instrument": "ssq", "phase": "pre", "answers": [0] * 15 + [4]},
        "Answer 16 (burping) is 4: it must be a whole number from 0 to 3.",
    ),
    ({"instrument": "sickness", "phase": "mid", "answers": [11]}, "from 0 to 10"),
    ({"instrument": "sickness", "phase": "pre", "answers": [1]}, "phase must be one of mid"),
    ({"instrument": "fsq", "phase": "pre", "answers": [1]}, "instrument must be one of: ssq"),
    ({"instrument": "ssq", "phase": "pre", "answers": "0,1"}, "answers must be a list"),
    ({"instrument": "ssq", "phase": "pre", "answers": [True] * 16}, "is not a number"),
    ({"instrument": "ssq", "phase": "pre", "answers": [0] * 16, "t": 5}, "Unknown field 't'"),
    ([1, 2], "must be a JSON object"),
]


@pytest.mark.parametrize(("body", "words"), BAD_MEASURES)
def test_a_bad_measure_is_one_sentence_and_records_nothing(
    console: RunningConsole, body: Any, words: str
) -> None:
    with console.client() as c:
        assert words in one_sentence(c.post("/api/measures", json=body))
    assert recorded(console) == []


BAD_EXPECTANCY: list[tuple[Any, str]] = [
    ({"stage": "before", "expectation": "x"}, "give the expectation"),
    ({"stage": "before", "expectation": "   ", "likelihood": 5}, "give the expectation"),
    ({"stage": "after", "happened": True}, "give happened"),
    (
        {"stage": "after", "happened": True, "surprise": 3, "likelihood": 9},
        "belong to the rating before",
    ),
    ({"stage": "before", "expectation": "x", "likelihood": 101}, "likelihood"),
    ({"stage": "during"}, "stage"),
    ({"type": "expectancy", "stage": "after"}, "Leave out t and type"),
]


@pytest.mark.parametrize(("body", "words"), BAD_EXPECTANCY)
def test_a_bad_expectancy_is_one_sentence_and_records_nothing(
    console: RunningConsole, body: Any, words: str
) -> None:
    with console.client() as c:
        assert words in one_sentence(c.post("/api/expectancy", json=body))
    assert recorded(console) == []


def test_a_rating_about_a_level_past_the_top_conflicts_with_the_ladder(
    console: RunningConsole,
) -> None:
    with console.client() as c:
        body = {"stage": "before", "expectation": "x", "likelihood": 1, "level": 11}
        r = c.post("/api/expectancy", json=body)
        assert r.status_code == 409
        assert r.json()["detail"] == "Level 11 is past the top of this 10-level ladder."
    assert recorded(console) == []


def test_a_body_that_is_not_json_is_one_sentence(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.post("/api/measures", content=b"\xff{", headers={"content-type": "application/json"})
        assert one_sentence(r) == "The body is not valid JSON."


def test_the_measures_routes_need_the_token(console: RunningConsole) -> None:
    with httpx.Client(base_url=console.base, timeout=10) as c:
        assert c.get("/api/measures").status_code == 401
        body = {"instrument": "sickness", "phase": "mid", "answers": [9]}
        assert c.post("/api/measures", json=body).status_code == 401
    assert recorded(console) == []


def test_the_openapi_document_states_each_body_exactly(console: RunningConsole) -> None:
    with console.client() as c:
        spec = c.get("/openapi.json").json()
    body = spec["paths"]["/api/measures"]["post"]["requestBody"]["content"]["application/json"]
    ssq, sickness = body["schema"]["oneOf"]
    assert ssq["properties"]["answers"]["minItems"] == 16
    assert ssq["properties"]["answers"]["items"] == {"type": "integer", "minimum": 0, "maximum": 3}
    assert sickness["properties"]["phase"]["enum"] == ["mid"]
    stages = spec["paths"]["/api/expectancy"]["post"]["requestBody"]["content"]["application/json"]
    assert [s["properties"]["stage"]["enum"] for s in stages["schema"]["oneOf"]] == [
        ["before"],
        ["after"],
    ]
