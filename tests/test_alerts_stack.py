"""An alert fires exactly once on the distributed stack with two bot replicas when the replica running the round
is killed with SIGKILL between the quote and the notification: right after the fake provider served it the
crossing quote, or once it has stored the notification and before it could push it live (its Redis frozen)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pymongo import AsyncMongoClient

from scripts.stack import Stack
from tests.fakes.stooq import FakeStooq
from tests.faults import MakeStack, report, until
from tests.stack_fixtures import BoundClient, MakeBoundClient

pytestmark = [pytest.mark.stack]
CHANNEL = "general"
REPLICAS = ("bot", "bot2")
CROSSING = "95.25"


@dataclass
class Served:
    """The replica that was served the crossing quote and when."""

    replica: str
    at: float


class TrippedStooq(FakeStooq):
    """A fake stooq that, once armed, calls `tripped` with the asking replica right after it has sent the last
    part of a quote (the daily history follows the latest price), before the replica can act on it."""

    armed: str | None = None  # the stooq symbol whose next quote trips it
    pids: dict[int, str] | None = None
    served: Served | None = None
    tripped: Any = None

    async def _history(self, request: web.Request) -> web.StreamResponse:
        response = await super()._history(request)
        if self.armed is None or request.query.get("s", "").lower() != self.armed:
            return response
        # who asks is looked up first: the replica acts on the quote within milliseconds of getting it
        peer = request.transport.get_extra_info("peername") if request.transport else None
        replica = _owner(peer[1], self._port, self.pids or {}) if peer else None
        if replica is not None:
            self.armed = None
            await response.prepare(request)
            await response.write_eof()  # in the replica's socket now
            self.served = Served(replica, time.monotonic())
            self.tripped(replica)
        return response


def _owner(port: int, to_port: int, pids: dict[int, str]) -> str | None:
    """Which of the processes holds the TCP connection from local `port` to `to_port` (its socket's inode in
    /proc/net/tcp, then its file descriptors)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)) == (port, to_port):
            inode = fields[9]
    for pid, name in pids.items():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return name
            except OSError:
                continue
    return None


async def _stored(stack: Stack, alert_id: str) -> tuple[str, int]:
    """The alert's status in MongoDB and how many notifications of it are stored."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        db = client.get_default_database()
        alert = await db.alerts.find_one({"_id": alert_id})
        notes = await db.notifications.count_documents({"key": f"alert:{alert_id}"})
        return (alert or {}).get("status", "?"), notes
    finally:
        await client.close()


@pytest.fixture
async def fake_stooq() -> Any:
    fake = TrippedStooq()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("moment", ["quote served", "notification stored"])
async def test_an_alert_fires_once_when_the_replica_running_the_round_is_killed(
    make_stack: MakeStack, make_bound_client: MakeBoundClient, fake_stooq: TrippedStooq, moment: str
) -> None:
    stack = await make_stack(
        bots=2,
        env={
            "CHAT_STOOQ_URL": fake_stooq.url,
            "CHAT_ALERT_INTERVAL": "1",
            "CHAT_QUOTE_CACHE_TTL": "0",  # each round asks the fake: the crossing quote is served to a round
        },
    )
    alice = await make_bound_client(stack.url)
    assert (await alice.call("join", {"channel": CHANNEL}))["ok"]
    ack = await alice.call("send", {"channel": CHANNEL, "text": "/alert AAPL above 95"})
    assert ack["ok"], ack
    await alice.wait_for("message", lambda m: m["text"].startswith("Alert set"), timeout=15)
    _, body = await alice.request("GET", "/api/me/alerts")
    alert_id = body["alerts"][0]["id"]

    killed, at_kill = await _kill_the_round(stack, fake_stooq, alert_id, moment)
    survivor = next(name for name in REPLICAS if name != killed)
    assert fake_stooq.served is not None
    fired = await alice.wait_for("message", lambda m: m["text"].startswith("Alert: "), timeout=60)
    took = time.monotonic() - fake_stooq.served.at
    await asyncio.sleep(3)  # three more rounds: nothing comes twice
    pushed = [n for n in alice.received("notification") if n["kind"] == "alert"]
    survivor_log = stack.log_tail(survivor, 50_000)
    report(
        f"alert, kill at {moment}",
        killed=killed,
        alert_and_notifications_at_kill=at_kill,
        survivor="fired it" if "fired=1" in survivor_log else "delivered it",
        live_notification_events=len(pushed),
        seconds_to_the_bot_message=round(took, 1),
    )
    if at_kill[0] == "active":  # killed before it settled the alert: the survivor's round fired it
        assert "fired=1" in survivor_log, survivor_log[-3000:]
        assert len(pushed) == 1, pushed
    else:
        # killed after settling: the survivor delivers what it left (after DELIVERY_GRACE), or it had
        # delivered all but marking it; its push may have been on the wire already when it died, so the same
        # id may come twice, which clients drop (docs/architecture.md)
        assert at_kill[0] == "triggered" and len(pushed) in (1, 2), pushed
    if moment == "notification stored":
        assert at_kill == ("triggered", 1)
    await _once(alice, fired, alert_id)


async def _kill_the_round(stack: Stack, fake: TrippedStooq, alert_id: str, moment: str) -> tuple[str, tuple[str, int]]:
    """Move the price across the alert and SIGKILL the replica whose round is served the crossing quote: at
    once, or once it has stored the notification (its Redis frozen meanwhile, so it gets no further). The
    replica killed, and the alert's status and its stored notifications right after."""
    fake.pids = {stack.services[name].process.pid: name for name in REPLICAS}  # type: ignore[union-attr]
    fake.tripped = stack.kill if moment == "quote served" else lambda _replica: stack.pause("redis")
    fake.set_symbol("aapl.us", CROSSING)
    fake.armed = "aapl.us"
    await until(lambda: fake.served is not None, 30, "a round served the crossing quote")
    assert fake.served is not None
    if moment == "notification stored":
        deadline = time.monotonic() + 10
        while (await _stored(stack, alert_id))[1] == 0:
            if time.monotonic() > deadline:
                pytest.fail("the replica never stored the notification:\n" + stack.log_tail(fake.served.replica))
            await asyncio.sleep(0.01)
        stack.kill(fake.served.replica)
        stack.resume("redis")
    return fake.served.replica, await _stored(stack, alert_id)


async def _once(alice: BoundClient, fired: dict[str, Any], alert_id: str) -> None:
    """One notification (one id live, one in the inbox), one private StockBot message (one id), the alert
    triggered."""
    pushed = [n for n in alice.received("notification") if n["kind"] == "alert"]
    assert {n["id"] for n in pushed} == {pushed[0]["id"]}
    assert pushed[0]["text"] == f"Alert: AAPL.US above $95.00, now ${CROSSING}"
    status, inbox = await alice.request("GET", "/api/me/notifications")
    assert status == 200 and [n["id"] for n in inbox["notifications"] if n["kind"] == "alert"] == [pushed[0]["id"]]
    assert {m["id"] for m in alice.received("message") if m["text"].startswith("Alert: ")} == {fired["id"]}
    assert fired["ephemeral"] is True and fired["quote"]["price"] == CROSSING
    _, body = await alice.request("GET", "/api/me/alerts")
    [alert] = body["alerts"]
    assert (alert["id"], alert["status"], alert["triggered_price"]) == (alert_id, "triggered", CROSSING)
