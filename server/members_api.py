"""REST API of a channel's members and moderation: the member list, adding, roles, kicking and leaving,
mutes and bans (docs/protocol.md#access); the rules are server/access.py's, the actions server/moderation.py's."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.models import USERNAME_RE, ChannelRole, Member, now_iso
from server import api_docs, moderation
from server.access import Need
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, STORE

MAX_REASON = 500
USERNAME = Field(max_length=64, json_schema_extra={"pattern": USERNAME_RE.pattern})


class MemberList(BaseModel):
    members: list[Member]


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: ChannelRole = Field("member", description="member or moderator (only an owner makes moderators)")


class NewMute(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = USERNAME
    minutes: int | None = Field(None, ge=1, le=525_600, description="default 10; at most a year")
    reason: str | None = Field(None, max_length=MAX_REASON)


class NewBan(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = USERNAME
    reason: str | None = Field(None, max_length=MAX_REASON)


class Muted(BaseModel):
    username: str
    until: str


class Banned(BaseModel):
    username: str


class ModerationState(BaseModel):
    muted: list[Muted]
    banned: list[str]


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def list_members(request: web.Request) -> web.Response:
    grant = await request.app[ACCESS].channel(await viewer(request), request.match_info["name"], Need.SEE)
    members = await request.app[STORE].members(grant.channel.name)
    return web.json_response(MemberList(members=members).model_dump())


async def put_member(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, RoleChange)
    user = await moderation.set_member(
        request.app, who, request.match_info["name"], request.match_info["username"], body.role
    )
    return web.json_response(Member(username=user.username, role=body.role).model_dump())


async def delete_member(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    await moderation.remove_member(request.app, who, request.match_info["name"], request.match_info["username"])
    return web.Response(status=204)


async def get_moderation(request: web.Request) -> web.Response:
    grant = await request.app[ACCESS].channel(await viewer(request), request.match_info["name"], Need.MODERATE)
    state = await request.app[STORE].moderation(grant.channel.name)
    now = now_iso()
    muted = [Muted(username=u, until=t) for u, t in sorted(state.muted.items()) if t > now]
    return web.json_response(ModerationState(muted=muted, banned=sorted(state.banned)).model_dump())


async def post_mute(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NewMute)
    user, until = await moderation.mute(
        request.app, who, request.match_info["name"], body.username, body.minutes, body.reason
    )
    return web.json_response(Muted(username=user.username, until=until).model_dump())


async def delete_mute(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    await moderation.unmute(request.app, who, request.match_info["name"], request.match_info["username"])
    return web.Response(status=204)


async def post_ban(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    body = await parse_body(request, NewBan)
    user = await moderation.ban(request.app, who, request.match_info["name"], body.username, body.reason)
    return web.json_response(Banned(username=user.username).model_dump())


async def delete_ban(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    await moderation.unban(request.app, who, request.match_info["name"], request.match_info["username"])
    return web.Response(status=204)


_CHANGE = ("forbidden_origin", "forbidden", "channel_not_found", "user_not_found")
MEMBER = "/api/channels/{name}/members/{username}"

ROUTES = (
    Route(
        "GET",
        "/api/channels/{name}/members",
        list_members,
        "The channel's members and their roles: owners, then moderators, then members",
        ok=Reply(200, "Members", MemberList),
        secured=True,
        errors=("channel_not_found", "banned"),
    ),
    Route(
        "PUT",
        MEMBER,
        put_member,
        "Add a member or change its role (owners and moderators; only an owner makes moderators); every "
        "member gets channel_event member_added or role_changed",
        body=RoleChange,
        ok=Reply(200, "The member", Member),
        secured=True,
        errors=(*_CHANGE, "invalid_role", "banned"),
    ),
    Route(
        "DELETE",
        MEMBER,
        delete_member,
        "Remove a member (owners and moderators), or leave (yourself); channel_event member_removed",
        ok=Reply(204, "Removed", media_type=None),
        secured=True,
        errors=(*_CHANGE, "not_a_member"),
    ),
    Route(
        "GET",
        "/api/channels/{name}/moderation",
        get_moderation,
        "Who is muted (until when) and who is banned (owners, moderators, site admins)",
        ok=Reply(200, "Mutes and bans", ModerationState),
        secured=True,
        errors=("forbidden", "channel_not_found"),
    ),
    Route(
        "POST",
        "/api/channels/{name}/mutes",
        post_mute,
        "Mute a user for some minutes: its sends answer `muted` with `until`; channel_event muted",
        body=NewMute,
        ok=Reply(200, "Muted", Muted),
        secured=True,
        errors=_CHANGE,
    ),
    Route(
        "DELETE",
        "/api/channels/{name}/mutes/{username}",
        delete_mute,
        "End a mute; channel_event unmuted",
        ok=Reply(204, "Unmuted", media_type=None),
        secured=True,
        errors=_CHANGE,
    ),
    Route(
        "POST",
        "/api/channels/{name}/bans",
        post_ban,
        "Ban a user: removed at once on every node and cannot join again; channel_event banned",
        body=NewBan,
        ok=Reply(200, "Banned", Banned),
        secured=True,
        errors=_CHANGE,
    ),
    Route(
        "DELETE",
        "/api/channels/{name}/bans/{username}",
        delete_ban,
        "Lift a ban; channel_event unbanned",
        ok=Reply(204, "Unbanned", media_type=None),
        secured=True,
        errors=_CHANGE,
    ),
)
