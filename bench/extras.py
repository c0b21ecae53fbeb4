"""History on a big SQLite archive, and the archiver's write rate into SQLite and SecantusDB."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from pathlib import Path

from bench.procs import VENV_BIN, Children, Product, log, register
from scripts.ports import free_port

HISTORY_CHANNELS = 10
ARCHIVE_GROUP = "archiver"
ARCHIVE_STREAM = "chat:archive"


def _message(channel: str, seq: int, i: int) -> str:
    return (
        f'{{"id":"{i:024x}","channel":"{channel}","seq":{seq},"user":"bench{i % 1000:05d}","text":"history '
        f'message {i} with some ordinary chat text in it","ts":"2026-11-28T09:00:00.000Z","bot":false}}'
    )


def fill_sqlite(path: Path, total: int) -> None:
    """`total` messages spread over HISTORY_CHANNELS channels, written straight into the product's schema."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    per = total // HISTORY_CHANNELS
    for k in range(HISTORY_CHANNELS):
        channel = f"hist-{k}"
        db.execute("INSERT OR IGNORE INTO channels VALUES (?, 'bench00000', '2026-11-28T09:00:00.000Z')", (channel,))
        rows = ((channel, s, f"{k * per + s:024x}", _message(channel, s, k * per + s)) for s in range(1, per + 1))
        db.executemany("INSERT OR IGNORE INTO messages (channel, seq, id, data) VALUES (?, ?, ?, ?)", rows)
        db.commit()
    db.close()


async def _joins(base: str, token: str, channel: str, count: int) -> list[float]:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    await client.connect(base, auth={"token": token}, transports=["websocket"])
    out = []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            ack = await client.call("join", {"channel": channel}, timeout=10)
            out.append((time.perf_counter() - t0) * 1000)
            assert ack["ok"] and len(ack["messages"]) == 50, ack
    finally:
        await client.disconnect()
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def history_bench(children: Children, workdir: Path, total: int, joins: int) -> dict[str, float]:
    """`join` with the last 50, one client after another and then ten at once, on `total` messages."""
    product = Product(children, workdir, nodes=1, redis_url=None, rate=1000, burst=2000)
    product.start()  # creates the schema
    tokens = register(product.base, 10, [], workdir / "tokens.txt")
    product.stop()
    log(f"filling SQLite with {total} messages")
    t0 = time.time()
    fill_sqlite(workdir / "chat.sqlite3", total)
    log(f"filled in {time.time() - t0:.0f}s")
    product.start()
    try:
        asyncio.run(_joins(product.base, tokens[0], "hist-1", 20))  # warm the page cache and the app
        serial = asyncio.run(_joins(product.base, tokens[0], "hist-2", joins))

        async def concurrent() -> list[float]:
            parts = await asyncio.gather(
                *(_joins(product.base, tokens[i], f"hist-{i % HISTORY_CHANNELS}", joins // 10) for i in range(10))
            )
            return [x for part in parts for x in part]

        parallel = asyncio.run(concurrent())
    finally:
        product.stop()
    return {
        "messages": total,
        "serial_p50": _p(serial, 50),
        "serial_p99": _p(serial, 99),
        "parallel10_p50": _p(parallel, 50),
        "parallel10_p99": _p(parallel, 99),
    }


async def _fill_stream(redis_url: str, total: int) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        await redis.delete(ARCHIVE_STREAM)
        for start in range(0, total, 5000):
            pipe = redis.pipeline(transaction=False)
            for i in range(start, min(total, start + 5000)):
                k = i % 100
                pipe.xadd(ARCHIVE_STREAM, {"data": _message(f"arch-{k}", i // 100 + 1, i)})
            await pipe.execute()
    finally:
        await redis.aclose()


async def _backlog(redis_url: str) -> int:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        for g in await redis.xinfo_groups(ARCHIVE_STREAM):
            name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
            if name == ARCHIVE_GROUP:
                return int(g["pending"]) + int(g["lag"] or 0)
        return int(await redis.xlen(ARCHIVE_STREAM))
    finally:
        await redis.aclose()


def archiver_bench(children: Children, workdir: Path, redis_url: str, storage_url: str, total: int) -> float:
    """Entries per second the archiver process drains from a pre-filled stream into `storage_url`."""
    asyncio.run(_fill_stream(redis_url, total))
    product = Product(children, workdir, nodes=0, redis_url=redis_url, rate=1, burst=1, storage_url=storage_url)
    proc = children.start(f"archiver-{workdir.name}", [str(VENV_BIN / "investor-chat"), "archiver"], product.env)
    try:
        start = None
        deadline = time.time() + 300
        left = total
        while time.time() < deadline and proc.poll() is None:
            left = asyncio.run(_backlog(redis_url))
            if start is None and left < total:
                start, first = time.perf_counter(), left
            if left == 0:
                break
            time.sleep(0.05)
        if start is None or left:
            log(f"archiver did not drain the stream ({left} left)")
            return 0.0
        return first / max(1e-6, time.perf_counter() - start)  # `first` entries drained since `start`
    finally:
        children.stop(proc)


def start_secantus(children: Children) -> tuple[str, object]:
    port = free_port()
    proc = children.start(
        "secantusd",
        [
            str(VENV_BIN / "secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--cache-size",
            "256M",
        ],
    )
    deadline = time.time() + 30
    import socket

    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    return f"mongodb://127.0.0.1:{port}/benchchat?maxIdleTimeMS=120000", proc
