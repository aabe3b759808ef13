"""The console's REST API over real HTTP: every command, bad bodies, tokens, origins, rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from exposure.models import COMMAND_ADAPTER, Reading
from tests.clinician_console.conftest import RunningConsole

TOP = 10  # the demo ladder (the spider scene's, or the generic one) has ten levels


def post(c: httpx.Client, body: Any) -> httpx.Response:
    return c.post("/api/commands", json=body)


def into_exposure(c: httpx.Client, level: int = 3) -> dict[str, Any]:
    r = post(c, {"type": "set_level", "level": level})
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------- every command

COMMAND_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], dict[str, Any]]] = [
    # (name, commands before, the command, what the answered state must show)
    (
        "step_up",
        [{"type": "set_level", "level": 3}],
        {"type": "step_up"},
        {"level": 4, "phase": "exposure"},
    ),
    ("step_down", [{"type": "set_level", "level": 3}], {"type": "step_down"}, {"level": 2}),
    ("set_level", [], {"type": "set_level", "level": 5}, {"level": 5, "phase": "exposure"}),
    ("auto_off", [], {"type": "auto_off"}, {"auto": False}),
    ("auto_on", [{"type": "auto_off"}], {"type": "auto_on"}, {"auto": True}),
    (
        "pause",
        [{"type": "set_level", "level": 2}],
        {"type": "pause"},
        {"phase": "paused", "level": 2},
    ),
    (
        "resume",
        [{"type": "set_level", "level": 2}, {"type": "pause"}],
        {"type": "resume"},
        {"phase": "exposure", "level": 2},
    ),
    (
        "safe",
        [{"type": "set_level", "level": 4}],
        {"type": "safe"},
        {"phase": "safe", "level": 0, "resume_level": 4},
    ),
    ("end", [{"type": "set_level", "level": 2}], {"type": "end"}, {"phase": "ended", "level": 0}),
    ("suds", [{"type": "set_level", "level": 2}], {"type": "suds", "value": 60}, {"suds": 60}),
    ("note", [], {"type": "note", "text": "Client says the jar helps."}, {}),
    (
        "scene_event",
        [{"type": "set_level", "level": 2}],
        {"type": "scene_event", "name": "spider_drop"},
        {},
    ),
    ("ask_suds", [], {"type": "ask_suds"}, {}),
    ("recentre", [{"type": "set_level", "level": 2}], {"type": "recentre"}, {"level": 2}),
    (
        "scene_sound",
        [{"type": "set_level", "level": 2}],
        {"type": "scene_sound", "muted": True},
        {},
    ),
]


def test_the_cases_cover_every_command_type() -> None:
    mapping = COMMAND_ADAPTER.json_schema()["discriminator"]["mapping"]
    assert {case[0] for case in COMMAND_CASES} == set(mapping)


@pytest.mark.parametrize(
    ("name", "before", "command", "expect"), COMMAND_CASES, ids=[c[0] for c in COMMAND_CASES]
)
def test_every_command_reaches_the_session_and_answers_the_new_state(
    console: RunningConsole,
    name: str,
    before: list[dict[str, Any]],
    command: dict[str, Any],
    expect: dict[str, Any],
) -> None:
    seen: list[Any] = []
    console.call(console.session.add_listener, lambda event, _s, _e: seen.append(event))
    with console.client() as c:
        for body in before:
            assert post(c, body).status_code == 200
        r = post(c, command)
        assert r.status_code == 200, r.text
        answer = r.json()
        for key, value in expect.items():
            assert answer[key] == value, (key, answer[key])
        # the answer is the session's state, and /api/state agrees with it
        state = c.get("/api/state").json()
        for key in ("phase", "level", "auto", "suds"):
            assert state[key] == answer[key]
    last = [event for event in seen if event.type != "tick"][-1]  # the clock ticks meanwhile
    assert last.type == name
    assert last.by == "clinician"
    assert last.t > 0  # stamped by the session's clock, not taken from the body
    for key, value in command.items():
        assert getattr(last, key) == value


def test_a_refused_command_says_why(console: RunningConsole) -> None:
    with console.client() as c:
        r = post(c, {"type": "step_down"})  # baseline: nothing below the safe scene
    assert r.status_code == 200
    refused = [e for e in r.json()["effects"] if e["type"] == "alert"]
    assert refused and refused[0]["kind"] == "command_refused"
    assert "nothing to step down to" in refused[0]["message"]


def test_level_past_the_top_is_refused_by_the_core(console: RunningConsole) -> None:
    with console.client() as c:
        r = post(c, {"type": "set_level", "level": TOP + 1})
        assert r.status_code == 200
        assert r.json()["level"] == 0
        assert any("past the top" in e.get("message", "") for e in r.json()["effects"])


def test_a_time_in_the_body_is_replaced_by_the_session_clock(console: RunningConsole) -> None:
    with console.client() as c:
        r = post(c, {"type": "set_level", "level": 2, "t": 99999})
    assert r.status_code == 200
    assert r.json()["t"] < 60
    decision = next(e for e in r.json()["effects"] if e["type"] == "decision")
    assert decision["t"] < 60


def test_state_has_the_headline_figures(console: RunningConsole) -> None:
    console.call(console.session.submit, Reading(t=0, hr=71.0))
    with console.client() as c:
        state = c.get("/api/state").json()
    for key in (
        "phase",
        "level",
        "auto",
        "hr",
        "baseline_hr",
        "alerts",
        "next_step",
        "ladder",
        "top",
        "level_name",
        "dwell_s",
    ):
        assert key in state
    assert state["phase"] == "baseline"
    assert state["hr"] == pytest.approx(71.0)
    assert state["top"] == TOP
    assert state["next_step"].startswith("Measuring resting HR")


# --------------------------------------------------------------------------- bad bodies

BAD_BODIES: list[tuple[str, Any, str]] = [
    ("unknown type", {"type": "jump"}, '"jump" is not a command type'),
    ("no type", {"level": 3}, 'it needs a "type"'),
    ("empty object", {}, 'it needs a "type"'),
    ("array", [{"type": "step_up"}], "must be a JSON object"),
    ("string", "step_up", "must be a JSON object"),
    (
        "level too high for any ladder",
        {"type": "set_level", "level": 31},
        "level: Input should be less",
    ),
    ("negative level", {"type": "set_level", "level": -1}, "level: Input should be greater"),
    ("level missing", {"type": "set_level"}, "level: Field required"),
    (
        "level not a number",
        {"type": "set_level", "level": "three"},
        "level: Input should be a valid integer",
    ),
    (
        "suds above 100",
        {"type": "suds", "value": 101},
        "value: Input should be less than or equal to 100",
    ),
    (
        "suds below 0",
        {"type": "suds", "value": -5},
        "value: Input should be greater than or equal to 0",
    ),
    ("empty note", {"type": "note", "text": ""}, "text: String should have at least 1 character"),
    ("unknown field", {"type": "step_up", "levels": 2}, "levels: Extra inputs are not permitted"),
    ("someone else", {"type": "step_up", "by": "auto"}, "by: Input should be"),
]


@pytest.mark.parametrize(("why", "body", "says"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_a_bad_body_gets_422_with_a_readable_sentence(
    console: RunningConsole, why: str, body: Any, says: str
) -> None:
    seen: list[Any] = []
    console.call(
        console.session.add_listener,
        lambda event, _s, _e: seen.append(event) if event.type != "tick" else None,
    )
    with console.client() as c:
        r = post(c, body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith("Bad command: ") and detail.endswith(".")
    assert says in detail
    assert seen == []  # nothing reached the core


@pytest.mark.parametrize(
    ("content", "ctype", "says"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"\xff\xfe", "application/json", "not valid JSON"),  # not UTF-8: was a bare 400
        (b"", "application/json", 'it needs a "type"'),
        (
            b'{"type": "safe"}',
            "text/plain",
            "must be a JSON object",
        ),  # a cross-site form cannot post
    ],
)
def test_bodies_that_are_not_json_objects_get_422(
    console: RunningConsole, content: bytes, ctype: str, says: str
) -> None:
    with console.client() as c:
        r = c.post("/api/commands", content=content, headers={"content-type": ctype})
    assert r.status_code == 422
    assert says in r.json()["detail"]


def test_a_bad_note_is_not_echoed_back(console: RunningConsole) -> None:
    secret = "client mentioned panic attacks at work " * 60  # over the 2000-character limit
    with console.client() as c:
        r = post(c, {"type": "note", "text": secret})
    assert r.status_code == 422
    assert "panic attacks" not in r.text


# --------------------------------------------------------------------------- the token

PROTECTED = [
    ("GET", "/"),
    ("GET", "/api/state"),
    ("GET", "/api/console"),
    ("GET", "/api/client-view.jpg"),
    ("GET", "/openapi.json"),
    ("GET", "/static/console.js"),
    ("GET", "/static/vendor/uPlot.iife.min.js"),
    ("GET", "/no-such-page"),
    ("POST", "/api/commands"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_no_token_or_a_wrong_one_gets_401(console: RunningConsole, method: str, path: str) -> None:
    body = {"type": "safe"} if method == "POST" else None
    with httpx.Client(base_url=console.base, timeout=10) as c:
        attempts = [
            {},
            {"params": {"token": "wrong"}},
            {"headers": {"Authorization": "Bearer wrong"}},
            {"headers": {"Authorization": f"Basic {console.token}"}},
            {"params": {"token": console.token[:-1]}},
            {"headers": {"Cookie": f"vret_token_{console.base.rsplit(':', 1)[1]}=wrong"}},
        ]
        for extra in attempts:
            r = c.request(method, path, json=body, **extra)
            assert r.status_code == 401, (extra, r.status_code)
            assert "access token" in r.json()["detail"]
            assert r.headers["www-authenticate"].startswith("Bearer")
    assert console.call(lambda: console.session.state.phase) == "baseline"  # the POST never landed


def test_the_token_works_as_query_cookie_or_bearer(console: RunningConsole) -> None:
    with httpx.Client(base_url=console.base, timeout=10) as c:
        assert c.get("/api/state", params={"token": console.token}).status_code == 200
        assert c.get("/api/state", headers=console.auth).status_code == 200
        assert c.get("/api/state").status_code == 401
        # opening the printed URL sets the cookie and takes the token out of the address bar
        r = c.get("/", params={"token": console.token})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert console.token in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        r = c.get("/")  # the client kept the cookie
        assert r.status_code == 200 and "Therapist console" in r.text
        assert c.get("/static/console.js").status_code == 200
        assert c.post("/api/commands", json={"type": "step_up"}).status_code == 200


def test_answers_are_not_cached_nor_framed(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.get("/api/state")
        page = c.get("/")
    assert r.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_a_command_from_another_site_gets_403(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.post(
            "/api/commands", json={"type": "safe"}, headers={"Origin": "http://evil.example"}
        )
        assert r.status_code == 403
        assert "another site" in r.json()["detail"]
        ok = c.post("/api/commands", json={"type": "step_up"}, headers={"Origin": console.base})
        assert ok.status_code == 200
    assert console.call(lambda: console.session.state.phase) == "exposure"


def test_a_listed_origin_may_send_commands(start_console: Any) -> None:
    console = start_console(allowed_origins={"https://console.clinic.example"})
    with console.client() as c:
        r = c.post(
            "/api/commands",
            json={"type": "step_up"},
            headers={"Origin": "https://console.clinic.example"},
        )
    assert r.status_code == 200


# --------------------------------------------------------------------------- rate limit


def test_ordinary_commands_are_rate_limited_per_address(start_console: Any) -> None:
    console = start_console(rate_limit_per_s=0.5, rate_limit_burst=3)
    with console.client() as c:
        assert post(c, {"type": "set_level", "level": 3}).status_code == 200
        codes = [post(c, {"type": "note", "text": f"note {i}"}).status_code for i in range(4)]
        assert codes == [200, 200, 429, 429]
        r = post(c, {"type": "step_up"})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert "Too many commands" in r.json()["detail"]
        assert c.get("/api/state").status_code == 200  # reading the state is never limited
    # another device (another address) has a bucket of its own
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=console.base, headers=console.auth, transport=other) as c:
        assert post(c, {"type": "note", "text": "from the tablet"}).status_code == 200
    assert console.call(lambda: console.session.state.level) == 3  # the step up never landed


def test_safe_pause_and_end_are_never_rate_limited(start_console: Any) -> None:
    console = start_console(rate_limit_per_s=0.5, rate_limit_burst=3)
    with console.client() as c:
        assert post(c, {"type": "set_level", "level": 3}).status_code == 200
        codes = [post(c, {"type": "note", "text": f"note {i}"}).status_code for i in range(12)]
        assert codes[-1] == 429  # the bucket is empty
        r = post(c, {"type": "pause"})
        assert r.status_code == 200 and r.json()["phase"] == "paused"
        r = post(c, {"type": "safe"})
        assert r.status_code == 200
        assert r.json()["phase"] == "safe" and r.json()["level"] == 0
        assert console.call(lambda: console.session.state.phase) == "safe"
        assert post(c, {"type": "resume"}).status_code == 429  # resuming is not stopping
        r = post(c, {"type": "end"})
        assert r.status_code == 200 and r.json()["phase"] == "ended"


# --------------------------------------------------------------------------- who acted


@pytest.mark.parametrize("claimed", ["client", "clinician"])
def test_a_command_from_the_console_is_always_the_clinicians(
    console: RunningConsole, claimed: str
) -> None:
    seen: list[Any] = []
    console.call(console.session.add_listener, lambda event, _s, _e: seen.append(event))
    with console.client() as c:
        r = post(c, {"type": "safe", "by": claimed})
    assert r.status_code == 200
    decision = next(e for e in r.json()["effects"] if e["type"] == "decision")
    assert decision["who"] == "clinician"
    assert decision["reason"].startswith("Therapist sent the client to the safe scene")
    recorded = [e for e in seen if e.type == "safe"]
    assert [e.by for e in recorded] == ["clinician"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "system", "kind": "sensor_disconnected"},
        {"type": "reading", "hr": 180},
        {"type": "session_start", "ladder": {"scene": "x", "levels": [{"name": "a"}]}},
    ],
    ids=["system event", "reading", "session start"],
)
def test_the_console_cannot_send_what_only_the_runtime_reports(
    console: RunningConsole, body: dict[str, Any]
) -> None:
    with console.client() as c:
        r = post(c, body)
    assert r.status_code == 422
    assert "is not a command type" in r.json()["detail"]
    assert console.call(lambda: console.session.state.phase) == "baseline"


# --------------------------------------------------------------------------- the rest


def test_openapi_describes_the_commands_and_the_state(console: RunningConsole) -> None:
    with console.client() as c:
        spec = c.get("/openapi.json").json()
    post_op = spec["paths"]["/api/commands"]["post"]
    schema = post_op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "type"
    assert len(schema["oneOf"]) == len(COMMAND_CASES)
    for ref in schema["discriminator"]["mapping"].values():  # no command without its type
        assert "type" in spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["required"]
    assert set(post_op["responses"]) >= {"200", "401", "413", "421", "422", "429"}
    assert "/api/state" in spec["paths"]
    state = spec["components"]["schemas"]["StateView"]["properties"]
    assert {"phase", "level", "auto", "hr", "baseline_hr", "alerts"} <= set(state)


def test_client_view_is_204_without_a_picture(console: RunningConsole) -> None:
    with console.client() as c:
        assert c.get("/api/client-view.jpg").status_code == 204
        assert c.get("/api/console").json()["client_view"] is False


def test_client_view_serves_the_latest_jpeg(start_console: Any) -> None:
    pictures: list[bytes | None] = [
        None,
        b"\xff\xd8\xff\xe0first\xff\xd9",
        b"\xff\xd8\xff\xe0second\xff\xd9",
    ]
    console = start_console(client_view=lambda: pictures[0])
    with console.client() as c:
        assert c.get("/api/console").json()["client_view"] is True
        assert c.get("/api/client-view.jpg").status_code == 204
        pictures.pop(0)
        r = c.get("/api/client-view.jpg")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert r.content == b"\xff\xd8\xff\xe0first\xff\xd9"
        pictures.pop(0)
        assert c.get("/api/client-view.jpg").content.endswith(b"second\xff\xd9")


def test_scene_events_are_the_ones_the_runtime_gives(start_console: Any) -> None:
    # the station passes its scene library's events; the console never imports scenes itself
    console = start_console()
    with console.client() as c:
        assert c.get("/api/console").json()["scene_events"] == []
    given = start_console(scene_events=("door_slam", "spider_drop"))
    with given.client() as c:
        assert c.get("/api/console").json()["scene_events"] == ["door_slam", "spider_drop"]
