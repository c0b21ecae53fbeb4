"""Issue 7 §2: cross-site WebSocket/polling hijacking, CSRF, the pages' security headers and static
paths that try to leave the build folder. Figures print with -s."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from server.web_client import DEFAULT_DIST
from tests.apps import PASSWORD, http_session

EVIL = "https://evil.example"


async def _cookie_session(url: str, username: str) -> tuple[aiohttp.ClientSession, str]:
    http = http_session()
    async with http.post(f"{url}/api/register", json={"username": username, "password": PASSWORD}) as resp:
        assert resp.status == 201
        token = (await resp.json())["token"]
    return http, token


async def _polling_open(
    http: aiohttp.ClientSession, url: str, origin: str | None, more: dict[str, str] | None = None
) -> tuple[int, str]:
    headers = ({"Origin": origin} if origin else {}) | (more or {})
    async with http.get(f"{url}/socket.io/?EIO=4&transport=polling", headers=headers) as resp:
        return resp.status, await resp.text()


async def _websocket_open(
    http: aiohttp.ClientSession, url: str, origin: str | None, more: dict[str, str] | None = None
) -> str:
    """'open' when the Engine.IO handshake over a raw WebSocket succeeds, else the refusal."""
    headers = ({"Origin": origin} if origin else {}) | (more or {})
    try:
        async with http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", headers=headers) as ws:
            first = await ws.receive(timeout=5)
            return "open" if first.type == aiohttp.WSMsgType.TEXT and first.data.startswith("0{") else repr(first)
    except aiohttp.WSServerHandshakeError as exc:
        return f"refused {exc.status}"


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1.evil.example", "http://localhost"])
async def test_a_foreign_origin_is_refused_on_both_transports_even_with_the_session_cookie(
    chat_url: str, origin: str
) -> None:
    http, _ = await _cookie_session(chat_url, "victim")
    async with http:
        status, body = await _polling_open(http, chat_url, origin)
        ws = await _websocket_open(http, chat_url, origin)
        own_status, own_body = await _polling_open(http, chat_url, chat_url)
        own_ws = await _websocket_open(http, chat_url, chat_url)
    print(
        f"\n[browser] Origin {origin}: polling {status}, websocket {ws}; own origin: polling {own_status}, websocket {own_ws}"
    )
    assert status == 400 and '"sid"' not in body
    assert ws.startswith("refused")
    assert own_status == 200 and own_body.startswith("0{") and own_ws == "open"


async def test_configured_extra_origins_are_allowed_and_only_those(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(allowed_origins="https://desk.example.com")
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        assert (await _polling_open(http, url, "https://desk.example.com"))[0] == 200
        assert await _websocket_open(http, url, "https://desk.example.com") == "open"
        assert (await _polling_open(http, url, "https://desk.example.com.evil.example"))[0] == 400
        assert (await _websocket_open(http, url, "http://desk.example.com")).startswith("refused")


FORWARDED_EVIL = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


async def test_forwarded_host_headers_count_only_from_a_trusted_proxy(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    """A peer naming the foreign page's host in X-Forwarded-Host must not make that page's origin ours;
    the proxy in front (CHAT_TRUSTED_PROXIES) may, so a TLS-terminating nginx keeps working."""
    for proxies, welcome in (("", False), ("127.0.0.1", True)):
        server: TestServer = await make_server(trusted_proxies=proxies)
        url = str(server.make_url("")).rstrip("/")
        http, _ = await _cookie_session(url, f"kim{len(proxies)}")
        async with http:
            polling, _ = await _polling_open(http, url, EVIL, FORWARDED_EVIL)
            ws = await _websocket_open(http, url, EVIL, FORWARDED_EVIL)
            headers = {"Origin": EVIL} | FORWARDED_EVIL
            async with http.post(f"{url}/api/channels", json={"name": f"fwd{len(proxies)}"}, headers=headers) as resp:
                rest = resp.status
        print(f"\n[browser] proxies {proxies!r}: forwarded {EVIL}: polling {polling}, websocket {ws}, REST {rest}")
        if welcome:
            assert (polling, ws, rest) == (200, "open", 201)
        else:
            assert polling == 400 and ws.startswith("refused") and rest == 403


async def test_the_cookie_is_secure_only_when_a_trusted_proxy_says_https(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    """Behind a TLS-terminating proxy the session cookie must be Secure; a peer that merely claims https
    (X-Forwarded-Proto) must not get a Secure cookie, which its browser would then withhold over http."""
    for proxies, secure in (("", False), ("127.0.0.1", True)):
        server: TestServer = await make_server(trusted_proxies=proxies)
        url = str(server.make_url("")).rstrip("/")
        async with http_session() as http:
            body = {"username": f"sec{len(proxies)}", "password": PASSWORD}
            headers = {"X-Forwarded-Proto": "https"}
            async with http.post(f"{url}/api/register", json=body, headers=headers) as resp:
                assert resp.status == 201
                cookie = resp.headers["Set-Cookie"]
        print(f"\n[browser] proxies {proxies!r}, X-Forwarded-Proto https: {cookie.split(';', 1)[1].strip()}")
        assert ("Secure" in cookie.split(";", 1)[1]) is secure


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/api/channels", {"name": "phish"}), ("POST", "/api/logout", None)],
)
@pytest.mark.parametrize(
    "headers",
    [{"Origin": EVIL}, {"Origin": "null"}, {"Referer": EVIL + "/attack.html"}, {}],
    ids=["foreign-origin", "null-origin", "foreign-referer", "no-origin-no-referer"],
)
async def test_cookie_authenticated_changes_need_our_origin(
    chat_url: str, method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    http, _ = await _cookie_session(chat_url, "ivan")
    async with http:
        async with http.request(method, chat_url + path, json=body, headers=headers) as resp:
            status, answer = resp.status, await resp.json()
        async with http.get(f"{chat_url}/api/me") as resp:  # the session survived: logout was not forced
            still = resp.status
        async with http.get(f"{chat_url}/api/channels") as resp:
            names = [c["name"] for c in (await resp.json())["channels"]]
    assert status == 403 and answer["error"]["code"] == "forbidden_origin"
    assert still == 200 and "phish" not in names


async def test_login_and_register_from_a_foreign_page_are_refused(chat_url: str) -> None:
    # login CSRF: a foreign page must not log the victim's browser into the attacker's account
    async with http_session() as http:
        for path in ("/api/register", "/api/login"):
            async with http.post(
                chat_url + path, json={"username": "planted", "password": PASSWORD}, headers={"Origin": EVIL}
            ) as resp:
                assert resp.status == 403 and "Set-Cookie" not in resp.headers
        assert not list(http.cookie_jar)


def _inline_scripts(html: str) -> list[str]:
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.IGNORECASE | re.DOTALL)
    return [body for attrs, body in scripts if "src=" not in attrs or body.strip()]


async def test_the_served_client_pages_carry_a_strict_policy(make_server, fake_stooq, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    real = (DEFAULT_DIST / "index.html").is_file()
    dist = DEFAULT_DIST if real else tmp_path / "dist"
    if not real:
        (dist / "assets").mkdir(parents=True)
        (dist / "index.html").write_text(
            '<!doctype html><div id="root"></div><script type="module" src="/assets/a.js"></script>'
        )
        (dist / "assets" / "a.js").write_text("export {}")
    server: TestServer = await make_server(client_dir=str(dist))
    html = (dist / "index.html").read_text()
    asset = "/assets/" + sorted(p.name for p in (dist / "assets").iterdir() if p.suffix == ".js")[0]
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/index.html", "/channels/general", asset, "/api/me", "/socket.io/?EIO=4&transport=polling"):
            async with http.get(server.make_url(path)) as resp:
                await resp.read()
                h = resp.headers
                csp = h.get("Content-Security-Policy", "")
                directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
                print(
                    f"\n[browser] {path} ({'real build' if real else 'temp build'}): {resp.status} "
                    f"nosniff={h.get('X-Content-Type-Options')} referrer={h.get('Referrer-Policy')} "
                    f"script-src={directives.get('script-src')!r} frame-ancestors={directives.get('frame-ancestors')!r}"
                )
                assert h["X-Content-Type-Options"] == "nosniff"
                assert h["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
                assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
                assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no hosts
                assert directives["base-uri"] == "'none'"
    assert not _inline_scripts(html), "the build inlines a script the policy would block"
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "inline event handlers"


SECRET_TEXT = "do not serve this"


@pytest.fixture
async def build_with_traps(make_server, fake_stooq, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A build folder with a secret beside it and symlinks that point out of it."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>investor-chat</title>")
    (dist / "assets" / "app.js").write_text("export {}")
    (tmp_path / "secret.txt").write_text(SECRET_TEXT)
    os.symlink(tmp_path / "secret.txt", dist / "assets" / "linked.js")
    os.symlink(tmp_path / "secret.txt", dist / "linked.txt")
    os.symlink(tmp_path, dist / "assets" / "up")
    os.symlink(tmp_path, dist / "up")
    server: TestServer = await make_server(client_dir=str(dist))
    return server


async def _raw_get(port: int, target: str) -> tuple[int, str]:
    """GET with the request target sent byte for byte: no client-side normalisation of dots or escapes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode("latin-1")


