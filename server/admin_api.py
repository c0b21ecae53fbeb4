"""REST API of site administration (docs/protocol.md#access): invites, site roles, suspensions, the audit
log, and the user search of the direct-message picker."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.models import AuditEntry, Invite
from server import admin, api_docs
from server.access import require_site
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import STORE
from server.payloads import validate_query
from server.realtime import end_sessions

PICKER_LIMIT = 50
ADMIN_PAGE_LIMIT = 200


class NewInvite(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uses: int = Field(1, ge=1, le=1000, description="registrations the code allows")
    hours: int = Field(72, ge=1, le=720, description="hours until the code expires")


class InviteList(BaseModel):
    invites: list[Invite]


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prefix: str = Field("", max_length=32, description="names starting with this, any letter case")
    limit: int = Field(20, ge=1, le=PICKER_LIMIT)


class AdminUserQuery(UserQuery):
    limit: int = Field(50, ge=1, le=ADMIN_PAGE_LIMIT)


class UserName(BaseModel):
    username: str


class UserList(BaseModel):
    users: list[UserName]


class UserRoles(BaseModel):
    username: str
    roles: list[str] = Field(description='"user", then the site roles granted, sorted')


class AdminUser(UserRoles):
    suspended: bool
    created_at: str


class AdminUserList(BaseModel):
    users: list[AdminUser]


class Suspension(BaseModel):
    username: str
    suspended: bool


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    before: str | None = Field(None, pattern="^[0-9a-f]{24}$", description="only entries older than this id")
    limit: int = Field(50, ge=1, le=ADMIN_PAGE_LIMIT)


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before: str | None = Field(description="the `before` of the next (older) page; null at the end")


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def create_invite(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin")
    body = await parse_body(request, NewInvite)
    invite = await admin.create_invite(request.app[STORE], who.username, uses=body.uses, hours=body.hours)
    return web.json_response(invite.model_dump(), status=201)


async def list_invites(request: web.Request) -> web.Response:
    require_site(await viewer(request), "admin")
    invites = await request.app[STORE].list_invites()
    return web.json_response(InviteList(invites=invites).model_dump())


async def list_users(request: web.Request) -> web.Response:
    require_site(await viewer(request), "admin")
    query = validate_query(AdminUserQuery, request.query)
    found = await request.app[STORE].list_users(prefix=query.prefix, limit=query.limit)
    users = [
        AdminUser(username=u.username, roles=admin.site_roles(u.roles), suspended=u.suspended, created_at=u.created_at)
        for u in found
    ]
    return web.json_response(AdminUserList(users=users).model_dump())


async def find_users(request: web.Request) -> web.Response:
    """Anyone's picker of people to write to: names only, suspended accounts left out."""
    await viewer(request)
    query = validate_query(UserQuery, request.query)
    # twice the page, so a few suspended accounts among the names do not shorten it
    found = await request.app[STORE].list_users(prefix=query.prefix, limit=2 * query.limit)
    users = [UserName(username=u.username) for u in found if not u.suspended][: query.limit]
    return web.json_response(UserList(users=users).model_dump())


async def grant_role(request: web.Request) -> web.Response:
    return await _set_role(request, granted=True)


async def revoke_role(request: web.Request) -> web.Response:
    return await _set_role(request, granted=False)


async def _set_role(request: web.Request, *, granted: bool) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin")
    username, role = request.match_info["username"], request.match_info["role"]
    user = await admin.set_role(request.app[STORE], who.username, username, role, granted=granted)
    # a connection holds the roles it connected with: it reconnects (the client does at once) with the new
    # ones, and a revoked role's reach (compliance in private channels) ends now, not at its next login
    await end_sessions(request.app, user.username)
    return web.json_response(UserRoles(username=user.username, roles=admin.site_roles(user.roles)).model_dump())


async def suspend(request: web.Request) -> web.Response:
    return await _set_suspended(request, suspended=True)


async def unsuspend(request: web.Request) -> web.Response:
    return await _set_suspended(request, suspended=False)


async def _set_suspended(request: web.Request, *, suspended: bool) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin")
    user = await admin.set_suspended(
        request.app[STORE], who.username, request.match_info["username"], suspended=suspended
    )
    if suspended:  # their REST tokens already fail (verify reads the flag); their sockets close now, on every node
        await end_sessions(request.app, user.username)
    return web.json_response(Suspension(username=user.username, suspended=suspended).model_dump())


async def read_audit(request: web.Request) -> web.Response:
    require_site(await viewer(request), "admin", "compliance")
    query = validate_query(AuditQuery, request.query)
    entries = await request.app[STORE].audit(before=query.before, limit=query.limit)
    next_before = entries[-1].id if len(entries) == query.limit else None
    return web.json_response(AuditPage(entries=entries, next_before=next_before).model_dump())


ADMINS_ONLY = ("forbidden",)
CHANGES = ("forbidden_origin", "forbidden")

ROUTES = (
    Route(
        "POST",
        "/api/invites",
        create_invite,
        "Create an invite code (site admins): for registering while CHAT_REGISTRATION=invite",
        body=NewInvite,
        ok=Reply(201, "The invite", Invite),
        secured=True,
        errors=CHANGES,
    ),
    Route(
        "GET",
        "/api/invites",
        list_invites,
        "Invites with uses left, newest first (site admins)",
        ok=Reply(200, "Invites", InviteList),
        secured=True,
        errors=ADMINS_ONLY,
    ),
    Route(
        "GET",
        "/api/users",
        find_users,
        "Users whose name starts with a prefix, sorted by name, suspended ones left out (whom to write to)",
        query=UserQuery,
        ok=Reply(200, "Users", UserList),
        secured=True,
    ),
    Route(
        "GET",
        "/api/admin/users",
        list_users,
        "Users whose name starts with a prefix, with their site roles and suspension (site admins)",
        query=AdminUserQuery,
        ok=Reply(200, "Users", AdminUserList),
        secured=True,
        errors=ADMINS_ONLY,
    ),
    Route(
        "PUT",
        "/api/admin/users/{username}/roles/{role}",
        grant_role,
        "Grant a site role, admin or compliance (site admins)",
        ok=Reply(200, "The user's roles now", UserRoles),
        secured=True,
        errors=(*CHANGES, "invalid_role", "user_not_found"),
    ),
    Route(
        "DELETE",
        "/api/admin/users/{username}/roles/{role}",
        revoke_role,
        "Revoke a site role (site admins; not one's own admin role)",
        ok=Reply(200, "The user's roles now", UserRoles),
        secured=True,
        errors=(*CHANGES, "invalid_role", "user_not_found"),
    ),
    Route(
        "POST",
        "/api/admin/users/{username}/suspend",
        suspend,
        "Suspend a user (site admins): every session ends at once, their sockets on every node are "
        "disconnected, login answers account_suspended until lifted",
        ok=Reply(200, "Suspended", Suspension),
        secured=True,
        errors=(*CHANGES, "user_not_found"),
    ),
    Route(
        "DELETE",
        "/api/admin/users/{username}/suspend",
        unsuspend,
        "Lift a suspension (site admins)",
        ok=Reply(200, "Lifted", Suspension),
        secured=True,
        errors=(*CHANGES, "user_not_found"),
    ),
    Route(
        "GET",
        "/api/admin/audit",
        read_audit,
        "The audit log, newest first (site admins and compliance): role grants, suspensions, invites, "
        "moderation; page on with next_before",
        query=AuditQuery,
        ok=Reply(200, "Entries", AuditPage),
        secured=True,
        errors=ADMINS_ONLY,
    ),
)
