"""Garbage-collector settings for a server node: its latency tail is otherwise the collector's."""

from __future__ import annotations

import gc

from aiohttp import web

# CPython's default (700, 10, 10) runs a young collection every 700 net allocations and a full one
# often enough to walk every connection's objects several times a second under fan-out load.
THRESHOLDS = (50_000, 20, 100)


async def settle(app: web.Application) -> None:
    """After start-up: collect once, then move everything alive into the permanent generation
    (imports, settings, routes) so later collections never walk it again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
