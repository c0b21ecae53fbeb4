"""The audit log's writer: every admin and moderator action, who did it, to whom, where
(docs/protocol.md#audit-log). Read back by GET /api/admin/audit."""

from __future__ import annotations

from typing import Any

from core.models import AuditEntry, iso, ordered_id, utcnow
from core.store import Store


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
        id=ordered_id(now.timestamp()), ts=iso(now), actor=actor, action=action, target=target, channel=channel,
        details={k: v for k, v in details.items() if v is not None},
    )  # fmt: skip
    await store.add_audit(entry)
    return entry
