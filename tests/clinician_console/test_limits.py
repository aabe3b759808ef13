"""What a broken or hostile client cannot do to the console: big bodies, slow headers, a thousand
idle sockets, a DNS-rebinding Host, too many pages. Each over real sockets, against the server."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from clinician_console.network import ConsoleNetwork
from clinician_console.tls import self_signed
from tests.clinician_console.conftest import RunningConsole
from tests.clinician_console.test_live import open_live, receive
from tests.conftest import wait_for

IDLE_SOCKETS = 1000


def address(console: RunningConsole) -> tuple[str, int]:
    host, port = console.base.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def closed_by_server(sock: socket.socket, timeout: float) -> float:
    """Seconds until the server closes `sock` (reads EOF), reading and dropping any answer."""
    start = time.monotonic()
    sock.settimeout(timeout)
    while True:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start


def read_to_end(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def connections(console: RunningConsole) -> Any:
    return console.app.state.connections


# --------------------------------------------------------------------------- request bodies


def test_a_body_over_64_kib_gets_413_and_reaches_nothing(console: RunningConsole) -> None:
    with console.client() as c:
        r = c.post("/api/commands", json={"type": "note", "text": "x" * 70_000})
        assert r.status_code == 413
        assert r.json()["detail"] == (
            "The request is over 64 KiB: the console takes one command at a time, and a note "
            "holds at most 2000 characters."
        )

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap counts as it reads
            yield b'{"type": "note", "text": "'
            for _ in range(80):
                yield b"y" * 1024
            yield b'"}'

        r = c.post("/api/commands", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        # a note just over its own limit is still a bad command (422), not a big request
        assert c.post("/api/commands", json={"type": "note", "text": "z" * 2001}).status_code == 422
        assert c.post("/api/commands", json={"type": "step_up"}).status_code == 200
    assert console.call(lambda: [e.type for e in console.session.decisions]) == ["decision"]


def test_a_body_that_stalls_gets_408(start_console: Any) -> None:
    console = start_console(body_timeout_s=0.5)
    head = (
        "POST /api/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {console.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    )
    with socket.create_connection(address(console), timeout=5) as sock:
        sock.sendall(head.encode() + b'{"type": ')  # and nothing more
        answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"took over 0.5 s to arrive" in answer
    assert console.call(lambda: console.session.state.phase) == "baseline"


# --------------------------------------------------------------------------- the Host header


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"]
)
def test_a_foreign_host_name_gets_421_even_with_the_token(
    console: RunningConsole, host: str
) -> None:
    with console.client() as c:
        r = c.post("/api/commands", json={"type": "step_up"}, headers={"Host": host})
        assert r.status_code == 421
        name = host.split(":")[0]
        assert r.json()["detail"] == (
            f"This console does not answer to the name {name}: open the URL it printed when it "
            f"started, or start it with --allow-host {name} if that name is the clinic's own."
        )
        assert (
            c.get("/", params={"token": console.token}, headers={"Host": host}).status_code == 421
        )
    assert console.call(lambda: console.session.state.phase) == "baseline"
    port = address(console)[1]
    name = host if ":" in host else f"{host}:{port}"
    route = socket.create_connection(address(console), timeout=5)  # the name, but to us
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{name}/api/live", sock=route, additional_headers=console.auth)
    assert refused.value.response.status_code == 421


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.:{port}", "[::1]:{port}", "192.168.1.20"],
)
def test_addresses_and_localhost_are_welcome(console: RunningConsole, host: str) -> None:
    with console.client() as c:
        r = c.get("/api/state", headers={"Host": host.format(port=address(console)[1])})
    assert r.status_code == 200


def test_a_name_given_with_allow_host_is_welcome(start_console: Any) -> None:
    network = ConsoleNetwork(port=0, allowed_hosts=("Console.Clinic.Example",))
    console = start_console(network=network)
    with console.client() as c:
        assert c.get("/api/state", headers={"Host": "console.clinic.example"}).status_code == 200
        assert c.get("/api/state", headers={"Host": "other.clinic.example"}).status_code == 421


# --------------------------------------------------------------------------- connections


@contextlib.contextmanager
def room_for_sockets(extra: int) -> Iterator[None]:
    """Raise this process's open-file limit enough for `extra` more sockets, then restore it."""
    resource = pytest.importorskip("resource", reason="no RLIMIT_NOFILE: not a Unix system")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 64
    need = in_use + 2 * extra + 256  # both ends live in this process, plus the server's cap
    if soft >= need:
        yield
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the open-file limit is {hard}; this test needs {need}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_thousand_idle_sockets_do_not_starve_the_console(
    start_console: Any, tmp_path: Path, tls: bool
) -> None:
    network = ConsoleNetwork(port=0)
    verify: Any = True
    if tls:
        cert, key, _ = self_signed(tmp_path, ["127.0.0.1"])
        network = ConsoleNetwork(port=0, tls_cert=cert, tls_key=key)
        verify = ssl.create_default_context(cafile=cert)
    console = start_console(network=network)
    table = connections(console)
    idle: list[socket.socket] = []
    with room_for_sockets(IDLE_SOCKETS):
        try:
            for _ in range(IDLE_SOCKETS):  # connect and say nothing (not even a TLS hello)
                idle.append(socket.create_connection(address(console), timeout=5))
            wait_for(
                lambda: (
                    console.call(lambda: table.evicted) >= IDLE_SOCKETS - network.max_connections
                ),
                what="the server taking every idle socket",
            )
            assert console.call(lambda: len(table)) <= network.max_connections
            start = time.monotonic()
            with httpx.Client(
                base_url=console.base, headers=console.auth, verify=verify, timeout=5
            ) as c:
                assert c.get("/api/state").status_code == 200
                assert time.monotonic() - start < 1.0
                r = c.post("/api/commands", json={"type": "safe"})
            assert r.status_code == 200 and r.json()["phase"] == "safe"
            # the oldest idle sockets were closed to make room: the client reads end-of-file
            assert closed_by_server(idle[0], timeout=5) < 5
        finally:
            for sock in idle:
                sock.close()


