"""The three export formats, each a writer fed one channel's journal entries in seq order: JSON Lines (the
entries exactly), CSV (a row per entry for a spreadsheet) and EML (an email per entry, emails.py)."""

from __future__ import annotations

import csv
import re
from typing import Any, Literal

import orjson

from core.exports.emails import EVENT_FIELDS, POLICY, email_of
from core.exports.files import FileList, HashedFile, TextSink
from core.journal import JournalEntry

ExportFormat = Literal["jsonl", "csv", "eml"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "eml")
CSV_COLUMNS = (
    "seq", "ts", "kind", "user", "message_id", "reply_to", "text", "change", "detail", "content_hash", "chain",
)  # fmt: skip
SAFE_NAME = re.compile(r"^[a-z0-9_\-]{1,64}$")  # channel names (core.models.CHANNEL_RE, DMs' dm-<hex>)


def file_name(channel: str) -> str:
    """The channel's name as a file name; a name that could leave the export's directory is refused."""
    if not SAFE_NAME.match(channel):
        raise ValueError(f"channel name {channel!r} cannot name a file")
    return channel


class Writer:
    """Writes the channels of one export into `files.out`, one channel at a time: begin, write each entry,
    end. Subclasses say what a channel's entries become."""

    def __init__(self, files: FileList) -> None:
        self.files = files
        self._file: HashedFile | None = None
        self._name = ""

    def begin(self, channel: str) -> None:
        self.channel = file_name(channel)

    def write(self, entry: JournalEntry) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """The channel is done: its file is closed and listed (none when it had no entries)."""
        if self._file is not None:
            self.files.add(self._name, self._file)
            self._file = None

    def close(self) -> None:
        """Close what is open without listing it (the export stopped halfway)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, name: str) -> HashedFile:
        self._name, self._file = name, HashedFile(self.files.out / name)
        return self._file


class JsonLines(Writer):
    """`<channel>.jsonl`: one journal entry per line, {channel, seq, kind, ts, user, record, content_hash,
    chain} (and redacted_at once redacted), as JournalEntry reads it back."""

    def write(self, entry: JournalEntry) -> None:
        file = self._file or self._open(f"{self.channel}.jsonl")
        file.write(orjson.dumps(jsonl_line(entry)) + b"\n")


def jsonl_line(entry: JournalEntry) -> dict[str, Any]:
    line: dict[str, Any] = {
        "channel": entry.channel, "seq": entry.seq, "kind": entry.kind, "ts": entry.ts, "user": entry.user,
        "record": entry.record, "content_hash": entry.content_hash, "chain": entry.chain,
    }  # fmt: skip
    if entry.redacted_at is not None:
        line["redacted_at"] = entry.redacted_at
    return line


class Csv(Writer):
    """`<channel>.csv` (RFC 4180, UTF-8): a header, then a row per entry (csv_row)."""

    def write(self, entry: JournalEntry) -> None:
        if self._file is None:
            self._rows = csv.writer(TextSink(self._open(f"{self.channel}.csv")), lineterminator="\r\n")
            self._rows.writerow(CSV_COLUMNS)
        self._rows.writerow(csv_row(entry))


def csv_row(entry: JournalEntry) -> list[str | int]:
    """A message's row has its text; an edit's the new text (the one before is in earlier rows: the journal
    keeps every record); `change` is what changed (edit, delete, react…) or the channel event's kind, and
    `detail` a reaction's emoji or an event's other fields as JSON."""
    record = entry.record
    message_id = reply_to = text = change = detail = ""
    if record is None:
        detail = f"redacted at {entry.redacted_at}"
    elif entry.kind == "message":
        message_id, reply_to, text = record["id"], record.get("reply_to", ""), record["text"]
    elif entry.kind == "change":
        message = record["message"]
        message_id, reply_to, change = message["id"], message.get("reply_to", ""), record["kind"]
        text, detail = (message["text"] if change == "edit" else ""), record.get("emoji", "")
    else:
        change = record["kind"]
        fields = {field: record[field] for field in EVENT_FIELDS if field in record}
        detail = orjson.dumps(fields).decode() if fields else ""
    return [
        entry.seq, entry.ts, entry.kind, entry.user, message_id, reply_to, text, change, detail,
        entry.content_hash, entry.chain or "",
    ]  # fmt: skip


class Eml(Writer):
    """`<channel>/<seq>.eml`: one email per entry (emails.py), each written whole: an email is a record."""

    def write(self, entry: JournalEntry) -> None:
        self.files.write(f"{self.channel}/{entry.seq}.eml", email_of(entry).as_bytes(policy=POLICY))


WRITERS: dict[ExportFormat, type[Writer]] = {"jsonl": JsonLines, "csv": Csv, "eml": Eml}
