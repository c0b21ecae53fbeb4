"""Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI description."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from server import api_docs
from server.api_docs import DOCUMENTED, Reply, Route, openapi_document
from server.app_keys import BUS, METRICS, STORE

logger = logging.getLogger(__name__)
READY_TIMEOUT = 2.0


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    failed: list[str] | None = None  # the parts that did not answer


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


def _health(status: Literal["ok", "unavailable"], failed: list[str] | None = None, code: int = 200) -> web.Response:
    return web.json_response(Health(status=status, failed=failed).model_dump(exclude_none=True), status=code)


async def healthz(request: web.Request) -> web.Response:
    return _health("ok")


async def readyz(request: web.Request) -> web.Response:
    checks = {"store": request.app[STORE].ping(), "bus": request.app[BUS].ping()}
    failed = []
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, READY_TIMEOUT)
        except Exception as exc:  # any failure means not ready; say which part
            logger.warning("%s not ready: %r", name, exc)
            failed.append(name)
    if failed:
        return _health("unavailable", failed, 503)
    return _health("ok")


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")


async def openapi(request: web.Request) -> web.Response:
    routes = request.app[DOCUMENTED]
    return web.json_response(openapi_document(tuple(routes)))


ROUTES = (
    Route("GET", "/healthz", healthz, "Liveness", ok=Reply(200, "Running", Health)),
    Route(
        "GET",
        "/readyz",
        readyz,
        "Readiness: store and bus answer",
        ok=Reply(200, "Ready", Health),
        also=(Reply(503, "Not ready: `failed` names the parts", Health),),
    ),
    Route(
        "GET",
        "/metrics",
        metrics,
        "Prometheus metrics",
        ok=Reply(200, "Prometheus text format", media_type="text/plain"),
    ),
    Route("GET", "/api/openapi.json", openapi, "This description", ok=Reply(200, "OpenAPI 3.1")),
)
