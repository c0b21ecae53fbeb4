"""Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI description."""

from __future__ import annotations

from aiohttp import web

from probes import Health, healthz, readiness
from server import api_docs
from server.api_docs import DOCUMENTED, Reply, Route, openapi_document
from server.app_keys import BUS, METRICS, STORE


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def readyz(request: web.Request) -> web.Response:
    return await readiness(request.app[STORE], request.app[BUS])


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
