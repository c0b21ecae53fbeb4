"""Compliance exports (docs/compliance.md#export): what an auditor gets from a channel with messages, a reply,
an edit, a delete, a reaction and a moderation event, as JSON Lines, CSV and emails."""

from __future__ import annotations

import csv
import email
import hashlib
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from core.changes import fold
from core.exports.files import FileList
from core.exports.formats import WRITERS, ExportFormat
from core.journal import GENESIS, JournalEntry, entry_of, extend
from core.models import Change, ChangeKind, ChannelEvent, Message, Record

DAY1, DAY2, DAY3 = "2026-03-01", "2026-03-02", "2026-03-03"
ROOT_ID, REPLY_ID, LATER_ID = "65e1a2b3c4d5e6f7a8b9c0d1", "65e1a2b3c4d5e6f7a8b9c0d2", "65e1a2b3c4d5e6f7a8b9c0d3"
ORIGINAL, EDITED = "AAPL looks strong 🐂", "AAPL looks strong, target 200"
REPLY = 'Agreed: $AAPL "breakout", see chart\nline two'


def desk_records() -> list[Record]:
    """#desk over three days: a post, a reply to it, its edit, a reaction, a mute, the reply deleted, a post."""
    root = Message(seq=1, rev=1, id=ROOT_ID, channel="desk", user="alice", text=ORIGINAL, ts=f"{DAY1}T09:30:00.000Z")
    reply = Message(
        seq=2, rev=2, id=REPLY_ID, channel="desk", user="bob", text=REPLY, ts=f"{DAY1}T09:31:00.000Z", reply_to=ROOT_ID
    )
    edited = _change(root, 3, "edit", "alice", f"{DAY1}T09:32:00.000Z", text=EDITED)
    reacted = _change(edited.message, 4, "react", "bob", f"{DAY1}T09:33:00.000Z", emoji="🐂")
    muted = ChannelEvent(
        seq=5, channel="desk", kind="muted", by="carol", ts=f"{DAY1}T09:34:00.000Z", target="bob",
        until=f"{DAY1}T10:34:00.000Z", reason="spam",
    )  # fmt: skip
    deleted = _change(reply, 6, "delete", "carol", f"{DAY2}T08:00:00.000Z")
    later = Message(
        seq=7, rev=7, id=LATER_ID, channel="desk", user="alice", text="Ünïcode ≠ ASCII", ts=f"{DAY3}T12:00:00.000Z"
    )
    return [root, reply, edited, reacted, muted, deleted, later]


def _change(message: Message, seq: int, kind: ChangeKind, by: str, ts: str, **given: str) -> Change:
    folded = fold(message, kind, by, ts, **given)  # type: ignore[arg-type]
    assert folded is not None
    return Change(seq=seq, kind=kind, channel=message.channel, by=by, ts=ts, emoji=given.get("emoji"),
                  message=folded.model_copy(update={"rev": seq}))  # fmt: skip


def chained(records: list[Record]) -> list[JournalEntry]:
    """The records as the archiver journals them: hashed and chained from the genesis."""
    entries = [entry_of(record) for record in records]
    chains = dict(extend(0, GENESIS, entries))
    return [entry.model_copy(update={"chain": chains[entry.seq]}) for entry in entries]


def write(fmt: ExportFormat, entries: list[JournalEntry], out: Path) -> dict[str, str]:
    """One channel's entries through a format's writer; the files it listed, with their sha256."""
    files = FileList(out)
    writer = WRITERS[fmt](files)
    writer.begin(entries[0].channel)
    for entry in entries:
        writer.write(entry)
    writer.end()
    listed = dict(files.entries())
    files.discard()
    return listed


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_lines_are_the_journal_entries_exactly(tmp_path: Path) -> None:
    entries = chained(desk_records())
    listed = write("jsonl", entries, tmp_path)
    assert listed == {"desk.jsonl": sha256(tmp_path / "desk.jsonl")}
    lines = (tmp_path / "desk.jsonl").read_bytes().splitlines()
    assert [JournalEntry.model_validate_json(line) for line in lines] == entries
    redacted = entries[1].model_copy(update={"record": None, "redacted_at": f"{DAY3}T00:00:00.000Z"})
    write("jsonl", [redacted], tmp_path / "redacted")
    assert JournalEntry.model_validate_json((tmp_path / "redacted" / "desk.jsonl").read_bytes()) == redacted


