"""The clinic pages' API: clients, hierarchies and progress over HTTP, and two stations sharing
one real PostgreSQL, each listing the other's running session read-only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from clinician_console.clinic import create_clinic_app
from clinician_console.server import make_token
from exposure.models import ControlSettings, SessionStart
from tests.vret.conftest import PgServer, pg_database
from tests.vret.conftest import pg_server as pg_server  # noqa: F401 - the fixture, shared
from tests.vret.test_progress import course_session, start_course
from vret import hierarchy
from vret.clinic import RecordsClinic
from vret.records import Records
from vret.simulated_client import SimulatedClient
from vret.station import SessionPlan, StationThread

ROOT = Path(__file__).resolve().parents[2]

FAST = ControlSettings(
    baseline_s=6,
    min_baseline_readings=4,
    min_dwell_s=8,
    stale_after_s=3,
    trend_window_s=8,
    arousal_window_s=4,
)


def clinic_client(records: Records) -> TestClient:
    token = make_token()
    app = create_clinic_app(RecordsClinic(records), token)
    return TestClient(
        app, base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def sqlite_records(tmp_path: Path) -> Iterator[Records]:
    with Records(f"sqlite:///{tmp_path / 'records' / 'vret.db'}") as records:
        yield records


def test_clients_are_added_listed_and_archived_over_http(sqlite_records: Records) -> None:
    with clinic_client(sqlite_records) as http:
        added = http.post(
            "/api/clients", json={"code": "C-0042", "phobia": "spiders", "therapist": "TH1"}
        )
        assert added.status_code == 200, added.text
        assert added.json()["code"] == "C-0042" and added.json()["warning"] is None
        named = http.post("/api/clients", json={"code": "Anna", "phobia": "heights"}).json()
        assert "never be the client's name" in named["warning"]
        bad = http.post("/api/clients", json={"code": "Anna Smith", "phobia": "heights"})
        assert bad.status_code == 422 and "never a name" in bad.json()["detail"]
        shout = http.post("/api/clients", json={"code": "C-1", "phobia": "SPIDERS"})
        assert shout.status_code == 422 and "lower case" in shout.json()["detail"]
        again = http.post("/api/clients", json={"code": "C-0042", "phobia": "spiders"})
        assert again.status_code == 409 and "already a client" in again.json()["detail"]
        assert (
            http.post(
                "/api/clients", json={"code": "C-1", "phobia": "x", "name": "Anna"}
            ).status_code
            == 422
        )
        assert [c["code"] for c in http.get("/api/clients").json()] == ["Anna", "C-0042"]
        assert http.post("/api/clients/Anna/archive").json()["archived"] is True
        assert [c["code"] for c in http.get("/api/clients").json()] == ["C-0042"]
        assert len(http.get("/api/clients?archived=true").json()) == 2
        assert http.post("/api/clients/Nobody-1/archive").status_code == 404
        assert "<title>vret · Clients</title>" in http.get("/clients").text
        assert http.get("/", follow_redirects=False).headers["location"] == "/clinic"
    unauthorised = TestClient(
        create_clinic_app(RecordsClinic(sqlite_records), make_token()), base_url="http://127.0.0.1"
    )
    assert unauthorised.get("/api/clients").status_code == 401


def test_a_hierarchy_is_built_from_the_scene_and_saved_in_versions(sqlite_records: Records) -> None:
    with clinic_client(sqlite_records) as http:
        http.post("/api/clients", json={"code": "C-0042", "phobia": "spiders"})
        scenes = [s["name"] for s in http.get("/api/scenes").json()]
        assert "spiders" in scenes and "safe_place" not in scenes
        scene = http.get("/api/scenes/spiders").json()
        assert len(scene["levels"]) == 10 and scene["variables"]["span"] == [0.07, 0.2]
        assert http.get("/api/scenes/sharks").status_code == 404
        url = "/api/clients/C-0042/hierarchies/spiders"
        assert http.get(url).json() is None
        steps = [{"level": 1, "suds": 10}, {"level": 4, "suds": 40, "params": {"movement": 0.05}}]
        first = http.post(url, json={"steps": steps}).json()
        second = http.post(url, json={"steps": steps[:1]}).json()
        assert (first["version"], second["version"]) == (1, 2)
        assert http.get(url).json()["steps"] == [{"level": 1, "name": "", "params": {}, "suds": 10}]
        wrong = http.post(url, json={"steps": [{"level": 1, "suds": 10, "params": {"span": 9}}]})
        assert wrong.status_code == 409 and "outside what spiders shows" in wrong.json()["detail"]
        assert http.post(url, json={"steps": []}).status_code == 422
        assert http.post(url, json={"steps": [{"level": 1, "suds": 101}]}).status_code == 422
        assert http.get("/api/clients/C-9/hierarchies/spiders").status_code == 404
        assert (
            http.post("/api/clients/C-9/hierarchies/spiders", json={"steps": steps}).status_code
            == 404
        )
        assert len(hierarchy.versions(sqlite_records, "C-0042")) == 2


def test_measures_between_sessions_are_scored_and_recorded_over_http(
    sqlite_records: Records,
) -> None:
    with clinic_client(sqlite_records) as http:
        http.post("/api/clients", json={"code": "C-0042", "phobia": "spiders"})
        names = [i["name"] for i in http.get("/api/instruments").json()]
        assert {"bat", "ssq"} <= set(names)
        assert not {"expectancy", "sickness", "questionnaire_template"} & set(names)
        url = "/api/clients/C-0042/measures"
        added = http.post(
            url, json={"instrument": "bat", "answers": [10, 25, 40], "taken": "2026-10-02"}
        )
        assert added.status_code == 200, added.text
        assert added.json()["scores"]["steps_completed"] == 3.0
        assert added.json()["answers"] == [10, 25, 40]
        short = http.post(url, json={"instrument": "ssq", "answers": [1, 2]})
        assert short.status_code == 409 and "16 answers" in short.json()["detail"]
        off = http.post(url, json={"instrument": "bat", "answers": [101]})
        assert off.status_code == 409
        unknown = http.post(url, json={"instrument": "nosuch", "answers": [1]})
        assert unknown.status_code == 409
        assert (
            http.post(
                "/api/clients/C-9/measures", json={"instrument": "bat", "answers": [1]}
            ).status_code
            == 404
        )
        (kept,) = http.get(url).json()
        assert (kept["taken"], kept["instrument"]) == ("2026-10-02", "bat")


def test_the_progress_page_is_served_for_a_client(sqlite_records: Records) -> None:
    start_course(sqlite_records)
    course_session(sqlite_records, "C-0007", climb=1, ssq_pre=[0] * 16, ssq_post=[1] * 16)
    with clinic_client(sqlite_records) as http:
        page = http.get("/clients/C-0007/progress")
        assert page.status_code == 200 and "Treatment progress" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert http.get("/clients/C-9/progress").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_two_stations_share_one_postgresql_and_see_each_others_sessions(
    pg_server: PgServer,
) -> None:
    with pg_database(pg_server) as url:
        office = Records(url, host="station-b")
        start_course(office, "C-0001")
        start_course(office, "C-0002")
        # station B runs C-0002's session (recorded under its own name, still open)
        ladder, version = hierarchy.session_ladder(office, "C-0002", "spiders")
        b_session = office.open_session(
            SessionStart(client="C-0002", ladder=ladder), "spiders", hierarchy_version=version
        )
        # station A runs C-0001's session for real: its console serves the clinic routes
        ladder, version = hierarchy.session_ladder(office, "C-0001", "spiders")
        client = SimulatedClient("text", rate=4.0)
        plan = SessionPlan(
            client="C-0001",
            ladder=ladder,
            hierarchy_version=version,
            sensor=client.start(),
            protocol="text",
            settings=FAST,
            port=_free_port(),
            db=url,
            render=False,
            on_ready=lambda station: client.wear(station.live),
        )
        runner = StationThread(plan)
        try:
            station = runner.start(timeout=60)
            a_session = station.session_id
            with httpx.Client(
                base_url=f"http://127.0.0.1:{station.port}",
                headers={"Authorization": f"Bearer {station.token}"},
                timeout=10,
            ) as http:
                seen = http.get("/api/clinic").json()
                by_id = {s["id"]: s for s in seen["sessions"]}
                assert set(by_id) == {a_session, b_session}
                assert by_id[a_session]["this_session"] is True
                assert by_id[b_session]["this_session"] is False
                assert by_id[b_session]["station"] == "station-b"
                assert by_id[b_session]["this_station"] is False
                assert by_id[a_session]["silent"] is False
                assert [c["code"] for c in seen["clients"]] == ["C-0001", "C-0002"]
                assert "<title>vret · Clinic</title>" in http.get("/clinic").text
                # a client added on station B is on station A's list at once
                with clinic_client(office) as b_http:
                    assert (
                        b_http.post(
                            "/api/clients", json={"code": "C-0003", "phobia": "heights"}
                        ).status_code
                        == 200
                    )
                    b_seen = b_http.get("/api/clinic").json()
                    b_ids = {s["id"]: s for s in b_seen["sessions"]}
                    assert b_ids[a_session]["this_session"] is False  # read-only over there
                    assert b_seen["station"] == "station-b"
                assert "C-0003" in [c["code"] for c in http.get("/api/clients").json()]
        finally:
            runner.stop()
            client.stop()
        assert station.records.get_session(a_session).hierarchy_version == 1
        # station B goes quiet (it recorded nothing after its header): after a minute the
        # clinic page says so, as it would of a station that died without closing its session
        later = Records(
            url, host="station-c", wall_clock=lambda: datetime.now(UTC) + timedelta(minutes=5)
        )
        (quiet,) = RecordsClinic(later).running_sessions()
        assert (quiet["id"], quiet["silent"]) == (b_session, True) and quiet["quiet_s"] >= 300
        later.close()
        office.close_session(b_session)
        # once both ended, neither is listed as running
        assert RecordsClinic(office).running_sessions() == []
        office.close()


def test_vret_clinic_serves_the_clinic_pages_without_a_session_until_ctrl_c(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'records' / 'vret.db'}"
    with Records(url) as records:
        start_course(records, "C-0007")
    errors = (tmp_path / "stderr.txt").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vret", "clinic", "--port", "0", "--db", url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=errors,  # a file, not a pipe: nothing the server logs can fill it and block it
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # started as a script's background job is: with SIGINT ignored; Ctrl-C works all the same
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        link = next(line.split(": ", 1)[1].strip() for line in lines if "?token=" in line)
        base, token = link.split("/?token=")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            seen = http.get("/api/clinic").json()
            assert [c["code"] for c in seen["clients"]] == ["C-0007"]
            assert seen["sessions"] == []
            assert http.get("/api/clients/C-0007/hierarchies/spiders").json()["version"] == 1
        assert httpx.get(f"{base}/api/clinic").status_code == 401
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)  # uvicorn drains its connections first
        except subprocess.TimeoutExpired:
            errors.seek(0)
            raise AssertionError(
                f"vret clinic did not stop on Ctrl-C: {errors.read()[-2000:]}"
            ) from None
        assert code in (0, 130)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    errors.seek(0)
    assert "Traceback" not in errors.read()
    errors.close()


def test_the_api_states_the_same_rules_as_the_records() -> None:
    from clinician_console import clinic
    from vret import clients

    assert clients.CODE.pattern == clinic.CODE_PATTERN
    assert clients.PHOBIA.pattern == clinic.PHOBIA_PATTERN
    assert clients.THERAPIST.pattern == clinic.THERAPIST_PATTERN
