"""Serving: the loopback default, a port in use, signals left to the runtime, no health data in logs."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from clinician_console.server import ConsoleAddressError, bind_socket, create_app, make_token, serve
from clinician_console.urls import console_urls
from exposure.models import Reading
from vret.cli import main as vret_main
from vret.simulated_client import demo_session

ROOT = Path(__file__).resolve().parents[2]


async def _serve_briefly(app, check, **kwargs) -> None:  # type: ignore[no-untyped-def]
    ready = asyncio.Event()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    task = asyncio.create_task(serve(app, port=0, ready=ready, **kwargs))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        # uvicorn would install its own handlers here; the runtime owns Ctrl-C instead
        assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
        await check()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_serve_binds_loopback_leaves_signals_alone_and_stops_cleanly() -> None:
    session, _ = demo_session()
    token = make_token()
    app = create_app(session, token)

    async def check() -> None:
        host, port = app.state.address
        assert host == "127.0.0.1"
        async with httpx.AsyncClient() as c:
            r = await c.get(
                f"http://{host}:{port}/api/state", headers={"Authorization": f"Bearer {token}"}
            )
        assert r.status_code == 200
        check.port = port  # type: ignore[attr-defined]

    asyncio.run(_serve_briefly(app, check))
    # the port is free again once the server task is cancelled
    bind_socket("127.0.0.1", check.port).close()  # type: ignore[attr-defined]


def test_a_port_in_use_is_one_clear_sentence() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConsoleAddressError) as err:
            bind_socket("127.0.0.1", port)
        assert str(err.value) == (
            f"Port {port} is already in use: close the program using it (perhaps another vret "
            "console) or choose another port with --port."
        )
        session, _ = demo_session()
        with pytest.raises(ConsoleAddressError, match="already in use"):
            asyncio.run(serve(create_app(session, make_token()), port=port))


def test_an_unknown_host_is_one_clear_sentence() -> None:
    with pytest.raises(
        ConsoleAddressError, match="not an address or host name this computer knows"
    ):
        bind_socket("no-such-host.invalid", 8000)


def test_no_health_data_or_token_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    session, _ = demo_session()
    token = make_token()
    app = create_app(session, token)

    async def check() -> None:
        session.submit(Reading(t=0, hr=123.4))
        host, port = app.state.address
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as c:
            await c.get("/", params={"token": token})
            await c.get("/api/state", params={"token": token})
            await c.post(
                "/api/commands",
                params={"token": token},
                json={"type": "note", "text": "Afraid of the kitchen at night"},
            )
            await c.post(
                "/api/commands", params={"token": token}, json={"type": "suds", "value": 101}
            )
            await c.get("/api/state", params={"token": "wrong"})

    with caplog.at_level(logging.DEBUG):
        asyncio.run(_serve_briefly(app, check))
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name.startswith("uvicorn") for r in server_side)  # the server did log, and
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in server_side)
    for secret in (token, "123.4", "kitchen", "/api/state", "/api/commands"):
        assert secret not in text


def test_vret_console_without_simulate_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert vret_main(["console"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "vret: vret console needs --simulate for now: a live session opens its "
        "own console when it starts; try 'vret console --simulate'."
    )


def test_vret_console_on_a_port_in_use_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert vret_main(["console", "--simulate", "--port", str(port)]) == 2
    assert f"vret: Port {port} is already in use" in capsys.readouterr().err


def test_urls_for_a_wildcard_address_point_somewhere_a_browser_can_open() -> None:
    urls = console_urls("0.0.0.0", 8000, "TOKEN")
    assert urls[0] == ("On this computer", "http://127.0.0.1:8000/?token=TOKEN")
    assert console_urls("::1", 8001, "T") == [("Open", "http://[::1]:8001/?token=T")]


def test_vret_console_simulate_runs_a_live_session_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vret", "console", "--simulate", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = next(line.split(": ", 1)[1].strip() for line in lines if "?token=" in line)
        assert url.startswith("http://127.0.0.1:")
        base, token = url.split("/?token=")
        deadline = time.monotonic() + 10
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            while True:  # the simulated heart feeds readings twice a second
                state = c.get("/api/state").json()
                if state["hr"] is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert state["phase"] == "baseline" and 40 < state["hr"] < 120
            assert "Simulated session" in c.get("/api/console").json()["notice"]
            coach = c.get("/api/coach").json()  # the demo's coach, captions only
            assert coach["enabled"] and coach["mode"] == "person"
            assert coach["said"][0]["line"] == "welcome"
            assert httpx.get(f"{base}/api/state").status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) in (0, 130)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
