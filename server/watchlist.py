"""A user's watchlist changed on a node (PUT /api/me/watchlist, /watch, /unwatch): stored, and every connection
of the user told with a `watchlist` event, so each tab's ticker strip follows (docs/protocol.md#investor-tools)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.commands import ParsedCommand
from core.models import BOT_NAME, Message, new_id, now_iso
from investing.watchlists import watched
from server.app_keys import SIO, STORE

WATCHLIST_EVENT = "watchlist"


async def save_watchlist(app: web.Application, user: str, symbols: list[str]) -> None:
    """Store `user`'s watchlist (normalized already) and send it to all their connections, on every node."""
    await app[STORE].set_watchlist(user, symbols)
    await app[SIO].to_users([user], WATCHLIST_EVENT, {"symbols": symbols})


async def watch_command(app: web.Application, user: str, channel: str, parsed: ParsedCommand) -> dict[str, Any]:
    """/watch or /unwatch, handled by the node itself (no quote is needed): the watchlist changed and told,
    StockBot's private word of what is watched now, and the ack with the list. An invalid code raises
    QuoteError invalid_symbol and changes nothing; past the limit, ChatError watchlist_full."""
    current = await app[STORE].get_watchlist(user)
    adding = parsed.name == "watch"
    after = watched(current, add=parsed.args if adding else (), remove=() if adding else parsed.args)
    if after != current:
        await save_watchlist(app, user, after)
    note = Message(
        id=new_id(),
        channel=channel,
        user=BOT_NAME,
        text=watch_text(current, after),
        ts=now_iso(),
        bot=True,
        ephemeral=True,
    )
    await app[SIO].private_message(user, note.wire())
    command = {"id": new_id(), "name": parsed.name, "args": list(parsed.args)}
    return {"ok": True, "command": command, "watchlist": after}


def watch_text(before: list[str], after: list[str]) -> str:
    """`Now watching AAPL.US. Your watchlist (3): AAPL.US, VOD.UK, ^SPX`."""
    added = [code for code in after if code not in before]
    removed = [code for code in before if code not in after]
    parts = []
    if added:
        parts.append(f"Now watching {', '.join(added)}.")
    if removed:
        parts.append(f"No longer watching {', '.join(removed)}.")
    if not parts:
        parts.append("Your watchlist is unchanged.")
    parts.append(f"Your watchlist ({len(after)}): {', '.join(after)}" if after else "Your watchlist is empty.")
    return " ".join(parts)
