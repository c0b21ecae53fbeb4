"""Real services for tests: a SecantusDB subprocess, a private Redis database, store and bus fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pymongo
import pytest
import redis
from pymongo.errors import PyMongoError

from core.bus import Bus, open_bus
from core.store import Store, open_store
from scripts.ports import free_port

MONGO_START_TIMEOUT = 30.0
# One Redis database per xdist worker, none of them the default 0 that a developer may be using.
FIRST_TEST_REDIS_DB = 9
LAST_TEST_REDIS_DB = 15
REDIS_HOST_URL = "redis://127.0.0.1:6379"


def with_database(url: str, name: str) -> str:
    """The same MongoDB URL (options kept) pointing at database `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _secantusd() -> str:
    beside_python = Path(sys.executable).with_name("secantusd-py")
    found = str(beside_python) if beside_python.exists() else shutil.which("secantusd-py")
    if found is None:
        pytest.fail("secantusd-py not found: install the dev extras (`make install`) to get SecantusDB")
    return found


def _wait_for_mongo(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + MONGO_START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"secantusd-py exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            client: pymongo.MongoClient[dict[str, object]]
            with pymongo.MongoClient(url, serverSelectionTimeoutMS=500) as client:
                client.admin.command("ping")
            return
        except PyMongoError:
            if time.monotonic() > deadline:
                pytest.fail(f"secantusd-py did not answer within {MONGO_START_TIMEOUT}s:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB-compatible server for the session: CHAT_TEST_MONGODB_URL, or a fresh SecantusDB."""
    given = os.environ.get("CHAT_TEST_MONGODB_URL")
    if given:
        yield given
        return
    port = free_port()
    log = tmp_path_factory.mktemp("secantusdb") / "secantusd.log"
    command = [_secantusd(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"]
    command += ["--cache-size", "256M", "--log-level", "WARNING"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"mongodb://127.0.0.1:{port}/investor_chat_test?maxIdleTimeMS=120000"
        _wait_for_mongo(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _redis_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    db = FIRST_TEST_REDIS_DB + (int(worker) if worker.isdigit() else 0)
    if db > LAST_TEST_REDIS_DB:
        pytest.fail(f"at most {LAST_TEST_REDIS_DB - FIRST_TEST_REDIS_DB + 1} xdist workers may use Redis")
    return db


@pytest.fixture(scope="session")
def redis_session_url() -> str:
    """This session's private Redis database; fails (never skips) when Redis is not running."""
    base = os.environ.get("CHAT_TEST_REDIS_URL", REDIS_HOST_URL).rstrip("/")
    url = f"{base}/{_redis_db()}"
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is needed at {url} for these tests and does not answer: {exc}")
    return url


@pytest.fixture
def redis_url(redis_session_url: str) -> str:
    """The session's Redis database, emptied before the test."""
    with redis.Redis.from_url(redis_session_url) as client:
        client.flushdb()
    return redis_session_url


@pytest.fixture(params=["sqlite", "mongodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chat.sqlite3'}"
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = with_database(request.getfixturevalue("mongo_url"), name)
    yield url
    dropper: pymongo.MongoClient[dict[str, object]]
    with pymongo.MongoClient(url) as dropper:
        dropper.drop_database(name)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["memory", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
async def bus(bus_url: str) -> AsyncIterator[Bus]:
    opened = open_bus(bus_url)
    try:
        yield opened
    finally:
        await opened.close()
