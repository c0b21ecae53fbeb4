"""Support for the fault tests: stacks to break, traffic to send, and the archive check."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import redis.asyncio
import socketio
from pymongo import AsyncMongoClient

from core.bus import ARCHIVE_STREAM, DEAD_LETTER_SUFFIX
from scripts.stack import Stack
from tests.stack_fixtures import STACK_ENV, BoundClient

CHANNEL = "general"
FAULT_ENV = {
    **STACK_ENV,
    "CHAT_SEND_RATE": "2000",
    "CHAT_SEND_BURST": "2000",
    "CHAT_EVENT_RATE": "2000",
    "CHAT_EVENT_BURST": "2000",
}
REDIS_DOWN = 3.0
ARCHIVE_TIMEOUT = 60.0  # the archiver claims a dead consumer's entries after 10 s idle
MakeStack = Callable[..., Awaitable[Stack]]


def report(test: str, **figures: object) -> None:
    print(f"\n[{test}] " + ", ".join(f"{name}={value}" for name, value in figures.items()), flush=True)


@pytest.fixture
async def make_stack() -> AsyncIterator[MakeStack]:
    """A fresh stack per test, with its own redis-server; started and stopped off the event loop."""
    stacks: list[Stack] = []

    async def make(*, env: dict[str, str] | None = None, **options: Any) -> Stack:
        stack = Stack(private_redis=True, env={**FAULT_ENV, **(env or {})}, **options)
        stacks.append(stack)
        await asyncio.to_thread(stack.start)
        return stack

    yield make
    for stack in stacks:
        await asyncio.to_thread(stack.stop)


# ---- what the stack holds -------------------------------------------------------------------


async def metric(url: str, name: str) -> float:
    """The sum of one Prometheus metric's samples at a node's or a worker's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as resp:
        text = await resp.text()
    samples = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    assert samples, f"no {name} in {url}/metrics"
    return sum(float(value) for value in samples)


