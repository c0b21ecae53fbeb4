"""Changes to a message (edit, delete, react, unreact, pin, unpin): who may make them, and the message
they fold into. Each one the bus accepts takes the channel's next seq (Posting.post_change)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.errors import ChatError
from core.models import BOT_NAME, ChangeKind, Message, Reaction
from core.trading import Idea

# What `react` takes, in the order a picker shows them: bullish and bearish first.
EMOJIS = (
    "🐂", "🐻", "👍", "👎", "🔥", "🚀", "📈", "📉", "💰", "👀",
    "🤔", "😂", "😮", "😢", "🎉", "❤️", "🙏", "✅", "❌", "💯",
)  # fmt: skip


# What a message loses when deleted, or redacted under the retention policy: its text and all that repeats it
DROPPED = ("reactions", "pinned", "quote", "quotes", "stamps", "mentions")
REMOVED: dict[str, object] = {"text": ""} | dict.fromkeys(DROPPED)


def redacted(message: Message) -> Message:
    """The message with its content removed under the retention policy (archiver/retention.py); its seq, id,
    author, time and thread stay."""
    return message.model_copy(update={**REMOVED, "redacted": True})


def not_found(message_id: str) -> ChatError:
    return ChatError("message_not_found", f"No message {message_id[:40]!r} in this channel", 404)


def forbidden(what: str) -> ChatError:
    return ChatError("forbidden", what, 403)


def check_allowed(
    kind: ChangeKind, message: Message, by: str, *, moderator: bool, edit_window: float, now: datetime
) -> None:
    """Raise the ChatError that refuses `by` making this change, if one does. `moderator`: `by` is an owner
    or moderator of the channel or a site admin (server/access.py decides)."""
    if message.deleted:
        raise forbidden("That message was deleted")
    if message.redacted:
        raise forbidden("That message was removed under the retention policy")
    if kind == "edit":
        if message.bot:
            raise forbidden("Nobody edits the bot's messages")
        if message.user != by:
            raise forbidden("Only its author can edit a message")
        if now - _parse(message.ts) > timedelta(seconds=edit_window):
            raise ChatError(
                "edit_window_closed", f"Messages can be edited for {_span(edit_window)} after they are sent", 403
            )
    elif kind == "delete":
        if by != message.user and not moderator:
            raise forbidden("Only its author or the channel's moderators can delete a message")
    elif kind == "idea":
        if by != BOT_NAME or message.idea is None:
            raise forbidden("Only StockBot updates a trade idea's card")
    elif kind in ("pin", "unpin") and not moderator:
        raise forbidden("Only the channel's owner and moderators can pin messages")


def fold(
    message: Message,
    kind: ChangeKind,
    by: str,
    ts: str,
    *,
    text: str = "",
    emoji: str = "",
    mentions: list[str] | None = None,
    idea: Idea | None = None,
) -> Message | None:
    """The message after the change, its rev still the old one; None when the change changes nothing
    (a second 🐂 from the same user, pinning a pinned message): no event is made for it. An edit brings
    the `mentions` of its new text; an idea change (StockBot's, when the idea closes) its new `idea` and card `text`."""
    if kind == "edit":
        if text == message.text:
            return None
        return message.model_copy(update={"text": text, "edited_at": ts, "mentions": mentions})
    if kind == "delete":
        return message.model_copy(update={**REMOVED, "deleted": True})
    if kind == "idea":
        if idea is None or idea == message.idea:
            return None
        return message.model_copy(update={"idea": idea, "text": text or message.text})
    if kind in ("pin", "unpin"):
        pinned = kind == "pin"
        return None if bool(message.pinned) == pinned else message.model_copy(update={"pinned": pinned or None})
    return _react(message, by, emoji, add=kind == "react")


def _react(message: Message, by: str, emoji: str, *, add: bool) -> Message | None:
    reactions = [r.model_copy(update={"users": list(r.users)}) for r in message.reactions or ()]
    mine = next((r for r in reactions if r.emoji == emoji), None)
    if add:
        if mine is not None and by in mine.users:
            return None
        if mine is None:
            reactions.append(Reaction(emoji=emoji, count=0, users=[]))
            mine = reactions[-1]
        mine.users.append(by)
    else:
        if mine is None or by not in mine.users:
            return None
        mine.users.remove(by)
    mine.count = len(mine.users)
    kept = [r for r in reactions if r.count]
    return message.model_copy(update={"reactions": kept or None})


def check_emoji(emoji: str) -> None:
    if emoji not in EMOJIS:
        raise ChatError("invalid_emoji", "React with one of: " + " ".join(EMOJIS))


def _span(seconds: float) -> str:
    """A window in words: "a day", "2 hours", "15 minutes", "30 seconds"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"a {unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds:g} seconds"


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))
