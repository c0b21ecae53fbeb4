"""The REST calls a moderation or admin script makes, one method each: members, roles, mutes, bans, channel
settings, direct messages (docs/protocol.md, "Access"). Thin on purpose: each sends one request with the
token and returns the answer's JSON as the server wrote it, or raises chatkit.ChatError with its code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from chatkit import ChatError

DEFAULT_MUTE_MINUTES = 10


@dataclass(frozen=True, slots=True)
class Api:
    """One logged-in user's REST calls: `Api(http, args.url, await chatkit.log_in(http, args))`."""

    http: aiohttp.ClientSession
    url: str
    token: str

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call: the JSON answer (None for 204), or ChatError for an error answer."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, f"{self.url}{path}", json=body, headers=headers) as resp:
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


def _channel(name: str, *parts: str) -> str:
    return "/".join(["/api/channels", *(quote(p, safe="") for p in (name, *parts))])
