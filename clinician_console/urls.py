"""The console's address as a person types it: this computer, and the clinic network."""

from __future__ import annotations

import contextlib
import socket


def console_urls(host: str, port: int, token: str, scheme: str = "http") -> list[tuple[str, str]]:
    """(who, URL) pairs to print: this computer, and the clinic network for a wildcard address."""
    if host in ("0.0.0.0", "::", ""):
        urls = [("On this computer", f"{scheme}://127.0.0.1:{port}/?token={token}")]
        lan = lan_address()
        if lan:
            urls.append(("From a tablet on the network", f"{scheme}://{lan}:{port}/?token={token}"))
        return urls
    shown = f"[{host}]" if ":" in host else host
    return [("Open", f"{scheme}://{shown}:{port}/?token={token}")]


def lan_address() -> str | None:
    """This computer's address on its default route (no packet is sent), or None."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
        address = probe.getsockname()[0]
        return None if address.startswith("0.") else address
    return None
