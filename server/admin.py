"""Site administration, the same from the REST API and from `investor-chat admin`: site roles, suspension
and invites, each change written to the audit log (docs/protocol.md#access). `actor` None is the command
line on the server's machine."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import timedelta
from typing import get_args

from core.errors import ChatError
from core.models import Invite, SiteRole, User, iso, utcnow
from core.store import Store
from server import audit
from server.access import forbidden

GRANTABLE: tuple[str, ...] = get_args(SiteRole)  # "user" is every account's, never granted
CLI_CREATOR = "(command line)"  # an invite's created_by when no user made it; no username looks like it
AUDIT_PAGE = 100
AUDIT_PAGES_MAX = 10  # a sweep reads at most this many pages of recent entries


def site_roles(granted: Collection[str]) -> list[str]:
    """The roles as the API shows them: "user", then those granted, sorted."""
    return ["user", *sorted(granted)]


async def find_user(store: Store, username: str) -> User:
    user = await store.get_user(username[:64])
    if user is None:
        raise ChatError("user_not_found", f"No user named {username[:64]!r}", 404)
    return user


async def set_role(store: Store, actor: str | None, username: str, role: str, *, granted: bool) -> User:
    """Grant or revoke a site role; the user as it is now. Nobody revokes their own admin role: the site
    must not lose its last admin to a slip of the mouse (another admin, or the command line, can)."""
    if role not in GRANTABLE:
        raise ChatError("invalid_role", f"Site roles to grant are {', '.join(GRANTABLE)}", 400)
    user = await find_user(store, username)
    if not granted and role == "admin" and actor is not None and actor.lower() == user.username.lower():
        raise forbidden("Admins cannot revoke their own admin role; another admin can")
    roles = set(user.roles) | {role} if granted else set(user.roles) - {role}
    if roles != set(user.roles):
        await store.set_user_roles(user.username, sorted(roles))
        await audit.record(store, actor, "role.grant" if granted else "role.revoke", target=user.username, role=role)
    return user.model_copy(update={"roles": sorted(roles)})


async def set_suspended(store: Store, actor: str | None, username: str, *, suspended: bool) -> User:
    """Suspend (every REST call and socket of the user answers unauthorized, login account_suspended) or
    lift. Ending the open sockets at once is the caller's: the REST API has the bus, the command line not."""
    user = await find_user(store, username)
    if suspended and actor is not None and actor.lower() == user.username.lower():
        raise forbidden("Admins cannot suspend themselves")
    if user.suspended != suspended:
        await store.set_suspended(user.username, suspended)
        await audit.record(store, actor, "user.suspend" if suspended else "user.unsuspend", target=user.username)
    return user.model_copy(update={"suspended": suspended})


async def create_invite(store: Store, actor: str | None, *, uses: int, hours: int) -> Invite:
    """A new invite code for `uses` registrations within `hours`."""
    created = utcnow()
    invite = Invite(
        code=secrets.token_urlsafe(12),
        created_by=actor or CLI_CREATOR,
        created_at=iso(created),
        expires_at=iso(created + timedelta(hours=hours)),
        uses_left=uses,
    )
    await store.create_invite(invite)
    await audit.record(store, actor, "invite.create", code=invite.code, uses=uses, expires_at=invite.expires_at)
    return invite


async def suspended_lately(store: Store, users: set[str], seconds: float) -> set[str]:
    """Those of `users` (lower-cased) suspended in the last `seconds` and still suspended, read from the
    audit log: the command line suspends without a bus to tell the nodes, and a node's session sweep
    reads this once per run (however many connections it holds) to close their sockets."""
    if not users:
        return set()
    since = iso(utcnow() - timedelta(seconds=seconds))
    named: set[str] = set()
    before: str | None = None
    for _ in range(AUDIT_PAGES_MAX):
        page = await store.audit(before=before, limit=AUDIT_PAGE)
        recent = [entry for entry in page if entry.ts >= since]
        named |= {e.target.lower() for e in recent if e.action == "user.suspend" and e.target}
        if len(recent) < AUDIT_PAGE:
            break
        before = page[-1].id
    found = set()
    for name in named & users:
        user = await store.get_user(name)
        if user is not None and user.suspended:
            found.add(name)
    return found
