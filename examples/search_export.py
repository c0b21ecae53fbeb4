#!/usr/bin/env python3
"""Search the channels you may read and export the hits as CSV, newest first: one row a message with its
time, channel, seq, id, author, text and cashtags.

    search_export.py "earnings guidance" --channel desk -o hits.csv
    search_export.py '$TSLA' --user alice --limit 500 -o tsla.csv
    search_export.py --cashtag NVDA -o nvda.csv

Every word must be in the message (whole words, any letter case or accent); `$TSLA` in the query, or
--cashtag TSLA, matches messages that mention that cashtag; with nothing to search for the server
answers `invalid_parameter` (exit 1). It pages with the server's `next_before`
through chatkit.api's `search_all`, so a long export is many small requests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import sys
from typing import Any, TextIO

import aiohttp

import chatkit
from chatkit.api import PAGE_MAX, Api
from core.textscan import cashtags  # the server's own reading, so the column agrees with what cashtag= matches

CSV_FIELDS = ["ts", "channel", "seq", "id", "user", "text", "cashtags"]


def count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def row(hit: dict[str, Any]) -> dict[str, Any]:
    """A hit as a CSV row; its cashtags space-separated, as codes (`TSLA NVDA`)."""
    return {**{k: hit.get(k, "") for k in CSV_FIELDS}, "cashtags": " ".join(cashtags(hit["text"]))}


def write(hits: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    writer.writerows(row(hit) for hit in hits)


def save(hits: list[dict[str, Any]], output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8", newline="") as out:
            write(hits, out)
    else:
        write(hits, sys.stdout)


async def run(args: argparse.Namespace) -> int:
    async with aiohttp.ClientSession() as http:
        api = Api(http, args.url, await chatkit.log_in(http, args))
        hits: list[dict[str, Any]] = []
        page_size = min(args.page_size, args.limit or PAGE_MAX)
        found = api.search_all(
            args.query, channel=args.channel, user=args.user, cashtag=args.cashtag, page_size=page_size
        )
        async with contextlib.aclosing(found):  # stopping at --limit ends its paging at once
            async for hit in found:
                hits.append(hit)
                if len(hits) == args.limit:
                    break
    await asyncio.to_thread(save, hits, args.output)
    print(f"exported {len(hits)} hits", file=sys.stderr)
    return 0


def main() -> None:
    p = chatkit.parser("Search messages and export the hits as CSV, newest first.")
    p.add_argument("query", nargs="?", default="", help='words to find, and $CASHTAGs, e.g. "guidance $AAPL"')
    p.add_argument("--channel", help="only this channel")
    p.add_argument("--user", help="only this author's messages")
    p.add_argument("--cashtag", help="only messages mentioning this cashtag, e.g. TSLA")
    p.add_argument("--limit", type=count, help="export at most this many hits (default: all of them)")
    p.add_argument("--page-size", type=int, default=PAGE_MAX, choices=range(1, PAGE_MAX + 1), metavar="1-100")
    p.add_argument("-o", "--output", help="CSV file to write (default: standard output)")
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("search_export", run(args)))


if __name__ == "__main__":
    main()
