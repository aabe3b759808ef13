"""`vret station`: the home API, one session at a time, crashes end as interrupted, the
waiting room between sessions. A real station on its own loop thread, talked to over HTTP."""

from __future__ import annotations

import concurrent.futures
import gc
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clinician_console.network import ConsoleNetwork
from exposure.live import LiveSession
from sensors.protocols import PROTOCOLS
from sensors.simulator import PtySimulator, SimulatedHeart
from vret.records import Records
from vret.station import Station
from vret.station_server import StationServer, StationThread, kept_token

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

STATIC = Path(__file__).resolve().parents[2] / "clinician_console" / "static"


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


class Running:
    def __init__(self, thread: StationThread) -> None:
        self.thread = thread
        self.server: StationServer = thread.server
        self.base = f"http://127.0.0.1:{self.server.port}"
        self.http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {self.server.token}"},
            timeout=90.0,
        )

    def start(self, **body: Any) -> httpx.Response:
        return self.http.post(
            "/api/sessions",
            json={"client": "C-001", "scene": "spiders", "sensor": "simulated", **body},
        )

    def end(self) -> None:
        assert self.http.post("/api/commands", json={"type": "end"}).status_code == 200
        wait_for(lambda: self.http.get("/api/sessions/current").json()["session"] is None)


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[StationThread] = []

    def start(**kwargs: Any) -> Running:
        kwargs.setdefault("render", False)
        kwargs.setdefault("sensor_test_s", 3.0)
        thread = StationThread(
            network=ConsoleNetwork(port=0),
            db=f"sqlite:///{tmp_path / 'station.db'}",
            listen_s=0.5,
            **kwargs,
        )
        started.append(thread)
        thread.start()
        return Running(thread)

    yield start
    for thread in started:
        thread.stop()


def test_home_answers_without_a_session_and_every_request_needs_the_token(station) -> None:
    run = station()
    assert run.http.get("/", follow_redirects=False).headers["location"] == "/home"
    assert "Start the session" in run.http.get("/home").text
    assert httpx.get(f"{run.base}/api/sessions/current").status_code == 401
    assert run.http.get("/api/sessions/current").json() == {
        "session": None,
        "last": None,
        "sessions_run": 0,
    }


def test_sensors_always_offer_the_simulated_client(station) -> None:
    run = station()
    sensors = run.http.get("/api/sensors").json()
    assert sensors[0]["port"] == "simulated"
    assert sensors[0]["protocol"] == "cms50-v7"


def test_the_sensor_test_shows_readings_and_their_quality(station) -> None:
    run = station(sensor_test_s=8.0)
    first = run.http.post("/api/sensor-test", json={"sensor": "simulated", "protocol": None})
    assert first.status_code == 200 and first.json()["running"]
    done = wait_for(
        lambda: (t := run.http.get("/api/sensor-test").json()) and not t["running"] and t,
        timeout=20,
    )
    assert done["readings"] and {"t", "hr", "quality"} <= set(done["readings"][0])
    assert done["good"] >= 1 and done["verdict"].endswith("bpm.")


def test_display_lists_each_display_with_a_sentence(station) -> None:
    run = station()
    shown = run.http.get("/api/display").json()
    assert [d["name"] for d in shown] == ["openvr", "window", "offscreen"]
    assert all(d["message"].endswith(".") for d in shown)
    assert shown[2]["available"] is True


def test_start_step_up_end_and_the_report_is_one_click_away(station) -> None:
    run = station()
    started = run.start()
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["client"] == "C-001" and session["url"] == "/"
    current = run.http.get("/api/sessions/current").json()["session"]
    assert current["id"] == session["id"] and current["protocol"] == "cms50-v7"
    assert current["sensor"] == "simulated" and current["display"] == "offscreen"
    # the same address now serves the session's console
    assert run.http.get("/api/state").json()["session_id"] == session["id"]
    step = run.http.post("/api/commands", json={"type": "set_level", "level": 2})
    assert step.status_code == 200
    run.end()
    last = run.http.get("/api/sessions/current").json()["last"]
    assert last["id"] == session["id"] and last["status"] == "completed"
    report = run.http.get(last["report"])
    assert report.status_code == 200 and "<html" in report.text.lower()
    assert run.http.get("/api/state").status_code == 404  # no session: the console is home again
    with Records(run.server.db) as records:
        assert records.get_session(session["id"]).status == "completed"


def test_two_starts_at_once_make_one_session_and_one_clear_refusal(station) -> None:
    run = station()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda code: run.start(client=code), ["C-001", "C-002"]))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409]
    refusal = next(a for a in answers if a.status_code == 409).json()["detail"]
    assert re.match(r"^(A session is starting|Session \d+ for C-00\d is running)", refusal)
    assert refusal.endswith(".")
    # and a third one, while it runs, names the session
    third = run.start(client="C-003")
    assert third.status_code == 409
    assert third.json()["detail"].startswith("Session ")
    run.end()
    with Records(run.server.db) as records:
        assert len(records.list_sessions()) == 1


