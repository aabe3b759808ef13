"""The scene-sound route over real HTTP: the token, other sites, bad bodies, the rate limit,
and the state that shows the therapist's choice beside what the headset reports."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from clinician_console.server import BAD_SCENE_SOUND
from exposure.models import SceneSound
from tests.clinician_console.conftest import RunningConsole

ROUTE = "/api/scene-sound"


class HeadsetReport:
    """Stands in for the render link's `scene_sound_heard` (the render process's answers are
    tested with a real one in tests/vret/test_scene_sound_link.py)."""

    def __init__(self) -> None:
        self.muted: bool | None = None

    def __call__(self) -> bool | None:
        return self.muted


def scene_sound_events(console: RunningConsole) -> list[Any]:
    seen: list[Any] = []
    console.call(
        console.session.add_listener,
        lambda e, _s, _f: seen.append(e) if isinstance(e, SceneSound) else None,
    )
    return seen


def test_a_mute_is_recorded_as_the_therapists_and_the_state_shows_the_headsets_report(
    start_console: Any,
) -> None:
    headset = HeadsetReport()
    console = start_console(scene_sound=headset)
    seen = scene_sound_events(console)
    with console.client() as c:
        state = c.get("/api/state").json()
        assert state["scene_sound"] == {"muted": False, "headset_muted": None}

        r = c.post(ROUTE, json={"muted": True})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["scene_sound"] == {"muted": True, "headset_muted": None}  # not heard yet
        assert answer["phase"] == "baseline" and answer["effects"] == []

        headset.muted = True  # the render process answered
        assert c.get("/api/state").json()["scene_sound"] == {"muted": True, "headset_muted": True}

        r = c.post(ROUTE, json={"muted": False})
        assert r.status_code == 200 and r.json()["scene_sound"]["muted"] is False
        # until the headset answers, the page shows what it still plays
        assert r.json()["scene_sound"]["headset_muted"] is True
    assert [(e.muted, e.by) for e in seen] == [(True, "clinician"), (False, "clinician")]
    assert all(e.t > 0 for e in seen)  # stamped by the session's clock


def test_without_a_headset_the_report_is_none(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.post(ROUTE, json={"muted": True})
        assert r.status_code == 200
        assert r.json()["scene_sound"] == {"muted": True, "headset_muted": None}
        assert c.get("/api/state").json()["scene_sound"]["headset_muted"] is None


BAD_BODIES = [
    ("empty object", {"json": {}}),
    ("not a boolean", {"json": {"muted": "loud"}}),
    ("a list", {"json": [True]}),
    ("an unknown field", {"json": {"muted": True, "volume": 0}}),
    ("not JSON", {"content": b"{muted", "headers": {"content-type": "application/json"}}),
    ("no body", {}),
]


@pytest.mark.parametrize(("name", "request_kwargs"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_a_bad_body_gets_422_with_one_sentence_and_changes_nothing(
    console: RunningConsole, name: str, request_kwargs: dict[str, Any]
) -> None:
    seen = scene_sound_events(console)
    with console.client() as c:
        r = c.post(ROUTE, **request_kwargs)
        assert r.status_code == 422, (name, r.text)
        detail = r.json()["detail"]
        assert detail == BAD_SCENE_SOUND
        assert detail.count(".") == 1 and detail.endswith(".")
        assert c.get("/api/state").json()["scene_sound"]["muted"] is False
    assert seen == []


def test_no_token_gets_401_and_another_site_gets_403(console: RunningConsole) -> None:
    seen = scene_sound_events(console)
    with httpx.Client(base_url=console.base, timeout=10) as c:
        for extra in ({}, {"params": {"token": "wrong"}}):
            r = c.post(ROUTE, json={"muted": True}, **extra)
            assert r.status_code == 401 and "access token" in r.json()["detail"]
    with console.client() as c:
        r = c.post(ROUTE, json={"muted": True}, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "another site" in r.json()["detail"]
        ok = c.post(ROUTE, json={"muted": True}, headers={"Origin": console.base})
        assert ok.status_code == 200
    assert [e.muted for e in seen] == [True]


def test_a_flood_of_mutes_is_rate_limited_but_safe_still_passes(start_console: Any) -> None:
    console = start_console(rate_limit_per_s=0.1, rate_limit_burst=2)
    with console.client() as c:
        codes = [c.post(ROUTE, json={"muted": n % 2 == 0}).status_code for n in range(4)]
        assert codes == [200, 200, 429, 429]
        assert c.post("/api/commands", json={"type": "safe"}).status_code == 200


def test_the_openapi_document_describes_the_route(console: RunningConsole) -> None:
    with console.client() as c:
        spec = c.get("/openapi.json").json()
    op = spec["paths"][ROUTE]["post"]
    assert set(op["responses"]) >= {"200", "401", "403", "422", "429"}
    body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert spec["components"]["schemas"][body]["required"] == ["muted"]
    assert "coach" in op["description"]
