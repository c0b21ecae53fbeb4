"""Simple exchange-hours rules: market state, the exchange's time zone, and when a quote is stale."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quotes.symbols import Instrument

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
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
# FX and futures sessions open at 17:00 New York time, Sunday to Thursday, and last a day.
_ROUND_THE_CLOCK_DAYS = frozenset({6, 0, 1, 2, 3})
_ROUND_THE_CLOCK_OPEN = time(17)
DAY = timedelta(days=1)
SESSIONS_LOOKED_BACK = 10


def market_state(instrument: Instrument, now: datetime) -> str:
    """The market state (open, closed, pre-market, after-hours) of `instrument` at `now`."""
    if instrument.kind == "crypto":
        return "open"
    if instrument.kind in ("fx", "future"):
        return _round_the_clock_state(now)
    zone, pre, opens, closes, post = _HOURS[_market(instrument)]
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


def exchange_zone(instrument: Instrument) -> ZoneInfo:
    """The time zone the instrument's market keeps its clock in."""
    if instrument.kind == "crypto":
        return ZoneInfo("UTC")
    if instrument.kind in ("fx", "future"):
        return _NEW_YORK
    return ZoneInfo(_HOURS[_market(instrument)][0])


def zone_named(name: object) -> ZoneInfo | None:
    """The IANA zone a provider names, or None when the name is missing or unknown."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_stale(instrument: Instrument, as_of: datetime, now: datetime) -> bool:
    """True when `as_of` is older than one trading session: it predates the opening of the last
    session that has already closed. Holidays are ignored, so a quote just after one may be
    called stale; that errs on the side of warning."""
    zone, opens, length, days = _sessions(instrument)
    day = now.astimezone(zone).date()
    for _ in range(SESSIONS_LOOKED_BACK):
        if day.weekday() in days:
            start = datetime.combine(day, opens, zone)
            if start + length <= now:
                return as_of < start
        day -= DAY
    return False


def _sessions(instrument: Instrument) -> tuple[ZoneInfo, time, timedelta, frozenset[int]]:
    """(zone, session opens, session length, weekdays with a session) of the instrument's market."""
    if instrument.kind == "crypto":
        return ZoneInfo("UTC"), time(0), DAY, EVERY_DAY
    if instrument.kind in ("fx", "future"):
        return _NEW_YORK, _ROUND_THE_CLOCK_OPEN, DAY, _ROUND_THE_CLOCK_DAYS
    zone, _, opens, closes, _ = _HOURS[_market(instrument)]
    length = datetime.combine(datetime.min, closes) - datetime.combine(datetime.min, opens)
    return ZoneInfo(zone), opens, length, WEEKDAYS


def _market(instrument: Instrument) -> str:
    market = instrument.market or _INDEX_MARKETS.get(instrument.stooq_symbol or "", "us")
    return market if market in _HOURS else "us"
