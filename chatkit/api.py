"""The REST calls a script makes, one method each: members, roles, mutes, bans, channel settings, direct
messages (docs/protocol.md, "Access"); search, the notifications inbox, notification preferences and the
read state of one's channels ("Mentions, notifications, read marks and search"); the watchlist, price alerts
and a caller's trade ideas ("Investor tools"). Thin on purpose: each sends
one request with the token and returns the answer's JSON as the server wrote it, or raises
chatkit.ChatError with its code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import quote

import aiohttp

from chatkit import ChatError

DEFAULT_MUTE_MINUTES = 10
PAGE_MAX = 100  # the most hits or notifications the server answers in one page
SEARCH_PAUSE = 0.2  # seconds: the server allows a user 5 searches a second after a burst of 30


class SearchPage(TypedDict):
    """`GET /api/search`'s answer: messages newest first, and the `before` of the next page (None: the last)."""

    hits: list[dict[str, Any]]
    next_before: str | None


class NotificationsPage(TypedDict):
    """`GET /api/me/notifications`'s answer: the inbox newest first, and the `before` of the next page."""

    notifications: list[dict[str, Any]]
    next_before: str | None


@dataclass(frozen=True, slots=True)
class Api:
    """One logged-in user's REST calls: `Api(http, args.url, await chatkit.log_in(http, args))`."""

    http: aiohttp.ClientSession
    url: str
    token: str

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, query: Mapping[str, str] | None = None
    ) -> Any:
        """One call: the JSON answer (None for 204), or ChatError for an error answer."""
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{self.url}{path}"
        async with self.http.request(method, url, json=body, params=query, headers=headers) as resp:
            answer = await resp.json() if resp.status != 204 else None
            if resp.status >= 400:
                raise ChatError.from_body(answer)
            return answer

    async def me(self) -> dict[str, Any]:
        """`{username, roles}`: roles "user", then "admin" and "compliance" where granted."""
        answer: dict[str, Any] = await self.request("GET", "/api/me")
        return answer

    async def create_channel(self, name: str, *, private: bool = False, topic: str = "") -> dict[str, Any]:
        """A new channel, owned by the caller; a private one is seen by its members only."""
        body = {"name": name, "visibility": "private" if private else "public", "topic": topic}
        answer: dict[str, Any] = await self.request("POST", "/api/channels", body)
        return answer

    async def update_channel(
        self, channel: str, *, topic: str | None = None, slow_mode_s: int | None = None
    ) -> dict[str, Any]:
        """Set the topic or slow mode (seconds between one user's messages, 0 off); the channel as it is now."""
        body = {k: v for k, v in (("topic", topic), ("slow_mode_s", slow_mode_s)) if v is not None}
        answer: dict[str, Any] = await self.request("PATCH", _channel(channel), body)
        return answer

    async def open_dm(self, username: str) -> dict[str, Any]:
        """The direct-message channel with `username` (made on first use): its `name` is what to join."""
        answer: dict[str, Any] = await self.request("POST", "/api/dms", {"username": username})
        return answer

    async def members(self, channel: str) -> list[dict[str, Any]]:
        """`[{username, role}]`, role owner, moderator or member: owners first, then moderators."""
        answer = await self.request("GET", _channel(channel, "members"))
        return list(answer["members"])

    async def set_member(self, channel: str, username: str, role: str = "member") -> dict[str, Any]:
        """Add `username` to the channel, or change its role to member or moderator."""
        answer: dict[str, Any] = await self.request("PUT", _channel(channel, "members", username), {"role": role})
        return answer

    async def remove_member(self, channel: str, username: str) -> None:
        """Kick `username` from the channel, or leave it when it is the caller."""
        await self.request("DELETE", _channel(channel, "members", username))

    async def moderation(self, channel: str) -> dict[str, Any]:
        """`{muted: [{username, until}], banned: [username]}` of the channel."""
        answer: dict[str, Any] = await self.request("GET", _channel(channel, "moderation"))
        return answer

    async def mute(
        self, channel: str, username: str, minutes: int = DEFAULT_MUTE_MINUTES, reason: str | None = None
    ) -> dict[str, Any]:
        """Mute `username` in the channel for `minutes`: `{username, until}`; its sends answer `muted` till then."""
        body: dict[str, Any] = {"username": username, "minutes": minutes}
        if reason:
            body["reason"] = reason
        answer: dict[str, Any] = await self.request("POST", _channel(channel, "mutes"), body)
        return answer

    async def unmute(self, channel: str, username: str) -> None:
        await self.request("DELETE", _channel(channel, "mutes", username))

    async def ban(self, channel: str, username: str, reason: str | None = None) -> None:
        """Ban `username`: removed from the channel, and its joins answer `banned` until unbanned."""
        body = {"username": username, **({"reason": reason} if reason else {})}
        await self.request("POST", _channel(channel, "bans"), body)

    async def unban(self, channel: str, username: str) -> None:
        await self.request("DELETE", _channel(channel, "bans", username))

    async def search(
        self,
        q: str = "",
        *,
        channel: str | None = None,
        user: str | None = None,
        cashtag: str | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> SearchPage:
        """One page of the messages the caller may read that hold every word of `q` (whole words, any letter
        case or accent; a `$TSLA` in it matches that cashtag), narrowed to a channel, an author, a cashtag
        (`TSLA`, no `$`); newest first, `limit` 1-100 (the server's default 20). `before` is the previous
        page's `next_before`. Nothing to search for raises ChatError `invalid_parameter`."""
        given = {"q": q, "channel": channel, "user": user, "cashtag": cashtag, "before": before}
        query = {k: v for k, v in given.items() if v}
        if limit is not None:
            query["limit"] = str(limit)
        answer: SearchPage = await self.request("GET", "/api/search", query=query)
        return answer

    async def search_all(
        self,
        q: str = "",
        *,
        channel: str | None = None,
        user: str | None = None,
        cashtag: str | None = None,
        page_size: int = PAGE_MAX,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every hit of `search`, newest first, page after page until the last; stop reading when enough. Past
        the server's burst of searches it waits for the next one allowed (`rate_limited`) and goes on."""
        before: str | None = None
        while True:
            try:
                page = await self.search(q, channel=channel, user=user, cashtag=cashtag, before=before, limit=page_size)
            except ChatError as exc:
                if exc.code != "rate_limited":
                    raise
                await asyncio.sleep(SEARCH_PAUSE)
                continue
            for hit in page["hits"]:
                yield hit
            before = page["next_before"]
            if before is None:
                return

    async def notifications(self, *, before: str | None = None, limit: int | None = None) -> NotificationsPage:
        """One page of the caller's notifications, newest first (`limit` 1-100, the server's default 30): each
        `{id, kind, channel?, message?, text, ts}`, as the live `notification` event carries it."""
        query = {"before": before} if before else {}
        if limit is not None:
            query["limit"] = str(limit)
        answer: NotificationsPage = await self.request("GET", "/api/me/notifications", query=query)
        return answer

    async def notify_prefs(self) -> dict[str, Any]:
        """`{keywords, cashtags, channels}`: what notifies the caller besides mentions and DMs."""
        answer: dict[str, Any] = await self.request("GET", "/api/me/notify")
        return answer

    async def set_notify_prefs(
        self,
        *,
        keywords: Sequence[str] = (),
        cashtags: Sequence[str] = (),
        channels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Replace the preferences as a whole: keywords (words or phrases), cashtags (`TSLA` or `$TSLA`) and
        per channel `all`, `mentions` or `none`; the preferences as stored (keywords lower-cased, cashtags
        upper-cased without `$`)."""
        body = {"keywords": list(keywords), "cashtags": list(cashtags), "channels": dict(channels or {})}
        answer: dict[str, Any] = await self.request("PUT", "/api/me/notify", body)
        return answer

    async def my_channels(self) -> list[dict[str, Any]]:
        """Every channel the caller may see with its read state: `role`, `last_seq`, `read_seq` (its read mark,
        0 when never read), `unread` (messages by others after it, capped at 1000) and `mentions`."""
        answer = await self.request("GET", "/api/me/channels")
        return list(answer["channels"])

    async def watchlist(self, *, quotes: bool = False) -> dict[str, Any]:
        """`{symbols}`: the caller's watched codes (`AAPL.US`, `VOD.UK`, `^SPX`); with `quotes` also `quotes`
        (one Quote per code that could be had, from the server's shared cache) and `errors` (`{symbol, code,
        message}` for the others)."""
        answer: dict[str, Any] = await self.request(
            "GET", "/api/me/watchlist", query={"quotes": "true"} if quotes else None
        )
        return answer

    async def set_watchlist(self, symbols: Sequence[str]) -> list[str]:
        """Replace the watchlist (up to 50 codes, stooq or Yahoo form); the codes as stored, normalized. The
        caller's connections get a `watchlist` event. An invalid code raises ChatError `invalid_symbol`."""
        answer = await self.request("PUT", "/api/me/watchlist", {"symbols": list(symbols)})
        return list(answer["symbols"])

    async def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        """The caller's price alerts, newest first, of `status` (active, triggered, expired, cancelled) if given."""
        answer = await self.request("GET", "/api/me/alerts", query={"status": status} if status else None)
        return list(answer["alerts"])

    async def create_alert(self, symbol: str, op: str, value: str, days: int | None = None) -> dict[str, Any]:
        """A new alert: `op` above or below the price `value`, or move_pct by `value` percent from the price now
        (a decimal string in the instrument's currency: "200", "72.50" for pence); `days` of life (30 when
        None). Refusals raise ChatError: `already_crossed`, `too_many_alerts` (20 active), `invalid_amount`,
        `invalid_symbol`, `unknown_symbol`, or a quote service failure."""
        body: dict[str, Any] = {"symbol": symbol, "op": op, "value": value}
        if days is not None:
            body["days"] = days
        answer: dict[str, Any] = await self.request("POST", "/api/me/alerts", body)
        return answer

    async def cancel_alert(self, alert_id: str) -> dict[str, Any]:
        """Cancel an active alert of the caller's; the alert after. ChatError `alert_not_found` otherwise."""
        answer: dict[str, Any] = await self.request("DELETE", f"/api/me/alerts/{quote(alert_id, safe='')}")
        return answer

    async def ideas(self, username: str, status: str | None = None) -> dict[str, Any]:
        """`{ideas, scorecard}`: `username`'s trade ideas posted where the caller may read, newest first (of
        `status` open, target_hit, stopped or expired if given), and the record of all of them `{ideas, closed,
        hit_rate, avg_return_pct}`."""
        path = f"/api/users/{quote(username, safe='')}/ideas"
        answer: dict[str, Any] = await self.request("GET", path, query={"status": status} if status else None)
        return answer


def _channel(name: str, *parts: str) -> str:
    return "/".join(["/api/channels", *(quote(p, safe="") for p in (name, *parts))])
