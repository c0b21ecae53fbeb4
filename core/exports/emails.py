"""One RFC 5322 email per journal entry (docs/compliance.md#export): a message from its author to its
channel, threaded under its thread's root; a change or an event as its own email, a change referencing the
message it changed. The entry's record rides along as record.json, so each email checks against its hash."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from core.journal import JournalEntry, canonical

DOMAIN = "investor-chat"


class Headers(HeaderRegistry):
    """The header classes made once per name: HeaderRegistry builds a new class for every header it parses,
    a fifth of an email's cost."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made


# CRLF line ends, as RFC 5322 has them, and its hard limit for a line: a hash is one word that folding would
# only push onto a line of its own. UTF-8 bodies go as 8bit where their lines allow.
POLICY = SMTP.clone(max_line_length=998, header_factory=Headers())
EVENT_FIELDS = ("target", "role", "until", "reason", "changes")
HEADER = "X-Investor-Chat-"  # the journal's own fields, for an auditor's tools


def message_id(local: str) -> str:
    return f"<{local}@{DOMAIN}>"


def email_of(entry: JournalEntry) -> EmailMessage:
    """The entry as an email: From who made it, Date its time, Subject its channel, its threading headers,
    a text body a person reads and the record as canonical JSON."""
    email = EmailMessage(policy=POLICY)
    email["From"] = Address(display_name=entry.user, username=entry.user, domain=DOMAIN)
    email["To"] = Address(display_name=f"#{entry.channel}", username=entry.channel, domain=DOMAIN)
    email["Date"] = format_datetime(datetime.fromisoformat(entry.ts.replace("Z", "+00:00")))
    record = entry.record
    subject, body = f"#{entry.channel}", _body(entry)
    if record is None:
        email["Message-ID"] = message_id(f"{entry.channel}.{entry.seq}")
    elif entry.kind == "message":
        _thread(email, record["id"], record.get("reply_to"), None)
    elif entry.kind == "change":
        subject += f": {record['kind']}"
        _thread(email, record["message"]["id"], record["message"].get("reply_to"), entry.seq)
    else:
        subject += f": {record['kind']}" + (f" {record['target']}" if "target" in record else "")
        email["Message-ID"] = message_id(f"{entry.channel}.{entry.seq}")
    email["Subject"] = subject
    for name, value in _journal_headers(entry):
        email[HEADER + name] = value
    email.set_content(body, charset="utf-8")
    if record is not None:
        email.add_attachment(canonical(record), maintype="application", subtype="json", filename="record.json")
        email.set_boundary(f"=_{entry.content_hash}")  # not a random one: the same entry, the same bytes
    return email


def _thread(email: EmailMessage, message: str, root: str | None, change_seq: int | None) -> None:
    """A message is <id@…>, a reply to its root; a change is <id.seq@…>, a reply to the message it changed
    (whose own references come first)."""
    if change_seq is None:
        email["Message-ID"] = message_id(message)
        parents = [] if root is None else [message_id(root)]
    else:
        email["Message-ID"] = message_id(f"{message}.{change_seq}")
        parents = ([] if root is None else [message_id(root)]) + [message_id(message)]
    if parents:
        email["In-Reply-To"] = parents[-1]
        email["References"] = " ".join(parents)


def _journal_headers(entry: JournalEntry) -> list[tuple[str, str]]:
    headers = [("Channel", entry.channel), ("Seq", str(entry.seq)), ("Kind", entry.kind), ("Ts", entry.ts)]
    if entry.record is not None and entry.kind != "message":
        headers.append(("Change", str(entry.record["kind"])))
    headers += [("Content-Hash", entry.content_hash), ("Chain", entry.chain or "")]
    if entry.redacted_at is not None:
        headers.append(("Redacted-At", entry.redacted_at))
    return headers


def _body(entry: JournalEntry) -> str:
    record = entry.record
    if record is None:
        return f"Removed under the retention policy at {entry.redacted_at}; its content hash is kept.\n"
    if entry.kind == "message":
        return _text(record["text"])
    if entry.kind == "change":
        return _change_body(record)
    lines = [f"{record['kind']} by {record['by']}"]
    lines += [f"{field}: {_value(record[field])}" for field in EVENT_FIELDS if field in record]
    return "\n".join(lines) + "\n"


def _change_body(record: dict[str, Any]) -> str:
    kind, by, emoji = record["kind"], record["by"], record.get("emoji", "")
    said = {
        "edit": "",
        "delete": f"Deleted by {by}.",
        "react": f"{by} reacted {emoji}.",
        "unreact": f"{by} took back the reaction {emoji}.",
        "pin": f"Pinned by {by}.",
        "unpin": f"Unpinned by {by}.",
        "idea": f"The trade idea closed: {record['message'].get('idea', {}).get('status', '')}.",
    }.get(kind, f"{kind} by {by}.")
    return _text(record["message"]["text"]) if kind == "edit" else said + "\n"


def _text(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else canonical(value).decode()
