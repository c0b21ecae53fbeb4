"""Which browser origins may talk to a node: its own (as the browser sees it) plus configured ones."""

from __future__ import annotations

from collections.abc import Mapping


def own_origins(scheme: str, host: str | None, forwarded_proto: str | None, forwarded_host: str | None) -> set[str]:
    """The node's origin as reached directly and, behind nginx, as the browser addressed it."""
    origins = {f"{scheme}://{host}"} if host else set()
    if forwarded_proto or forwarded_host:
        proto = (forwarded_proto or scheme).split(",")[0].strip()
        fhost = (forwarded_host or host or "").split(",")[0].strip()
        origins.add(f"{proto}://{fhost}")
    return origins


def origin_allowed(origin: str, own: set[str], extra: list[str]) -> bool:
    origin = origin.rstrip("/")
    return origin in own or origin in extra


def environ_origin_allowed(origin: str | None, environ: Mapping[str, str], extra: list[str]) -> bool:
    """Engine.IO's hook: refuse a WebSocket or polling connect from a foreign page (CSWSH)."""
    if not origin:
        return True  # scripts and native clients send no Origin; browsers always do
    own = own_origins(
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_PROTO"),
        environ.get("HTTP_X_FORWARDED_HOST"),
    )
    return origin_allowed(origin, own, extra)