def test_bad_requests_get_one_sentence_and_start_nothing(station) -> None:
    run = station()
    assert run.start(scene="no-such-scene").status_code == 404
    assert run.start(sensor="/dev/vret-none").json()["detail"].startswith("No sensor at")
    assert run.start(protocol="morse").json()["detail"].startswith("Unknown sensor protocol")
    assert run.start(client="Jane Doe").status_code == 422
    assert run.start(display="hologram").status_code == 422
    assert run.http.get("/api/sessions/current").json()["session"] is None
    assert run.start().status_code == 201  # nothing was left busy
    run.end()


def test_a_crashed_session_ends_interrupted_and_the_station_carries_on(station) -> None:
    crashes = [True]

    def crash_once(_station: Any, _client: Any) -> None:
        if crashes:
            crashes.pop()
            raise RuntimeError("injected fault after the console served")

    run = station(on_session_ready=crash_once)
    first = run.start()
    first_id = first.json()["id"] if first.status_code == 201 else None
    wait_for(lambda: run.http.get("/api/sessions/current").json()["last"] is not None)
    last = run.http.get("/api/sessions/current").json()["last"]
    assert last["status"] == "interrupted"
    assert "injected fault" in last["why"]
    second = run.start()
    assert second.status_code == 201, second.text
    run.end()
    with Records(run.server.db) as records:
        rows = {r.id: r.status for r in records.list_sessions()}
    assert sorted(rows.values()) == ["completed", "interrupted"]
    if first_id is not None:
        assert rows[first_id] == "interrupted"


def test_an_ended_session_is_let_go_of_so_the_station_does_not_grow(station) -> None:
    def alive(kind: type) -> int:  # other tests' sessions may still be about: count ours
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, kind))

    before = alive(Station), alive(LiveSession)
    run = station()
    for code in ("C-001", "C-002"):
        assert run.start(client=code).status_code == 201
        run.end()
    assert (alive(Station), alive(LiveSession)) == before


def test_the_home_page_offers_every_protocol() -> None:
    script = (STATIC / "home.js").read_text()
    for name in PROTOCOLS:
        assert f'"{name}"' in script


def test_the_token_is_kept_so_the_bookmarked_url_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "station-token"
    first = kept_token(path)
    assert kept_token(path) == first
    assert path.stat().st_mode & 0o077 == 0  # this user's only
    assert kept_token(path, renew=True) != first
    path.write_text("not a token")
    assert kept_token(path) != "not a token"


def test_the_station_api_is_in_the_openapi_description(station) -> None:
    run = station()
    paths = run.http.get("/openapi.json").json()["paths"]
    for path in ("/api/sessions", "/api/sessions/current", "/api/sensors", "/api/display"):
        assert path in paths
    body = paths["/api/sessions"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/NewSession")


def test_a_port_found_by_listening_starts_a_session_without_naming_its_protocol(
    tmp_path: Path,
) -> None:
    with PtySimulator("nonin-7", SimulatedHeart(72.0, variability_bpm=0.5, seed=5), seed=5) as sim:
        thread = StationThread(
            network=ConsoleNetwork(port=0),
            db=f"sqlite:///{tmp_path / 'station.db'}",
            render=False,
            listen_s=2.0,
            extra_ports=(sim.port_path,),
        )
        thread.start()
        run = Running(thread)
        try:
            found = {s["port"]: s for s in run.http.get("/api/sensors").json()}
            assert found[sim.port_path]["protocol"] == "nonin-7"
            assert found[sim.port_path]["basis"] == "listened"
            started = run.start(sensor=sim.port_path, protocol=None)
            assert started.status_code == 201, started.text
            assert started.json()["protocol"] == "nonin-7"
            wait_for(lambda: run.http.get("/api/state").json().get("hr") is not None, timeout=30)
            run.end()
        finally:
            thread.stop()


def test_station_sessions_get_the_coach_in_each_clients_kept_form(tmp_path: Path) -> None:
    from vret.coach_cli import DEMO_PACE
    from vret.coach_voice import CoachForms, CoachPlan

    folder = tmp_path / "coach"
    server = StationServer(
        db=f"sqlite:///{tmp_path / 'r.db'}", render=False, coach=CoachPlan(folder=folder)
    )
    try:
        plan = server._coach("C-1", simulated=False)
        assert plan is not None and (plan.mode, plan.pace, plan.home) == ("person", 1.0, folder)
        demo = server._coach("C-1", simulated=True)
        assert demo is not None and demo.pace == DEMO_PACE  # the practice session's short dwell
        CoachForms(folder).set("C-2", "voice")
        CoachForms(folder).set("C-3", "off")
        assert server._coach("C-2", simulated=False).mode == "voice"  # type: ignore[union-attr]
        assert server._coach("C-3", simulated=False) is None
    finally:
        server.records.close()
    without = StationServer(db=f"sqlite:///{tmp_path / 'r2.db'}", render=False)
    try:
        assert without._coach("C-1", simulated=False) is None  # `vret station --coach off`
    finally:
        without.records.close()
