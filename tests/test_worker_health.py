"""The bot's and the archiver's own /healthz, /readyz and /metrics, on their CHAT_HEALTH_PORT."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from archiver.runner import run as run_archiver
from bot.runner import run as run_bot
from core.bus import open_bus
from core.models import Message, new_id, now_iso
from core.settings import Settings, load_settings
from core.store import open_store
from scripts.ports import free_port
from tests.apps import SECRET
from tests.services import redis_session_url, redis_url  # noqa: F401  (fixtures)

Runner = Callable[[Settings, asyncio.Event], Coroutine[Any, Any, None]]


def worker_settings(tmp_path: Path, bus_url: str) -> Settings:
    return load_settings(
        standalone=False,
        storage_url=f"sqlite:///{tmp_path}/chat.sqlite3",
        bus_url=bus_url,
        secret_key=SECRET,
        health_port=free_port(),
        quote_providers="stooq",
        stooq_url="http://127.0.0.1:9",
    )


@asynccontextmanager
async def running(run: Runner, settings: Settings) -> AsyncIterator[str]:
    """Run a worker until the block ends; yields its health URL once /healthz answers."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    url = f"http://127.0.0.1:{settings.health_port}"
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                assert not task.done(), task.exception()
                try:
                    async with http.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


def metric(text: str, name: str, labels: str) -> float:
    found = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in:\n{text}"
    return float(found.group(1))


async def test_archiver_reports_ready_and_counts_what_it_archives(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    settings = worker_settings(tmp_path, redis_url)
    async with running(run_archiver, settings) as url:
        assert await get(url + "/readyz") == (200, '{"status": "ok"}')
        bus = open_bus(redis_url)
        try:
            await bus.seed_seq("general", 0)
            posted, _ = await bus.post(Message(id=new_id(), channel="general", user="alice", text="hi", ts=now_iso()))
        finally:
            await bus.close()
        async with asyncio.timeout(10):
            while True:
                status, text = await get(url + "/metrics")
                assert status == 200
                processed = metric(text, "chat_worker_processed_total", 'stream="chat:archive"')
                backlog = metric(text, "chat_stream_backlog", 'group="archiver",stream="chat:archive"')
                if (processed, backlog) == (1, 0):
                    break
                await asyncio.sleep(0.1)
        assert metric(text, "chat_worker_failures_total", 'stream="chat:archive"') == 0
    store = await open_store(settings.storage_url)
    try:
        messages, _ = await store.history("general", limit=10)
    finally:
        await store.close()
    assert [m.id for m in messages] == [posted.id]


async def test_archiver_is_alive_but_not_ready_without_its_bus(tmp_path: Path) -> None:
    settings = worker_settings(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    async with running(run_archiver, settings) as url:
        status, body = await get(url + "/readyz")
        assert (status, body) == (503, '{"status": "unavailable", "failed": ["bus"]}')
        assert (await get(url + "/healthz"))[0] == 200
        status, text = await get(url + "/metrics")
        assert status == 200 and "chat_worker_failures_total" in text


async def test_bot_serves_its_health_endpoints(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    async with running(run_bot, worker_settings(tmp_path, redis_url)) as url:
        assert await get(url + "/readyz") == (200, '{"status": "ok"}')
        status, text = await get(url + "/metrics")
        assert status == 200
        assert metric(text, "chat_stream_backlog", 'group="bot",stream="chat:bot"') == 0
        assert metric(text, "chat_worker_processed_total", 'stream="chat:bot"') == 0


async def test_no_health_server_when_the_port_is_zero(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    settings = worker_settings(tmp_path, redis_url).model_copy(update={"health_port": 0})
    stop = asyncio.Event()
    task = asyncio.create_task(run_archiver(settings, stop))
    await asyncio.sleep(0.5)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 10)  # SIGTERM's path: drain and return
