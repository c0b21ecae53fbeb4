"""Health probes over HTTP: /healthz and /readyz, answered alike by a node and by each worker (bot,
archiver), and a worker's own small server for them and its /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from core.bus import Bus, Lifecycle
from core.settings import Settings
from core.store import Store
from core.worker import WorkerMetrics

logger = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds each part has to answer its ping


# what /healthz and /readyz answer, node and workers alike (no docstring: it would enter the OpenAPI schema)
class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    failed: list[str] | None = None  # the parts that did not answer


def _health(status: Literal["ok", "unavailable"], failed: list[str] | None = None, code: int = 200) -> web.Response:
    return web.json_response(Health(status=status, failed=failed).model_dump(exclude_none=True), status=code)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return _health("ok")


async def readiness(store: Store, bus: Lifecycle) -> web.Response:
    """Ready when the store and the bus each answer a ping within READY_TIMEOUT; else 503 naming the
    parts that did not."""
    failed = []
    for name, check in (("store", store.ping()), ("bus", bus.ping())):
        try:
            await asyncio.wait_for(check, READY_TIMEOUT)
        except Exception as exc:  # any failure means not ready; say which part
            logger.warning("%s not ready: %r", name, exc)
            failed.append(name)
    if failed:
        return _health("unavailable", failed, 503)
    return _health("ok")


def create_health_app(store: Store, bus: Bus, metrics: WorkerMetrics) -> web.Application:
    """A worker's /healthz, /readyz and /metrics."""

    async def readyz(request: web.Request) -> web.Response:
        return await readiness(store, bus)

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=await metrics.render(bus), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    return app


@asynccontextmanager
async def health_server(settings: Settings, store: Store, bus: Bus, metrics: WorkerMetrics) -> AsyncIterator[None]:
    """Serve a worker's health app on its host and health_port while the context is open; port 0
    means no server."""
    host, port = settings.host, settings.health_port
    if port == 0:
        yield
        return
    runner = web.AppRunner(create_health_app(store, bus, metrics), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        logger.info("health endpoints on http://%s:%d", host, port)
        yield
    finally:
        await runner.cleanup()
