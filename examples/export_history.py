#!/usr/bin/env python3
"""Export a channel's whole history over REST to JSON Lines or CSV, oldest message first."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

import aiohttp

import chatkit

CSV_FIELDS = ["seq", "id", "ts", "user", "bot", "text"]


async def pages(http: aiohttp.ClientSession, args: Any, token: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages from the newest backwards with before=; paging back from a fixed start gives a snapshot
    of the channel as it was when the export began, however much is posted meanwhile."""
    url = f"{args.url}/api/channels/{args.channel}/messages"
    headers = {"Authorization": f"Bearer {token}"}
    params: dict[str, int] = {"limit": args.page_size}
    while True:
        async with http.get(url, params=params, headers=headers) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise chatkit.ChatError.from_body(body)
        if body["messages"]:
            yield body["messages"]
        if not body["has_more"] or not body["messages"]:
            return
        params["before"] = body["messages"][0]["seq"]


def write(messages: list[dict[str, Any]], out: TextIO, fmt: str) -> None:
    if fmt == "jsonl":
        out.writelines(json.dumps(message, ensure_ascii=False) + "\n" for message in messages)
        return
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(messages)


def save(messages: list[dict[str, Any]], args: Any) -> None:
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            write(messages, out, args.format)
    else:
        write(messages, sys.stdout, args.format)


async def run(args: Any) -> int:
    async with aiohttp.ClientSession() as http:
        token = await chatkit.log_in(http, args)
        collected = [page async for page in pages(http, args, token)]
    messages = [message for page in reversed(collected) for message in page]
    await asyncio.to_thread(save, messages, args)
    print(f"exported {len(messages)} messages from #{args.channel}", file=sys.stderr)
    return 0


def main() -> None:
    p = chatkit.parser("Export a channel's history, oldest first.")
    p.add_argument("channel", help="channel name, e.g. general")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--page-size", type=int, default=200, choices=range(1, 201), metavar="1-200")
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("export_history", run(args)))


if __name__ == "__main__":
    main()
