"""Accounts and sessions: bcrypt password hashes off the event loop, expiring signed tokens."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt

from core.errors import ChatError
from core.models import (
    PASSWORD_MAX_BYTES,
    PASSWORD_MIN_BYTES,
    USERNAME_RE,
    User,
    impersonates,
    now_iso,
)
from core.settings import Registration
from core.store import Store

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    jti: str
    expires_at: datetime
    roles: frozenset[str] = frozenset()  # site roles granted on top of "user" (admin, compliance)


def check_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ChatError("invalid_username", "Usernames are 3-32 letters, digits, '_', '-' or '.'", 400)
    if impersonates(username):  # also St0ck-Bot, stock_bot, ADM1N: case, separators and digits folded
        raise ChatError("invalid_username", "That username is reserved", 400)
    return username


def check_password(password: str) -> bytes:
    raw = password.encode("utf-8")
    if not PASSWORD_MIN_BYTES <= len(raw) <= PASSWORD_MAX_BYTES:
        raise ChatError(
            "invalid_password",
            f"Passwords are {PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes long",
            400,
        )
    return raw


class Accounts:
    """Registration, login and token checks; one per process, shared by REST and Socket.IO."""

    def __init__(
        self, store: Store, secret: str, token_ttl: int, bcrypt_rounds: int, *, registration: Registration
    ) -> None:
        self._store = store
        self._registration = registration
        self._secret = secret
        self._ttl = timedelta(seconds=token_ttl)
        self._rounds = bcrypt_rounds
        # Checked against when the user does not exist, so both failures cost the same bcrypt time:
        # it must have the same cost factor as real hashes (a cheaper one told unknown users apart).
        self._dummy_hash = bcrypt.hashpw(b"investor-chat timing equaliser", bcrypt.gensalt(rounds=bcrypt_rounds))

    async def register(self, username: str, password: str, invite: str | None = None) -> tuple[User, str]:
        """A new account as CHAT_REGISTRATION allows. With `invite`, one use of the code is spent once the
        name and password hold (a mistyped name costs the invitee nothing) and before bcrypt runs (a
        guessed code costs the server no hashing)."""
        if self._registration == "closed":
            raise ChatError("registration_closed", "This chat takes no new accounts", 403)
        check_username(username)
        raw = check_password(password)
        if await self._store.get_user(username) is not None:
            raise ChatError("username_taken", "That username is taken", 409)
        if self._registration == "invite" and not (invite and await self._store.use_invite(invite, now_iso())):
            raise ChatError("invite_required", "This chat is by invitation: give a valid, unused invite code", 403)
        hashed = await asyncio.to_thread(bcrypt.hashpw, raw, bcrypt.gensalt(rounds=self._rounds))
        user = User(username=username, password_hash=hashed.decode(), created_at=now_iso())
        await self._store.create_user(user)
        return user, self.issue(user.username)

    async def login(self, username: str, password: str) -> tuple[User, str]:
        raw = password.encode("utf-8")[:PASSWORD_MAX_BYTES]
        user = await self._store.get_user(username) if USERNAME_RE.fullmatch(username) else None
        stored = user.password_hash.encode() if user else self._dummy_hash
        ok = await asyncio.to_thread(bcrypt.checkpw, raw, stored)
        if user is None or not ok:
            raise ChatError("invalid_credentials", "Wrong username or password", 401)
        if user.suspended:  # said only to whoever knows the password
            raise ChatError("account_suspended", "This account is suspended; ask the chat's admins", 403)
        return user, self.issue(user.username)

    def issue(self, username: str) -> str:
        now = datetime.now(UTC)
        claims = {"sub": username, "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    async def verify(self, token: str) -> Session:
        """The session a token stands for; ChatError unauthorized when forged, expired or revoked."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], options={"require": ["sub", "jti", "exp"]})
        except jwt.PyJWTError:
            raise ChatError("unauthorized", "Log in again: the session is invalid or expired", 401) from None
        if await self._store.revoked([claims["jti"]]):
            raise ChatError("unauthorized", "Log in again: this session was logged out", 401)
        user = await self._store.get_user(claims["sub"]) if isinstance(claims["sub"], str) else None
        if user is None:
            raise ChatError("unauthorized", "Log in again: this account no longer exists", 401)
        if user.suspended:
            raise ChatError("unauthorized", "This account is suspended", 401)
        return Session(user.username, claims["jti"], datetime.fromtimestamp(claims["exp"], UTC), frozenset(user.roles))

    async def revoke(self, session: Session) -> None:
        await self._store.revoke_token(session.jti, session.expires_at)
