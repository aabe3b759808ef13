"""Fixtures for the records tests: a database URL per test (SQLite, and a real PostgreSQL server
started here when its binaries exist) and a scripted session recorded through LiveSession."""

from __future__ import annotations

import contextlib
import glob
import itertools
import math
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exposure.live import LiveSession
from exposure.models import (
    ControlSettings,
    Decision,
    End,
    Ladder,
    Level,
    Note,
    Reading,
    Resume,
    Safe,
    SceneEvent,
    SessionStart,
    Suds,
    Tick,
)
from vret.records import Records

# --------------------------------------------------------------------------- PostgreSQL


def _pg_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if found:
        return found[0]
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"


class PgCluster:
    """A throwaway PostgreSQL server on 127.0.0.1 that a test can stop and start again.

    `initdb` runs as an unprivileged user when the tests run as root (initdb refuses root).
    Raises `pytest.skip` when the server binaries or psycopg are missing.
    """

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pytest.skip("psycopg is not installed: pip install 'psycopg[binary]'")
        self.pg_ctl = pg_ctl
        self.base = Path(tempfile.mkdtemp(prefix="vret-pg-"))
        self.run_as: dict[str, int] = {}
        if os.geteuid() == 0:  # initdb refuses to run as root
            nobody = pwd.getpwnam("nobody")
            os.chown(self.base, nobody.pw_uid, nobody.pw_gid)
            self.run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        self.env = {**os.environ, "HOME": str(self.base), "LC_ALL": "C"}
        self.data, self.sock_dir, self.log = (
            self.base / "data",
            self.base / "sock",
            self.base / "server.log",
        )
        self.port = _free_port()
        self.running = False
        try:
            self._run(
                [
                    initdb,
                    "-D",
                    str(self.data),
                    "-U",
                    "vret",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            )
            self.sock_dir.mkdir()
            if self.run_as:
                os.chown(self.sock_dir, self.run_as["user"], self.run_as["group"])
            self.start()
        except (subprocess.SubprocessError, OSError) as err:
            tail = self.log.read_text(errors="replace")[-400:] if self.log.exists() else ""
            detail = getattr(err, "stderr", b"") or b""
            shutil.rmtree(self.base, ignore_errors=True)
            pytest.skip(f"could not start a PostgreSQL server: {err} {detail[-300:]!r} {tail}")
        self.server = PgServer("127.0.0.1", self.port, "vret")

    def _run(self, args: list[str]) -> None:
        subprocess.run(
            args,
            cwd=self.base,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
            **self.run_as,  # type: ignore[arg-type]
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sock_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            ]
        )
        self.running = True

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: as a crash or a pulled cable would, no goodbyes)."""
        self._run([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"])
        self.running = False

    def remove(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server on 127.0.0.1, shared by the tests of a run."""
    cluster = PgCluster()
    try:
        yield cluster.server
    finally:
        cluster.remove()


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server of this test's own, which the test may stop and start."""
    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


_db_counter = itertools.count(1)


@contextlib.contextmanager
def pg_database(server: PgServer) -> Iterator[str]:
    import psycopg

    name = f"vret_test_{os.getpid()}_{next(_db_counter)}"
    admin = f"host={server.host} port={server.port} user={server.user} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def fresh_database(request: pytest.FixtureRequest, kind: str, folder: Path) -> Iterator[str]:
    """A new, empty database of `kind`: a SQLite file in `folder`, or one on the test server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'records' / 'vret.db'}"
        return
    server = request.getfixturevalue("pg_server")
    with pg_database(server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty records database for one test, on each backend."""
    with fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture
def records(db_url: str) -> Iterator[Records]:
    with Records(db_url) as opened:
        yield opened


# --------------------------------------------------------------------------- a scripted session

LADDER = Ladder(
    scene="spiders",
    levels=[
        Level(name="Photo of a spider across the room", suds=15),
        Level(name="Small spider in a closed jar", suds=25),
        Level(name="Jar on the table", suds=35),
        Level(name="Spider on the table", suds=50),
        Level(name="Spider on the hand", suds=70),
        Level(name="Two spiders on the arm", suds=85),
    ],
)
SETTINGS = ControlSettings(
    baseline_s=30,
    min_dwell_s=20,
    ceiling_sustain_s=6,
    arousal_window_s=5,
    trend_window_s=15,
    suds_reminder_s=120,
    suds_before_step_up=False,  # the script below was written for steps up by heart rate alone
)
START = SessionStart(client="C-0142", ladder=LADDER, settings=SETTINGS)


@dataclass
class Recorded:
    session_id: int
    live: LiveSession
    duration_s: float


def record_session(records: Records, seed: int = 7, ticks_per_s: int = 2) -> Recorded:
    """Run a six-minute spider session through LiveSession, recording as the runtime does.

    A simulated heart (about 72 bpm at rest) answers each new level with a surge that habituates;
    at level 4 the first time it overshoots the ceiling, so the core steps down by itself. The
    therapist asks SUDS, writes a note and triggers a scene event; the client presses the break
    button; the therapist resumes and ends the session.
    """
    rng = random.Random(seed)
    now = [1000.0]
    sid = records.open_session(START, scene=LADDER.scene)
    live = LiveSession(
        START, clock=lambda: now[0], record=lambda e: records.append(sid, e), session_id=sid
    )
    live.add_listener(lambda _event, _state, effects: records.append_effects(sid, effects))
    since = {"level": 0, "t": 0.0}

    def heart(t: float) -> float:
        level = live.state.level
        if level != since["level"]:
            since.update(level=level, t=t)
        dwell = t - since["t"]
        rest = 72.0 * (1 + 0.035 * level)
        surge = 0.10 * 72.0 * math.exp(-dwell / 6.0) if level else 0.0
        if level == 4 and t < 170:  # the first time at level 4 is too much
            surge = 0.30 * 72.0
        return rest + surge + rng.gauss(0, 0.8)

    script: dict[int, object] = {
        20: Suds(value=40),
        75: Suds(value=45),
        88: Suds(value=20),
        150: SceneEvent(name="spider walks"),
        215: Suds(value=55),
        228: Suds(value=25),
        200: Note(text="Client says the jar is 'fine now'; breathing slower."),
        275: Safe(by="client"),
        290: Note(text="Break requested by client <& checked in> — resumed after a talk."),
        296: Suds(value=35),
        300: Resume(),
        340: Suds(value=25),
        360: End(),
    }
    duration = 365.0
    steps = int(duration * ticks_per_s)
    for i in range(1, steps + 1):
        t = i / ticks_per_s
        now[0] = 1000.0 + t
        live.submit(Tick(t=0.0))
        if i % ticks_per_s == 0:
            second = i // ticks_per_s
            hr = heart(t)
            if 230 <= second < 236:
                live.submit(Reading(t=0.0, hr=None, quality="no-contact"))
            else:
                live.submit(Reading(t=0.0, hr=round(hr, 1), rr_ms=(round(60000 / hr, 1),)))
            command = script.get(second)
            if command is not None:
                live.submit(command)  # type: ignore[arg-type]
    records.close_session(sid)
    return Recorded(sid, live, duration)


@dataclass
class RecordedDb:
    url: str
    session_id: int
    decisions: list[Decision]
    events: int


@pytest.fixture(scope="module", params=BACKENDS)
def recorded_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RecordedDb]:
    """A database holding one completed scripted session (shared by a test module)."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("recorded")) as url:
        with Records(url) as records:
            recorded = record_session(records)
            count = len(records.events(recorded.session_id))
        yield RecordedDb(url, recorded.session_id, list(recorded.live.decisions), count)