def test_csv_rows_hold_the_original_the_edit_the_deletion_and_the_event(tmp_path: Path) -> None:
    entries = chained(desk_records())
    assert write("csv", entries, tmp_path) == {"desk.csv": sha256(tmp_path / "desk.csv")}
    with (tmp_path / "desk.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["seq"], r["kind"], r["user"], r["change"]) for r in rows] == [
        ("1", "message", "alice", ""), ("2", "message", "bob", ""), ("3", "change", "alice", "edit"),
        ("4", "change", "bob", "react"), ("5", "event", "carol", "muted"), ("6", "change", "carol", "delete"),
        ("7", "message", "alice", ""),
    ]  # fmt: skip
    assert rows[0]["text"] == ORIGINAL and rows[2]["text"] == EDITED  # the text before the edit and after
    assert rows[1]["text"] == REPLY and rows[1]["reply_to"] == ROOT_ID  # the deleted reply's text, as posted
    assert (rows[5]["message_id"], rows[5]["text"]) == (REPLY_ID, "")
    assert rows[3]["detail"] == "🐂" and rows[2]["message_id"] == ROOT_ID
    assert rows[4]["detail"] == f'{{"target":"bob","until":"{DAY1}T10:34:00.000Z","reason":"spam"}}'
    assert [(r["content_hash"], r["chain"]) for r in rows] == [(e.content_hash, e.chain) for e in entries]


def read_email(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_each_message_and_change_is_an_email_threaded_by_reply(tmp_path: Path) -> None:
    entries = chained(desk_records())
    listed = write("eml", entries, tmp_path)
    assert listed == {f"desk/{seq}.eml": sha256(tmp_path / "desk" / f"{seq}.eml") for seq in range(1, 8)}
    mails = {seq: read_email(tmp_path / "desk" / f"{seq}.eml") for seq in range(1, 8)}
    root, reply, edit, react, muted, delete, later = (mails[seq] for seq in range(1, 8))
    assert (root["From"], root["Subject"]) == ("alice <alice@investor-chat>", "#desk")
    assert root["Message-ID"] == f"<{ROOT_ID}@investor-chat>"
    assert root["Date"] == "Sun, 01 Mar 2026 09:30:00 +0000" and root["In-Reply-To"] is None
    assert _text(root) == ORIGINAL + "\n" and _text(later) == "Ünïcode ≠ ASCII\n"
    assert (reply["In-Reply-To"], reply["References"]) == (f"<{ROOT_ID}@investor-chat>",) * 2
    assert _text(reply) == REPLY + "\n"
    assert (edit["Message-ID"], edit["In-Reply-To"]) == (f"<{ROOT_ID}.3@investor-chat>", f"<{ROOT_ID}@investor-chat>")
    assert _text(edit) == EDITED + "\n" and edit["Subject"] == "#desk: edit"
    assert _text(react) == "bob reacted 🐂.\n"
    # a change to a reply: under the reply, which is under its root
    assert delete["References"] == f"<{ROOT_ID}@investor-chat> <{REPLY_ID}@investor-chat>"
    assert (delete["From"], _text(delete)) == ("carol <carol@investor-chat>", "Deleted by carol.\n")
    assert muted["Subject"] == "#desk: muted bob" and "reason: spam" in _text(muted)
    for seq, mail in mails.items():  # each email carries its record, which hashes to the journal's hash
        record = next(part for part in mail.iter_attachments() if part.get_filename() == "record.json")
        entry = entries[seq - 1]
        assert hashlib.sha256(record.get_content()).hexdigest() == entry.content_hash
        assert (mail["X-Investor-Chat-Seq"], mail["X-Investor-Chat-Chain"]) == (str(seq), entry.chain)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")  # an email's lines end in CRLF
