"""Fixtures for the console tests: a real server on its own loop thread, and a real Chromium.

`console` starts the console exactly as a session runtime would (a LiveSession, `create_app`,
`serve` on an asyncio loop), in a background thread of the test process, on a free port. The
tests talk to it over real HTTP and WebSockets; anything that touches the session runs on the
server's loop through `call`, because the session has one writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from clinician_console.network import ConsoleNetwork
from clinician_console.server import create_app, make_token, serve
from exposure.live import LiveSession
from exposure.models import SessionStart
from vret.simulated_client import DEMO_SETTINGS, demo_ladder, feed_heart, make_heart

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
)
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class RunningConsole:
    """A console server running in a background thread; `call` runs code on its loop."""

    base: str
    token: str
    session: LiveSession
    loop: asyncio.AbstractEventLoop
    app: Any
    stop: Callable[[], None] = field(repr=False, default=lambda: None)
    """Shut the server down (as if the control process went away)."""

    @property
    def page_url(self) -> str:
        return f"{self.base}/?token={self.token}"

    @property
    def ws_url(self) -> str:
        return self.base.replace("http", "ws", 1) + "/api/live"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the server's loop (the session's one writer) and return its result."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.auth, timeout=10)


class ConsoleThread:
    """Starts a console in a thread with its own loop; stops it cleanly on `close`."""

    def __init__(
        self,
        session_factory: Callable[[], LiveSession],
        *,
        feed_period_s: float | None,
        prefill_s: float = 0.0,
        app_kwargs: dict[str, Any] | None = None,
        network: ConsoleNetwork | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.network = network
        self.feed_period_s = feed_period_s
        self.prefill_s = prefill_s
        self.app_kwargs = app_kwargs or {}
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.console: RunningConsole | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="console-server", daemon=True)

    def start(self) -> RunningConsole:
        self._thread.start()
        if not self.started.wait(15):
            raise RuntimeError("the console server did not start within 15 s")
        if self.error is not None:
            raise self.error
        assert self.console is not None
        return self.console

    def stop(self) -> None:
        """Ask the server to shut down (returns at once)."""
        if self.console is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # already stopped: its loop is closed
                self.console.loop.call_soon_threadsafe(self._stop.set)

    def join(self) -> None:
        self._thread.join(timeout=15)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as err:  # reported to the test thread by start()
            self.error = err
            self.started.set()

    async def _main(self) -> None:
        session = self.session_factory()
        heart = make_heart(seed=7)
        if self.prefill_s:
            _fast_forward(session, heart, self.prefill_s)
        token = make_token()
        app = create_app(session, token, network=self.network, **self.app_kwargs)
        ready = asyncio.Event()
        self._stop = asyncio.Event()
        tasks = [
            asyncio.create_task(serve(app, port=0, ready=ready, network=self.network)),
            asyncio.create_task(session.tick_forever()),
        ]
        if self.feed_period_s is not None:
            tasks.append(asyncio.create_task(feed_heart(session, heart, self.feed_period_s)))
        await ready.wait()
        host, port = app.state.address
        scheme = self.network.scheme if self.network is not None else "http"
        self.console = RunningConsole(
            f"{scheme}://{host}:{port}",
            token,
            session,
            asyncio.get_running_loop(),
            app,
            stop=self.stop,
        )
        self.started.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ShiftedClock:
    """Monotonic time that can be pushed forward, to give a session minutes of history at once.

    `freeze()` stops it following the wall clock: session time then moves only by `shift`, so
    a test that feeds readings is not at the mercy of a loaded machine's pauses.
    """

    def __init__(self) -> None:
        self.shift = 0.0
        self.frozen_at: float | None = None

    def freeze(self) -> None:
        self.frozen_at = time.monotonic()

    def __call__(self) -> float:
        now = self.frozen_at if self.frozen_at is not None else time.monotonic()
        return now + self.shift


def _fast_forward(session: LiveSession, heart: Any, seconds: float, period_s: float = 0.5) -> None:
    clock = session.clock
    assert isinstance(clock, ShiftedClock), "prefill needs a session on a ShiftedClock"
    for _ in range(int(seconds / period_s)):
        clock.shift += period_s
        session.submit(heart.reading(session))


@pytest.fixture(scope="session")
def _stopping() -> Iterator[list[ConsoleThread]]:
    """Consoles whose tests are over: told to stop at once, joined at the end of the run."""
    threads: list[ConsoleThread] = []
    yield threads
    for thread in threads:
        thread.join()


@pytest.fixture
def start_console(_stopping: list[ConsoleThread]) -> Iterator[Callable[..., RunningConsole]]:
    """Start consoles: `start_console(feed_period_s=None, prefill_s=0, settings=None, network=None, **app_kwargs)`.

    `settings` changes the demo session's ControlSettings (e.g. a shorter stale time);
    `network` (with port 0) goes to both `create_app` and `serve` (TLS, limits, names).
    """
    threads: list[ConsoleThread] = []

    def start(
        feed_period_s: float | None = None,
        prefill_s: float = 0.0,
        settings: dict[str, Any] | None = None,
        network: ConsoleNetwork | None = None,
        **app_kwargs: Any,
    ) -> RunningConsole:
        def factory() -> LiveSession:
            ladder, _events = demo_ladder()
            start = SessionStart(
                client="DEMO-01",
                ladder=ladder,
                settings=DEMO_SETTINGS.model_copy(update=settings or {}),
            )
            return LiveSession(start, clock=ShiftedClock())

        thread = ConsoleThread(
            factory,
            feed_period_s=feed_period_s,
            prefill_s=prefill_s,
            app_kwargs=app_kwargs,
            network=network,
        )
        threads.append(thread)
        return thread.start()

    yield start
    for thread in threads:
        thread.stop()
    _stopping.extend(threads)


@pytest.fixture
def console(start_console: Callable[..., RunningConsole]) -> RunningConsole:
    """A console on a ticking demo session with no heart feed: its level moves only by commands."""
    return start_console()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """A Chromium Playwright can drive: Debian's headless shell, else Playwright's own download."""
    override = os.environ.get("VRET_CHROMIUM")
    candidates = [override] if override else []
    candidates += list(CHROMIUM_CANDIDATES)
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if found:
        return found
    browsers = Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright")
    )
    for pattern in (
        "chromium_headless_shell-*/chrome-*/headless_shell",
        "chromium-*/chrome-linux*/chrome",
    ):
        for path in sorted(browsers.glob(pattern), reverse=True):
            if os.access(path, os.X_OK):
                return str(path)
    pytest.fail(
        "No Chromium for the browser tests: run 'sudo apt-get install "
        "chromium-headless-shell' (Debian/Ubuntu) or '.venv/bin/playwright install chromium'.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for a test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- hypothesis

settings.register_profile(
    "console-dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "console-ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "console-deep",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def console_profile() -> settings:
    """The console's property-test settings (schemathesis over every operation): 25 examples
    per operation, 100 derandomized in CI, 500 in the deep profile (`make fuzz`)."""
    profile = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    return settings.get_profile(
        {"ci": "console-ci", "deep": "console-deep"}.get(profile, "console-dev")
    )
