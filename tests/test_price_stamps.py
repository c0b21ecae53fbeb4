"""Price stamps: a message carries its cashtags' prices as the node had them when it was posted."""

from __future__ import annotations

import time

from core.models import Quote
from server.stamps import RecentQuotes
from tests.apps import ClientFactory
from tests.fakes.stooq import FakeStooq


async def test_a_message_carries_the_prices_its_node_had_when_it_was_posted(
    make_client: ClientFactory, fake_stooq: FakeStooq
) -> None:
    alice = await make_client("alice")
    assert (await alice.call("join", {"channel": "general"}))["ok"]

    # Nobody has looked at AAPL on this node yet: no stamp, and no upstream call for one.
    asked = len(fake_stooq.requests)
    sent = await alice.call("send", {"channel": "general", "text": "first $AAPL"})
    assert sent["ok"] and "stamps" not in sent["message"]
    assert len(fake_stooq.requests) == asked

    # A chip shows it (GET /api/quotes); the next message naming it carries that price.
    status, _ = await alice.request("GET", "/api/quotes?symbols=AAPL")
    assert status == 200
    sent = await alice.call("send", {"channel": "general", "text": "now $aapl, and $ZZZZQ, and $AAPL again"})
    assert sent["ok"]
    assert sent["message"]["stamps"] == [
        {
            "code": "AAPL",
            "symbol": "AAPL.US",
            "price": "93.42",
            "currency": "USD",
            "as_of": sent["message"]["stamps"][0]["as_of"],
        }
    ]
    live = await alice.wait_for("message", lambda m: m["text"].startswith("now"))
    assert live["stamps"] == sent["message"]["stamps"]

    # Stored with the message: history says the same, whatever the price does next.
    status, page = await alice.request("GET", "/api/channels/general/messages")
    assert status == 200
    stored = next(m for m in page["messages"] if m["text"].startswith("now"))
    assert stored["stamps"][0]["price"] == "93.42"
    plain = await alice.call("send", {"channel": "general", "text": "no cashtags here"})
    assert "stamps" not in plain["message"]


def test_recent_quotes_forget_after_their_time() -> None:
    quote = Quote(
        symbol="AAPL.US",
        price="1.00",
        currency="USD",
        as_of="2026-12-04T14:00:00Z",
        market_state="REGULAR",
        source="stooq",
    )
    recent = RecentQuotes(ttl=0.05)
    recent.remember("aapl", quote)
    assert [s.code for s in recent.stamps("$AAPL and US$5 and $5.00") or []] == ["AAPL"]
    time.sleep(0.06)
    assert recent.stamps("$AAPL") is None
