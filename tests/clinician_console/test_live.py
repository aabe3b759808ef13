"""The WebSocket /api/live: token and Origin checks, the hello, and the stream at 10 Hz or more."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from exposure.models import Reading, SystemEvent
from tests.clinician_console.conftest import RunningConsole
from tests.conftest import wait_for


def open_live(console: RunningConsole, **kwargs: Any) -> ClientConnection:
    kwargs.setdefault("additional_headers", console.auth)
    return connect(console.ws_url, open_timeout=5, **kwargs)


def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def receive_until(ws: ClientConnection, match: Any, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = receive(ws, timeout=max(0.01, deadline - time.monotonic()))
        if match(message):
            return message
    raise AssertionError("the expected message did not arrive")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}], ids=["no token", "wrong token"]
)
def test_the_websocket_needs_the_token(console: RunningConsole, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_live(console, additional_headers=headers)
    assert refused.value.response.status_code == 401
    assert b"access token" in refused.value.response.body


def test_the_websocket_takes_the_token_in_the_query_or_the_page_cookie(
    console: RunningConsole,
) -> None:
    with connect(f"{console.ws_url}?token={console.token}", open_timeout=5) as ws:
        assert receive(ws)["kind"] == "hello"
    with httpx.Client(base_url=console.base) as c:
        cookie = c.get("/", params={"token": console.token}).headers["set-cookie"].split(";")[0]
    with open_live(console, additional_headers={"Cookie": cookie}) as ws:
        assert receive(ws)["kind"] == "hello"


def test_the_websocket_refuses_another_sites_page(console: RunningConsole) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_live(console, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    # the console's own page (same scheme, host and port) is welcome
    with open_live(console, origin=console.base) as ws:
        assert receive(ws)["kind"] == "hello"


def test_hello_carries_the_state_and_the_history(console: RunningConsole) -> None:
    for hr in (70.0, 72.0, 74.0):
        console.call(console.session.submit, Reading(t=0, hr=hr))
    # an artefact keeps its rate for the record but is no point on the chart
    console.call(console.session.submit, Reading(t=0, hr=140.0, quality="artefact"))
    with console.client() as c:
        c.post("/api/commands", json={"type": "note", "text": "Calm at the start."})
        c.post("/api/commands", json={"type": "set_level", "level": 2})
    with open_live(console) as ws:
        hello = receive(ws)
    assert hello["kind"] == "hello"
    data = hello["data"]
    assert data["state"]["level"] == 2 and data["state"]["ladder"]["levels"]
    assert [hr for _t, hr in data["readings"]] == [70.0, 72.0, 74.0, None]
    assert [level for _t, level in data["levels"]] == [0, 2]
    assert data["decisions"][-1]["to_level"] == 2
    assert [e["type"] for e in data["events"]] == ["note", "set_level"]
    assert data["console"]["live_hz"] == 10


def test_state_streams_at_its_configured_rate_and_at_ten_hertz_or_more(start_console: Any) -> None:
    console = start_console(live_hz=20)  # not the default (10): the stream follows its setting
    states: list[float] = []
    with open_live(console) as ws:
        hello = receive(ws)
        assert hello["kind"] == "hello" and hello["data"]["console"]["live_hz"] == 20
        while len(states) < 12:
            message = receive(ws)
            if message["kind"] == "state":
                states.append(time.monotonic())
                # state frames leave out the ladder and settings: the hello carried them once
                assert "ladder" not in message["data"] and "settings" not in message["data"]
    periods = (states[-1] - states[0]) / (len(states) - 1)
    assert periods >= 0.5 / 20  # paced by the setting, not sent as fast as the loop can
    assert periods <= 1 / 10  # the console's promise, 10 Hz at least, even on a busy machine


def test_readings_decisions_alerts_and_runtime_messages_stream_as_they_happen(
    console: RunningConsole,
) -> None:
    with open_live(console) as ws:
        assert receive(ws)["kind"] == "hello"
        console.call(console.session.submit, Reading(t=0, hr=77.5))
        reading = receive_until(ws, lambda m: m["kind"] == "event")
        assert reading["data"]["type"] == "reading" and reading["data"]["hr"] == 77.5

        with console.client() as c:
            c.post("/api/commands", json={"type": "step_up"})
        decision = receive_until(ws, lambda m: m["kind"] == "decision")
        assert decision["data"]["to_level"] == 1 and decision["data"]["who"] == "clinician"
        state = receive_until(ws, lambda m: m["kind"] == "state")
        assert state["data"]["level"] == 1 and "ladder" not in state["data"]
        console.call(
            console.session.submit, SystemEvent(t=0, kind="render_restarted", detail="exit 1")
        )
        alert = receive_until(ws, lambda m: m["kind"] == "alert")
        assert alert["data"]["kind"] == "render_restarted"
        assert alert["data"]["onset"] == alert["data"]["t"]  # a new episode begins

        frames = {"fps": 89.9, "p99_ms": 11.8, "late": 0}
        console.call(console.session.publish, {"kind": "frames", "data": frames})
        assert receive_until(ws, lambda m: m["kind"] == "frames")["data"] == frames


def test_a_closed_page_leaves_no_subscriber_behind(console: RunningConsole) -> None:
    with open_live(console) as ws:
        receive(ws)
        assert console.call(lambda: len(console.session._subscribers)) == 1
    wait_for(
        lambda: console.call(lambda: len(console.session._subscribers)) == 0,
        3,
        "the closed page's subscriber leaving",
    )


def test_a_finished_session_says_goodbye_and_closes_the_stream_normally(
    console: RunningConsole,
) -> None:
    import asyncio

    from websockets.exceptions import ConnectionClosedOK

    from clinician_console.server import say_goodbye
    from exposure.models import End

    ended = {"session_id": 7, "saved": True, "status": "completed", "report": "vret report 7"}
    with open_live(console) as ws:
        assert receive(ws)["kind"] == "hello"
        console.call(console.session.submit, End(t=0))
        told = asyncio.run_coroutine_threadsafe(
            say_goodbye(console.app, ended, timeout_s=5.0), console.loop
        )
        kinds = []
        while True:
            message = receive(ws)
            kinds.append(message["kind"])
            if message["kind"] == "ended":
                break
        assert message["data"] == ended
        # the End and its decision came first, in order, then the goodbye
        assert kinds.index("decision") < kinds.index("ended")
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=5)
        assert ws.close_code == 1000
        assert told.result(timeout=10) is True
    assert console.call(lambda: len(console.app.state.live_pages)) == 0
