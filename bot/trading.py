"""The bot's investor commands: /alert sets a price alert, /idea posts a trade idea's card to the channel."""

from __future__ import annotations

from decimal import Decimal

from core.bus import Posting
from core.commands import AlertSpec, IdeaSpec
from core.models import BOT_NAME, Command, Message, now_iso, utcnow
from core.posting import publish
from core.store import Store
from investing.alerts import create_alert, describe, level
from investing.ideas import card_text, open_idea
from quotes import QuoteService, parse_code

# /watch and /unwatch are the node's (it changes the watchlist and tells the user's other tabs); an older
# node may still hand them over
SERVER_COMMAND = "/{name} is handled by the server; send it again in a moment"


async def set_alert(store: Store, quotes: QuoteService, command: Command, spec: AlertSpec) -> str:
    """Store the asker's alert; what to tell them. Raises the ChatError (a QuoteError is one) that refuses it."""
    alert = await create_alert(
        store, quotes, command.user, spec, channel=command.channel, now=utcnow(), alert_id=command.id
    )
    now = level(parse_code(alert.symbol), Decimal(alert.created_price), alert.currency)
    return f"Alert set: {describe(alert)} (now {now}), until {alert.expires_at[:10]}"


async def post_idea(bus: Posting, store: Store, quotes: QuoteService, command: Command, spec: IdeaSpec) -> None:
    """Open the asker's idea at the quote of the moment and post its card. Keyed by the command, so a command
    delivered again after a crash posts no second card and keeps the first one's entry. Raises the ChatError
    that refuses it."""
    idea = await open_idea(quotes, command.id, command.user, command.channel, spec, now=utcnow())
    card = Message(
        id=command.id,
        channel=command.channel,
        user=BOT_NAME,
        bot=True,
        text=card_text(idea),
        idea=idea,
        ts=now_iso(),
    )
    posted, _ = await publish(bus, store, card, f"{BOT_NAME}\x00{command.id}")
    if posted.idea is not None:
        # tracked from what was posted: a repeat's fresh quote must not move the entry everyone saw
        await store.save_idea(posted.idea)
