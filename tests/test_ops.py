"""Operations endpoints, security headers and the serving of the built web client."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from server.app import create_app
from tests.apps import SECRET, ClientFactory, settings_for


async def test_health_readiness_and_metrics(make_client: ClientFactory, chat_url: str) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    await alice.call("send", {"channel": "general", "text": "hello"})
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{chat_url}/healthz") as resp:
            assert (resp.status, await resp.json()) == (200, {"status": "ok"})
        async with http.get(f"{chat_url}/readyz") as resp:
            assert (resp.status, await resp.json()) == (200, {"status": "ok"})
        async with http.get(f"{chat_url}/metrics") as resp:
            text = await resp.text()
    assert "chat_messages_posted_total 1.0" in text and "chat_socket_connections 1.0" in text


async def test_readiness_fails_when_the_bus_is_unreachable(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, bus_url="redis://127.0.0.1:1/0", secret_key=SECRET)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/readyz")) as resp:
                assert resp.status == 503 and (await resp.json())["failed"] == ["bus"]
            async with http.get(server.make_url("/healthz")) as resp:
                assert resp.status == 200
    finally:
        await server.close()


async def test_pages_carry_security_headers(chat_url: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{chat_url}/api/openapi.json") as resp:
        headers = resp.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp
        and "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )


async def test_the_client_build_is_served_with_spa_fallback_and_cache_rules(
    make_server, fake_stooq, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>investor-chat</title>")
    (dist / "assets" / "app-3f9a.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("do not serve")
    server: TestServer = await make_server(client_dir=str(dist))
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/")) as resp:
            assert "investor-chat" in await resp.text() and resp.headers["Cache-Control"] == "no-cache"
        async with http.get(server.make_url("/channels/general")) as resp:  # a client-side route
            assert resp.status == 200 and "investor-chat" in await resp.text()
        async with http.get(server.make_url("/assets/app-3f9a.js")) as resp:
            assert resp.status == 200 and "immutable" in resp.headers["Cache-Control"]
        for escape in ("/assets/..%2f..%2fsecret.txt", "/..%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
            async with http.get(server.make_url(escape)) as resp:
                assert "do not serve" not in await resp.text()
        async with http.get(server.make_url("/assets/missing.js")) as resp:
            assert resp.status == 404
