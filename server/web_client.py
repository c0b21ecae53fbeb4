"""Serves the built web client: hashed assets cached for a year (their .br or .gz when the browser
takes it), every other path the SPA shell."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from core.errors import ChatError
from server.app_keys import SETTINGS

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "client" / "dist"
RESERVED_PREFIXES = ("/api/", "/socket.io/")
IMMUTABLE = "public, max-age=31536000, immutable"


def client_dir(app: web.Application) -> Path:
    configured = app[SETTINGS].client_dir
    return Path(configured).resolve() if configured else DEFAULT_DIST


def add_routes(app: web.Application) -> None:
    app.router.add_get("/assets/{path:.+}", asset)
    app.router.add_get("/{path:.*}", shell)


def _inside(root: Path, relative: str) -> Path | None:
    """The file `relative` names under `root`, or None when it would leave it."""
    if "\x00" in relative:  # the OS refuses NUL in paths: a 404, not a 500
        return None
    # resolve() folds `..` and symlinks, so a path outside the build folder is refused here
    target = (root / relative).resolve()
    return target if target.is_relative_to(root.resolve()) else None


async def asset(request: web.Request) -> web.StreamResponse:
    root = client_dir(request.app) / "assets"
    target = _inside(root, request.match_info["path"])
    if target is None or not target.is_file():
        raise ChatError("not_found", "No such file", 404)
    # FileResponse picks the build's .br or .gz sibling by Accept-Encoding and says so in
    # Content-Encoding; Vary goes on every answer, so a cache never hands the raw file to a
    # browser that could have had it compressed, or the reverse.
    return web.FileResponse(target, headers={"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"})


async def shell(request: web.Request) -> web.StreamResponse:
    path = "/" + request.match_info["path"]
    if path.startswith(RESERVED_PREFIXES) or path == "/api":
        raise ChatError("not_found", "No such endpoint", 404)
    root = client_dir(request.app)
    target = _inside(root, request.match_info["path"])
    if request.match_info["path"] and target is not None and target.is_file():
        return web.FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})
    index = root / "index.html"
    if not index.is_file():
        return web.Response(text="The web client is not built yet: run `make client` (or `make run`).", status=503)
    return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
