"""Fixtures that run the real app on a real port, and a small client speaking real HTTP and Socket.IO."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer

from core.settings import Settings, load_settings
from core.store import Store
from server.standalone import create_standalone_app

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "storage_url": f"sqlite:///{tmp_path}/chat.sqlite3",
        "bus_url": "memory://",
        "secret_key": SECRET,
        "bcrypt_rounds": 4,
        "quote_providers": "stooq",
        "stooq_url": "http://127.0.0.1:9",
        "quote_timeout": 2.0,
        "client_dir": str(tmp_path / "no-client"),
    }
    values.update(overrides)
    return load_settings(standalone=True, **values)


def http_session() -> aiohttp.ClientSession:
    """A client session that keeps cookies from 127.0.0.1 (aiohttp ignores IP hosts by default)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


class ChatClient:
    """One user's connection: REST calls with its token, Socket.IO events recorded as they arrive."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.http = http
        self.username = ""
        self.token = ""
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._arrived = asyncio.Event()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))
        self._arrived.set()

    async def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(method, self.base_url + path, json=json, headers=headers, **kwargs) as resp:
            body = await resp.json() if resp.content_type == "application/json" else await resp.text()
            return resp.status, body

    async def register(self, username: str, password: str = PASSWORD) -> ChatClient:
        status, body = await self.request("POST", "/api/register", {"username": username, "password": password})
        assert status == 201, body
        self.username, self.token = body["username"], body["token"]
        return self

    async def connect(self) -> ChatClient:
        await self.sio.connect(self.base_url, auth={"token": self.token}, transports=["websocket"], wait_timeout=5)
        return self

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, timeout=5)

    async def wait_for(self, event: str, match: Callable[[Any], bool] = lambda _: True, timeout: float = 5) -> Any:
        """The first recorded `event` whose data matches, waiting for it to arrive."""
        async with asyncio.timeout(timeout):
            while True:
                for name, data in self.events:
                    if name == event and match(data):
                        return data
                self._arrived.clear()
                await self._arrived.wait()

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]


ClientFactory = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[TestServer]]]:
    """Start the standalone app (node, bot, archiver) on a real port; stopped at the end."""
    servers: list[TestServer] = []

    async def start(**overrides: Any) -> TestServer:
        server = TestServer(create_standalone_app(settings_for(tmp_path, **overrides)), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def chat_server(make_server: Callable[..., Awaitable[TestServer]], fake_stooq: Any) -> TestServer:
    return await make_server(stooq_url=fake_stooq.url)


@pytest.fixture
async def chat_url(chat_server: TestServer) -> str:
    return str(chat_server.make_url("")).rstrip("/")


@pytest.fixture
async def make_client(chat_url: str) -> AsyncIterator[ClientFactory]:
    """Make registered (and, unless told otherwise, connected) users; all disconnected at the end."""
    clients: list[ChatClient] = []
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())  # clients use their own tokens
    counter = 0

    async def make(username: str | None = None, *, connect: bool = True, url: str | None = None) -> ChatClient:
        nonlocal counter
        counter += 1
        client = ChatClient(url or chat_url, http)
        clients.append(client)
        await client.register(username or f"user{counter}")
        return await client.connect() if connect else client

    yield make
    for client in clients:
        await client.sio.disconnect()
    await http.close()


def code(reply: tuple[int, Any]) -> tuple[int, str]:
    """(status, the error's code) of a REST reply; "" when it is not an error."""
    status, body = reply
    return status, body["error"]["code"] if isinstance(body, dict) and "error" in body else ""


async def with_role(make_client: ClientFactory, store: Store, name: str, *roles: str) -> ChatClient:
    """A registered client, not connected, holding the site roles given."""
    client = await make_client(name, connect=False)
    assert await store.set_user_roles(name, roles)
    return client