async def archived(stack: Stack, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """The channel's messages in MongoDB, straight from the collection."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        cursor = client.get_default_database().messages.find(
            {"channel": channel}, {"_id": 1, "seq": 1, "user": 1, "bot": 1, "text": 1}
        )
        return await cursor.to_list()
    finally:
        await client.close()


async def backlog(stack: Stack, stream: str = ARCHIVE_STREAM, group: str = "archiver") -> dict[str, int]:
    """What the consumer group has not acknowledged yet (pending + lag), and the dead letters."""
    client = redis.asyncio.Redis.from_url(stack.redis_url)
    try:
        dead = int(await client.xlen(stream + DEAD_LETTER_SUFFIX))
        for info in await client.xinfo_groups(stream):
            if info["name"] in (group, group.encode()):
                return {"pending": int(info["pending"]), "lag": int(info["lag"] or 0), "dead": dead}
        return {"pending": 0, "lag": int(await client.xlen(stream)), "dead": dead}
    finally:
        await client.aclose()


@dataclass
class ArchiveCheck:
    archived: int
    duplicate_ids: int
    duplicate_seqs: int
    unacked_archived: int  # sends whose ack the client never saw, archived anyway (not an error)


async def archived_exactly_once(stack: Stack, acked: dict[str, int], timeout: float = ARCHIVE_TIMEOUT) -> ArchiveCheck:
    """Wait until every acknowledged message is in MongoDB and the archive stream is drained, then
    check each is there once, under its acknowledged seq, and that seqs run 1..N without a gap."""
    deadline = time.monotonic() + timeout
    while True:
        docs = await archived(stack)
        missing = set(acked) - {doc["_id"] for doc in docs}
        left = await backlog(stack)
        if not missing and left["pending"] == 0 and left["lag"] == 0:
            break
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(missing)} of {len(acked)} acknowledged messages not archived after {timeout:.0f}s "
                f"(backlog {left}):\n{stack.log_tail('archiver')}"
            )
        await asyncio.sleep(0.5)
    ids = Counter(doc["_id"] for doc in docs)
    seqs = Counter(doc["seq"] for doc in docs)
    check = ArchiveCheck(
        archived=len(docs),
        duplicate_ids=sum(n - 1 for n in ids.values()),
        duplicate_seqs=sum(n - 1 for n in seqs.values()),
        unacked_archived=len(set(ids) - set(acked)),
    )
    assert left["dead"] == 0, f"{left['dead']} archive entries dead-lettered"
    assert check.duplicate_ids == 0 and check.duplicate_seqs == 0, check
    assert sorted(seqs) == list(range(1, len(docs) + 1)), "the archive's seqs have gaps"
    seq_of = {doc["_id"]: doc["seq"] for doc in docs}
    assert all(seq_of[mid] == seq for mid, seq in acked.items()), "a message archived under another seq"
    return check


# ---- traffic --------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What the senders did: every distinct message tried, and the acknowledged ones by id."""

    sent: int = 0
    acked: dict[str, int] = field(default_factory=dict)  # message id -> seq
    unacked: int = 0  # gave up without an acknowledgement
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    longest_outage: float = 0.0  # longest time one sender went from a failure to the next success
    slowest_ack: float = 0.0  # longest wait for one successful acknowledgement

    def progress(self) -> int:
        return len(self.acked)


async def send_messages(
    client: BoundClient, count: int, traffic: Traffic, *, tag: str, pause: float = 0.0, retry_for: float = 0.0
) -> None:
    """Send `count` messages one after another, as a script would; a failed send is retried with
    the same client_id for up to `retry_for` seconds (the server answers a repeat with the first)."""
    failing_since: float | None = None
    for n in range(count):
        traffic.sent += 1
        payload = {"channel": CHANNEL, "text": f"{tag} {n}", "client_id": f"{tag}-{n}"}
        give_up = time.monotonic() + retry_for
        while True:
            started = time.monotonic()
            try:
                ack = await client.call("send", payload)
            except socketio.exceptions.SocketIOError as exc:  # timed out, or not connected
                ack = {"ok": False, "error": {"code": type(exc).__name__}}
            if ack["ok"]:
                traffic.acked[ack["message"]["id"]] = ack["message"]["seq"]
                traffic.slowest_ack = max(traffic.slowest_ack, time.monotonic() - started)
                if failing_since is not None:
                    traffic.longest_outage = max(traffic.longest_outage, time.monotonic() - failing_since)
                    failing_since = None
                break
            traffic.errors[ack["error"]["code"]] += 1
            failing_since = failing_since or time.monotonic()
            if time.monotonic() >= give_up:
                traffic.unacked += 1
                break
            traffic.retries += 1
            await asyncio.sleep(0.2)
        if pause:
            await asyncio.sleep(pause)


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


async def join(client: BoundClient, after: int | None = None) -> list[dict[str, Any]]:
    """Join (or re-join) the channel; with `after`, page through everything missed since then."""
    payload: dict[str, Any] = {"channel": CHANNEL} if after is None else {"channel": CHANNEL, "after": after}
    messages: list[dict[str, Any]] = []
    while True:
        ack = await client.call("join", payload)
        assert ack["ok"] is True, ack
        messages += ack["messages"]
        if after is None or not ack["has_more"] or not ack["messages"]:
            return messages
        payload["after"] = ack["messages"][-1]["seq"]


def chat_messages(client: BoundClient) -> list[dict[str, Any]]:
    """The channel's `message` events as they arrived, bot replies included, ephemeral ones not."""
    return [m for m in client.received("message") if m.get("channel") == CHANNEL and not m.get("ephemeral")]


# ---- 1. the archiver dies in a burst --------------------------------------------------------


async def kill_holding_entries(stack: Stack, tries: int = 100) -> dict[str, int]:
    """SIGKILL the archiver, preferably while it holds entries it read and has not acked yet: freeze
    it, look, and kill it frozen if it holds some, else let it run a moment and look again."""
    for _ in range(tries):
        stack.pause("archiver")
        held = await backlog(stack)
        if held["pending"] > 0:
            break
        stack.resume("archiver")
        await asyncio.sleep(0.01)
    stack.kill("archiver")  # no drain: what it held stays pending under its name until claimed
    return held
