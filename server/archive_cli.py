"""`investor-chat archive`: the compliance archive from the server's machine, straight on the configured store:
`verify` recomputes every channel's chain and reports what was removed, edited or reordered, `export` writes a
date range into files (server/export_cli.py; docs/compliance.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.journal import GENESIS, ChannelReport, JournalEntry, Problem, verify
from core.models import iso, utcnow
from core.settings import Settings, SettingsError, read_settings
from core.store import Store, open_store
from server import export_cli

PROG = "investor-chat archive"
INTACT, BROKEN, BAD_USAGE = 0, 1, 2
Head = tuple[int, str]  # (last_seq, chain)
# Entries wait unchained only while another archiver replica holds the seq before them, which a live one
# writes within its batch and a dead one's is claimed after 10 s idle: waiting longer, that seq is lost.
PENDING_GRACE = timedelta(minutes=10)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--storage-url", help="the store to read (CHAT_STORAGE_URL; default sqlite:///./var/investor-chat.sqlite3)"
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The compliance archive, on the store CHAT_STORAGE_URL names, with the server running or "
        "stopped: every record of every channel in seq order, each with the sha256 of its canonical JSON and a "
        "chain over those hashes (docs/compliance.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verify_command = commands.add_parser(
        "verify",
        parents=[common],
        help="recompute every channel's chain: exit 0 when intact, 1 when anything was removed, edited or reordered",
        description="Recompute each channel's chain from the stored records and print its head (last seq and "
        "chain) and every problem, each with its seq: gap (a record removed), edited (a record that no longer "
        "matches its hash), reordered (a record stored under another seq), chain (a hash or chain rewritten). "
        "Exit status 0 when every channel is intact, 1 when not, 2 for bad usage.",
    )
    verify_command.add_argument(
        "--channel", metavar="NAME", action="append", help="only this channel (repeat for more); default every one"
    )
    verify_command.add_argument(
        "--heads",
        metavar="FILE",
        type=Path,
        help="heads published before (the JSON of GET /api/admin/archive/heads): each channel's chain at that "
        "seq must still be the one published, which catches a rewrite of a whole chain from some seq on",
    )
    export_cli.add_command(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (2 for bad usage or settings)."""
    args = build_parser().parse_args(argv)
    try:
        settings = read_settings(**({"storage_url": args.storage_url} if args.storage_url else {}))
        published = _read_heads(args.heads) if args.command == "verify" and args.heads else {}
        exporting = export_cli.check(args) if args.command == "export" else None
    except (SettingsError, ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return BAD_USAGE
    return asyncio.run(_run(args, settings, published, exporting))


def _read_heads(path: Path) -> dict[str, Head]:
    """A published heads document as {channel: (last_seq, chain)}; ValueError naming the file when it is not one."""
    try:
        return {c["name"]: (int(c["last_seq"]), str(c["chain"])) for c in json.loads(path.read_text())["channels"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a heads document ({{channels: [{{name, last_seq, chain}}]}}): {exc}") from None


async def _run(
    args: argparse.Namespace, settings: Settings, published: dict[str, Head], exporting: export_cli.ExportCommand | None
) -> int:
    where = f"the store at {settings.sqlite_path}" if settings.sqlite_path else "the MongoDB store"
    if settings.sqlite_path and not settings.sqlite_path.exists():  # a wrong directory, not an empty archive
        print(f"{PROG}: error: no store at {settings.sqlite_path}: say where with --storage-url", file=sys.stderr)
        return BROKEN
    try:
        store = await open_store(settings.storage_url)
    except Exception as exc:  # the process's boundary: say why in one line
        print(f"{PROG}: error: cannot open {where}: {exc}", file=sys.stderr)
        return BROKEN
    try:
        if exporting is not None:
            return await export_cli.run(store, exporting)
        return await verify_archive(store, args.channel, published)
    finally:
        await store.close()


async def verify_archive(
    store: Store, channels: Sequence[str] | None, published: dict[str, Head], *, now: datetime | None = None
) -> int:
    """Verify the channels (every journaled one when None), printing each head and its problems; the exit status."""
    stored = {name: (seq, chain) for name, seq, chain in await store.journal_heads()}  # before the scan: never ahead
    starts = await store.journal_starts()
    names = sorted(set(channels)) if channels else sorted(stored.keys() | published.keys())
    entries = broken = 0
    for name in names:
        start = starts.get(name, 1)
        report = await verify_channel(
            store, name, stored.get(name), published.get(name), start=start, now=now or utcnow()
        )
        entries += report.last_seq - (start - 1) + report.pending
        broken += not report.intact
        waiting = f"  ({report.pending} newest not chained yet)" if report.pending else ""
        print(f"{name}  last_seq {report.last_seq}  chain {report.chain}{waiting}")
        if start > 1:
            print(f"{name}  journaled from seq {start} (earlier records predate the journal)")
        for problem in report.problems:
            print(f"{name} seq {problem.seq}: {problem.kind}: {problem.detail}")
    verdict = "intact" if not broken else f"{broken} not intact"
    print(f"{len(names)} channels, {entries} entries: {verdict}")
    return BROKEN if broken else INTACT


@dataclass
class Seen:
    """What a scan noted on the way: the stored chain at a published head's seq, the first entry not chained."""

    chain_at: str | None = None
    first_pending: JournalEntry | None = None


async def verify_channel(
    store: Store, channel: str, stored: Head | None, published: Head | None, *, start: int = 1, now: datetime
) -> ChannelReport:
    """core.journal.verify over the channel's entries from `start` (where its journal begins), then against its
    stored head (what the archiver extends and publishes), a head published before when given (entries
    removed from the end, or a chain rewritten from some seq on, show only there), and the time: entries
    waiting past PENDING_GRACE for a seq before them wait for one that is not coming."""
    at = published[0] if published else 0
    seen = Seen(chain_at=GENESIS if at == start - 1 else None)  # a head published before anything was journaled
    report = await verify(channel, _noting(store.journal_scan(channel), at, seen), start=start)
    if report.last_seq == report.pending == 0 and stored is None:
        report.problems.append(Problem(1, "gap", "the journal holds nothing of this channel"))
    for head, what in ((stored, "the journal's head"), (published, "the head published")):
        if head is not None and head[0] > report.last_seq:
            report.problems.append(Problem(report.last_seq + 1, "gap", f"{what} is at seq {head[0]}"))
    if stored is not None and stored[0] == report.last_seq and stored[1] != report.chain:
        report.problems.append(Problem(stored[0], "chain", f"the journal's head has another chain, {stored[1]}"))
    if published is not None and published[0] < start - 1:  # the journal's beginning moved past what was published
        detail = f"the journal begins at seq {start}; the head published is at seq {published[0]}"
        report.problems.append(Problem(published[0] + 1, "gap", detail))
    elif published is not None and 0 < published[0] <= report.last_seq and seen.chain_at != published[1]:
        report.problems.append(
            Problem(published[0], "chain", f"the chain differs from the head published, {published[1]}")
        )
    waiting = seen.first_pending
    if waiting is not None and waiting.ts < iso(now - PENDING_GRACE):
        detail = f"seq {report.last_seq + 1} is missing; {report.pending} entries after it wait since {waiting.ts}"
        report.problems.append(Problem(report.last_seq + 1, "gap", detail))
    return report


async def _noting(entries: AsyncIterator[JournalEntry], seq: int, seen: Seen) -> AsyncIterator[JournalEntry]:
    """The entries, noting on the way the stored chain at `seq` and the first entry not chained."""
    async for entry in entries:
        if entry.seq == seq:
            seen.chain_at = entry.chain
        if entry.chain is None and seen.first_pending is None:
            seen.first_pending = entry
        yield entry
