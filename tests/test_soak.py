"""Issue 7 §4: a bounded soak on the distributed stack. 1000 clients (the C load generator for the steady
traffic plus Python clients that churn every second and ask the bot), then: no error, every acknowledged
message archived exactly once, no churning client missing a message after catch-up, node RSS flat after warm-up.
SOAK_SECONDS sets the length (default 120 s; the issue's full run is SOAK_SECONDS=600)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pymongo
import pytest
import redis

from scripts.stack import Stack
from tests.apps import ChatClient
from tests.rawio import LiveNode
from tests.services import redis_session_url  # noqa: F401  (fixture)

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "1000"))
CHURNERS = 50
ROOMS = 10
# the shared benchmark kit beside the repository, as bench/ finds it (BENCH_KIT overrides)
SHARED_KIT = Path(os.environ.get("BENCH_KIT", Path(__file__).resolve().parents[2] / "shared" / "bench"))
LOADGEN_SRC = Path(os.environ.get("CHAT_LOADGEN_SRC", SHARED_KIT / "loadgen" / "loadgen.c"))
# Server RSS must be flat after a warm-up that starts once the generator's clients are connected (~2.5 s):
# 30 s, or a quarter of a longer run (150 s of the full 600 s one, which then starts after the first full
# collection on the churners' node, ~110 s in: server/gc_tuning.py makes those rare).
WARMUP_SECONDS = max(30.0, 0.25 * SOAK_SECONDS)
# Bounds per node, from measured runs. The node the churners reach (nginx's ip_hash puts them all on one) gains
# ~7 MB/min of closed connections' garbage until that collection: 9.0-9.5 MB after warm-up in the 120 s run,
# then steps of <= 2 MB (3.2 MB, 0.4 MB/min from 150 s to 600 s); the other node moves < 0.2 MB. A slope only
# tells a leak from that climb over a few collections, so it is checked when the window is long enough.
GROWTH_BOUND_KB = 16 * 1024
SLOPE_BOUND_KB_PER_MIN = 2 * 1024
SLOPE_WINDOW_SECONDS = 240.0
pytestmark = [pytest.mark.stack, pytest.mark.serial, pytest.mark.timeout(int(SOAK_SECONDS) + 600)]


@pytest.fixture
def soak_stack(redis_session_url: str, tmp_path: Path) -> Iterator[Stack]:  # noqa: F811
    with redis.Redis.from_url(redis_session_url) as client:
        client.flushdb()
    env = {
        "CHAT_BCRYPT_ROUNDS": "4",
        "CHAT_QUOTE_PROVIDERS": "stooq",
        "CHAT_STOOQ_URL": "http://127.0.0.1:9",
        "CHAT_LOG_LEVEL": "warning",
        "CHAT_MAX_SOCKETS_PER_ADDRESS": "100000",  # every generated client comes from 127.0.0.1
        "CHAT_CHANNEL_CREATE_BURST": "100",  # the first user creates the generator's and the churners' rooms
        "CHAT_LOGIN_RATE": "10000",
        "CHAT_LOGIN_BURST": "10000",
        "CHAT_SEND_RATE": "50",
        "CHAT_SEND_BURST": "100",
    }
    running = Stack(redis_url=redis_session_url, env=env, directory=tmp_path / "stack")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _node(stack: Stack, name: str) -> LiveNode:
    process = stack.services[name].process
    assert process is not None
    return LiveNode(process, stack.services[name].url)  # type: ignore[arg-type]


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], token: str = "") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


class Churner:
    """A Python client that leaves and comes back, and must end up with every message of its channel."""

    def __init__(self, url: str, http: aiohttp.ClientSession, username: str, channel: str) -> None:
        self.client = ChatClient(url, http)
        self.username, self.channel = username, channel
        self.seqs: set[int] = set()
        self.first = 0
        self.acked: list[str] = []
        self.errors: list[Any] = []
        self.reconnects = 0

    def record(self, message: dict[str, Any]) -> None:
        if message.get("channel") == self.channel and "seq" in message:
            self.seqs.add(message["seq"])

    async def start(self) -> None:
        await self.client.register(self.username)
        self.client.sio.on("message", self.record)
        await self.client.connect()
        joined = await self.client.call("join", {"channel": self.channel})
        self.first = joined["last_seq"] + 1

    async def rejoin(self) -> None:
        await self.client.sio.disconnect()
        self.client.sio = type(self.client.sio)(reconnection=False)
        self.client.sio.on("message", self.record)
        await self.client.connect()
        await self.catch_up()
        self.reconnects += 1

    async def catch_up(self) -> int:
        after = max(self.seqs, default=self.first - 1)
        while True:
            ack = await self.client.call("join", {"channel": self.channel, "after": after})
            for message in ack["messages"]:
                self.record(message)
            if not ack.get("has_more"):
                return int(ack["last_seq"])
            after = max(self.seqs)

    async def say(self, text: str) -> None:
        ack = await self.client.call("send", {"channel": self.channel, "text": text})
        if ack["ok"]:
            if "message" in ack:
                self.acked.append(ack["message"]["id"])
        else:
            self.errors.append(ack)


async def test_soak_on_the_distributed_stack(soak_stack: Stack, tmp_path: Path) -> None:
    stack = soak_stack
    node_urls = stack.node_urls()
    loadgen_clients = CLIENTS - CHURNERS
    loadgen = tmp_path / "loadgen"
    if not LOADGEN_SRC.is_file():
        pytest.fail(f"the soak's load generator is not at {LOADGEN_SRC}: check out ../shared beside the repository")
    subprocess.run([shutil.which("gcc") or "gcc", "-O2", "-o", str(loadgen), str(LOADGEN_SRC)], check=True)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        tokens = []
        for i in range(loadgen_clients):
            status, body = await _post(
                http, f"{node_urls[i % 2]}/api/register", {"username": f"soak{i:05d}", "password": "soak-password-1"}
            )
            assert status == 201, body
            tokens.append(body["token"])
        # the generator's rooms, and separate ones for the churners (the generator counts every delivery it gets)
        for name in [f"soak-{k}" for k in range(ROOMS)] + [f"soak-c{k}" for k in range(5)]:
            assert (await _post(http, f"{node_urls[0]}/api/channels", {"name": name}, tokens[0]))[0] == 201
        (tmp_path / "tokens.txt").write_text("\n".join(tokens))
        churners = [Churner(stack.url, http, f"churn{i:03d}", f"soak-c{i % 5}") for i in range(CHURNERS)]
        for churner in churners:
            await churner.start()
        nodes = [_node(stack, name) for name in ("server1", "server2")]
        rss_before = [node.rss_kb() for node in nodes]
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            str(loadgen),
            "--urls",
            ",".join(u.removeprefix("http://") for u in node_urls),
            "-n",
            str(loadgen_clients),
            "-r",
            str(ROOMS),
            "-s",
            "20",
            "--rate",
            "20",
            "--duration",
            str(SOAK_SECONDS),
            "--warmup",
            "2",
            "--drain",
            "5",
            "--channel-prefix",
            "soak-",
            "--token-file",
            str(tmp_path / "tokens.txt"),
            "--connect-timeout",
            "60",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        # churn and bot traffic while the generator runs: every second 5 clients leave and come back,
        # the churners talk, and someone asks the bot
        commands = 0
        deadline = time.monotonic() + SOAK_SECONDS + 3
        tick = 0
        samples: list[tuple[float, list[int]]] = []  # (seconds since the generator started, RSS kB per node)
        while time.monotonic() < deadline:
            tick += 1
            samples.append((time.monotonic() - started, [node.rss_kb() for node in nodes]))
            leaving = random.sample(churners, 5)
            await asyncio.gather(*(c.rejoin() for c in leaving))
            await asyncio.gather(*(c.say(f"churn {c.username} {tick}") for c in random.sample(churners, 10)))
            asker = churners[tick % CHURNERS]
            await asker.say(random.choice(["/stock=aapl.us", "/stock MSFT", "/help"]))
            commands += 1
            await asyncio.sleep(1)
        samples.append((time.monotonic() - started, [node.rss_kb() for node in nodes]))  # generator still connected
        out, _err = await proc.communicate()
        report = json.loads(out.decode().strip().splitlines()[-1])
        missing = {}
        for churner in churners:
            last = await churner.catch_up()
            expected = set(range(churner.first, last + 1))
            if expected - churner.seqs:
                missing[churner.username] = len(expected - churner.seqs)
        for churner in churners:
            await churner.client.sio.disconnect()
    acked_py = [mid for c in churners for mid in c.acked]
    py_errors = [e for c in churners for e in c.errors]
    # the archive: wait until the archiver has written everything, then check it message by message
    with pymongo.MongoClient(stack.mongo_url) as mongo:
        messages = mongo.get_default_database().messages
        query = {"channel": {"$regex": "^soak-"}, "user": {"$ne": "StockBot"}}
        expected_total = report["send_ack_ok"] + len(acked_py)
        for _ in range(120):
            if messages.count_documents(query) >= expected_total:
                break
            await asyncio.sleep(1)
        archived = messages.count_documents(query)
        per_channel = {}
        for name in [f"soak-{k}" for k in range(ROOMS)] + [f"soak-c{k}" for k in range(5)]:
            seqs = [d["seq"] for d in messages.find({"channel": name, "seq": {"$exists": True}}, {"seq": 1})]
            per_channel[name] = (len(seqs), len(set(seqs)), max(seqs, default=0))
        missing_ids = [mid for mid in acked_py if messages.count_documents({"_id": mid}) != 1]
        bot_replies = messages.count_documents({"channel": {"$regex": "^soak-"}, "user": "StockBot"})
    print(
        f"\n[soak] {SOAK_SECONDS:.0f} s, {report['ready']} generator clients + {CHURNERS} churning clients "
        f"(5 reconnect every second: {sum(c.reconnects for c in churners)} reconnects), {commands} bot commands"
    )
    print(
        f"[soak] generator: sent {report['sent_total']} (acks ok {report['send_ack_ok']}, refused "
        f"{report['send_ack_err']}), deliveries {report['recv_total']}/{report['expected_total']} lost {report['lost']}, "
        f"p50 {report['lat_p50_ms']:.1f} ms p99 {report['lat_p99_ms']:.1f} ms, errors: handshake "
        f"{report['handshake_errors']} connect {report['connect_errors']} join {report['join_errors']} dropped {report['dropped']}"
    )
    print(
        f"[soak] churners: {len(acked_py)} messages acknowledged, {len(py_errors)} refused, "
        f"clients missing messages after catch-up: {len(missing)}"
    )
    print(
        f"[soak] archive: {archived} user messages for {expected_total} acknowledged, {bot_replies} bot replies; "
        f"acked churner ids not archived exactly once: {len(missing_ids)}; per channel (docs, distinct seq, max seq): "
        f"{per_channel}"
    )
    post = [(t, rss) for t, rss in samples if t >= report["connect_s"] + WARMUP_SECONDS]
    assert len(post) >= 10, f"SOAK_SECONDS={SOAK_SECONDS:.0f} leaves no run after the {WARMUP_SECONDS:.0f} s warm-up"
    window = post[-1][0] - post[0][0]
    growth: list[int] = []
    slopes: list[float] = []  # kB/min, least squares over the samples after warm-up
    for i, name in enumerate(("server1", "server2")):
        series = [rss[i] for _, rss in post]
        growth.append(series[-1] - series[0])
        slopes.append(statistics.linear_regression([t / 60 for t, _ in post], series).slope)
        print(
            f"[soak] {name} RSS kB: before clients {rss_before[i]}, end of warm-up ({post[0][0]:.0f} s) {series[0]}, "
            f"end ({post[-1][0]:.0f} s) {series[-1]}, max after warm-up {max(series)}; after warm-up: growth "
            f"{growth[i]} kB ({growth[i] / window * 60:.0f} kB/min), slope {slopes[i]:.0f} kB/min"
        )
    for name in ("server1", "server2", "bot", "archiver"):
        assert "Traceback" not in stack.log_tail(name, 200_000), stack.log_tail(name)
    assert report["ready"] == loadgen_clients and report["lost"] == 0 and report["send_ack_err"] == 0
    assert report["handshake_errors"] == report["connect_errors"] == report["join_errors"] == report["dropped"] == 0
    assert not py_errors and not missing and not missing_ids
    assert archived == expected_total
    for docs, distinct, top in per_channel.values():
        assert docs == distinct == top  # seq 1..top, each exactly once: nothing duplicated, nothing lost
    for kb, per_min in zip(growth, slopes, strict=True):
        assert kb < GROWTH_BOUND_KB, (growth, slopes, samples)
        assert per_min < SLOPE_BOUND_KB_PER_MIN or window < SLOPE_WINDOW_SECONDS, (growth, slopes, samples)
    assert re.fullmatch(r"[0-9.]+", str(report["lat_p99_ms"]))