ESCAPES = [
    "/assets/../../secret.txt",
    "/../secret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/..%2fsecret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/assets/%252e%252e/%252e%252e/secret.txt",
    "/assets/..%5c..%5csecret.txt",
    "/assets/..\\..\\secret.txt",
    "/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
    "/assets/..%252f..%252fsecret.txt",
    "/assets//etc/passwd",
    "//etc/passwd",
    "/assets/%2fetc%2fpasswd",
    "/%2fetc%2fpasswd",
    "/assets/linked.js",
    "/linked.txt",
    "/assets/up/secret.txt",
    "/up/secret.txt",
    "/assets/app.js%00.png",
    "/index.html%00",
    "/assets/....//....//secret.txt",
]


async def test_static_paths_cannot_escape_the_build_folder(build_with_traps: TestServer) -> None:
    port = build_with_traps.port
    assert port is not None
    results = [(target, *(await _raw_get(port, target))) for target in ESCAPES]
    statuses: dict[int, int] = {}
    for target, status, body in results:
        statuses[status] = statuses.get(status, 0) + 1
        assert SECRET_TEXT not in body and "root:" not in body, target
        assert status in (200, 400, 404), (target, status)  # 200 only as the SPA shell
        assert status != 200 or "<title>investor-chat</title>" in body, target
    print(
        f"\n[browser] {len(ESCAPES)} escape attempts (encoded, double-encoded, overlong UTF-8, backslash, "
        f"absolute, NUL, symlinks): statuses {dict(sorted(statuses.items()))}, none leaked"
    )
    assert (await _raw_get(port, "/assets/app.js"))[0] == 200
