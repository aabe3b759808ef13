"""Where the console listens: loopback by default, TLS (own or self-signed) or a loud warning off it."""

from __future__ import annotations

import argparse
import hashlib
import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from websockets.sync.client import connect

from clinician_console.network import (
    TLS_FOLDER,
    ConsoleNetwork,
    ConsoleNetworkError,
    add_network_arguments,
    network_from_args,
    print_notices,
)
from clinician_console.tls import ConsoleTLSError, fingerprint, self_signed
from tests.clinician_console.test_live import receive

NEEDS_TLS = (
    "Listening on {host} would send the client's health data unencrypted over the network: add "
    "--tls self-signed (or --tls-cert and --tls-key), add --insecure-lan to accept the risk, "
    "or use --host 127.0.0.1."
)


def parse(*argv: str, data_dir: Path) -> ConsoleNetwork:
    parser = argparse.ArgumentParser()
    add_network_arguments(parser)
    return network_from_args(parser.parse_args(list(argv)), data_dir)


def tls_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts exactly this certificate (and checks the name)."""
    return ssl.create_default_context(cafile=cert)


# --------------------------------------------------------------------------- the flags


def test_loopback_is_the_plain_http_default(tmp_path: Path) -> None:
    network = parse(data_dir=tmp_path)
    assert (network.host, network.port, network.scheme) == ("127.0.0.1", 8000, "http")
    assert network.notices() == [] and not (tmp_path / TLS_FOLDER).exists()
    for host in ("localhost", "::1", "127.0.0.2"):
        assert parse("--host", host, data_dir=tmp_path).scheme == "http"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "console.clinic.example"])
def test_a_network_address_without_tls_is_one_sentence_with_the_fix(
    tmp_path: Path, host: str
) -> None:
    with pytest.raises(ConsoleNetworkError) as err:
        parse("--host", host, data_dir=tmp_path)
    assert str(err.value) == NEEDS_TLS.format(host=host)


def test_insecure_lan_serves_plain_http_with_a_loud_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    network = parse("--host", "0.0.0.0", "--insecure-lan", data_dir=tmp_path)
    assert network.scheme == "http"
    print_notices(network)
    err = capsys.readouterr().err
    assert "WARNING: --insecure-lan" in err and "plain HTTP on 0.0.0.0" in err
    assert "read the client's heart rate and the access token" in err
    assert "--tls self-signed" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-key", "k.pem"], "--tls-cert and --tls-key go together"),
        (
            ["--tls", "self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
            "give one of them",
        ),
        (["--port", "70000"], "Port 70000 is not a port number"),
    ],
)
def test_flags_that_do_not_fit_together_are_one_sentence(
    tmp_path: Path, argv: list[str], says: str
) -> None:
    with pytest.raises(ConsoleNetworkError, match=says):
        parse(*argv, data_dir=tmp_path)


def test_a_certificate_that_cannot_be_used_fails_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ConsoleTLSError, match="No such file"):
        parse("--tls-cert", str(tmp_path / "no.pem"), "--tls-key", "k", data_dir=tmp_path)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    with pytest.raises(ConsoleTLSError, match="give a PEM certificate and its matching"):
        parse("--tls-cert", str(not_pem), "--tls-key", str(not_pem), data_dir=tmp_path)
    # a certificate with another certificate's key
    cert_a, _, _ = self_signed(tmp_path / "a", ["localhost"])
    _, key_b, _ = self_signed(tmp_path / "b", ["localhost"])
    with pytest.raises(ConsoleTLSError, match="matching"):
        parse("--tls-cert", str(cert_a), "--tls-key", str(key_b), data_dir=tmp_path)


# --------------------------------------------------------------------------- self-signed


def test_the_self_signed_certificate_is_made_once_and_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = parse("--host", "0.0.0.0", "--tls", "self-signed", data_dir=tmp_path)
    assert first.scheme == "https" and first.tls_made_now and first.tls_cert is not None
    assert first.tls_cert.parent == tmp_path / TLS_FOLDER
    assert (
        first.tls_key is not None and first.tls_key.stat().st_mode & 0o077 == 0
    )  # key: owner only
    again = parse("--host", "0.0.0.0", "--tls", "self-signed", data_dir=tmp_path)
    assert not again.tls_made_now and again.tls_cert == first.tls_cert
    assert fingerprint(again.tls_cert) == fingerprint(first.tls_cert)
    # the fingerprint printed is the SHA-256 of the certificate, as browsers show it
    der = x509.load_pem_x509_certificate(first.tls_cert.read_bytes()).public_bytes(Encoding.DER)
    expected = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    print_notices(again)
    err = capsys.readouterr().err
    assert expected in err and "made earlier" in err and "fingerprint" in err
    names = x509.load_pem_x509_certificate(first.tls_cert.read_bytes()).extensions
    alt = names.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in alt.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in alt.get_values_for_type(x509.IPAddress)}


def test_self_signed_console_end_to_end_over_tls(start_console: Any, tmp_path: Path) -> None:
    network = parse("--port", "0", "--tls", "self-signed", data_dir=tmp_path)
    assert network.tls_cert is not None
    console = start_console(network=network)
    assert console.base.startswith("https://127.0.0.1:")
    trust = tls_context(network.tls_cert)
    with httpx.Client(base_url=console.base, verify=trust, timeout=10) as c:
        r = c.get("/", params={"token": console.token})
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/api/state").status_code == 200  # the Secure cookie came back over TLS
        r = c.post("/api/commands", json={"type": "safe"})
        assert r.status_code == 200 and r.json()["phase"] == "safe"
        served = r.extensions["network_stream"].get_extra_info("ssl_object")
        der = served.getpeercert(True)
    assert ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest()) == fingerprint(
        network.tls_cert
    )
    # the live stream over wss, trusting the same certificate
    wss = console.base.replace("https", "wss", 1) + "/api/live"
    with connect(
        wss, ssl=trust, additional_headers={"Authorization": f"Bearer {console.token}"}
    ) as ws:
        assert receive(ws)["kind"] == "hello"
    # a client that does not trust the certificate is refused by its own TLS, before any data
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=console.base) as c:
        c.get("/api/state")
    # and plain HTTP on the TLS port gets no answer
    host, port = console.base.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw.settimeout(5)
        try:
            answer = raw.recv(65536)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"HTTP/1.1")


def test_plain_http_cookie_is_not_secure(start_console: Any) -> None:
    console = start_console()
    with httpx.Client(base_url=console.base, timeout=10) as c:
        cookie = c.get("/", params={"token": console.token}).headers["set-cookie"]
    assert "Secure" not in cookie  # a browser would drop a Secure cookie set over http


def test_console_urls_say_https_with_tls(tmp_path: Path) -> None:
    network = parse("--host", "0.0.0.0", "--tls", "self-signed", data_dir=tmp_path)
    urls = network.urls(8443, "T")
    assert urls[0] == ("On this computer", "https://127.0.0.1:8443/?token=T")
    assert all(url.startswith("https://") for _who, url in urls)
