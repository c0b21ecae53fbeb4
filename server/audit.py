"""The audit log's writer: every admin and moderator action, who did it, to whom, where
(docs/protocol.md#audit-log). Read back by GET /api/admin/audit."""

from __future__ import annotations

import itertools
import os
from typing import Any

from core.models import AuditEntry, iso, utcnow
from core.store import Store

_counter = itertools.count()
_process = os.urandom(4).hex()


async def record(
    store: Store,
    actor: str | None,
    action: str,
    *,
    target: str | None = None,
    channel: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Write one entry; `actor` None is the command line on the server's machine."""
    now = utcnow()
    entry = AuditEntry(
        id=_entry_id(now.timestamp()), ts=iso(now), actor=actor, action=action, target=target, channel=channel,
        details={k: v for k, v in details.items() if v is not None},
    )  # fmt: skip
    await store.add_audit(entry)
    return entry


def _entry_id(now: float) -> str:
    """24 hex digits ordered by time to the millisecond, whichever process writes (the nodes and the command
    line write the same log, and GET /api/admin/audit pages by id): milliseconds, this process, a counter."""
    return f"{int(now * 1000):012x}{_process}{next(_counter) & 0xFFFF:04x}"
