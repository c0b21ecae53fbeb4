"""`investor-chat archive export`: a date range of the compliance journal into files on the server's machine
(docs/compliance.md#export), on the store alone: progress on standard error, an audit entry of the command line."""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.exports.exporter import ExportProgress, ExportResult, ExportSpec, export, spec_of
from core.exports.formats import FORMATS
from core.store import Store
from server import audit

PROG = "investor-chat archive export"
DONE, FAILED, BAD_USAGE = 0, 1, 2
PROGRESS_LINE = 50_000  # entries between two progress lines


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "export",
        parents=[common],
        help="write the records of a date range as JSON Lines, CSV or emails, with a manifest.json",
        description="Write every record of the days from --from to --to (both included, UTC) of every channel, or "
        "of those named, into DIR: per channel CHANNEL.jsonl (the journal entries), CHANNEL.csv (a row per "
        "record) or CHANNEL/SEQ.eml (an email per record), originals of edits and deletions and channel events "
        "included, and manifest.json with every file's sha256 and each channel's chain head. Progress goes to "
        "standard error. Exit status 0 when written, 1 when it failed (nothing is left in DIR), 2 for bad usage.",
    )
    command.add_argument("--from", dest="first", required=True, metavar="DATE", help="the first day, YYYY-MM-DD (UTC)")
    command.add_argument("--to", dest="last", required=True, metavar="DATE", help="the last day, YYYY-MM-DD, included")
    command.add_argument(
        "--channel", metavar="NAME", action="append", help="only this channel (repeat for more); default every one"
    )
    command.add_argument("--format", required=True, choices=FORMATS, help=" or ".join(FORMATS))
    command.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new or empty directory")


@dataclass(frozen=True)
class ExportCommand:
    spec: ExportSpec
    out: Path  # absolute
    made: bool  # the directory is the command's to make (and to remove, should the export fail)


def check(args: argparse.Namespace) -> ExportCommand:
    """What to export where, from the command's arguments; ValueError for bad usage."""
    spec = spec_of(args.format, args.first, args.last, args.channel)
    out: Path = args.out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{args.out} is not an empty directory: an export goes into a directory of its own")
    return ExportCommand(spec, out, made=not out.exists())


async def run(store: Store, command: ExportCommand) -> int:
    """Export as `command` says, audited with actor None; the exit status."""
    spec, out = command.spec, command.out
    unknown = sorted(set(spec.channels or ()) - set(await store.journal_channels()))
    if unknown:
        print(f"{PROG}: error: the archive holds no channel {', '.join(unknown)}", file=sys.stderr)
        return BAD_USAGE
    await audit.record(store, None, "export.requested", **details(spec))
    try:
        result = await export(store, spec, out, progress=ProgressLines())
    except BaseException as exc:
        _remove(out, command.made)  # a partial export is no record of anything
        if not isinstance(exc, Exception):
            raise
        print(f"{PROG}: error: the export failed: {exc}", file=sys.stderr)
        return FAILED
    await audit.record(store, None, "export.done", **details(spec), **summary(result), out=str(out))
    print(
        f"exported {result.progress.events:,} records of {result.progress.channels} channels into {out}: "
        f"{result.files:,} files, {result.size:,} bytes; manifest.json sha256 {result.manifest}"
    )
    return DONE


def details(spec: ExportSpec) -> dict[str, Any]:
    """An export's audit details: format, from, to, channels (None: every one)."""
    days = {"from": spec.first_day.isoformat(), "to": spec.last_day.isoformat()}
    return {"format": spec.format, **days, "channels": None if spec.channels is None else list(spec.channels)}


def summary(result: ExportResult) -> dict[str, Any]:
    return {"events": result.progress.events, "files": result.files, "size": result.size, "manifest": result.manifest}


class ProgressLines:
    """A line on standard error every PROGRESS_LINE records, and one when every channel is done."""

    def __init__(self) -> None:
        self._next = PROGRESS_LINE

    async def __call__(self, done: ExportProgress) -> None:
        if done.events >= self._next or done.channels_done == done.channels:
            print(f"{done.events:,} records, {done.channels_done} of {done.channels} channels", file=sys.stderr)
            self._next = (done.events // PROGRESS_LINE + 1) * PROGRESS_LINE


def _remove(out: Path, made: bool) -> None:
    if made:
        shutil.rmtree(out, ignore_errors=True)
        return
    for path in out.iterdir():  # it was empty before: what is in it now is the export's
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
