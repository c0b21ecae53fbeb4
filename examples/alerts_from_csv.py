#!/usr/bin/env python3
"""Set price alerts from a CSV file, one alert a row: the columns symbol, op, value and days (a header row
first; days may be left empty for the server's 30).

    alerts_from_csv.py examples/alerts.csv
    alerts_from_csv.py my-levels.csv --username alice

    symbol,op,value,days
    AAPL,above,200,
    vod.uk,below,60,14
    ^spx,move_pct,5,

`op` is above, below or move_pct; `value` a price in the instrument's currency (pence for London shares,
points for an index) or, for move_pct, a percentage from the price when the alert is set. It prints one line
a row, numbered by its line in the file: the alert created with its id, or the server's refusal
(already_crossed, too_many_alerts, unknown_symbol, ...) with its words; it exits 1 when any row was refused,
0 when all were set, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from typing import Any

import aiohttp

import chatkit
from chatkit.api import Api

COLUMNS = ("symbol", "op", "value", "days")
RETRY_PAUSE = 1.0  # seconds: past its burst the server allows a user about one new alert a second
RETRIES = 30


def read_rows(path: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, the row by column name) of each row with something in it; ValueError when the header
    lacks a column."""
    with open(path, encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: the header row lacks {', '.join(missing)} (columns: {', '.join(COLUMNS)})")
        rows = []
        for row in reader:
            cells = {column: (row.get(column) or "").strip() for column in COLUMNS}
            if any(cells.values()):
                rows.append((reader.line_num, cells))
        return rows


def days_of(row: dict[str, str]) -> int | None:
    given = row["days"]
    if not given:
        return None
    if not given.isdigit():
        raise chatkit.ChatError({"code": "invalid_days", "message": f"days must be a whole number, not {given!r}"})
    return int(given)


async def create(api: Api, row: dict[str, str]) -> dict[str, Any]:
    """The alert of one row, waiting for the server's pace when it answers rate_limited."""
    symbol, op, value = row["symbol"], row["op"], row["value"]
    days = days_of(row)
    for _ in range(RETRIES):
        try:
            return await api.create_alert(symbol, op, value, days=days)
        except chatkit.ChatError as exc:
            if exc.code != "rate_limited":
                raise
            await asyncio.sleep(RETRY_PAUSE)
    return await api.create_alert(symbol, op, value, days=days)


def created(line: int, alert: dict[str, Any]) -> str:
    level = f"{alert['value']}%" if alert["op"] == "move_pct" else f"{alert['value']} {alert['currency']}"
    return (
        f"row {line}: created {alert['id']}: {alert['symbol']} {alert['op']} {level} "
        f"(now {alert['created_price']}), until {alert['expires_at'][:10]}"
    )


async def run(args: argparse.Namespace) -> int:
    try:
        rows = await asyncio.to_thread(read_rows, args.csv)
    except (OSError, ValueError, csv.Error) as exc:
        print(exc, file=sys.stderr)
        return 2
    refused = 0
    async with aiohttp.ClientSession() as http:
        api = Api(http, args.url, await chatkit.log_in(http, args))
        for line, row in rows:
            try:
                print(created(line, await create(api, row)), flush=True)
            except chatkit.ChatError as exc:
                refused += 1
                print(f"row {line}: refused {row['symbol']} {row['op']} {row['value']}: {exc}", flush=True)
    print(f"{len(rows) - refused} alerts set, {refused} refused", file=sys.stderr)
    return 1 if refused else 0


def main() -> None:
    p = chatkit.parser("Set price alerts from a CSV file (columns symbol, op, value, days).")
    p.add_argument("csv", help="the CSV file, with a header row")
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("alerts_from_csv", run(args)))


if __name__ == "__main__":
    main()
