"""Parse a user's stock code (stooq or Yahoo form) into an Instrument naming it per provider."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from quotes.errors import QuoteError

Kind = Literal["share", "index", "crypto", "fx", "future"]

MAX_CODE = 20
SHOWN = 40  # characters of an invalid code repeated back, whole up to this
# Letters, digits, dots and dashes, an optional leading ^ (index) and =X / =F (Yahoo fx, futures).
CODE_RE = re.compile(r"^\^?[A-Z0-9](?:[A-Z0-9.\-]*[A-Z0-9])?(?:=[XF])?$")

# stooq market suffix -> (Yahoo suffix, quote currency); "" means a bare Yahoo ticker (US).
_STOOQ_MARKETS: dict[str, tuple[str, str]] = {
    "us": ("", "USD"),
    "uk": ("L", "GBX"),  # London quotes in pence on both providers
    "de": ("DE", "EUR"),
    "jp": ("T", "JPY"),
    "hk": ("HK", "HKD"),
    "pl": ("WA", "PLN"),
}
_SHARE_CLASSES = frozenset({"A", "B", "C"})
_YAHOO_MARKETS = {yahoo: stooq for stooq, (yahoo, _) in _STOOQ_MARKETS.items() if yahoo}

# stooq index -> Yahoo index; both directions are read from this one table.
_INDEXES: dict[str, str] = {
    "^spx": "^GSPC",
    "^dji": "^DJI",
    "^ndq": "^IXIC",
    "^ndx": "^NDX",
    "^ukx": "^FTSE",
    "^dax": "^GDAXI",
    "^nkx": "^N225",
    "^hsi": "^HSI",
}
_YAHOO_INDEXES = {yahoo: stooq for stooq, yahoo in _INDEXES.items()}
_INDEX_CURRENCY = {"^ukx": "GBP", "^dax": "EUR", "^nkx": "JPY", "^hsi": "HKD"}

# Enough to tell a bare fx pair (`eurusd`) from a bare US ticker, which never has six letters.
_CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "HKD",
        "CNY",
        "SGD",
        "INR",
        "ZAR",
        "MXN",
        "BRL",
        "TRY",
    ]
)


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument as each provider names it; a None symbol means that provider lacks it."""

    code: str  # shown to users, stooq style upper-cased: AAPL.US, VOD.UK, ^SPX
    kind: Kind
    yahoo_symbol: str | None
    stooq_symbol: str | None
    currency: str | None = None  # expected quote currency, for providers that do not say

    @property
    def market(self) -> str | None:
        """The stooq market suffix of a share (us, uk, ...), None for everything else."""
        if self.kind != "share" or self.stooq_symbol is None:
            return None
        return self.stooq_symbol.rsplit(".", 1)[1]


def parse_code(text: str) -> Instrument:
    """Map a user's code to an Instrument; raise QuoteError("invalid_symbol") on anything odd."""
    code = text.strip().upper()
    if not code or len(code) > MAX_CODE or not CODE_RE.fullmatch(code):
        given = text.strip()
        shown = given if len(given) <= SHOWN else given[:SHOWN] + "…"
        hint = "; separate several codes with commas: /stock AAPL,MSFT" if " " in given else ""
        raise QuoteError("invalid_symbol", f"{shown!r} is not a valid stock code{hint}")
    if code.startswith("^"):
        return _index(code)
    if code.endswith("=X"):
        return _fx(code.removesuffix("=X"), text)
    if code.endswith(("=F", ".F")):
        return _future(code[:-2])
    if code.endswith(".V") or (code.endswith("-USD") and "." not in code):
        return _crypto(code.rsplit(".", 1)[0].removesuffix("-USD"))
    if len(code) == 6 and code[:3] in _CURRENCIES and code[3:] in _CURRENCIES:
        return _fx(code, text)
    return _share(code)


def _index(code: str) -> Instrument:
    lower = code.lower()
    if lower in _INDEXES:
        stooq, yahoo = lower, _INDEXES[lower]
    elif code in _YAHOO_INDEXES:
        stooq, yahoo = _YAHOO_INDEXES[code], code
    else:
        stooq, yahoo = lower, code
    return Instrument(stooq.upper(), "index", yahoo, stooq, _INDEX_CURRENCY.get(stooq, "USD"))


def _fx(pair: str, text: str) -> Instrument:
    if len(pair) != 6 or not pair.isalpha():
        raise QuoteError("invalid_symbol", f"{text.strip()!r} is not a valid currency pair")
    return Instrument(pair, "fx", f"{pair}=X", pair.lower(), pair[3:])


def _future(root: str) -> Instrument:
    return Instrument(f"{root}.F", "future", f"{root}=F", f"{root.lower()}.f", "USD")


def _crypto(coin: str) -> Instrument:
    # stooq's .v crypto quotes are in US dollars, so only the -USD pairs map across.
    return Instrument(f"{coin}-USD", "crypto", f"{coin}-USD", f"{coin.lower()}.v", "USD")


def _share(code: str) -> Instrument:
    ticker, dot, suffix = code.rpartition(".")
    if not dot:
        ticker, suffix = code, "US"
    elif suffix in _SHARE_CLASSES:
        # BRK.B, as brokers write it, is Yahoo's BRK-B and stooq's brk-b.us.
        ticker, suffix = f"{ticker}-{suffix}", "US"
    stooq_market = suffix.lower() if suffix.lower() in _STOOQ_MARKETS else _YAHOO_MARKETS.get(suffix)
    if stooq_market is None:
        # A market only Yahoo knows (e.g. RY.TO): pass it through untouched.
        return Instrument(code, "share", code, None)
    yahoo_suffix, currency = _STOOQ_MARKETS[stooq_market]
    yahoo = f"{ticker}.{yahoo_suffix}" if yahoo_suffix else ticker
    stooq = f"{ticker.lower()}.{stooq_market}"
    return Instrument(stooq.upper(), "share", yahoo, stooq, currency)
