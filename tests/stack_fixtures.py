"""The local distributed stack as a fixture, and clients that pick their node through nginx's ip_hash."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiohttp
import pytest
import redis
import socketio

from scripts.stack import Stack
from tests.apps import ChatClient

STACK_ENV = {
    "CHAT_BCRYPT_ROUNDS": "4",
    "CHAT_QUOTE_PROVIDERS": "stooq",
    "CHAT_STOOQ_URL": "http://127.0.0.1:9",  # no quotes from the internet in these tests
    "CHAT_LOG_LEVEL": "info",
}


@pytest.fixture(scope="module")
def stack(redis_session_url: str) -> Iterator[Stack]:
    """nginx, two server nodes, bot, archiver and SecantusDB on this session's Redis database."""
    with redis.Redis.from_url(redis_session_url) as client:
        client.flushdb()
    running = Stack(redis_url=redis_session_url, env=STACK_ENV)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def bound_session(local_ip: str) -> aiohttp.ClientSession:
    """HTTP and WebSocket connections from `local_ip`: ip_hash keys on its first three octets."""
    connector = aiohttp.TCPConnector(local_addr=(local_ip, 0))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


class BoundClient(ChatClient):
    """A ChatClient whose Socket.IO connection also goes out from the session's local address."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        super().__init__(base_url, http)
        self.sio = socketio.AsyncClient(reconnection=False, http_session=http)
        self.sio.on("*", self._record)


MakeBoundClient = Callable[..., Awaitable[BoundClient]]


@pytest.fixture
async def make_bound_client() -> AsyncIterator[MakeBoundClient]:
    """Registered, connected users at a base URL, from a local address; all closed at the end."""
    clients: list[BoundClient] = []
    sessions: list[aiohttp.ClientSession] = []

    async def make(base_url: str, local_ip: str = "127.0.0.1") -> BoundClient:
        http = bound_session(local_ip)
        sessions.append(http)
        client = BoundClient(base_url, http)
        clients.append(client)
        await client.register(f"u{uuid.uuid4().hex[:10]}")
        await client.connect()
        return client

    yield make
    for client in clients:
        await client.sio.disconnect()
    for http in sessions:
        await http.close()
