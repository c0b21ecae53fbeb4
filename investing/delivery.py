"""Telling people that an alert fired or an idea closed. Every step is idempotent (ids derived from the alert
or idea, insert-ignore notifications, an idea change that changes nothing posts nothing), so a delivery
retried after a crash repeats nobody's news; the row is marked delivered last."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from core.bus import Posting
from core.errors import ChatError
from core.models import BOT_NAME, Message, Notification, Quote, keyed_id
from core.posting import change
from core.store import Store
from core.trading import ALERT_KEY, IDEA_KEY, Alert, Idea
from investing.alerts import fired_text
from investing.ideas import card_text, closed_text

logger = logging.getLogger(__name__)
# the card cannot show the outcome any more (deleted, or gone with its channel): the author is told anyway
GONE = ("message_not_found", "forbidden")

# whisper(user, message wire) reaches every connection of the user, on whichever node
Whisper = Callable[[str, Any], Awaitable[None]]


async def deliver_alert(bus: Posting, store: Store, whisper: Whisper, alert: Alert, quote: Quote | None) -> None:
    """The owner's `alert` notification and, when it was set in a channel, a private StockBot message with
    the quote card; then the alert is marked delivered."""
    ts = alert.triggered_at or alert.created_at
    key = ALERT_KEY + alert.id
    text = fired_text(alert)
    note = Notification(
        id=keyed_id(ts, key), user=alert.user, key=key, kind="alert", text=text, ts=ts, channel=alert.channel
    )
    await store.save_notifications([note])
    await push(bus, note)
    if alert.channel is not None:
        reply = Message(
            id=keyed_id(ts, f"{BOT_NAME}\x00{key}"),
            channel=alert.channel,
            user=BOT_NAME,
            text=text,
            ts=ts,
            bot=True,
            ephemeral=True,
            quote=quote,
        )
        await whisper(alert.user, reply.wire())
    await store.mark_alert_delivered(alert.id)


async def deliver_idea(bus: Posting, store: Store, idea: Idea, now: datetime) -> None:
    """The idea's card updated in place to its outcome, the author's `idea` notification carrying the card;
    then the idea is marked delivered."""
    card = await _update_card(bus, store, idea, now)
    ts = idea.closed_at or idea.opened_at
    key = IDEA_KEY + idea.id
    note = Notification(
        id=keyed_id(ts, key),
        user=idea.author,
        key=key,
        kind="idea",
        text=closed_text(idea),
        ts=ts,
        channel=idea.channel,
        message=card,
    )
    await store.save_notifications([note])
    await push(bus, note)
    await store.mark_idea_delivered(idea.id)


async def _update_card(bus: Posting, store: Store, idea: Idea, now: datetime) -> Message | None:
    channel = await store.get_channel(idea.channel)
    if channel is None:
        return None
    try:
        return await change(
            bus,
            store,
            channel,
            idea.id,
            "idea",
            BOT_NAME,
            moderator=False,
            edit_window=0,
            now=now,
            idea=idea,
            text=card_text(idea),
        )
    except ChatError as exc:
        if exc.code not in GONE:
            raise  # history_catching_up, say: the next round tries again
        logger.info("idea %s closed without its card: %s", idea.id, exc.code, extra={"channel": idea.channel})
        return None


async def push(bus: Posting, note: Notification) -> None:
    """The notification to its user's connections on every node, as the notifier hands them over."""
    notice = {"seq": 0, "notifications": [{"user": note.user, "notification": note.wire()}]}
    await bus.notify(orjson.dumps(notice))
