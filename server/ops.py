"""Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI description."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from server.app_keys import BUS, METRICS, STORE
from server.openapi import OPENAPI

logger = logging.getLogger(__name__)
READY_TIMEOUT = 2.0


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/openapi.json", openapi)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


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
        return web.json_response({"status": "unavailable", "failed": failed}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)