def test_a_connection_that_never_finishes_its_headers_is_closed(start_console: Any) -> None:
    # 0.25 s, not the default 10 s: closed after its own deadline, not at once nor at the default
    console = start_console(network=ConsoleNetwork(port=0, header_timeout_s=0.25, keep_alive_s=30))
    with socket.create_connection(address(console), timeout=5) as silent:
        assert 0.2 < closed_by_server(silent, timeout=5) < 4
    with socket.create_connection(address(console), timeout=5) as slow:
        slow.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert 0.2 < closed_by_server(slow, timeout=5) < 4
    # after an answer, the next request's headers get the same deadline (a trickle does not
    # keep a kept-alive connection open: uvicorn's keep-alive timer stops at the first byte)
    request = f"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {console.token}\r\n\r\n"
    with socket.create_connection(address(console), timeout=5) as kept:
        kept.sendall(request.encode())
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
        kept.sendall(b"GET /api/state HTTP/1.1\r\n")
        assert closed_by_server(kept, timeout=5) < 4


def test_a_long_answer_is_not_cut_by_the_header_deadline(start_console: Any) -> None:
    console = start_console(network=ConsoleNetwork(port=0, header_timeout_s=0.5))
    with console.client() as c:
        for _ in range(3):  # a kept-alive connection that keeps asking stays open
            assert c.get("/api/state").status_code == 200


def test_too_many_pages_are_refused_with_a_sentence(start_console: Any) -> None:
    console = start_console(max_live=2)
    with open_live(console) as first, open_live(console) as second:
        assert receive(first)["kind"] == "hello" and receive(second)["kind"] == "hello"
        with pytest.raises(InvalidStatus) as refused:
            open_live(console)
        assert refused.value.response.status_code == 503
        assert b"Too many console pages are open (2)" in refused.value.response.body
        first.close()

        def third_opens() -> bool:
            try:
                with connect(console.ws_url, additional_headers=console.auth, open_timeout=5) as ws:
                    return receive(ws)["kind"] == "hello"
            except InvalidStatus:
                return False

        wait_for(third_opens, what="a page opening after another closed")


def test_headers_over_16_kib_get_400_and_the_console_goes_on(console: RunningConsole) -> None:
    with socket.create_connection(address(console), timeout=5) as sock:
        sock.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        assert read_to_end(sock).startswith(b"HTTP/1.1 400 ")
    with console.client() as c:
        assert c.get("/api/state").status_code == 200
