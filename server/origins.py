"""Which browser origins may talk to a node: its own (as the browser sees it) plus configured ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def browser_scheme(request: web.Request, proxies: set[str]) -> str:
    """The scheme the browser used: X-Forwarded-Proto when a trusted proxy sent it (TLS ends there)."""
    forwarded = request.headers.get("X-Forwarded-Proto") if request.remote in proxies else None
    return (forwarded or request.scheme).split(",")[0].strip()


def origin_allowed(origin: str, own: set[str], extra: list[str]) -> bool:
    origin = origin.rstrip("/")
    return origin in own or origin in extra


def environ_origin_allowed(origin: str | None, environ: Mapping[str, Any], extra: list[str], proxies: set[str]) -> bool:
    """Engine.IO's hook: refuse a WebSocket or polling connect from a foreign page (CSWSH)."""
    if not origin:
        return True  # scripts and native clients send no Origin; browsers always do
    return origin_allowed(origin, own_origins(environ["aiohttp.request"], proxies), extra)
