"""Serves the built web client: hashed assets cached for a year, every other path the SPA shell."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from core.errors import ChatError
from server.keys import SETTINGS

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "client" / "dist"
RESERVED_PREFIXES = ("/api/", "/socket.io/")
IMMUTABLE = "public, max-age=31536000, immutable"


def client_dir(app: web.Application) -> Path:
    configured = app[SETTINGS].client_dir
    return Path(configured).resolve() if configured else DEFAULT_DIST


def add_routes(app: web.Application) -> None:
    app.router.add_get("/assets/{path:.+}", asset)
    app.router.add_get("/{path:.*}", shell)


async def asset(request: web.Request) -> web.StreamResponse:
    root = client_dir(request.app) / "assets"
    target = (root / request.match_info["path"]).resolve()
    # resolve() folds `..` and symlinks, so a path outside the build folder is refused here
    if not target.is_relative_to(root) or not target.is_file():
        raise ChatError("not_found", "No such file", 404)
    return web.FileResponse(target, headers={"Cache-Control": IMMUTABLE})


async def shell(request: web.Request) -> web.StreamResponse:
    path = "/" + request.match_info["path"]
    if path.startswith(RESERVED_PREFIXES) or path == "/api":
        raise ChatError("not_found", "No such endpoint", 404)
    root = client_dir(request.app)
    target = (root / request.match_info["path"]).resolve()
    if request.match_info["path"] and target.is_relative_to(root) and target.is_file():
        return web.FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})
    index = root / "index.html"
    if not index.is_file():
        return web.Response(
            text="The web client is not built yet: run `make client` (or `make run`).", status=503
        )
    return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
