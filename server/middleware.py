"""REST error handling in one place, and the security headers every response carries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.errors import ChatError
from server.app_keys import SETTINGS
from server.origins import host_allowed

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def error_response(error: ChatError) -> web.Response:
    return web.json_response({"error": error.as_dict()}, status=error.status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ChatError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(ChatError(code, exc.reason, exc.status))
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        if not request.path.startswith("/socket.io/"):
            logger.exception("request failed", extra={"method": request.method, "path": request.path})
            return error_response(ChatError("internal_error", "Something went wrong on our side", 500))
        # Engine.IO gave up on bytes a client sent: anyone can send those, so no traceback per frame
        logger.info("malformed Engine.IO traffic; connection closed", extra={"error": repr(exc)[:200]})
        return error_response(ChatError("bad_request", "Malformed Engine.IO traffic", 400))
    except Exception:
        logger.exception("request failed", extra={"method": request.method, "path": request.path})
        return error_response(ChatError("internal_error", "Something went wrong on our side", 500))


@web.middleware
async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests naming a host this node does not answer to (DNS rebinding); see host_allowed."""
    settings = request.app[SETTINGS]
    if not host_allowed(request, settings.host, settings.hosts, settings.proxies):
        raise ChatError("invalid_host", "This server does not answer to that host name", 400)
    return await handler(request)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.status == 101:
        return  # a websocket upgrade carries no document to protect, and its headers live as long as it does
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CSP)
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
