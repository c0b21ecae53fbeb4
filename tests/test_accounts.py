"""Accounts and sessions over real HTTP: rules, bcrypt storage, cookies, expiry, logout, throttling."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
import socketio
from aiohttp.test_utils import TestServer

from tests.apps import PASSWORD, SECRET, ClientFactory, http_session


async def post(http: aiohttp.ClientSession, url: str, body: object, **kw: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with http.post(url, json=body, **kw) as resp:  # type: ignore[arg-type]
        return resp.status, await resp.json() if resp.content_type == "application/json" else {}


async def test_register_logs_in_with_a_secure_cookie_and_stores_only_a_bcrypt_hash(
    chat_url: str, tmp_path: Path
) -> None:
    async with http_session() as http:
        async with http.post(f"{chat_url}/api/register", json={"username": "Alice", "password": PASSWORD}) as resp:
            assert resp.status == 201
            body = await resp.json()
            cookie = resp.headers["Set-Cookie"]
        assert body["username"] == "Alice" and body["token"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
        async with http.get(f"{chat_url}/api/me") as resp:  # the cookie alone authenticates
            assert (resp.status, await resp.json()) == (200, {"username": "Alice", "roles": ["user"]})
    rows = sqlite3.connect(tmp_path / "chat.sqlite3").execute("SELECT password_hash FROM users").fetchall()
    assert rows[0][0].startswith("$2b$") and PASSWORD not in rows[0][0]


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("al", PASSWORD, "invalid_username"),
        ("a" * 33, PASSWORD, "invalid_username"),
        ("bob smith", PASSWORD, "invalid_username"),
        ("<script>", PASSWORD, "invalid_username"),
        ("StockBot", PASSWORD, "invalid_username"),
        ("stockbot", PASSWORD, "invalid_username"),
        ("carol", "short", "invalid_password"),
        ("carol", "x" * 73, "invalid_password"),
        ("carol", "é" * 37, "invalid_password"),  # 74 bytes in UTF-8, though 37 characters
    ],
)
async def test_registration_rules(chat_url: str, username: str, password: str, code: str) -> None:
    async with http_session() as http:
        status, body = await post(http, f"{chat_url}/api/register", {"username": username, "password": password})
    assert status == 400 and body["error"]["code"] == code and body["error"]["message"]


async def test_usernames_are_unique_without_regard_to_case_and_72_byte_passwords_work(chat_url: str) -> None:
    async with http_session() as http:
        status, _ = await post(http, f"{chat_url}/api/register", {"username": "dave.k-1", "password": "é" * 36})
        assert status == 201
        status, body = await post(http, f"{chat_url}/api/register", {"username": "DAVE.K-1", "password": PASSWORD})
        assert status == 409 and body["error"]["code"] == "username_taken"
        status, body = await post(http, f"{chat_url}/api/login", {"username": "dave.k-1", "password": "é" * 36})
        assert status == 200 and body["username"] == "dave.k-1"


async def test_wrong_password_and_unknown_user_get_the_same_answer(chat_url: str, make_client: ClientFactory) -> None:
    await make_client("erin", connect=False)
    async with http_session() as http:
        wrong = await post(http, f"{chat_url}/api/login", {"username": "erin", "password": "not the password"})
        unknown = await post(http, f"{chat_url}/api/login", {"username": "nobody", "password": "not the password"})
    assert wrong == unknown
    assert wrong[0] == 401 and wrong[1]["error"]["code"] == "invalid_credentials"


async def test_login_is_throttled_per_account(make_server, fake_stooq) -> None:  # type: ignore[no-untyped-def]
    server: TestServer = await make_server(login_burst=3, login_rate=0.01)
    url = str(server.make_url("")).rstrip("/")
    async with http_session() as http:
        await post(http, f"{url}/api/register", {"username": "frank", "password": PASSWORD})
        statuses = [
            (await post(http, f"{url}/api/login", {"username": "frank", "password": "wrong password"}))[0]
            for _ in range(4)
        ]
        status, body = await post(http, f"{url}/api/login", {"username": "frank", "password": PASSWORD})
    # registration took one token, so two wrong tries are answered and then the door shuts
    assert statuses[:2] == [401, 401] and statuses[2:] == [429, 429]
    assert status == 429 and body["error"]["code"] == "too_many_attempts"


async def test_logout_makes_the_token_stop_working(chat_url: str, make_client: ClientFactory) -> None:
    grace = await make_client("grace", connect=False)
    assert await grace.request("GET", "/api/me") == (200, {"username": "grace", "roles": ["user"]})
    status, _ = await grace.request("POST", "/api/logout")
    assert status == 204
    status, body = await grace.request("GET", "/api/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    errors: list[dict[str, str]] = []
    grace.sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await grace.connect()
    assert errors[0]["code"] == "unauthorized" and "logged out" in errors[0]["message"]


@pytest.mark.parametrize("kind", ["missing", "forged", "tampered", "expired"])
async def test_bad_tokens_are_refused_on_rest_and_socketio(
    chat_url: str, make_client: ClientFactory, kind: str
) -> None:
    henry = await make_client("henry", connect=False)
    now = datetime.now(UTC)
    henry.token = {
        "missing": "",
        "forged": jwt.encode({"sub": "henry", "jti": "x", "exp": now + timedelta(hours=1)}, "another-secret-" * 4),
        "tampered": henry.token[:-4] + ("AAAA" if not henry.token.endswith("AAAA") else "BBBB"),
        "expired": jwt.encode({"sub": "henry", "jti": "y", "exp": now - timedelta(seconds=1)}, SECRET),
    }[kind]
    status, body = await henry.request("GET", "/api/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    errors: list[object] = []
    henry.sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await henry.connect()
    assert errors and errors[0]["code"] == "unauthorized"  # type: ignore[index]


async def test_cookie_authenticated_changes_from_a_foreign_page_are_refused(chat_url: str) -> None:
    async with http_session() as http:
        await post(http, f"{chat_url}/api/register", {"username": "ivan", "password": PASSWORD})
        status, body = await post(
            http, f"{chat_url}/api/channels", {"name": "phish"}, headers={"Origin": "https://evil.example"}
        )
        assert status == 403 and body["error"]["code"] == "forbidden_origin"
        status, _ = await post(http, f"{chat_url}/api/channels", {"name": "legit"}, headers={"Origin": chat_url})
        assert status == 201


async def test_a_socket_from_a_foreign_origin_is_refused(chat_url: str, make_client: ClientFactory) -> None:
    judy = await make_client("judy", connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await judy.sio.connect(
            chat_url,
            auth={"token": judy.token},
            headers={"Origin": "https://evil.example"},
            transports=["websocket"],
            wait_timeout=3,
        )
    await judy.sio.connect(
        chat_url, auth={"token": judy.token}, headers={"Origin": chat_url}, transports=["websocket"], wait_timeout=3
    )
    assert judy.sio.connected
