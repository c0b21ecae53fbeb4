"""A simple exchange-hours rule for providers that do not say whether the market is open."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.quotes.symbols import Instrument

# Market -> (time zone, pre-market opens, regular opens, regular closes, after-hours close).
# Lunch breaks and holidays are ignored: this is a hint next to a quote, not a trading calendar.
_HOURS: dict[str, tuple[str, time, time, time, time]] = {
    "us": ("America/New_York", time(4), time(9, 30), time(16), time(20)),
    "uk": ("Europe/London", time(8), time(8), time(16, 30), time(16, 30)),
    "de": ("Europe/Berlin", time(8), time(9), time(17, 30), time(22)),
    "jp": ("Asia/Tokyo", time(9), time(9), time(15, 30), time(15, 30)),
    "hk": ("Asia/Hong_Kong", time(9), time(9, 30), time(16), time(16, 10)),
    "pl": ("Europe/Warsaw", time(8, 30), time(9), time(17), time(17, 5)),
}
_INDEX_MARKETS = {"^ukx": "uk", "^dax": "de", "^nkx": "jp", "^hsi": "hk"}
_NEW_YORK = ZoneInfo("America/New_York")
SATURDAY = 5


def market_state(instrument: Instrument, now: datetime) -> str:
    """The market state (open, closed, pre-market, after-hours) of `instrument` at `now`."""
    if instrument.kind == "crypto":
        return "open"
    if instrument.kind in ("fx", "future"):
        return _round_the_clock_state(now)
    market = instrument.market or _INDEX_MARKETS.get(instrument.stooq_symbol or "", "us")
    zone, pre, opens, closes, post = _HOURS.get(market, _HOURS["us"])
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time()
    if local.weekday() >= SATURDAY or not pre <= clock < post:
        return "closed"
    if clock < opens:
        return "pre-market"
    if clock >= closes:
        return "after-hours"
    return "open"


def _round_the_clock_state(now: datetime) -> str:
    # FX and the big futures trade from Sunday 17:00 to Friday 17:00 New York time.
    local = now.astimezone(_NEW_YORK)
    day, hour = local.weekday(), local.hour
    closed = day == SATURDAY or (day == 4 and hour >= 17) or (day == 6 and hour < 17)
    return "closed" if closed else "open"
