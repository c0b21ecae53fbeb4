"""Which browser origins may talk to a node: its own (as the browser sees it) plus configured ones."""

from __future__ import annotations

import ipaddress

from aiohttp import web


def own_origins(request: web.Request, proxies: set[str]) -> set[str]:
    """The node's origin as reached directly and, behind a proxy, as the browser addressed it: the
    X-Forwarded-Proto/Host headers count only from a trusted proxy (CHAT_TRUSTED_PROXIES), as
    X-Forwarded-For does for the client's address."""
    host = request.host
    origins = {f"{request.scheme}://{host}"} if host else set()
    if request.remote in proxies:  # as the browser addressed it (the same origin when nothing is forwarded)
        forwarded_host = (request.headers.get("X-Forwarded-Host") or host or "").split(",")[0].strip()
        if forwarded_host:
            origins.add(f"{browser_scheme(request, proxies)}://{forwarded_host}")
    return origins


def is_loopback(host: str) -> bool:
    """Whether a host name or address means this machine: localhost, *.localhost, 127.0.0.0/8, ::1."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """A Host header's name without its port: `[::1]:8080` -> `::1`, `chat.example:443` -> `chat.example`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(request: web.Request, bind_host: str, allowed: set[str], proxies: set[str]) -> bool:
    """DNS rebinding guard: a foreign page whose name was pointed at our address reaches us with its own
    name in Host. A node bound to a loopback address answers only loopback names and CHAT_ALLOWED_HOSTS;
    any node does once CHAT_ALLOWED_HOSTS is set. Behind a trusted proxy the name the browser used
    (X-Forwarded-Host) is checked only against CHAT_ALLOWED_HOSTS, if set: otherwise the proxy's own
    server_name is the check."""
    if request.remote in proxies:
        if not allowed:
            return True
        host = (request.headers.get("X-Forwarded-Host") or request.host or "").split(",")[0]
    else:
        if not allowed and not is_loopback(bind_host):
            return True
        host = request.host or ""
    name = host_name(host)
    return is_loopback(name) or name in allowed


def browser_scheme(request: web.Request, proxies: set[str]) -> str:
    """The scheme the browser used: X-Forwarded-Proto when a trusted proxy sent it (TLS ends there)."""
    forwarded = request.headers.get("X-Forwarded-Proto") if request.remote in proxies else None
    return (forwarded or request.scheme).split(",")[0].strip()


def origin_allowed(origin: str, own: set[str], extra: list[str]) -> bool:
    origin = origin.rstrip("/")
    return origin in own or origin in extra


def connect_origin_allowed(origin: str | None, request: web.Request, extra: list[str], proxies: set[str]) -> bool:
    """A Socket.IO connect (WebSocket or polling) from a foreign page is refused (CSWSH)."""
    if not origin:
        return True  # scripts and native clients send no Origin; browsers always do
    return origin_allowed(origin, own_origins(request, proxies), extra)
