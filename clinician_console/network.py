"""Where and how the console listens: address, TLS, the names it answers to, connection limits.

The console binds 127.0.0.1 by default. Any other address puts the client's heart rate and the
access token on the clinic network, so it needs TLS: the clinic's certificate (`--tls-cert` and
`--tls-key`), or `--tls self-signed`, a certificate the console makes once in the data folder and
whose fingerprint it prints at every start. `--insecure-lan` serves plain HTTP anyway, with a
loud warning; without one of the three a non-loopback `--host` is refused with one sentence.

`add_network_arguments` puts these flags on a command's parser and `network_from_args` turns them
into a `ConsoleNetwork`, which `create_app` (allowed names and origins) and `serve` (address,
TLS, limits) take.
"""

from __future__ import annotations

import argparse
import ipaddress
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from clinician_console.tls import fingerprint, self_signed, server_context
from clinician_console.urls import console_urls, lan_address
from exposure.errors import UserError

TLS_FOLDER = "console-tls"
"""The self-signed certificate's folder inside the data folder."""

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class ConsoleNetworkError(UserError):
    """The console's network settings do not fit together; one sentence with the fix."""


def is_loopback(host: str) -> bool:
    """True when `host` is this computer only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ConsoleNetwork:
    """How the console listens. Build one with `network_from_args`, or directly in code and tests."""

    host: str = "127.0.0.1"
    port: int = 8000
    tls_cert: Path | None = None
    """PEM certificate; with `tls_key` the console speaks HTTPS (and its cookie is Secure)."""
    tls_key: Path | None = None
    tls_self_signed: bool = False
    """True when `tls_cert` is the console's own certificate (the fingerprint is printed)."""
    tls_made_now: bool = False
    """True when the self-signed certificate was made by this start."""
    insecure_lan: bool = False
    """Plain HTTP on a non-loopback address, accepted with a warning."""
    allowed_hosts: tuple[str, ...] = ()
    """Extra host names the console answers to (besides its address, IP literals, localhost)."""
    allowed_origins: tuple[str, ...] = ()
    """Other sites whose pages may use the console (see `clinician_console.access`)."""
    max_connections: int = 100
    """Open HTTP connections at most; past it the longest-idle one is closed (like nginx)."""
    header_timeout_s: float = 10.0
    """A connection must finish its TLS handshake and each request's headers within this."""
    keep_alive_s: float = 5.0
    """An idle keep-alive connection is closed after this long."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConsoleNetworkError(
                f"Port {self.port} is not a port number: choose one from 1024 to 65535."
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConsoleNetworkError(
                "--tls-cert and --tls-key go together (the certificate and its private key): "
                "give both, or use --tls self-signed."
            )
        if not is_loopback(self.host) and not self.tls and not self.insecure_lan:
            raise ConsoleNetworkError(
                f"Listening on {self.host} would send the client's health data unencrypted "
                "over the network: add --tls self-signed (or --tls-cert and --tls-key), add "
                "--insecure-lan to accept the risk, or use --host 127.0.0.1."
            )
        if self.max_connections < 1 or self.header_timeout_s <= 0 or self.keep_alive_s <= 0:
            raise ValueError("connection limits and timeouts must be above 0")

    @property
    def tls(self) -> bool:
        """True when the console speaks HTTPS."""
        return self.tls_cert is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS server context, or None for plain HTTP."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        return server_context(self.tls_cert, self.tls_key)

    def host_names(self) -> frozenset[str]:
        """Host names the console answers to, besides IP literals (see `access.host_allowed`)."""
        names = {n.lower().rstrip(".") for n in self.allowed_hosts}
        names |= LOOPBACK_NAMES
        names.add(self.host.strip("[]").lower().rstrip("."))
        return frozenset(names)

    def urls(self, port: int, token: str) -> list[tuple[str, str]]:
        """(who, URL) pairs to print, for the port actually bound."""
        return console_urls(self.host, port, token, scheme=self.scheme)

    def notices(self) -> list[str]:
        """What the person starting the console must read: the fingerprint, or the warning."""
        lines: list[str] = []
        if self.tls and self.tls_cert is not None:
            made = "made now" if self.tls_made_now else "made earlier"
            if self.tls_self_signed:
                lines.append(
                    f"The console uses its own certificate ({made}: {self.tls_cert}). Your "
                    "browser will warn that it does not know it: check that the SHA-256 "
                    "fingerprint it shows is"
                )
            else:
                lines.append(f"The console's certificate ({self.tls_cert}) has SHA-256 fingerprint")
            lines.append(f"  {fingerprint(self.tls_cert)}")
        elif self.insecure_lan and not is_loopback(self.host):
            bar = "!" * 78
            lines += [
                bar,
                f"WARNING: --insecure-lan: the console is plain HTTP on {self.host}. Anyone on",
                "this network can read the client's heart rate and the access token, and then",
                "steer the session. Use --tls self-signed instead.",
                bar,
            ]
        return lines


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --host, --port, --tls, --tls-cert, --tls-key, --insecure-lan, --allow-host, --allow-origin."""
    group = parser.add_argument_group("console network")
    group.add_argument(
        "--host",
        default="127.0.0.1",
        help="console address (default 127.0.0.1: this computer only; 0.0.0.0 lets a tablet "
        "on the clinic network connect, and then needs --tls or --insecure-lan)",
    )
    group.add_argument("--port", type=int, default=8000, help="console port (default 8000)")
    group.add_argument(
        "--tls",
        choices=["self-signed"],
        help="serve HTTPS with a certificate the console makes once in the data folder "
        "(its fingerprint is printed at every start)",
    )
    group.add_argument(
        "--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate"
    )
    group.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    group.add_argument(
        "--insecure-lan",
        action="store_true",
        help="allow plain HTTP on a non-loopback --host (anyone on the network can read it)",
    )
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the console may be reached by, e.g. console.clinic.example "
        "(repeatable; addresses and localhost always work)",
    )
    group.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another site whose pages may use the console (repeatable)",
    )


