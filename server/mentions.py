"""Who a message mentions, decided on the send path without a query: `@name` of someone who may read the
channel, `@here`, and `@channel` where the sender may use it (docs/protocol.md#mentions).

Names are checked against what this node knows of accounts (KnownUsers): a name it has not met sends
the message the slow way, which looks it up once; after that its mentions cost the send nothing."""

from __future__ import annotations

import time

from core.store import Store
from core.textscan import CHANNEL, HERE, mention_names
from server.access import Rules, Viewer

ABSENT_FOR = 30.0  # seconds a name that is no account is remembered as none (one registered since is seen after)
MAX_KNOWN = 100_000  # names remembered; past it the memory starts over


class KnownUsers:
    """Accounts this process has looked up: lower-cased name -> the name as registered; and recently
    looked-up names that are no account."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: dict[str, str] = {}
        self._absent: dict[str, float] = {}  # lower-cased name -> until (monotonic)

    def lookup(self, name: str) -> str | None:
        """The registered name, "" when it is known to be no account, None when unknown here."""
        found = self._names.get(name)
        if found is not None:
            return found
        until = self._absent.get(name)
        return "" if until is not None and until > time.monotonic() else None

    async def learn(self, names: list[str]) -> None:
        """Look up the names not known here (a few queries, off the common send path)."""
        for name in names:
            if name in (HERE[1:], CHANNEL[1:]) or self.lookup(name) is not None:
                continue
            user = await self.store.get_user(name)
            if len(self._names) + len(self._absent) > MAX_KNOWN:
                self._names.clear()
                self._absent.clear()
            if user is None:
                self._absent[name] = time.monotonic() + ABSENT_FOR
            else:
                self._names[name] = user.username


def mentions(text: str, rules: Rules, sender: Viewer, known: KnownUsers) -> list[str] | None:
    """The message's `mentions` (None when it has none). Raises Unknown when a name is not known here yet
    (KnownUsers.learn it, then ask again)."""
    names = mention_names(text)
    if not names:
        return None
    out: list[str] = []
    for name in names:
        if name == HERE[1:]:
            out.append(HERE)
        elif name == CHANNEL[1:]:
            staff = sender.admin or sender.username.lower() in rules.staff
            if rules.members is not None or staff:
                out.append(CHANNEL)
        else:
            found = known.lookup(name)
            if found is None:
                raise Unknown(names)
            if found and rules.may_read(name):
                out.append(found)
    return out or None


class Unknown(Exception):
    """A message names someone this node has not looked up yet."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("unknown names")
        self.names = names
