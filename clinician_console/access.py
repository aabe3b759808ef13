"""Who may use the console: the Host check, the access token, the Origin check, safety headers.

A request whose Host header names a site the console does not answer to gets 421: that is how a
DNS-rebinding page (attacker.example, made to resolve to this computer) would reach it. IP
literals are always accepted (rebinding needs a name), as are localhost, the name the console
was bound to and the names given with --allow-host. A random token is made when the console starts and printed with its URL (like Jupyter). Every
HTTP request and the WebSocket must carry it, as `?token=`, as the cookie the page gets from that
first visit, or as `Authorization: Bearer TOKEN`; anything else gets 401. A browser WebSocket or
a state-changing request whose Origin is another site gets 403. Health data never leaves through
a cache or a frame: API answers are `no-store` and the page may not be framed. Over HTTPS the
token cookie is `Secure`, so a browser never sends it over plain HTTP.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_QUERY = "token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NO_TOKEN = (
    "Missing or wrong access token: open the full URL the console printed when it started "
    "(it ends in ?token=...)."
)
BAD_HOST = (
    "This console does not answer to the name {host}: open the URL it printed when it started, "
    "or start it with --allow-host {host} if that name is the clinic's own."
)
BAD_ORIGIN = (
    "This page comes from another site ({origin}), so it may not use the console; open the "
    "console's own URL, or start it with --allow-origin for a trusted site."
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


def make_token() -> str:
    """A fresh random access token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def cookie_name(scope: Scope) -> str:
    """The token cookie's name; it carries the port so two consoles on one machine don't clash."""
    server = scope.get("server")
    return f"vret_token_{server[1]}" if server and server[1] else "vret_token"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def presented_tokens(scope: Scope) -> tuple[list[str], bool]:
    """Every token the request carries, and whether one of them came in the query string."""
    headers = _headers(scope)
    tokens: list[str] = []
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    from_query = query.get(TOKEN_QUERY, [])
    tokens.extend(from_query)
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        tokens.append(auth[7:].strip())
    if "cookie" in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers["cookie"])
        except Exception:  # a malformed cookie header is just no cookie
            jar = SimpleCookie()
        morsel = jar.get(cookie_name(scope))
        if morsel is not None:
            tokens.append(morsel.value)
    return tokens, bool(from_query)


def request_host(scope: Scope) -> str | None:
    """The host name or address from the Host header, without port or brackets; None without one."""
    host = _headers(scope).get("host")
    if host is None:
        return None
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:  # name:port or v4:port (a bare v6 address has several colons)
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def host_allowed(scope: Scope, names: frozenset[str]) -> tuple[bool, str]:
    """True when the Host header is an IP literal, one of `names`, or missing (not a browser)."""
    host = request_host(scope)
    if host is None:
        return True, ""
    try:
        ipaddress.ip_address(host)
        return True, host
    except ValueError:
        pass
    return host in names, host


def origin_allowed(scope: Scope, allowed: Iterable[str]) -> tuple[bool, str]:
    """True when there is no Origin (not a browser) or it is this console's own origin or a listed one.

    The console's own origin is the scheme and Host the browser used to reach it: the same-origin
    rule. Requests from any other site are refused even though they might carry the cookie.
    """
    headers = _headers(scope)
    origin = headers.get("origin")
    if origin is None:
        return True, ""
    origin = origin.rstrip("/").lower()
    if origin in {o.rstrip("/").lower() for o in allowed}:
        return True, origin
    host = headers.get("host", "").lower()
    parts = urlsplit(origin)
    if not host or parts.scheme not in ("http", "https"):
        return False, origin
    default_port = {"http": "80", "https": "443"}[parts.scheme]
    origin_netloc = parts.netloc
    if parts.port is None:
        origin_netloc = f"{origin_netloc}:{default_port}"
    if ":" not in host.rsplit("]", 1)[-1]:
        host = f"{host}:{default_port}"
    return origin_netloc == host, origin


class AccessGuard:
    """ASGI middleware: token on everything, Origin on WebSockets and changes, safety headers."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        allowed_origins: Iterable[str] = (),
        host_names: Iterable[str] = ("localhost",),
    ) -> None:
        if not token:
            raise ValueError("the console needs a non-empty access token")
        self.app = app
        self.token = token
        self.allowed_origins = frozenset(allowed_origins)
        self.host_names = frozenset(n.lower().rstrip(".") for n in host_names)

    def _token_ok(self, scope: Scope) -> tuple[bool, bool]:
        tokens, from_query = presented_tokens(scope)
        ok = any(secrets.compare_digest(t.encode(), self.token.encode()) for t in tokens)
        return ok, from_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host_ok, host = host_allowed(scope, self.host_names)
        if not host_ok:
            await _deny(scope, receive, send, 421, BAD_HOST.format(host=host[:100]))
            return
        ok, from_query = self._token_ok(scope)
        if not ok:
            await _deny(
                scope,
                receive,
                send,
                401,
                NO_TOKEN,
                [(b"www-authenticate", b'Bearer realm="vret console"')],
            )
            return
        if kind == "websocket" or scope.get("method") not in SAFE_METHODS:
            allowed, origin = origin_allowed(scope, self.allowed_origins)
            if not allowed:
                await _deny(scope, receive, send, 403, BAD_ORIGIN.format(origin=origin))
                return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        if from_query and scope["path"] == "/" and scope["method"] == "GET":
            # The page's later requests (its scripts, the API, the WebSocket) carry the cookie;
            # the redirect takes the token out of the address bar, history and screenshots.
            cookie = f"{cookie_name(scope)}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            if scope.get("scheme") == "https":
                cookie += "; Secure"
            await _plain(
                send, 303, b"", [(b"location", b"/"), (b"set-cookie", cookie.encode("latin-1"))]
            )
            return
        api = scope["path"].startswith("/api/") or scope["path"] == "/openapi.json"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                headers.append((b"cache-control", b"no-store" if api else b"no-cache"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"text/plain; charset=utf-8",
) -> None:
    all_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
        (b"cache-control", b"no-store"),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def _deny(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Refuse a request: JSON `{"detail": ...}` for HTTP, an HTTP refusal for a WebSocket."""
    body = json.dumps({"detail": message}).encode()
    ctype = b"application/json"
    if scope["type"] == "http":
        await _plain(send, status, body, headers, ctype)
        return
    first: dict[str, Any] = dict(await receive())
    if first.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", ctype), *(headers or [])],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        # 1008: policy violation; the reason is cut to the 123 bytes a close frame can carry.
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