def network_from_args(args: argparse.Namespace, data_dir: Path) -> ConsoleNetwork:
    """The `ConsoleNetwork` the flags ask for; makes the self-signed certificate in `data_dir`.

    Raises ConsoleNetworkError or ConsoleTLSError (UserErrors, one sentence) when the flags do
    not fit together or a certificate cannot be used; checks the certificate before anything
    starts, so a session never opens a record it cannot serve.
    """
    cert: Path | None = args.tls_cert
    key: Path | None = args.tls_key
    own = args.tls == "self-signed"
    made = False
    if own and (cert is not None or key is not None):
        raise ConsoleNetworkError(
            "--tls self-signed and --tls-cert/--tls-key are two ways to the same thing: "
            "give one of them."
        )
    allowed_hosts = tuple(args.allow_host)
    network = ConsoleNetwork(
        host=args.host,
        port=args.port,
        tls_cert=cert,
        tls_key=key,
        insecure_lan=args.insecure_lan or own,  # checked again below, with the certificate
        allowed_hosts=allowed_hosts,
        allowed_origins=tuple(args.allow_origin),
    )
    if own:
        names = _certificate_names(args.host, allowed_hosts)
        cert, key, made = self_signed(Path(data_dir) / TLS_FOLDER, names)
    network = ConsoleNetwork(
        host=args.host,
        port=args.port,
        tls_cert=cert,
        tls_key=key,
        tls_self_signed=own,
        tls_made_now=made,
        insecure_lan=args.insecure_lan,
        allowed_hosts=allowed_hosts,
        allowed_origins=network.allowed_origins,
    )
    network.ssl_context()  # a missing file or a key that does not match fails here, not later
    return network


def print_notices(network: ConsoleNetwork, out: TextIO | None = None) -> None:
    """Print `network.notices()` (to stderr: the warning must be seen even when stdout is piped)."""
    stream = out if out is not None else sys.stderr
    for line in network.notices():
        print(line, file=stream, flush=True)


def _certificate_names(host: str, allowed_hosts: Sequence[str]) -> list[str]:
    names = ["localhost", "127.0.0.1", "::1", *allowed_hosts]
    if host not in ("0.0.0.0", "::", ""):
        names.append(host)
    lan = lan_address()
    if lan:
        names.append(lan)
    return names
