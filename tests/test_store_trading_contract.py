"""The Store contract of #23, run against SQLite and MongoDB through the `store` fixture: watchlists, price
alerts (the limit of active ones, cancelling, settling exactly once, delivery), trade ideas (saved once,
closed exactly once, listed per author over the channels a reader may read), and idea cards in the archive."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from core.changes import fold
from core.models import BOT_NAME, Change, Message
from core.store import Store
from core.trading import Alert, Idea, closed
from tests.test_store_contract import message

T0 = "2026-12-01T14:00:00.000Z"


def at(minute: int) -> str:
    return f"2026-12-01T14:{minute:02d}:00.000Z"


def alert(n: int, user: str = "alice", **fields: Any) -> Alert:
    """Alert n, set at minute n: newer with n."""
    given: dict[str, Any] = {
        "id": f"a{n:03d}", "user": user, "symbol": "AAPL.US", "op": "above", "value": "200",
        "created_price": "187.5", "currency": "USD", "created_at": at(n), "expires_at": "2026-12-31T14:00:00.000Z",
        "channel": "desk",
    }  # fmt: skip
    return Alert.model_validate(given | fields)


def idea(n: int, author: str = "alice", channel: str = "desk", **fields: Any) -> Idea:
    """Idea n, opened at minute n: newer with n."""
    given: dict[str, Any] = {
        "id": f"i{n:03d}", "author": author, "channel": channel, "side": "long", "symbol": "VOD.UK",
        "currency": "GBX", "entry": "72.50", "target": "80", "stop": "70", "opened_at": at(n),
        "expires_at": "2026-12-06T14:00:00.000Z",
    }  # fmt: skip
    return Idea.model_validate(given | fields)


def ids(items: list[Alert] | list[Idea]) -> list[str]:
    return [item.id for item in items]


# --- watchlists ---


async def test_a_watchlist_keeps_its_order_is_replaced_whole_and_ignores_letter_case(store: Store) -> None:
    assert await store.get_watchlist("alice") == []
    await store.set_watchlist("Alice", ["VOD.UK", "AAPL.US", "^SPX", "BTC-USD"])
    assert await store.get_watchlist("ALICE") == ["VOD.UK", "AAPL.US", "^SPX", "BTC-USD"]  # as added, not sorted
    await store.set_watchlist("alice", ["TSLA.US", "VOD.UK"])
    assert await store.get_watchlist("alice") == ["TSLA.US", "VOD.UK"]
    assert await store.get_watchlist("bob") == []
    await store.set_watchlist("bob", ["MSFT.US"])
    await store.set_watchlist("aLiCe", [])
    assert await store.get_watchlist("alice") == []
    assert await store.get_watchlist("Bob") == ["MSFT.US"]


# --- alerts ---


async def test_an_alert_reads_back_with_every_field(store: Store) -> None:
    full = alert(1, op="move_pct", value="5", channel=None, symbol="^SPX", currency="USD")
    assert await store.add_alert(full, max_active=20)
    assert await store.alerts("alice") == [full]
    assert await store.active_alerts() == [full]


async def test_past_max_active_alerts_a_new_one_is_refused_until_one_ends(store: Store) -> None:
    for n in range(3):
        assert await store.add_alert(alert(n, user="Alice" if n else "alice"), max_active=3)
    assert not await store.add_alert(alert(3, user="ALICE"), max_active=3)  # the same user in any letter case
    assert await store.add_alert(alert(4, user="bob"), max_active=3)  # others have their own count
    assert ids(await store.alerts("alice")) == ["a002", "a001", "a000"]
    assert await store.cancel_alert("alice", "a000") is not None
    assert await store.add_alert(alert(5), max_active=3)
    assert await store.settle_alert("a001", "triggered", at(30), "201") is not None
    assert await store.settle_alert("a002", "expired", at(31), None) is not None
    assert await store.add_alert(alert(6), max_active=3)
    assert await store.add_alert(alert(7), max_active=3)
    assert not await store.add_alert(alert(8), max_active=3)
    assert ids(await store.alerts("alice", status="active")) == ["a007", "a006", "a005"]


async def test_an_alert_added_again_under_its_id_is_stored_once(store: Store) -> None:
    # the bot keys an /alert by its command: a command handled again after a crash sets no second alert,
    # even when the first one filled the user's last place
    assert await store.add_alert(alert(1), max_active=1)
    assert await store.add_alert(alert(1, value="250"), max_active=1)
    assert [(a.id, a.value) for a in await store.alerts("alice")] == [("a001", "200")]
    assert not await store.add_alert(alert(2), max_active=1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_concurrent_adds_never_pass_the_limit_on_sqlite(store: Store) -> None:
    added = await asyncio.gather(*(store.add_alert(alert(n), max_active=5) for n in range(12)))
    assert added.count(True) == 5
    assert len(await store.alerts("alice", status="active")) == 5


async def test_alerts_are_listed_newest_first_by_status_for_their_user_only(store: Store) -> None:
    for n in (3, 1, 4, 2):
        await store.add_alert(alert(n), max_active=20)
    await store.add_alert(alert(5, user="bob"), max_active=20)
    await store.settle_alert("a001", "triggered", at(40), "200.5")
    await store.cancel_alert("alice", "a004")
    assert ids(await store.alerts("ALICE")) == ["a004", "a003", "a002", "a001"]
    assert ids(await store.alerts("alice", status="active")) == ["a003", "a002"]
    assert ids(await store.alerts("alice", status="triggered")) == ["a001"]
    assert ids(await store.alerts("alice", status="cancelled")) == ["a004"]
    assert await store.alerts("alice", status="expired") == []
    assert ids(await store.alerts("alice", limit=2)) == ["a004", "a003"]
    assert ids(await store.alerts("bob")) == ["a005"]
    assert await store.alerts("carol") == []


async def test_only_its_owner_cancels_an_active_alert_once(store: Store) -> None:
    await store.add_alert(alert(1), max_active=20)
    assert await store.cancel_alert("bob", "a001") is None
    assert await store.cancel_alert("alice", "nope") is None
    cancelled = await store.cancel_alert("ALICE", "a001")
    assert cancelled == alert(1, status="cancelled")
    assert await store.cancel_alert("alice", "a001") is None
    assert await store.alerts("alice") == [cancelled]
    assert await store.active_alerts() == []


async def test_active_alerts_are_every_users_active_ones(store: Store) -> None:
    for n, user in enumerate(("alice", "bob", "carol", "bob")):
        await store.add_alert(alert(n, user=user), max_active=20)
    await store.cancel_alert("bob", "a001")
    await store.settle_alert("a002", "expired", at(50), None)
    assert sorted(ids(await store.active_alerts())) == ["a000", "a003"]


async def test_a_settled_alert_keeps_when_and_at_what_it_fired_and_cannot_be_cancelled(store: Store) -> None:
    await store.add_alert(alert(1), max_active=20)
    await store.add_alert(alert(2), max_active=20)
    fired = await store.settle_alert("a001", "triggered", at(45), "201.25")
    assert fired == alert(1, status="triggered", triggered_at=at(45), triggered_price="201.25")
    expired = await store.settle_alert("a002", "expired", at(46), None)
    assert expired == alert(2, status="expired")  # no trigger time or price
    assert await store.settle_alert("a001", "expired", at(47), None) is None
    assert await store.settle_alert("missing", "triggered", at(47), "1") is None
    assert await store.cancel_alert("alice", "a001") is None
    assert await store.alerts("alice") == [expired, fired]


async def test_of_racing_settlers_exactly_one_wins(store: Store) -> None:
    for n in range(3):
        await store.add_alert(alert(n), max_active=20)
    for n in range(3):
        outcomes = await asyncio.gather(
            store.settle_alert(f"a{n:03d}", "triggered", at(50), "201"),
            store.settle_alert(f"a{n:03d}", "triggered", at(51), "202"),
            store.settle_alert(f"a{n:03d}", "expired", at(52), None),
        )
        won = [o for o in outcomes if o is not None]
        assert len(won) == 1
        stored = {a.id: a for a in await store.alerts("alice")}
        assert stored[won[0].id] == won[0]  # the winner's outcome is the one kept
    assert await store.active_alerts() == []


async def test_a_triggered_alert_stays_undelivered_until_marked(store: Store) -> None:
    for n in range(4):
        await store.add_alert(alert(n), max_active=20)
    one = await store.settle_alert("a001", "triggered", at(50), "201")
    two = await store.settle_alert("a002", "triggered", at(51), "202")
    await store.settle_alert("a003", "expired", at(52), None)  # an expired alert tells nobody
    assert sorted(ids(await store.undelivered_alerts())) == ["a001", "a002"]
    assert await store.undelivered_alerts() in ([one, two], [two, one])
    await store.mark_alert_delivered("a001")
    await store.mark_alert_delivered("a001")  # a replica delivering again after a crash
    assert await store.undelivered_alerts() == [two]
    await store.mark_alert_delivered("a002")
    assert await store.undelivered_alerts() == []
    assert await store.alerts("alice", status="triggered") == [two, one]  # delivery is not on the alert


# --- ideas ---


async def test_an_idea_is_saved_once_and_the_first_entry_stays(store: Store) -> None:
    first = idea(1, side="short", target=None, stop="75")
    assert await store.save_idea(first)
    assert not await store.save_idea(idea(1, entry="73.10"))  # a redelivered /idea
    assert await store.get_idea("i001") == first
    assert await store.get_idea("i999") is None
    assert await store.open_ideas() == [first]


async def test_of_racing_closers_exactly_one_wins_and_the_idea_keeps_its_outcome(store: Store) -> None:
    opened = idea(1)
    await store.save_idea(opened)
    target = closed(opened, "target_hit", Decimal("80.5"), at(30))
    stopped = closed(opened, "stopped", Decimal("69"), at(30))
    outcomes = await asyncio.gather(store.close_idea(target), store.close_idea(stopped), store.close_idea(target))
    won = [o for o in outcomes if o is not None]
    assert len(won) == 1 and won[0] in (target, stopped)
    assert await store.get_idea("i001") == won[0]
    assert await store.close_idea(closed(opened, "expired", Decimal("71"), at(40))) is None
    assert await store.get_idea("i001") == won[0]
    assert await store.open_ideas() == []
    assert await store.close_idea(closed(idea(2), "expired", Decimal("71"), at(40))) is None
    assert await store.get_idea("i002") is None  # closing never makes an idea that was not saved


async def test_a_closed_idea_stays_undelivered_until_marked(store: Store) -> None:
    for n in range(3):
        await store.save_idea(idea(n))
    done = await store.close_idea(idea(1, status="expired", exit="71", closed_at=at(50), return_pct="-2.07"))
    assert done is not None and done.status == "expired" and done.exit == "71"
    assert await store.undelivered_ideas() == [done]
    assert ids(await store.open_ideas()) == ["i000", "i002"]
    await store.mark_idea_delivered("i001")
    await store.mark_idea_delivered("i001")
    assert await store.undelivered_ideas() == []
    assert await store.get_idea("i001") == done


async def test_ideas_by_an_author_cover_only_the_channels_given_newest_first(store: Store) -> None:
    await store.save_idea(idea(1, channel="desk"))
    await store.save_idea(idea(2, author="Alice", channel="secret"))
    await store.save_idea(idea(3, author="ALICE", channel="ops"))
    await store.save_idea(idea(4, author="bob", channel="desk"))
    await store.save_idea(idea(5, channel="desk"))
    await store.close_idea(idea(5, status="stopped", exit="69", closed_at=at(30), return_pct="-4.83"))
    assert ids(await store.ideas_by("alice", channels=["desk", "ops"])) == ["i005", "i003", "i001"]
    assert ids(await store.ideas_by("aLICE", channels={"desk", "ops", "secret"})) == ["i005", "i003", "i002", "i001"]
    assert ids(await store.ideas_by("alice", channels=["desk"], status="open")) == ["i001"]
    assert ids(await store.ideas_by("alice", channels=["desk"], status="stopped")) == ["i005"]
    assert await store.ideas_by("alice", channels=["desk"], status="target_hit") == []
    assert ids(await store.ideas_by("alice", channels=["desk", "ops"], limit=2)) == ["i005", "i003"]
    assert await store.ideas_by("alice", channels=[]) == []
    assert ids(await store.ideas_by("bob", channels=["desk"])) == ["i004"]
    # a reader of many channels: more than SQLite takes parameters in one statement
    many = [f"c{n}" for n in range(40_000)] + ["secret"]
    assert ids(await store.ideas_by("alice", channels=many)) == ["i002"]


# --- idea cards in the archive ---


async def test_an_idea_card_is_updated_in_place_by_an_idea_change(store: Store) -> None:
    opened = idea(1, id="6c0000000000000000000001", author="alice", channel="general")
    card = Message(id=opened.id, channel="general", seq=1, rev=1, user=BOT_NAME, bot=True,
                   text="alice: long VOD.UK at 72.50 GBX", ts=T0, idea=opened)  # fmt: skip
    other = message(2)
    assert await store.save_messages([card, other]) == 2
    assert await store.get_message("general", card.id) == card
    assert (await store.history("general", limit=5))[0] == [card, other]
    done = closed(opened, "target_hit", Decimal("80.5"), at(30))
    folded = fold(card, "idea", BOT_NAME, at(30), text="alice: long VOD.UK, target hit", idea=done)
    assert folded is not None
    update = Change(seq=3, kind="idea", channel="general", by=BOT_NAME, ts=at(30),
                    message=folded.model_copy(update={"rev": 3}))  # fmt: skip
    assert await store.apply_changes([update]) == 1
    assert await store.apply_changes([update]) == 0  # redelivered
    found = await store.get_message("general", card.id)
    assert found == update.message and found.idea == done and found.text == "alice: long VOD.UK, target hit"
    assert (found.seq, found.rev, found.edited_at) == (1, 3, None)  # in place: no edit mark
    assert (await store.history("general", limit=5))[0] == [update.message, other]
    assert (await store.changed("general", after=2, limit=5))[0] == [update.message]
    assert await store.originals("general", card.id) == []  # an idea change is no edit of a member's words
    assert await store.last_seq("general") == 3
