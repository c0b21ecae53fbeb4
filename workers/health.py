"""A worker's /healthz, /readyz and /metrics on a port of its own, run as an owned resource."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from core.bus import Bus, open_bus
from core.settings import Settings
from core.store import Store, open_store

logger = logging.getLogger(__name__)
READY_TIMEOUT = 2.0


class WorkerMetrics:
    """Counters of one worker and the backlog of the stream it consumes, read at scrape time."""

    def __init__(self, stream: str, group: str) -> None:
        self.stream = stream
        self.group = group
        self.registry = CollectorRegistry()
        self.processed = Counter(
            "chat_worker_processed_total", "Stream entries handled", ["stream"], registry=self.registry
        ).labels(stream)
        self.failures = Counter(
            "chat_worker_failures_total",
            "Steps that failed and will be retried",
            ["stream"],
            registry=self.registry,
        ).labels(stream)
        self.backlog = Gauge(
            "chat_stream_backlog",
            "Entries the consumer group has not acknowledged yet",
            ["stream", "group"],
            registry=self.registry,
        ).labels(stream, group)

    async def count(self, step: Awaitable[int]) -> int:
        """Await one worker step, counting what it handled or that it failed."""
        try:
            handled = await step
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures.inc()
            raise
        self.processed.inc(handled)
        return handled

    async def render(self, bus: Bus) -> bytes:
        try:
            self.backlog.set(await asyncio.wait_for(bus.backlog(self.stream, self.group), READY_TIMEOUT))
        except Exception as exc:
            logger.warning("backlog of %s unknown: %r", self.stream, exc)
            self.backlog.set(float("nan"))
        return generate_latest(self.registry)


def create_health_app(store: Store, bus: Bus, metrics: WorkerMetrics) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        failed = []
        for name, check in (("store", store.ping()), ("bus", bus.ping())):
            try:
                await asyncio.wait_for(check, READY_TIMEOUT)
            except Exception as exc:
                logger.warning("%s not ready: %r", name, exc)
                failed.append(name)
        if failed:
            return web.json_response({"status": "unavailable", "failed": failed}, status=503)
        return web.json_response({"status": "ok"})

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=await metrics.render(bus), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    return app


@asynccontextmanager
async def health_server(host: str, port: int, store: Store, bus: Bus, metrics: WorkerMetrics) -> AsyncIterator[None]:
    """Serve the health app on host:port while the context is open; port 0 means no server."""
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


async def open_worker(
    stack: AsyncExitStack, settings: Settings, stream: str, group: str
) -> tuple[Store, Bus, WorkerMetrics]:
    """What every worker process holds: the store, the bus and its health endpoint, all owned by `stack`."""
    store = await open_store(settings.storage_url)
    stack.push_async_callback(store.close)
    bus = open_bus(settings.bus_url)
    stack.push_async_callback(bus.close)
    metrics = WorkerMetrics(stream, group)
    await stack.enter_async_context(health_server(settings.host, settings.health_port, store, bus, metrics))
    return store, bus, metrics
