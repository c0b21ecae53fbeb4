"""Price stamps: the quotes of a message's cashtags as they stood when it was posted.

A chip in last week's message must not show today's price as if it were then's. The node keeps
the quotes it has just served to cashtag chips (GET /api/quotes) in memory, and a message posted
here carries the ones its cashtags name, looked up synchronously: never a cache round trip or an
upstream call on the send path. A cashtag with no fresh quote on this node gets no stamp.
"""

from __future__ import annotations

import time

from aiohttp import web

from core.models import PriceStamp, Quote
from core.textscan import cashtags

MAX_KEPT = 5000  # codes remembered; past it the oldest go


class RecentQuotes:
    """Quotes this node served in the last `ttl` seconds, by the code the chip asked for."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._quotes: dict[str, tuple[float, Quote]] = {}

    def remember(self, code: str, quote: Quote) -> None:
        key = code.upper()
        self._quotes.pop(key, None)  # re-inserted last: the dict stays in age order
        self._quotes[key] = (time.monotonic() + self.ttl, quote)
        if len(self._quotes) > MAX_KEPT:
            del self._quotes[next(iter(self._quotes))]

    def fresh(self, code: str) -> Quote | None:
        found = self._quotes.get(code.upper())
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def stamps(self, text: str) -> list[PriceStamp] | None:
        """The stamps for the cashtags in `text`, or None when there are none to give."""
        out: list[PriceStamp] = []
        for code in cashtags(text):
            quote = self.fresh(code)
            if quote is not None:
                out.append(
                    PriceStamp(
                        code=code, symbol=quote.symbol, price=quote.price, currency=quote.currency, as_of=quote.as_of
                    )
                )
        return out or None


RECENT_QUOTES = web.AppKey("recent_quotes", RecentQuotes)
